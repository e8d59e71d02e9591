"""Writing a course back to a folder (`learn course export`): a folder that `load_course`
reads back to the same payload.

    write_course      a course (an `export_course` result or a payload) as a course folder
    course_toml, lesson_markdown, assessment_toml   the text of each file
    toml_value        one value as TOML (multi-line text as a literal string when it can be)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from services.authoring.model import COURSE_KEYS, ContentError, Problem


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
    for key in COURSE_KEYS:
        if key == "description":  # last, as a multi-line string
            continue
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
