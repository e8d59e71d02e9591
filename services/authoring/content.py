"""Course folders: load, validate, and turn into what the database publishes — and back.

    <course>/course.toml                 title, description, short_description, duration,
                                         difficulty_level, estimated_hours, tags
    <course>/lessons/NN-<slug>.md        +++ TOML front matter +++ (title, duration,
                                         difficulty, key_points), then the content;
                                         "## Explanation" and "## Code example" sections
    <course>/assessments/<slug>.toml     see services/runner/spec.py; plus `lesson` (the
                                         lesson file it belongs to) and `solution`

`load_course(dir)` reads a folder into a `CourseSource` (`.payload()` is what
`publish_course` takes) and collects every problem it finds, each with its file and
line. `validate(dir)` adds what only running code can tell, as rustlings' `dev check`
does: each reference solution must pass all its tests and each starter must fail one.
`write_course(data, dir)` writes a course (an `export_course` result, or a payload)
back as a folder that loads to the same payload.

Nothing here talks to a database: services.authoring.publishing does, through the API.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.text import CONTROL, control_characters, describe, terminal_safe
from services.words import plural

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:
    from services.runner.spec import KeyLines  # imported when first needed

DIFFICULTIES = ("Beginner", "Intermediate", "Advanced")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
LESSON_FILE = re.compile(r"^(\d{1,4})-([a-z0-9][a-z0-9-]*)\.md$")
SECTION = re.compile(r"^## +(Explanation|Code example) *$", re.IGNORECASE)
FENCE_OPEN = re.compile(r"^(`{3,}|~{3,})")

COURSE_KEYS = (
    "title",
    "description",
    "short_description",
    "duration",
    "difficulty_level",
    "estimated_hours",
    "tags",
    "thumbnail_url",
    "grading",
)
GRADINGS = ("verified", "self")  # verified: a grader runs every test; self: the learner's score
LESSON_KEYS = ("title", "duration", "difficulty", "key_points")
ASSESSMENT_KEYS = (
    "title",
    "description",
    "difficulty",
    "time_limit",
    "instructions",
    "starter_code",
    "language",
    "entry",
    "limits",
    "tests",
    "solution",
    "lesson",
)
PASS_SCORE = 70  # what the studio and the operators' views count as passing

# The database's limits (CHECK constraints in supabase/migrations), checked here first
# so that publishing never fails on them.
MAX_LEN = {
    "course.title": 200,
    "course.description": 20000,
    "course.short_description": 300,
    "course.duration": 50,
    "course.thumbnail_url": 2048,
    "lesson.title": 200,
    "lesson.duration": 50,
    "lesson.content": 200000,
    "lesson.explanation": 100000,
    "lesson.code_example": 50000,
    "assessment.title": 200,
    "assessment.description": 2000,
    "assessment.instructions": 50000,
    "assessment.starter_code": 50000,
    "assessment.solution": 100000,
}
MAX_TAGS, MAX_TAG_CHARS = 20, 500
MAX_KEY_POINTS, MAX_KEY_POINT_CHARS = 20, 4000
MAX_ORDER = 10000
MAX_TIME_LIMIT = 600


@dataclass
class Problem:
    path: Path
    line: int
    message: str
    warning: bool = False  # shown, but does not make the course invalid

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        # file names and echoed keys come from the folder's author
        return terminal_safe(f"{self.path}:{self.line}: {kind}{self.message}")


class ContentError(Exception):
    """A course folder has problems; `problems` lists each with file and line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(
            str(problems[0])
            if len(problems) == 1
            else f"{plural(len(problems), 'problem')}, first: {problems[0]}"
        )


@dataclass
class LessonSource:
    slug: str
    order_index: int
    title: str
    content: str
    explanation: str | None
    code_example: str | None
    key_points: list[str]
    duration: str | None
    difficulty: str | None
    path: Path

    @property
    def stem(self) -> str:
        """The file's name without .md, e.g. 03-loops (what an assessment's `lesson` names)."""
        return self.path.stem


