"""Assessment files: `assessments/<slug>.toml`, the runner's format (services/runner/spec.py)
plus what a course folder adds: `lesson`, a reference `solution` and the database's limits.

    load_assessment_file   an assessment file as an AssessmentSource, its problems added to a list
"""

from __future__ import annotations

import sys
from pathlib import Path

from services.authoring.model import (
    ASSESSMENT_KEYS,
    MAX_LEN,
    MAX_TIME_LIMIT,
    SLUG,
    AssessmentSource,
    LessonSource,
    Problem,
)
from services.authoring.reading import SourceFile, read_source

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def load_assessment_file(
    path: Path, problems: list[Problem], lessons: list[LessonSource]
) -> AssessmentSource | None:
    """An assessment file, with what the course folder adds to the runner's format:
    its slug (the file name), `lesson`, the database's limits and a reference solution."""
    from services.runner.spec import AssessmentError, parse_assessment

    text = read_source(path, problems)
    if text is None:
        return None
    try:
        assessment = parse_assessment(text, str(path))
    except AssessmentError as exc:
        problems.append(Problem(path, exc.line or 1, exc.message))
        return None
    source = SourceFile(path, text, problems)
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


def _check_python(source: SourceFile, key: str, code: str) -> None:
    try:
        compile(code, key, "exec")
    except SyntaxError as exc:
        where = f"line {exc.lineno}: " if exc.lineno else ""
        source.add(source.line(key), f"`{key}` is not valid Python ({where}{exc.msg})")
    except ValueError as exc:  # e.g. a NUL character
        source.add(source.line(key), f"`{key}` is not valid Python ({exc})")
