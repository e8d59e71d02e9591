"""Where keys and tables are in TOML text, for error messages that name a line.

    KeyLines(text).find(table, key)   the line of `key` in `table` (a [table] name, or
                                      ("tests", index) for the index-th [[tests]]); the
                                      table's own line when the key is not there, else 1

Used by spec.py (an assessment's problems) and services.authoring.reading (a course
folder's); imported only when there is a problem to place.
"""

from __future__ import annotations

import re
from typing import Any

_KEY = r"""\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*="""  # (compiled on first use)


class KeyLines:
    """Where keys and tables are in TOML text: a line scan that is good enough for error
    messages (it follows [table] and [[tests]] headers and skips multi-line strings)."""

    def __init__(self, text: str) -> None:
        self.keys: dict[tuple[Any, str], int] = {}
        self.tables: dict[Any, int] = {}
        table: Any = None
        tests = -1
        open_string: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if open_string:
                if line.count(open_string) % 2 == 1:
                    open_string = None
                continue
            stripped = line.strip()
            if stripped.startswith("[["):
                name = stripped[2:].split("]]")[0].strip()
                if name == "tests":
                    tests += 1
                    table = ("tests", tests)
                else:
                    table = name
                self.tables.setdefault(table, number)
            elif stripped.startswith("["):
                table = stripped[1:].split("]")[0].strip()
                self.tables.setdefault(table, number)
            else:
                match = re.match(_KEY, line)
                if not match:
                    continue
                self.keys.setdefault((table, match.group(1).strip("\"'")), number)
                rest = line[match.end() :]
                for quote in ("'''", '"""'):
                    if rest.count(quote) % 2 == 1:
                        open_string = quote
                        break

    def find(self, table: Any, key: str | None) -> int:
        if key is not None and (table, key) in self.keys:
            return self.keys[(table, key)]
        return self.tables.get(table, 1)
