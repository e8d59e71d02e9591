"""Assessments: the authoring file, the `test_cases` JSONB list, and their validation.

An assessment file (content/courses/<slug>/assessments/<slug>.toml) and a database row
hold the same tests: the TOML `[[tests]]` array is exactly the `test_cases` list. A test
is either a "call" test (`args`, `kwargs`, `expected`, `compare`: the Python function
`entry` is called) or an "io" test (`stdin`, `expected_stdout`: the program runs).

Every problem is an `AssessmentError` whose text is one line, `file:line: what is wrong
and what to do`, so an author can jump to it from a terminal (the line comes from
toml_lines.KeyLines). The value types and their validation stay in one module (~490
lines): each check in `_build`/`_test` is the definition of a field, read beside its type.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Mapping
from os import PathLike
from typing import TYPE_CHECKING, Any, NamedTuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    from .toml_lines import KeyLines

LANGUAGES = ("python", "javascript", "bash")
COMPARES = ("exact", "approx", "unordered")

# Sane ranges for [limits]: (lowest, highest) accepted.
LIMIT_RANGES = {"time_ms": (50, 60_000), "memory_mb": (32, 8192), "output_kb": (1, 10_240)}

_TEST_KEYS = ("name", "args", "kwargs", "expected", "compare", "stdin", "expected_stdout", "hidden")
_CALL_KEYS = ("args", "kwargs", "expected")
_IO_KEYS = ("stdin", "expected_stdout")


class AssessmentError(ValueError):
    """An assessment that cannot be used; `str()` is `file:line: message` on one line."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")


# The value types are typing.NamedTuple, not dataclasses: importing dataclasses (inspect,
# ast, dis, ...) and building the classes costs about 18 ms, a fifth of `learn check`.
# They are immutable; copy with `_replace(...)`, convert with `_asdict()`.


class Limits(NamedTuple):
    """Per-run limits: wall time per test, memory per process, output per test."""

    time_ms: int = 2000
    memory_mb: int = 256
    output_kb: int = 64

    def to_json(self) -> dict[str, int]:
        return self._asdict()


class TestCase(NamedTuple):
    """One test. A call test has `args`; an io test has `expected_stdout`."""

    name: str
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    expected: Any = None
    compare: str = "exact"
    stdin: str | None = None
    expected_stdout: str | None = None
    hidden: bool = False

    @property
    def kind(self) -> str:
        return "call" if self.args is not None else "io"

    def to_json(self) -> dict[str, Any]:
        """The test as it is written in TOML and stored in `test_cases` (defaults left out)."""
        out: dict[str, Any] = {"name": self.name}
        if self.kind == "call":
            out["args"] = self.args
            if self.kwargs:
                out["kwargs"] = self.kwargs
            out["expected"] = self.expected
            if self.compare != "exact":
                out["compare"] = self.compare
        else:
            out["stdin"] = self.stdin
            out["expected_stdout"] = self.expected_stdout
        if self.hidden:
            out["hidden"] = True
        return out


# pytest would collect a class named Test*; a NamedTuple cannot hold the marker itself.
TestCase.__test__ = False  # type: ignore[attr-defined]


class Assessment(NamedTuple):
    """An assessment as the runner needs it (and the authoring fields that travel with it)."""

    title: str
    language: str
    tests: list[TestCase]
    entry: str | None = None
    limits: Limits = Limits()
    description: str = ""
    difficulty: str | None = None
    time_limit: int | None = None  # minutes, for the learner (not enforced by the runner)
    instructions: str = ""
    starter_code: str = ""
    solution: str | None = None  # the author's reference solution; never shown to learners

    def to_test_cases_json(self) -> list[dict[str, Any]]:
        """The `test_cases` JSONB list: the same dicts as the file's `[[tests]]`."""
        return [t.to_json() for t in self.tests]


def load_assessment(path: str | PathLike[str]) -> Assessment:
    """Read and validate an assessment file."""
    return parse_assessment(read_text_file(path), str(path))


