"""What a run returns: Exercism's results.json shape, as the `learn check --json` contract.

    {"version": 1, "status": "pass|fail|error", "message": null,
     "score": {"passed": 7, "total": 10, "percent": 70},
     "tests": [{"name", "status", "message", "expected", "actual", "output", "duration_ms"}]}

`status` is "error" when the code could not be tested at all (a syntax error, a missing
function, an unavailable interpreter); then `message` says why. A hidden test shows only
its name, pass or fail, and its duration.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from services.text import terminal_safe

VERSION = 1
TEST_STATUSES = ("pass", "fail", "error", "timeout", "memory_limit", "output_limit")
# How a status is shown in a terminal (the app's results table, `learn practice`):
# (icon, Rich style).
STATUS_ICONS = {
    "pass": ("✓", "green"),
    "fail": ("✗", "red"),
    "error": ("!", "red"),
    "timeout": ("⏱", "yellow"),
    "memory_limit": ("M", "yellow"),
    "output_limit": ("…", "yellow"),
}
HIDDEN_MESSAGE = "hidden test"
OUTPUT_SHOWN = 500  # characters of a test's output kept in results, as Exercism does


class TestResult(NamedTuple):
    """One test's outcome. `to_dict()` is its entry in the contract's "tests" list."""

    name: str
    status: str  # one of TEST_STATUSES
    message: str | None = None
    expected: str | None = None
    actual: str | None = None
    output: str | None = None
    duration_ms: float = 0.0
    hidden: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "expected": self.expected,
            "actual": self.actual,
            "output": self.output,
            "duration_ms": self.duration_ms,
        }


# pytest would collect a class named Test*; a NamedTuple cannot hold the marker itself.
TestResult.__test__ = False  # type: ignore[attr-defined]


class Score(NamedTuple):
    """How many tests passed."""

    passed: int
    total: int

    @property
    def percent(self) -> int:
        """Whole percent, rounded down: 100 only when every test passes."""
        return 100 * self.passed // self.total if self.total else 0

    def to_dict(self) -> dict[str, int]:
        return {"passed": self.passed, "total": self.total, "percent": self.percent}


class RunResult(NamedTuple):
    """A whole run: `to_dict()` is the `learn check --json` contract (NamedTuple, not a
    dataclass, for start-up time: see spec.py)."""

    status: str  # pass | fail | error
    message: str | None
    tests: list[TestResult]

    @property
    def score(self) -> Score:
        return Score(sum(t.status == "pass" for t in self.tests), len(self.tests))

    def to_dict(self) -> dict[str, Any]:
        """The contract dict (for the `execution_result` column and `learn check --json`)."""
        return {
            "version": VERSION,
            "status": self.status,
            "message": self.message,
            "score": self.score.to_dict(),
            "tests": [t.to_dict() for t in self.tests],
        }

    def to_json(self) -> str:
        """The contract as JSON text (ASCII: safe on any terminal encoding)."""
        return json.dumps(self.to_dict())


def conceal(result: TestResult) -> TestResult:
    """A hidden test as learners see it: name, pass/fail and duration only."""
    return TestResult(
        name=result.name,
        status="pass" if result.status == "pass" else "fail",
        message=HIDDEN_MESSAGE,
        duration_ms=result.duration_ms,
        hidden=True,
    )


def terminal_safe_result(result: TestResult) -> TestResult:
    """`result` with its text made `terminal_safe`: test names come from authors, the
    rest from the learner's program, and all of it is shown on a terminal (the results
    table, `learn check`) and stored. Applied once a test has been judged."""

    def safe(text: str | None) -> str | None:
        return terminal_safe(text) if text else text

    return result._replace(
        name=terminal_safe(result.name),
        message=safe(result.message),
        expected=safe(result.expected),
        actual=safe(result.actual),
        output=safe(result.output),
    )


def clip_output(text: str) -> str | None:
    """A test's output as results show it: at most OUTPUT_SHOWN characters, None if empty."""
    if not text:
        return None
    if len(text) > OUTPUT_SHOWN:
        text = text[:OUTPUT_SHOWN] + f"\n… output truncated to {OUTPUT_SHOWN} characters"
    return storable(text)


def storable(text: str) -> str:
    """`text` without what a jsonb column refuses (NUL, lone surrogates): learner code
    prints anything, and results go to `assessment_attempts.execution_result`."""
    text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text
