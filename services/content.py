"""Course folders: load, validate, and turn into what the database publishes.

    <course>/course.toml                 title, description, short_description, duration,
                                         difficulty_level, estimated_hours, tags
    <course>/lessons/NN-<slug>.md        +++ TOML front matter +++, then the content;
                                         "## Explanation" and "## Code example" sections
    <course>/assessments/<slug>.toml     see services/runner/spec.py

Problems are reported with the file and line they are on.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DIFFICULTIES = ("Beginner", "Intermediate", "Advanced")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
LESSON_FILE = re.compile(r"^(\d{1,4})-([a-z0-9][a-z0-9-]*)\.md$")
SECTION = re.compile(r"^## +(Explanation|Code example) *$", re.MULTILINE | re.IGNORECASE)
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentError(Exception):
    """A course folder has problems; `problems` lists each with file and line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(str(problems[0]) if len(problems) == 1
                         else f"{len(problems)} problems, first: {problems[0]}")


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


@dataclass
class AssessmentSource:
    """An assessment file: the runner's spec plus where it sits in the course."""

    slug: str
    spec: Any                         # services.runner.spec.Assessment
    lesson: str | None = None         # the slug of the lesson it belongs to
    path: Path | None = None


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

    def payload(self) -> dict[str, Any]:
        """The JSON `publish_course` takes."""
        return {
            "slug": self.slug, "title": self.title, "description": self.description,
            "short_description": self.short_description, "duration": self.duration,
            "difficulty_level": self.difficulty_level, "estimated_hours": self.estimated_hours,
            "tags": self.tags, "thumbnail_url": self.thumbnail_url,
            "lessons": [{
                "slug": x.slug, "title": x.title, "content": x.content,
                "explanation": x.explanation, "code_example": x.code_example,
                "key_points": x.key_points, "duration": x.duration, "difficulty": x.difficulty,
                "order_index": x.order_index} for x in self.lessons],
            "assessments": [assessment_payload(a) for a in self.assessments],
        }


def assessment_payload(source: AssessmentSource) -> dict[str, Any]:
    a = source.spec
    return {
        "slug": source.slug, "title": a.title, "description": a.description,
        "difficulty": a.difficulty, "time_limit": a.time_limit,
        "instructions": a.instructions, "starter_code": a.starter_code,
        "test_cases": a.to_test_cases_json(), "language": a.language, "entry": a.entry,
        "limits": a.limits.to_json(), "lesson_slug": source.lesson, "solution": a.solution,
    }


def _line_of(text: str, key: str) -> int:
    match = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _toml(path: Path, text: str, problems: list[Problem], offset: int = 0) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or int(
            (re.search(r"line (\d+)", str(exc)) or [None, 1])[1])
        problems.append(Problem(path, line + offset, f"broken TOML: {str(exc).split(' (')[0]}"))
        return {}


def _check_str(data, key, path, text, problems, *, required=False, limit=None, offset=0):
    value = data.get(key)
    if value is None:
        if required:
            problems.append(Problem(path, 1 + offset, f"missing `{key}`"))
        return None
    if not isinstance(value, str):
        problems.append(Problem(path, _line_of(text, key) + offset, f"`{key}` must be text"))
        return None
    if required and not value.strip():
        problems.append(Problem(path, _line_of(text, key) + offset, f"`{key}` is empty"))
    if limit and len(value) > limit:
        problems.append(Problem(path, _line_of(text, key) + offset,
                                f"`{key}` is longer than {limit} characters"))
    return value.strip() if isinstance(value, str) else value


def _check_difficulty(data, key, path, text, problems, *, required=False, offset=0):
    value = data.get(key)
    if value is None and not required:
        return None
    if value not in DIFFICULTIES:
        problems.append(Problem(path, _line_of(text, key) + offset,
                                f"`{key}` must be one of {', '.join(DIFFICULTIES)}, not {value!r}"))
        return None
    return value


def _check_str_list(data, key, path, text, problems, offset=0) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(Problem(path, _line_of(text, key) + offset,
                                f"`{key}` must be a list of strings"))
        return []
    return value


