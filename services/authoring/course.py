"""A whole course folder: load it, and validate it, running each reference solution and
starter in the sandbox as rustlings' `dev check` does.

    <course>/course.toml                 title, description, short_description, duration,
                                         difficulty_level, estimated_hours, tags
    <course>/lessons/NN-<slug>.md        +++ TOML front matter +++ (title, duration,
                                         difficulty, key_points), then the content;
                                         "## Explanation" and "## Code example" sections
    <course>/assessments/<slug>.toml     see services/runner/spec.py; plus `lesson` (the
                                         lesson file it belongs to) and `solution`

    load_course       a folder as a CourseSource, every problem found with its file and line
    validate          load_course, then (with run_code) check_solutions; problems sorted
    check_solutions   each reference solution passes every test; each starter fails one

Nothing here talks to a database: services.authoring.publishing does, through the API.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from services.authoring.assessments import load_assessment_file
from services.authoring.lessons import load_lesson
from services.authoring.model import (
    COURSE_KEYS,
    GRADINGS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    SLUG,
    AssessmentSource,
    ContentError,
    CourseSource,
    Problem,
)
from services.authoring.reading import SourceFile, read_source


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
    text = read_source(course_file, problems)
    if text is None:
        raise ContentError(problems)
    source = SourceFile(course_file, text, problems)
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
    source = SourceFile(assessment.path, text, [])
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