@dataclass
class AssessmentSource:
    """An assessment file: the runner's `Assessment` (`spec`) and what the course folder
    adds: its slug (the file name), the lesson it belongs to and where it is. Reads the
    spec's fields through (`a.title`, `a.tests`, ...)."""

    slug: str
    path: Path
    spec: Any  # services.runner.spec.Assessment
    lesson: str | None = None  # the lesson's slug

    def __getattr__(self, name: str) -> Any:
        if name == "spec":  # not set yet (copying, unpickling)
            raise AttributeError(name)
        return getattr(self.spec, name)


@dataclass
class CourseSource:
    slug: str
    title: str
    description: str | None
    short_description: str | None
    duration: str | None
    difficulty_level: str
    estimated_hours: float | None
    tags: list[str]
    lessons: list[LessonSource]
    assessments: list[AssessmentSource]
    path: Path
    thumbnail_url: str | None = None
    problems: list[Problem] = field(default_factory=list)
    grading: str = "verified"

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    def payload(self) -> dict[str, Any]:
        """The JSON `publish_course` takes."""
        return {
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "short_description": self.short_description,
            "duration": self.duration,
            "difficulty_level": self.difficulty_level,
            "estimated_hours": self.estimated_hours,
            "tags": self.tags,
            "thumbnail_url": self.thumbnail_url,
            "grading": self.grading,
            "lessons": [
                {
                    "slug": x.slug,
                    "title": x.title,
                    "content": x.content,
                    "explanation": x.explanation,
                    "code_example": x.code_example,
                    "key_points": x.key_points,
                    "duration": x.duration,
                    "difficulty": x.difficulty,
                    "order_index": x.order_index,
                }
                for x in self.lessons
            ],
            "assessments": [assessment_payload(a) for a in self.assessments],
        }


def assessment_payload(a: AssessmentSource) -> dict[str, Any]:
    return {
        "slug": a.slug,
        "title": a.title,
        "description": a.description,
        "difficulty": a.difficulty,
        "time_limit": a.time_limit,
        "instructions": a.instructions,
        "starter_code": a.starter_code,
        "test_cases": a.to_test_cases_json(),
        "language": a.language,
        "entry": a.entry,
        "limits": a.limits.to_json(),
        "lesson_slug": a.lesson,
        "solution": a.solution,
    }


# ---------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------