def load_lesson(path: Path, problems: list[Problem]) -> LessonSource | None:
    match = LESSON_FILE.match(path.name)
    if not match:
        problems.append(Problem(path, 1, "lesson files are named NN-slug.md (e.g. 03-loops.md)"))
        return None
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "+++":
        problems.append(Problem(path, 1,
                                "a lesson starts with TOML front matter between +++ lines"))
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
    except StopIteration:
        problems.append(Problem(path, 1, "the front matter is not closed with a +++ line"))
        return None
    front_text = "\n".join(lines[1:end])
    front = _toml(path, front_text, problems, offset=1)
    title = _check_str(front, "title", path, front_text, problems, required=True, limit=200,
                       offset=1)
    duration = _check_str(front, "duration", path, front_text, problems, limit=50, offset=1)
    difficulty = _check_difficulty(front, "difficulty", path, front_text, problems, offset=1)
    key_points = _check_str_list(front, "key_points", path, front_text, problems, offset=1)
    body = "\n".join(lines[end + 1:])
    sections = {"content": body, "explanation": None, "code example": None}
    found = list(SECTION.finditer(body))
    if found:
        sections["content"] = body[:found[0].start()]
        for i, section in enumerate(found):
            stop = found[i + 1].start() if i + 1 < len(found) else len(body)
            sections[section[1].lower()] = body[section.end():stop].strip()
    code = None
    if sections["code example"]:
        fence = FENCE.search(sections["code example"] + "\n")
        if fence is None:
            line = text.count("\n", 0, text.find("## Code example")) + 1
            problems.append(Problem(path, line,
                                    "the Code example section needs a ``` fenced block"))
        else:
            code = fence[1].rstrip("\n")
    content = sections["content"].strip()
    if not content:
        problems.append(Problem(path, end + 2, "the lesson has no content before ## Explanation"))
    if title is None:
        return None
    return LessonSource(slug=match[2], order_index=int(match[1]), title=title, content=content,
                        explanation=sections["explanation"] or None, code_example=code,
                        key_points=key_points, duration=duration, difficulty=difficulty,
                        path=path)


def load_course(directory: Path | str) -> CourseSource:
    """Load a course folder; raises ContentError when it cannot be used at all.
    Other problems are collected in `.problems`."""
    from services.runner.spec import AssessmentError, load_assessment

    directory = Path(directory)
    problems: list[Problem] = []
    course_file = directory / "course.toml"
    if not course_file.is_file():
        raise ContentError([Problem(course_file, 1, "no course.toml: is this a course folder?")])
    text = course_file.read_text(encoding="utf-8")
    data = _toml(course_file, text, problems)
    title = _check_str(data, "title", course_file, text, problems, required=True, limit=200)
    slug = directory.resolve().name
    if not SLUG.match(slug):
        problems.append(Problem(course_file, 1, f"the folder name {slug!r} is not a valid slug "
                                "(lowercase letters, digits and dashes)"))
    estimated = data.get("estimated_hours")
    if estimated is not None and (not isinstance(estimated, (int, float))
                                  or not 0 <= estimated <= 10000):
        problems.append(Problem(course_file, _line_of(text, "estimated_hours"),
                                "`estimated_hours` must be a number between 0 and 10000"))
        estimated = None
    course = CourseSource(
        slug=slug, title=title or slug,
        description=_check_str(data, "description", course_file, text, problems, limit=20000),
        short_description=_check_str(data, "short_description", course_file, text, problems,
                                     limit=300),
        duration=_check_str(data, "duration", course_file, text, problems, limit=50),
        difficulty_level=_check_difficulty(data, "difficulty_level", course_file, text,
                                           problems, required=True) or "Beginner",
        estimated_hours=float(estimated) if estimated is not None else None,
        tags=_check_str_list(data, "tags", course_file, text, problems),
        thumbnail_url=_check_str(data, "thumbnail_url", course_file, text, problems, limit=2048),
        lessons=[], assessments=[], path=directory, problems=problems)
    known = {"title", "description", "short_description", "duration", "difficulty_level",
             "estimated_hours", "tags", "thumbnail_url"}
    for key in sorted(set(data) - known):
        problems.append(Problem(course_file, _line_of(text, key), f"unknown key `{key}`"))

    orders: dict[int, Path] = {}
    for path in sorted((directory / "lessons").glob("*.md")):
        lesson = load_lesson(path, problems)
        if lesson is None:
            continue
        if lesson.order_index in orders:
            problems.append(Problem(path, 1, f"order {lesson.order_index:02d} is also used by "
                                             f"{orders[lesson.order_index].name}"))
        orders[lesson.order_index] = path
        course.lessons.append(lesson)
    if not course.lessons:
        problems.append(Problem(directory / "lessons", 1, "the course has no lessons"))
    lesson_stems = {f"{x.order_index:02d}-{x.slug}": x.slug for x in course.lessons}
    lesson_slugs = {x.slug for x in course.lessons}

    for path in sorted((directory / "assessments").glob("*.toml")):
        try:
            assessment = load_assessment(path)
        except AssessmentError as exc:
            problems.append(Problem(Path(exc.file), exc.line, exc.message))
            continue
        text = path.read_text(encoding="utf-8")
        lesson = tomllib.loads(text).get("lesson")
        source = AssessmentSource(slug=path.stem, spec=assessment, path=path)
        if lesson is not None and not isinstance(lesson, str):
            problems.append(Problem(path, _line_of(text, "lesson"),
                                    "`lesson` must be a lesson file's name, e.g. \"03-loops\""))
        elif lesson:
            source.lesson = lesson_stems.get(lesson) or (lesson if lesson in lesson_slugs
                                                         else None)
            if source.lesson is None:
                problems.append(Problem(path, _line_of(text, "lesson"),
                                        f"`lesson = {lesson!r}` names no lesson of this course"))
        course.assessments.append(source)
    return course


def bundled_courses() -> list[Path]:
    from services import paths

    root = paths.courses_dir()
    return sorted(p for p in root.iterdir() if (p / "course.toml").is_file()) \
        if root.is_dir() else []
