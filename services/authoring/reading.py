"""Reading a course folder's files: text checked for UTF-8 and control characters, TOML
with each problem placed at its line.

    SourceFile       one file's text and where its problems go (`toml()`, `line(key)`, checks
                     of text values, difficulties, lists and unknown keys)
    read_source      a file's text, or None after reporting why it cannot be used
    control_message  the message for a control character found in a file or a value
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.authoring.model import DIFFICULTIES, MAX_LEN, Problem
from services.text import CONTROL, control_characters, describe

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:
    from services.runner.toml_lines import KeyLines  # imported when first needed


class SourceFile:
    """One file's text and where its problems go; `line(key)` finds a top-level key
    (skipping multi-line strings), `offset` is the line the TOML starts after."""

    def __init__(self, path: Path, text: str, problems: list[Problem], offset: int = 0):
        self.path, self.text, self.problems, self.offset = path, text, problems, offset
        self._lines: KeyLines | None = None

    def line(self, key: str | None = None, table: Any = None) -> int:
        from services.runner.toml_lines import KeyLines

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
            self.add(self.line(key), control_message(describe(found.group()), key))
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


def read_source(path: Path, problems: list[Problem]) -> str | None:
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
        problems.append(Problem(path, line, control_message(name)))
    return text


def control_message(name: str, key: str | None = None) -> str:
    where = f"`{key}` holds" if key else "this line holds"
    return (
        f"{where} the control character {name}, which terminals obey as a command "
        "(it can set the window title or write the clipboard): remove it"
    )