class _Source:
    """One file's text and where its problems go; `line(key)` finds a top-level key
    (skipping multi-line strings), `offset` is the line the TOML starts after."""

    def __init__(self, path: Path, text: str, problems: list[Problem], offset: int = 0):
        self.path, self.text, self.problems, self.offset = path, text, problems, offset
        self._lines: KeyLines | None = None

    def line(self, key: str | None = None, table: Any = None) -> int:
        from services.runner.spec import KeyLines

        if self._lines is None:
            self._lines = KeyLines(self.text)
        return self._lines.find(table, key) + self.offset

    def add(self, line: int, message: str, *, warning: bool = False) -> None:
        self.problems.append(Problem(self.path, line, message, warning))

    def toml(self) -> dict[str, Any] | None:
        """The parsed TOML, or None after reporting where it is broken."""
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            found = re.search(r"at line (\d+)", str(exc))
            line = int(found[1]) if found else self.text.count("\n") + 1
            detail = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
            self.add(line + self.offset, f"broken TOML: {detail}: fix the syntax here")
            return None

    def text_value(
        self, data: dict, key: str, limit_key: str, *, required: bool = False
    ) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.add(1 + self.offset, f'`{key}` is missing: add {key} = "..."')
            return None
        if not isinstance(value, str):
            self.add(self.line(key), f"`{key}` must be text in quotes")
            return None
        value = value.strip()
        self.no_control(key, value)
        if required and not value:
            self.add(self.line(key), f"`{key}` is empty")
        limit = MAX_LEN.get(limit_key)
        if limit and len(value) > limit:
            self.add(
                self.line(key), f"`{key}` is {len(value)} characters long; the most is {limit}"
            )
        return value

    def no_control(self, key: str, value: str) -> bool:
        """Report a control character in a parsed value (TOML writes one as an escape,
        "\\u001b", that the raw text check cannot see); whether there was one."""
        found = CONTROL.search(value)
        if found:
            self.add(self.line(key), _control_message(describe(found.group()), key))
        return found is not None

    def difficulty(self, data: dict, key: str, *, required: bool = False) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.add(
                    1 + self.offset,
                    f'`{key}` is missing: add {key} = "Beginner", "Intermediate" or "Advanced"',
                )
            return None
        if value not in DIFFICULTIES:
            self.add(
                self.line(key), f"`{key}` must be one of {', '.join(DIFFICULTIES)}, not {value!r}"
            )
            return None
        return value

    def string_list(self, data: dict, key: str, most: int, most_chars: int) -> list[str]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(
                self.line(key), f'`{key}` must be a list of strings, e.g. {key} = ["one", "two"]'
            )
            return []
        value = [v.strip() for v in value]
        for v in value:
            if self.no_control(key, v):
                break
        if any(not v for v in value):
            self.add(self.line(key), f"`{key}` has an empty entry")
        if len(value) > most:
            self.add(self.line(key), f"`{key}` has {len(value)} entries; the most is {most}")
        if sum(map(len, value)) > most_chars:
            self.add(
                self.line(key),
                f"`{key}` holds more than {most_chars} characters in all: shorten them",
            )
        return value

    def unknown_keys(self, data: dict, known: tuple[str, ...]) -> None:
        import difflib

        for key in data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean `{close[0]}`?)" if close else f": use {', '.join(known)}"
                self.add(self.line(key), f"unknown key `{key}`{hint}")


def _read(path: Path, problems: list[Problem]) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(path, 1, f"cannot read it ({exc.strerror or exc})"))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(
            Problem(
                path,
                data[: exc.start].count(b"\n") + 1,
                "is not UTF-8 text: save the file as UTF-8",
            )
        )
        return None
    for line, name in control_characters(text):
        problems.append(Problem(path, line, _control_message(name)))
    return text


def _control_message(name: str, key: str | None = None) -> str:
    where = f"`{key}` holds" if key else "this line holds"
    return (
        f"{where} the control character {name}, which terminals obey as a command "
        "(it can set the window title or write the clipboard): remove it"
    )


# ---------------------------------------------------------------------------
# Lessons
# ---------------------------------------------------------------------------


