"""Helpers for the runner tests: assessments in a line, tools that may be missing, both
sandbox modes, and a look at the machine's processes."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from services.runner import Assessment, Limits, TestCase, run, sandbox, sandbox_strength
from services.runner.results import TestResult
from tests.pg.servers import strict


def need(program: str) -> str:
    """The program's path; skip without it (fail instead under LEARN_STRICT=1, as CI runs)."""
    path = shutil.which(program)
    if path is None:
        message = f"{program} is not installed"
        if strict():
            pytest.fail(message)
        pytest.skip(message)
    return path


def call(
    name: str = "t", args: list | None = None, expected: object = None, **more: object
) -> TestCase:
    return TestCase(name=name, args=[] if args is None else args, expected=expected, **more)  # type: ignore[arg-type]


def io(name: str = "t", stdin: str = "", expected_stdout: str = "", **more: object) -> TestCase:
    return TestCase(name=name, stdin=stdin, expected_stdout=expected_stdout, **more)  # type: ignore[arg-type]


def assessment(
    *tests: TestCase, language: str = "python", entry: str | None = "solve", **limits: int
) -> Assessment:
    return Assessment(
        title="test",
        language=language,
        tests=list(tests),
        entry=entry,
        limits=Limits(**{"time_ms": 2000, **limits}),
    )


def run_one(code: str, test: TestCase | None = None, **limits: int) -> TestResult:
    """Run `code` against one test and return that test's result."""
    result = run(assessment(test or call(expected=None), **limits), code)
    return result.tests[0]


@pytest.fixture(params=["strong", "basic"])
def sandbox_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test in each sandbox mode this machine has."""
    if request.param == "strong":
        if sandbox_strength() != "strong":
            pytest.skip("user namespaces are not available here")
    else:
        basic_only(monkeypatch)
    return request.param


def basic_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make this process start children the basic way only."""
    sandbox.sandbox_strength()
    monkeypatch.setitem(sandbox._cache, "ways", [()])
    monkeypatch.setitem(sandbox._cache, "sure", True)


def processes_running(marker: str) -> list[int]:
    """Pids of live (not zombie) processes whose command line contains `marker` (Linux)."""
    if not os.path.isdir("/proc/self"):
        pytest.skip("needs /proc")
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            continue
    return [pid for pid in found if is_alive(pid)]


def is_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def die_soon(marker: str) -> bool:
    """True once no process with `marker` runs (SIGKILLed processes outside a namespace die
    asynchronously, so allow them a moment; a survivor would sleep for minutes)."""
    stop = time.monotonic() + 3
    while processes_running(marker):
        if time.monotonic() > stop:
            return False
        time.sleep(0.02)
    return True
