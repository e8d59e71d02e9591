"""Lesson files: `lessons/NN-<slug>.md`, TOML front matter between +++ lines, then the
content and its "## Explanation" and "## Code example" sections.

    load_lesson   a lesson file as a LessonSource, its problems added to a list
    LESSON_FILE   the file name's pattern (number, slug)
"""

from __future__ import annotations

import re
from pathlib import Path

from services.authoring.model import (
    LESSON_KEYS,
    MAX_KEY_POINT_CHARS,
    MAX_KEY_POINTS,
    MAX_LEN,
    MAX_ORDER,
    LessonSource,
    Problem,
)
from services.authoring.reading import SourceFile, read_source

LESSON_FILE = re.compile(r"^(\d{1,4})-([a-z0-9][a-z0-9-]*)\.md$")
SECTION = re.compile(r"^## +(Explanation|Code example) *$", re.IGNORECASE)
FENCE_OPEN = re.compile(r"^(`{3,}|~{3,})")


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
    text = read_source(path, problems)
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
    front = SourceFile(path, "\n".join(lines[1:end]), problems, offset=1)
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