def _is_fence_close(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def _headings(lines: list[str]) -> list[tuple[int, str]]:
    """(index, section) of each "## Explanation" / "## Code example" outside code blocks."""
    found = []
    fence: str | None = None
    for index, line in enumerate(lines):
        if fence is not None:
            if _is_fence_close(line, fence):
                fence = None
            continue
        opening = FENCE_OPEN.match(line.strip())
        if opening:
            fence = opening[1]
            continue
        match = SECTION.match(line.rstrip())
        if match:
            found.append((index, match[1].lower()))
    return found


def _first_code_block(lines: list[str]) -> tuple[str | None, int | None, int | None, str]:
    """(code, index of its first line, index after the block, problem) of the first fenced
    block in `lines`; problem is '' when the block is fine."""
    for start, line in enumerate(lines):
        opening = FENCE_OPEN.match(line.strip())
        if not opening:
            continue
        fence = opening[1]
        for end in range(start + 1, len(lines)):
            if _is_fence_close(lines[end], fence):
                return "\n".join(lines[start + 1 : end]).rstrip("\n"), start, end + 1, ""
        return None, start, None, f"the code block is not closed: end it with a {fence} line"
    return None, None, None, "the Code example section needs a ``` fenced code block"


def load_lesson(path: Path, problems: list[Problem]) -> LessonSource | None:
    match = LESSON_FILE.match(path.name)
    if not match:
        problems.append(
            Problem(
                path,
                1,
                "lesson files are named NN-slug.md, with a lowercase slug (e.g. 03-loops.md)",
            )
        )
        return None
    text = _read(path, problems)
    if text is None:
        return None
    lines = text.split("\n")
    if lines[0].strip() != "+++":
        problems.append(
            Problem(path, 1, "a lesson starts with TOML front matter between +++ lines")
        )
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
    except StopIteration:
        problems.append(Problem(path, 1, "the front matter is not closed with a +++ line"))
        return None
    front = _Source(path, "\n".join(lines[1:end]), problems, offset=1)
    data = front.toml()
    if data is None:  # reported; the body is still checked below
        title = duration = difficulty = None
        key_points = []
    else:
        title = front.text_value(data, "title", "lesson.title", required=True)
        duration = front.text_value(data, "duration", "lesson.duration")
        difficulty = front.difficulty(data, "difficulty")
        key_points = front.string_list(data, "key_points", MAX_KEY_POINTS, MAX_KEY_POINT_CHARS)
        front.unknown_keys(data, LESSON_KEYS)
    order = int(match[1])
    if order > MAX_ORDER:
        problems.append(Problem(path, 1, f"the lesson number {order} is above {MAX_ORDER}"))

    body = lines[end + 1 :]
    first_body_line = end + 2  # 1-based line number of body[0]
    headings = _headings(body)
    sections: dict[str, str | None] = {"explanation": None, "code example": None}
    seen: dict[str, int] = {}
    code = None
    for n, (index, name) in enumerate(headings):
        line_no = first_body_line + index
        title_text = "Explanation" if name == "explanation" else "Code example"
        if name in seen:
            problems.append(
                Problem(
                    path,
                    line_no,
                    f"a second `## {title_text}` section "
                    f"(the first is on line {seen[name]}): "
                    "merge them",
                )
            )
            continue
        seen[name] = line_no
        stop = headings[n + 1][0] if n + 1 < len(headings) else len(body)
        section = body[index + 1 : stop]
        if not "\n".join(section).strip():
            problems.append(
                Problem(
                    path,
                    line_no,
                    f"the `## {title_text}` section is empty: write it or remove the heading",
                )
            )
            continue
        if name == "explanation":
            sections[name] = "\n".join(section).strip()
            continue
        code, start, after, problem = _first_code_block(section)
        if problem:
            where = line_no if start is None else first_body_line + index + 1 + start
            problems.append(Problem(path, where, problem))
            continue
        sections[name] = code
        if "\n".join(section[:start]).strip() or "\n".join(section[after:]).strip():
            problems.append(
                Problem(
                    path,
                    line_no,
                    "the `## Code example` section holds text besides its code "
                    "block, which learners would not see: move it to `## Explanation`",
                )
            )
    content = "\n".join(body[: headings[0][0]] if headings else body).strip()
    if not content:
        problems.append(
            Problem(path, first_body_line, "the lesson has no content before its sections")
        )
    for key, value in (
        ("content", content),
        ("explanation", sections["explanation"]),
        ("code_example", code),
    ):
        limit = MAX_LEN[f"lesson.{key}"]
        if value and len(value) > limit:
            problems.append(
                Problem(
                    path,
                    first_body_line,
                    f"the lesson's {key} is {len(value)} characters long; the most is {limit}",
                )
            )
    if title is None:
        return None
    return LessonSource(
        slug=match[2],
        order_index=order,
        title=title,
        content=content,
        explanation=sections["explanation"],
        code_example=code,
        key_points=key_points,
        duration=duration,
        difficulty=difficulty,
        path=path,
    )


# ---------------------------------------------------------------------------
# Assessments
# ---------------------------------------------------------------------------


def load_assessment_file(
    path: Path, problems: list[Problem], lessons: list[LessonSource]
) -> AssessmentSource | None:
    """An assessment file, with what the course folder adds to the runner's format:
    its slug (the file name), `lesson`, the database's limits and a reference solution."""
    from services.runner.spec import AssessmentError, parse_assessment

    text = _read(path, problems)
    if text is None:
        return None
    try:
        assessment = parse_assessment(text, str(path))
    except AssessmentError as exc:
        problems.append(Problem(path, exc.line or 1, exc.message))
        return None
    source = _Source(path, text, problems)
    data = tomllib.loads(text)
    if not SLUG.match(path.stem):
        source.add(
            1,
            f"the file name {path.stem!r} is not a valid slug: use lowercase "
            "letters, digits and dashes (e.g. two-sum.toml)",
        )
    source.unknown_keys(data, ASSESSMENT_KEYS)
    source.difficulty(data, "difficulty")
    for key in ("title", "description", "instructions", "starter_code", "solution"):
        value = data.get(key)
        if isinstance(value, str) and key != "solution":  # what learners see
            source.no_control(key, value)
        limit = MAX_LEN[f"assessment.{key}"]
        if isinstance(value, str) and len(value) > limit:
            source.add(
                source.line(key), f"`{key}` is {len(value)} characters long; the most is {limit}"
            )
    if assessment.time_limit is not None and assessment.time_limit > MAX_TIME_LIMIT:
        source.add(
            source.line("time_limit"), f"`time_limit` is in minutes and at most {MAX_TIME_LIMIT}"
        )
    if not (assessment.instructions or assessment.description).strip():
        source.add(1, "`instructions` is missing: tell the learner what to write")
    if not (assessment.solution or "").strip():
        source.add(
            1,
            "there is no reference solution: add solution = '''...''', which must pass every test",
        )
    elif assessment.language == "python":
        _check_python(source, "solution", assessment.solution or "")
    if assessment.language == "python" and assessment.starter_code.strip():
        _check_python(source, "starter_code", assessment.starter_code)

    result = AssessmentSource(slug=path.stem, path=path, spec=assessment)
    lesson = data.get("lesson")
    if lesson is not None and not isinstance(lesson, str):
        source.add(source.line("lesson"), '`lesson` must be a lesson file\'s name, e.g. "03-loops"')
    elif lesson:
        by_stem = {x.stem: x.slug for x in lessons}
        slugs = {x.slug for x in lessons}
        resolved = by_stem.get(lesson) or (lesson if lesson in slugs else None)
        if resolved is None:
            source.add(
                source.line("lesson"),
                f"`lesson = {lesson!r}` names no lesson of "
                f"this course: use a file name from lessons/",
            )
        result.lesson = resolved
    return result


def _check_python(source: _Source, key: str, code: str) -> None:
    try:
        compile(code, key, "exec")
    except SyntaxError as exc:
        where = f"line {exc.lineno}: " if exc.lineno else ""
        source.add(source.line(key), f"`{key}` is not valid Python ({where}{exc.msg})")
    except ValueError as exc:  # e.g. a NUL character
        source.add(source.line(key), f"`{key}` is not valid Python ({exc})")


# ---------------------------------------------------------------------------
# Courses
# ---------------------------------------------------------------------------


def load_course(directory: Path | str) -> CourseSource:
    """Load a course folder; raises ContentError when it cannot be used at all (not a
    folder, no course.toml). Other problems are collected in `.problems`."""
    directory = Path(directory)
    problems: list[Problem] = []
    course_file = directory / "course.toml"
    if not directory.is_dir():
        raise ContentError(
            [
                Problem(
                    directory,
                    1,
                    "is not a folder: give a course folder (the one holding course.toml)",
                )
            ]
        )
    if not course_file.is_file():
        raise ContentError([Problem(course_file, 1, "no course.toml: is this a course folder?")])
    text = _read(course_file, problems)
    if text is None:
        raise ContentError(problems)
    source = _Source(course_file, text, problems)
    data = source.toml()
    broken = data is None
    if data is None:  # reported; load the lessons and assessments all the same
        data, problems, reported = {}, [], problems
        source.problems = problems
    title = source.text_value(data, "title", "course.title", required=True)
    slug = directory.resolve().name
    if not SLUG.match(slug):
        source.add(
            1,
            f"the folder name {slug!r} is the course's slug and is not valid: "
            "use lowercase letters, digits and dashes",
        )
    estimated = data.get("estimated_hours")
    if estimated is not None and (
        isinstance(estimated, bool)
        or not isinstance(estimated, (int, float))
        or not 0 <= estimated <= 10000
    ):
        source.add(
            source.line("estimated_hours"), "`estimated_hours` must be a number between 0 and 10000"
        )
        estimated = None
    course = CourseSource(
        slug=slug,
        title=title or slug,
        description=source.text_value(data, "description", "course.description"),
        short_description=source.text_value(data, "short_description", "course.short_description"),
        duration=source.text_value(data, "duration", "course.duration"),
        difficulty_level=source.difficulty(data, "difficulty_level", required=True) or "Beginner",
        estimated_hours=float(estimated) if estimated is not None else None,
        tags=source.string_list(data, "tags", MAX_TAGS, MAX_TAG_CHARS),
        thumbnail_url=source.text_value(data, "thumbnail_url", "course.thumbnail_url"),
        lessons=[],
        assessments=[],
        path=directory,
        problems=problems,
    )
    grading = data.get("grading", "verified")
    if grading not in GRADINGS:
        source.add(
            source.line("grading"),
            '`grading` must be "verified" (a grader runs every '
            'test, hidden ones included) or "self" (the learner\'s own score)',
        )
    else:
        course.grading = grading
    source.unknown_keys(data, COURSE_KEYS)
    if broken:  # the checks of an empty table would only add noise
        problems = course.problems = reported

    lessons_dir = directory / "lessons"
    orders: dict[int, Path] = {}
    slugs: dict[str, Path] = {}
    for path in sorted(lessons_dir.glob("*.md")):
        lesson = load_lesson(path, problems)
        if lesson is None:
            continue
        if lesson.order_index in orders:
            problems.append(
                Problem(
                    path,
                    1,
                    f"lesson number {lesson.order_index:02d} is also "
                    f"used by {orders[lesson.order_index].name}: "
                    "renumber one of them",
                )
            )
        if lesson.slug in slugs:
            problems.append(
                Problem(
                    path,
                    1,
                    f"the slug {lesson.slug!r} is also used by "
                    f"{slugs[lesson.slug].name}: rename one of them",
                )
            )
        orders.setdefault(lesson.order_index, path)
        slugs.setdefault(lesson.slug, path)
        course.lessons.append(lesson)
    course.lessons.sort(key=lambda x: (x.order_index, x.slug))
    if not course.lessons and not any(p.path.parent == lessons_dir for p in problems):
        problems.append(
            Problem(lessons_dir, 1, "the course has no lessons: add lessons/01-<slug>.md")
        )

    for path in sorted((directory / "assessments").glob("*.toml")):
        assessment = load_assessment_file(path, problems, course.lessons)
        if assessment is not None:
            course.assessments.append(assessment)
    return course


# ---------------------------------------------------------------------------
# Validation: the files, then the code
# ---------------------------------------------------------------------------


def validate(
    directory: Path | str, *, run_code: bool = True, progress: Callable[[str], None] | None = None
) -> CourseSource:
    """Load a course folder and, with `run_code`, run every assessment's reference
    solution and starter code (in the sandbox). Problems end up in `.problems`, sorted
    by file and line. Raises ContentError when the folder cannot be used at all."""
    course = load_course(directory)
    if run_code:
        course.problems.extend(check_solutions(course, progress=progress))
    course.problems.sort(key=lambda p: (str(p.path), p.line))
    return course


def check_solutions(
    course: CourseSource, *, progress: Callable[[str], None] | None = None
) -> list[Problem]:
    """Each reference solution must pass every test (hidden ones included) and each
    starter must fail at least one: otherwise the tests or the solution are wrong."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    from services.runner.sandbox import PROGRAMS, interpreter

    problems: list[Problem] = []
    jobs = []
    for assessment in course.assessments:
        if interpreter(assessment.language) is None:
            problems.append(
                Problem(
                    assessment.path,
                    1,
                    f"cannot run the {assessment.language} "
                    f"solution here: `{PROGRAMS[assessment.language]}` is not "
                    "installed",
                    warning=True,
                )
            )
        elif (assessment.solution or "").strip():
            jobs.append(assessment)
    if not jobs:
        return problems
    workers = max(1, min(8, os.cpu_count() or 2, len(jobs)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for found in pool.map(lambda a: _check_one(a, progress), jobs):
            problems.extend(found)
    return problems


def _check_one(
    assessment: AssessmentSource, progress: Callable[[str], None] | None
) -> list[Problem]:
    from services.runner import run

    if progress:
        progress(f"running {assessment.path.name} …")
    # Authors see every test in full, hidden ones included.
    spec = assessment.spec
    shown = spec._replace(tests=[t._replace(hidden=False) for t in spec.tests])
    text = assessment.path.read_text(encoding="utf-8")
    source = _Source(assessment.path, text, [])
    problems = source.problems
    solution = run(shown, assessment.solution)
    if solution.status != "pass":
        failing = [(i, t) for i, t in enumerate(solution.tests) if t.status != "pass"]
        if solution.message or not failing:
            source.add(
                source.line("solution"),
                f"the reference solution cannot be tested: {solution.message or solution.status}",
            )
        else:
            for index, test in failing:
                detail = test.message or f"expected {test.expected}, got {test.actual}"
                source.add(
                    source.line("name", ("tests", index)),
                    f"the reference solution fails test {test.name!r}: {_one_line(detail)}",
                )
    starter = run(shown, assessment.starter_code or "")
    if starter.status == "pass":
        source.add(
            source.line("starter_code"),
            "the starter code already passes every test: "
            "leave something for the learner to do (at "
            "least one test must fail)",
        )
    return problems


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# ---------------------------------------------------------------------------
# Writing a course back to a folder (`learn course export`)
# ---------------------------------------------------------------------------


def write_course(data: dict[str, Any], directory: Path | str, *, force: bool = False) -> list[Path]:
    """Write a course (an `export_course` result or a `payload()`) as a course folder
    that `load_course` reads back to the same payload. Refuses a non-empty folder
    unless `force`; with `force` the lesson and assessment files the course no longer
    has are removed, so the folder mirrors the course. Returns the files written."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ContentError([Problem(directory, 1, "exists and is not a folder")])
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise ContentError(
            [
                Problem(
                    directory,
                    1,
                    "already exists and is not empty: choose "
                    "a new folder, or pass --force to "
                    "overwrite it",
                )
            ]
        )
    lessons = sorted(
        data.get("lessons") or [], key=lambda x: (x.get("order_index") or 0, x["slug"])
    )
    stems = {x["slug"]: f"{int(x.get('order_index') or 0):02d}-{x['slug']}" for x in lessons}
    files: dict[Path, str] = {directory / "course.toml": course_toml(data)}
    for lesson in lessons:
        files[directory / "lessons" / f"{stems[lesson['slug']]}.md"] = lesson_markdown(lesson)
    for assessment in data.get("assessments") or []:
        files[directory / "assessments" / f"{assessment['slug']}.toml"] = assessment_toml(
            assessment, stems
        )
    for folder in ("lessons", "assessments"):
        (directory / folder).mkdir(parents=True, exist_ok=True)
    if force:
        for stale in [
            *(directory / "lessons").glob("*.md"),
            *(directory / "assessments").glob("*.toml"),
        ]:
            if stale not in files:
                stale.unlink()
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return list(files)


def course_toml(data: dict[str, Any]) -> str:
    out = []
    for key in (
        "title",
        "short_description",
        "duration",
        "difficulty_level",
        "estimated_hours",
        "tags",
        "thumbnail_url",
        "grading",
    ):
        value = data.get(key)
        if value is not None and not (key == "tags" and not value):
            out.append(f"{key} = {toml_value(value)}")
    if data.get("description"):
        out.append(f"description = {toml_value(data['description'], multiline=True)}")
    return "\n".join(out) + "\n"


def lesson_markdown(lesson: dict[str, Any]) -> str:
    front = [f"title = {toml_value(lesson['title'])}"]
    for key in ("duration", "difficulty"):
        if lesson.get(key) is not None:
            front.append(f"{key} = {toml_value(lesson[key])}")
    if lesson.get("key_points"):
        points = "".join(f"    {toml_value(p)},\n" for p in lesson["key_points"])
        front.append(f"key_points = [\n{points}]")
    parts = ["+++\n" + "\n".join(front) + "\n+++\n", (lesson.get("content") or "").strip()]
    if lesson.get("explanation"):
        parts.append("## Explanation\n\n" + lesson["explanation"].strip())
    if lesson.get("code_example"):
        code = lesson["code_example"]
        longest = max((len(m) for m in re.findall(r"^\s*(`{3,})", code, re.MULTILINE)), default=2)
        fence = "`" * max(3, longest + 1)
        parts.append(f"## Code example\n\n{fence}python\n{code}\n{fence}")
    return "\n\n".join(parts) + "\n"


_TEST_KEY_ORDER = (
    "name",
    "args",
    "kwargs",
    "expected",
    "compare",
    "stdin",
    "expected_stdout",
    "hidden",
)


def assessment_toml(a: dict[str, Any], lesson_stems: dict[str, str] | None = None) -> str:
    out = [f"title = {toml_value(a['title'])}"]
    for key in ("description", "difficulty", "time_limit", "language", "entry"):
        if a.get(key) not in (None, ""):
            out.append(f"{key} = {toml_value(a[key])}")
    stem = (lesson_stems or {}).get(a.get("lesson_slug") or "")
    if stem:
        out.append(f"lesson = {toml_value(stem)}")
    for key in ("instructions", "starter_code", "solution"):
        if a.get(key):
            out.append(f"{key} = {toml_value(a[key], multiline=True)}")
    limits = a.get("limits") or {}
    if limits:
        out.append("\n[limits]")
        out.extend(f"{_toml_key(k)} = {toml_value(v)}" for k, v in limits.items())
    for test in a.get("test_cases") or []:
        out.append("\n[[tests]]")
        keys = [k for k in _TEST_KEY_ORDER if k in test] + [
            k for k in test if k not in _TEST_KEY_ORDER
        ]
        out.extend(f"{_toml_key(k)} = {toml_value(test[k])}" for k in keys)
    return "\n".join(out) + "\n"


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_LITERAL_BAD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]|\r|'''")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _basic_string(key)


def _basic_string(text: str) -> str:
    # JSON's string escapes are all valid TOML; TOML also wants DEL escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(value: Any, *, multiline: bool = False) -> str:
    """A value as TOML. Multi-line text becomes a ''' literal string when it can be one,
    so code reads as code."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value!r} cannot be written to a course file")
        return repr(value)
    if isinstance(value, str):
        if multiline:
            if not _LITERAL_BAD.search(value) and not value.endswith("'"):
                return f"'''\n{value}'''"
            escaped = (
                value.replace("\\", "\\\\")
                .replace('"', '\\"')
                .replace("\r", "\\r")
                .replace("\x7f", "\\u007f")
            )
            escaped = re.sub(r"[\x00-\x08\x0b-\x1f]", lambda m: f"\\u{ord(m[0]):04x}", escaped)
            return f'"""\n{escaped}"""'
        return _basic_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    if value is None:
        raise ValueError("null cannot be written to a course file (TOML has no null)")
    raise ValueError(f"a {type(value).__name__} cannot be written to a course file")