def read_text_file(path: str | PathLike[str]) -> str:
    """A UTF-8 text file's contents; any problem is an AssessmentError naming the file."""
    name = str(path)
    try:
        with open(path, "rb") as f:  # not pathlib: `learn check` start-up counts
            data = f.read()
    except FileNotFoundError:
        raise AssessmentError(name, None, "no such file: check the path") from None
    except IsADirectoryError:
        raise AssessmentError(name, None, "is a folder, not a file: give the file's path") from None
    except OSError as e:
        raise AssessmentError(name, None, f"cannot read it ({e.strerror or e})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise AssessmentError(name, line, "is not UTF-8 text: save the file as UTF-8") from None


def parse_assessment(text: str, source_name: str) -> Assessment:
    """Validate assessment TOML; errors name `source_name` and the line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise _toml_error(e, text, source_name) from None
    lines: list[KeyLines] = []  # scanned only when there is an error to place

    def locate(table: Any, key: str | None) -> int:
        if not lines:
            from .toml_lines import KeyLines

            lines.append(KeyLines(text))
        return lines[0].find(table, key)

    return _build(data, source_name, locate)


def assessment_from_row(row: Mapping[str, Any]) -> Assessment:
    """An `Assessment` from a database row (`test_cases` JSONB; `limits` and `entry` when the
    table has them; without `entry`, the first function defined in `starter_code`).
    Hidden tests withheld by the database (name only) are left out: they run on the
    grader."""
    source = f"assessment {row.get('id') or row.get('title') or '(no id)'}"
    data: dict[str, Any] = {}
    for key in (
        "title",
        "description",
        "difficulty",
        "time_limit",
        "instructions",
        "starter_code",
        "language",
        "entry",
        "limits",
        "solution",
    ):
        if row.get(key) is not None:
            data[key] = row[key]
    data.setdefault("language", "python")
    tests = row.get("test_cases")
    limits = data.get("limits")
    try:
        if isinstance(tests, str):
            tests = json.loads(tests)
        if isinstance(limits, str):
            data["limits"] = json.loads(limits)
    except ValueError as e:
        raise AssessmentError(
            source, None, f"test_cases or limits is not valid JSON ({e})"
        ) from None
    if isinstance(tests, list):
        tests = [t for t in tests if not is_withheld_stub(t)]
    if tests is not None:
        data["tests"] = tests
    if "entry" not in data:
        entry = _first_function(data.get("starter_code") or "")
        if entry:
            data["entry"] = entry
    return _build(data, source, lambda table, key: None)


def is_withheld_stub(test: Any) -> bool:
    """A hidden test as learners read it from the database: its name only (the inputs
    and expectations are where only authors and graders read them)."""
    return (
        isinstance(test, dict)
        and test.get("hidden") is True
        and not any(k in test for k in ("args", "stdin", "expected", "expected_stdout"))
    )


def _first_function(code: str) -> str | None:
    match = re.search(r"^def\s+([A-Za-z_]\w*)\s*\(", code, re.MULTILINE)
    return match.group(1) if match else None


# --- validation --------------------------------------------------------------------------

Locate = Callable[[Any, "str | None"], "int | None"]


def _build(data: dict[str, Any], source: str, locate: Locate) -> Assessment:
    def fail(message: str, table: Any = None, key: str | None = None) -> AssessmentError:
        return AssessmentError(source, locate(table, key), message)

    def text(key: str, *, required: bool = False, default: Any = "") -> Any:
        if key not in data:
            if required:
                raise fail(f'`{key}` is missing: add {key} = "..." at the top of the file')
            return default
        value = data[key]
        if not isinstance(value, str) or (required and not value.strip()):
            raise fail(
                f"`{key}` must be a non-empty string" if required else f"`{key}` must be a string",
                None,
                key,
            )
        return value

    title = text("title", required=True)
    language = text("language", required=True)
    if language not in LANGUAGES:
        raise fail(
            f"unknown language {language!r}: use one of {', '.join(LANGUAGES)}", None, "language"
        )
    entry = text("entry", default=None)
    if entry is not None and not entry.isidentifier():
        raise fail(
            f"entry {entry!r} is not a function name: use the name of the function "
            'the tests call, e.g. entry = "solve"',
            None,
            "entry",
        )
    time_limit = data.get("time_limit")
    if time_limit is not None and (not _is_int(time_limit) or time_limit < 0):
        raise fail(
            "`time_limit` must be a whole number of minutes (0: untimed)", None, "time_limit"
        )
    difficulty = text("difficulty", default=None)
    limits = _limits(data.get("limits", {}), fail)

    tests_raw = data.get("tests")
    if tests_raw is None:
        raise fail("there are no tests: add at least one [[tests]] block")
    if not isinstance(tests_raw, list) or not all(isinstance(t, dict) for t in tests_raw):
        raise fail(
            "`tests` must be an array of tables: write each test as a [[tests]] block",
            None,
            "tests",
        )
    if not tests_raw:
        raise fail("there are no tests: add at least one [[tests]] block", None, "tests")
    tests: list[TestCase] = []
    seen: set[str] = set()
    for index, raw in enumerate(tests_raw):
        test = _test(raw, index, language, fail)
        if test.name in seen:
            raise fail(
                f"two tests are named {test.name!r}: give each test its own name",
                ("tests", index),
                "name",
            )
        seen.add(test.name)
        tests.append(test)
    first_call = next((i for i, t in enumerate(tests) if t.kind == "call"), None)
    if first_call is not None and entry is None:
        raise fail(
            f"test {tests[first_call].name!r} calls a function but `entry` is not set: "
            'add entry = "<function name>" at the top of the file',
            ("tests", first_call),
        )
    return Assessment(
        title=title,
        language=language,
        tests=tests,
        entry=entry,
        limits=limits,
        description=text("description"),
        difficulty=difficulty,
        time_limit=time_limit,
        instructions=text("instructions"),
        starter_code=text("starter_code"),
        solution=text("solution", default=None),
    )


def _limits(raw: Any, fail: Callable[..., AssessmentError]) -> Limits:
    if not isinstance(raw, dict):
        raise fail("`limits` must be a table: write it as a [limits] block", None, "limits")
    values: dict[str, int] = {}
    for key, value in raw.items():
        if key not in LIMIT_RANGES:
            raise fail(
                f"unknown limit `{key}`{_did_you_mean(key, LIMIT_RANGES)}: "
                f"use {', '.join(LIMIT_RANGES)}",
                "limits",
                key,
            )
        low, high = LIMIT_RANGES[key]
        if not _is_int(value) or not low <= value <= high:
            raise fail(
                f"limits.{key} must be a whole number from {low} to {high} (got {value!r})",
                "limits",
                key,
            )
        values[key] = value
    return Limits(**values)


def _test(
    raw: dict[str, Any], index: int, language: str, fail: Callable[..., AssessmentError]
) -> TestCase:
    table = ("tests", index)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail(
            f'test #{index + 1} has no name: add name = "..." to it',
            table,
            "name" if "name" in raw else None,
        )
    label = f"test {name!r}"
    for key in raw:
        if key not in _TEST_KEYS:
            raise fail(
                f"{label} has an unknown key `{key}`{_did_you_mean(key, _TEST_KEYS)}: "
                f"a test takes {', '.join(_TEST_KEYS)}",
                table,
                key,
            )
    is_call = any(k in raw for k in _CALL_KEYS)
    is_io = any(k in raw for k in _IO_KEYS)
    if is_call and is_io:
        raise fail(
            f"{label} mixes a call test (args/expected) and an io test "
            "(stdin/expected_stdout): split it into two tests",
            table,
        )
    if not is_call and not is_io:
        raise fail(
            f"{label} has neither `expected` (a call test, with `args`) nor "
            "`expected_stdout` (an io test, with `stdin`): add one",
            table,
        )
    hidden = raw.get("hidden", False)
    if not isinstance(hidden, bool):
        raise fail(f"{label}: `hidden` must be true or false", table, "hidden")
    compare = raw.get("compare", "exact")
    if compare not in COMPARES:
        raise fail(
            f"{label}: compare must be one of {', '.join(COMPARES)} (got {compare!r})",
            table,
            "compare",
        )
    if is_io:
        stdin = raw.get("stdin", "")
        expected_stdout = raw.get("expected_stdout")
        if expected_stdout is None:
            raise fail(
                f"{label} has `stdin` but no `expected_stdout`: add what the program should print",
                table,
            )
        for key, value in (("stdin", stdin), ("expected_stdout", expected_stdout)):
            if not isinstance(value, str):
                raise fail(f"{label}: `{key}` must be a string", table, key)
        if compare != "exact":
            raise fail(
                f"{label}: compare applies to call tests only; io tests compare "
                "stdout line by line",
                table,
                "compare",
            )
        return TestCase(name=name, stdin=stdin, expected_stdout=expected_stdout, hidden=hidden)

    if language != "python":
        raise fail(
            f'{label} is a call test, which needs language = "python": for '
            f"{language} write io tests (stdin / expected_stdout)",
            table,
        )
    if "expected" not in raw:
        raise fail(
            f"{label} has `args` but no `expected`: add the value the call should return", table
        )
    args = raw.get("args", [])
    if not isinstance(args, list):
        raise fail(
            f"{label}: `args` must be an array of arguments, e.g. args = [[1, 2], 3]", table, "args"
        )
    kwargs = raw.get("kwargs")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise fail(f"{label}: `kwargs` must be a table of keyword arguments", table, "kwargs")
    for key in ("args", "kwargs", "expected"):
        problem = _not_json(raw.get(key))
        if problem:
            raise fail(
                f"{label}: `{key}` holds {problem}, which tests cannot store: "
                "write it as a string or a number",
                table,
                key,
            )
    expected = raw["expected"]
    if compare == "unordered" and not isinstance(expected, list):
        raise fail(
            f'{label}: compare = "unordered" needs `expected` to be an array', table, "expected"
        )
    return TestCase(
        name=name,
        args=args,
        kwargs=kwargs or None,
        expected=expected,
        compare=compare,
        hidden=hidden,
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _not_json(value: Any) -> str | None:
    """What in `value` JSON (and so the `test_cases` column) cannot hold, or None."""
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value!r} (not a finite number)"
    if isinstance(value, list):
        return next((p for p in map(_not_json, value) if p), None)
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return "a table with non-string keys"
        return next((p for p in map(_not_json, value.values()) if p), None)
    return f"a {type(value).__name__}"


def _did_you_mean(word: str, choices: Any) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


# --- line numbers ------------------------------------------------------------------------

_POSITION = r"\s*\(at line (\d+), column (\d+)\)|\s*\(at end of document\)"  # compiled on use


def _toml_error(error: Exception, text: str, source: str) -> AssessmentError:
    message = str(error)
    match = re.search(_POSITION, message)
    detail = re.sub(_POSITION, "", message)
    line: int | None = None
    if match and match.group(1):
        line = int(match.group(1))
        detail += f" (column {match.group(2)})"
    elif match:
        line = text.count("\n") + 1
    return AssessmentError(source, line, f"invalid TOML: {detail}: fix the syntax here")
