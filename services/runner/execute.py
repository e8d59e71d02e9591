"""Running learner code against an assessment's tests (and "run my program").

`run(assessment, code)` is synchronous and keeps no shared state, so the app calls it
from a worker thread (`@work(thread=True)`). Call tests run in ONE child process (the
harness in `_child.py`); each io test runs its own process. A test that times out,
runs out of memory or floods its output gets its status, the child is killed, and a
fresh child runs the tests after it, until the run's time budget is spent — except
after a timeout: code that loops once will loop again, so the remaining tests are
reported as not run and the learner hears back within one test's time limit. A run can
be cancelled from another thread (`cancel`, a threading.Event): its child is killed at
once and the tests not finished are reported as not run.

It stays one module (~510 lines): `_Run` is one state machine over the child's events,
and the message helpers after it are the words it reports its states in.
"""

from __future__ import annotations

import marshal
import signal
import threading
import time
from typing import NamedTuple

from services.text import terminal_safe

from .results import (
    TEST_STATUSES,
    RunResult,
    TestResult,
    clip_output,
    conceal,
    storable,
    terminal_safe_result,
)
from .sandbox import PROGRAMS, STARTUP_S, Child, Workdir, interpreter, rlimits
from .spec import Assessment, Limits, TestCase

CANCELLED = "not run: the run was cancelled"
SOURCE_NAMES = {"python": "solution.py", "javascript": "solution.js", "bash": "solution.sh"}
RUN_BUDGET_S = 20.0  # all tests of one submission, or 3 × time_ms when that is longer
_SHOWN = 1000  # characters of expected/actual stdout kept in a result
_OUT_OF_MEMORY = (
    "MemoryError",
    "Cannot allocate memory",
    "cannot allocate",  # Python, bash
    "out of memory",
    "allocation failed",
    "bad_alloc",
)  # node, C++


class ProgramResult(NamedTuple):
    """One run of a program (`run_code`, and each io test)."""

    status: str  # ok | error | timeout | memory_limit | output_limit (| cancelled: internal)
    exit_code: int | None
    stdout: str
    stderr: str
    duration_ms: float
    message: str | None = None
    syntax_error: bool = False  # Python could not compile the code (message says where)


def run(assessment: Assessment, code: str, cancel: threading.Event | None = None) -> RunResult:
    """Run `code` against every test of `assessment`; never raises for anything the code
    does. Thread-safe. Setting `cancel` (from any thread) stops the run within a few
    hundredths of a second: the result then has status "error" and says so."""
    language = assessment.language
    if interpreter(language) is None:
        return _unrunnable(
            assessment.tests,
            f"{language} code needs `{PROGRAMS[language]}`, "
            "which is not installed here (not on PATH): install it and retry",
        )
    try:
        workdir = Workdir()
    except OSError as e:
        return _unrunnable(
            assessment.tests,
            f"cannot create a temporary folder for the run ({e.strerror or e}): check TMPDIR",
        )
    with workdir:
        runner = _Run(assessment, code, workdir, cancel)
        calls = [i for i, t in enumerate(assessment.tests) if t.kind == "call"]
        while calls and runner.going():
            calls = runner.call_session(calls)
        for index, test in enumerate(assessment.tests):
            if test.kind == "io" and runner.going():
                runner.io_test(index, test)
    return runner.result()


def run_code(
    language: str, code: str, stdin: str = "", limits: Limits | None = None
) -> ProgramResult:
    """Run a whole program once, sandboxed like the tests (for a "run my program" button)."""
    limits = limits or Limits()
    if interpreter(language) is None:
        return ProgramResult(
            "error",
            None,
            "",
            "",
            0.0,
            f"{language} needs `{PROGRAMS.get(language, language)}`, which is not installed here",
        )
    try:
        workdir = Workdir()
    except OSError as e:
        return ProgramResult(
            "error",
            None,
            "",
            "",
            0.0,
            f"cannot create a temporary folder ({e.strerror or e}): check TMPDIR",
        )
    with workdir:
        workdir.write(SOURCE_NAMES[language], code)
        outcome = _program(workdir, language, code, stdin, limits)
    # to be shown (io tests compare the program's own bytes, in _Run.io_test)
    return outcome._replace(
        stdout=terminal_safe(outcome.stdout),
        stderr=terminal_safe(outcome.stderr),
        message=outcome.message and terminal_safe(outcome.message),
    )


class _Run:
    """The state of one `run`: results so far, the time budget, a load failure."""

    def __init__(
        self,
        assessment: Assessment,
        code: str,
        workdir: Workdir,
        cancel: threading.Event | None = None,
    ) -> None:
        self.assessment = assessment
        self.cancel = cancel
        self.stopped: str | None = None  # why the tests left are not run (a timeout…)
        self.code = code
        self.workdir = workdir
        self.limits = assessment.limits
        self.time_s = self.limits.time_ms / 1000
        self.budget_s = _budget_s(self.time_s)
        self.ends = time.monotonic() + self.budget_s
        self.results: list[TestResult | None] = [None] * len(assessment.tests)
        self.problem: str | None = None  # the code could not be loaded: why
        self.filename = SOURCE_NAMES[assessment.language]  # relative to the workdir (cwd)
        workdir.write(self.filename, code)

    def out_of_time(self) -> bool:
        return time.monotonic() >= self.ends

    @property
    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def going(self) -> bool:
        """More tests may start: nothing stopped the run."""
        if self.cancelled and self.stopped is None:
            self.stopped = CANCELLED
        return self.problem is None and self.stopped is None and not self.out_of_time()

    def call_session(self, pending: list[int]) -> list[int]:
        """Run call tests in one harness; returns the tests still to run after a kill."""
        tests = self.assessment.tests
        order = {
            "mode": "call",
            "code": self.code,
            "filename": self.filename,
            "entry": self.assessment.entry,
            "rlimits": rlimits(self.limits.memory_mb, self.ends - time.monotonic(), "python"),
            "tests": [
                (
                    i,
                    tests[i].name,
                    marshal.dumps(tests[i].args),
                    marshal.dumps(tests[i].kwargs or {}),
                    marshal.dumps(tests[i].expected),
                    tests[i].compare,
                )
                for i in pending
            ],
        }
        queue = list(pending)
        phase = "start"  # then "load" (the module runs), then "test" (queue[0] runs)
        cap = self.limits.output_kb * 1024
        printed: list[str] = []  # what the running test (or the module) printed
        size = 0
        with Child(self.workdir, order, output_limit=cap, cancel=self.cancel) as child:
            deadline = time.monotonic() + STARTUP_S
            while True:
                kind, value = child.wait(deadline)
                if kind != "event":
                    break
                event = value["e"]
                if event == "out":
                    text = _text(value, "t") or ""
                    printed.append(text)
                    size += len(text)
                    if size > cap:
                        kind = "output_limit"
                        break
                    continue  # printing does not move the deadline
                if event == "ready" and phase == "start":
                    phase = "load"
                elif event == "loaded" and phase == "load":
                    phase = "test"
                    printed, size = [], 0  # printed at the top level: no test's output
                elif event == "load_error" and phase == "load":
                    self.problem = _text(value, "message") or "your code could not be loaded"
                    return []
                elif event == "result" and phase == "test" and queue and value.get("i") == queue[0]:
                    # print() output came as events, in order; what reached the real stdout
                    # (os.write, child processes) goes to the test running when it is read.
                    output = "".join(printed) + child.take_output()
                    printed, size = [], 0
                    self.results[queue.pop(0)] = self._call_result(tests[value["i"]], value, output)
                    if queue and self.out_of_time():
                        return []  # the rest are reported as not run
                elif event == "done" and phase == "test":
                    return queue  # empty unless the harness skipped tests (it does not)
                deadline = time.monotonic() + self.time_s
            child.kill()
            stderr = child.stderr.decode("utf-8", "replace")
        if kind == "cancelled":
            self.stopped = CANCELLED
            return []
        if phase == "test" and not queue:
            return []
        status, message = self._stopped(kind, value, stderr)
        if phase != "test":
            if status == "error":
                message += _last_error_line(stderr, prefix=": ")
            self.problem = _load_failure(phase, status, message, self.limits)
            return []
        if status == "error":
            message += (
                " during this test (did the code call os._exit() or crash Python?)"
                + _last_error_line(stderr, prefix=": ")
            )
        index = queue.pop(0)
        shown = clip_output("".join(printed) + child.take_output())  # before it was stopped
        duration = float(self.limits.time_ms) if status == "timeout" else 0.0
        self.results[index] = TestResult(
            tests[index].name, status, message, output=shown, duration_ms=duration
        )
        if status == "timeout" and queue:
            self.stopped = _after_timeout(self.time_s)
            return []
        return queue

    def _call_result(self, test: TestCase, event: dict, output: str) -> TestResult:
        status = event.get("status")
        if status not in TEST_STATUSES:
            status = "error"
        message = _text(event, "message")
        if status == "memory_limit":
            message = _memory_message(self.limits)
        ms = event.get("ms")
        return TestResult(
            name=test.name,
            status=status,
            message=message,
            expected=_text(event, "expected"),
            actual=_text(event, "actual"),
            output=clip_output(output),
            duration_ms=round(float(ms), 2) if isinstance(ms, (int, float)) else 0.0,
        )

    def _stopped(self, kind: str, value: object, stderr: str) -> tuple[str, str]:
        """Status and message for a harness that stopped without reporting (killed/died)."""
        if kind == "timeout":
            return "timeout", _timeout_message(self.time_s)
        if kind == "output_limit":
            return "output_limit", _output_message(self.limits)
        if _looks_out_of_memory(stderr):
            return "memory_limit", _memory_message(self.limits)
        code = value if isinstance(value, int) else None
        if _cpu_exhausted(code):
            return "timeout", _timeout_message(self.time_s)
        return "error", f"the test process {_exit_description(code)}"

    def io_test(self, index: int, test: TestCase) -> None:
        outcome = _program(
            self.workdir,
            self.assessment.language,
            self.code,
            test.stdin or "",
            self.limits,
            self.cancel,
        )
        if outcome.status == "cancelled":
            self.stopped = CANCELLED
            return
        if outcome.status == "timeout":
            self.stopped = _after_timeout(self.time_s)
        if outcome.syntax_error:
            self.problem = outcome.message
            return
        if outcome.status == "ok":
            difference = stdout_difference(test.expected_stdout or "", outcome.stdout)
            status = "pass" if difference is None else "fail"
            message = difference
        else:
            status, message = outcome.status, outcome.message
        shown = status != "pass"
        self.results[index] = TestResult(
            name=test.name,
            status=status,
            message=message,
            expected=_clip(test.expected_stdout or "") if shown else None,
            actual=_clip(outcome.stdout) if shown else None,
            output=clip_output(outcome.stderr),
            duration_ms=round(outcome.duration_ms, 2),
        )

    def result(self) -> RunResult:
        tests = self.assessment.tests
        results = []
        for test, result in zip(tests, self.results, strict=True):
            if result is None:
                message = (
                    self.problem
                    or self.stopped
                    or (f"not run: the tests used all the {self.budget_s:g} s a run may take")
                )
                result = TestResult(test.name, "error", message)
            results.append(terminal_safe_result(conceal(result) if test.hidden else result))
        if self.problem is not None:
            return RunResult("error", terminal_safe(self.problem), results)
        if self.stopped == CANCELLED:
            return RunResult("error", "the run was cancelled", results)
        passed = all(r.status == "pass" for r in results)
        return RunResult("pass" if passed else "fail", None, results)


def _program(
    workdir: Workdir,
    language: str,
    code: str,
    stdin: str,
    limits: Limits,
    cancel: threading.Event | None = None,
) -> ProgramResult:
    """Run the program in `workdir` (already written there as SOURCE_NAMES[language])."""
    filename = SOURCE_NAMES[language]
    time_s = limits.time_ms / 1000
    order: dict = {"rlimits": rlimits(limits.memory_mb, time_s, language)}
    if language == "python":
        order.update(mode="python", code=code, filename=filename)
    else:
        order.update(mode="exec", argv=[interpreter(language), filename])
    stdin_path = workdir.write(".stdin", stdin)
    notices: dict[str, str | None] = {}
    started: float | None = None
    with Child(
        workdir, order, output_limit=limits.output_kb * 1024, stdin=stdin_path, cancel=cancel
    ) as child:
        deadline = time.monotonic() + STARTUP_S
        while True:
            kind, value = child.wait(deadline)
            if kind != "event":
                break
            if value["e"] == "ready" and started is None:
                started = time.monotonic()
                deadline = started + time_s
            else:
                notices[value["e"]] = _text(value, "message")
        child.kill()
        duration = (time.monotonic() - (started or child.started)) * 1000
    stdout = child.stdout.decode("utf-8", "replace")
    stderr = child.stderr.decode("utf-8", "replace")
    exit_code = value if kind == "exit" else None

    def result(status: str, message: str | None = None, syntax: bool = False) -> ProgramResult:
        return ProgramResult(status, exit_code, stdout, stderr, duration, message, syntax)

    if kind == "cancelled":
        return result("cancelled", "the run was cancelled")
    if "syntax" in notices:
        return result("error", notices["syntax"], syntax=True)
    if kind == "timeout":
        if started is None:
            return result("error", f"the program did not start within {STARTUP_S:g} s")
        return result("timeout", _timeout_message(time_s))
    if kind == "output_limit":
        return result("output_limit", _output_message(limits))
    if exit_code == 0:
        return result("ok")
    if "memory" in notices or _looks_out_of_memory(stderr):
        return result("memory_limit", _memory_message(limits))
    if _cpu_exhausted(exit_code):
        return result("timeout", _timeout_message(time_s))
    message = notices.get("exception") or (
        f"the program {_exit_description(exit_code)}{_last_error_line(stderr, prefix=': ')}"
    )
    return result("error", message)


def _budget_s(time_s: float) -> float:
    """How long all tests of one run may take together."""
    return max(RUN_BUDGET_S, 3 * time_s)


def stdout_difference(expected: str, actual: str) -> str | None:
    """None when the outputs match line by line, ignoring trailing whitespace on each line
    and blank lines at the end; else where they first differ."""
    want, got = _lines(expected), _lines(actual)
    if want == got:
        return None
    for number, (line_want, line_got) in enumerate(zip(want, got, strict=False), start=1):
        if line_want != line_got:
            return f"line {number} differs: expected {line_want!r}, got {line_got!r}"
    if len(got) < len(want):
        return (
            f"the output ends after {len(got)} line(s); expected {len(want)}, "
            f"next {want[len(got)]!r}"
        )
    return f"the output has {len(got)} lines; expected {len(want)}, extra {got[len(want)]!r}"


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _unrunnable(tests: list[TestCase], message: str) -> RunResult:
    results = [TestResult(t.name, "error", message, hidden=t.hidden) for t in tests]
    return RunResult(
        "error", message, [terminal_safe_result(conceal(r) if r.hidden else r) for r in results]
    )


def _load_failure(phase: str, status: str, message: str, limits: Limits) -> str:
    if phase == "start":
        return f"the tests could not start ({message})"
    if status == "timeout":
        return (
            f"your code ran longer than {limits.time_ms / 1000:g} s while loading "
            "(an endless loop at the top level of the file?)"
        )
    if status == "memory_limit":
        return f"your code used more than {limits.memory_mb} MB of memory while loading"
    if status == "output_limit":
        return f"your code printed more than {limits.output_kb} KB while loading"
    return f"your code could not be loaded: {message}"


def _text(event: dict, key: str) -> str | None:
    value = event.get(key)
    return storable(value) if isinstance(value, str) else None


def _clip(text: str) -> str:
    return storable(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")


def _timeout_message(time_s: float) -> str:
    return f"did not finish within {time_s:g} s (an endless loop? waiting for input?)"


def _memory_message(limits: Limits) -> str:
    return f"used more than {limits.memory_mb} MB of memory"


def _after_timeout(time_s: float) -> str:
    return (
        f"not run: an earlier test did not finish within {time_s:g} s "
        "(fix the loop, then run again)"
    )


def _output_message(limits: Limits) -> str:
    return f"printed more than {limits.output_kb} KB of output"


def _looks_out_of_memory(stderr: str) -> bool:
    return any(sign in stderr for sign in _OUT_OF_MEMORY)


def _cpu_exhausted(exit_code: int | None) -> bool:
    xcpu = getattr(signal, "SIGXCPU", None)
    return xcpu is not None and exit_code in (-xcpu, 128 + xcpu)


def _exit_description(code: int | None) -> str:
    if code is None:
        return "stopped"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _last_error_line(stderr: str, prefix: str = "") -> str:
    """The line of stderr most likely to name the error (`XxxError: ...`), or ''."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        head = line.split(":", 1)[0]
        if head.endswith(("Error", "Exception")) and " " not in head:
            return prefix + line[:300]
    lines = [line for line in lines if not line.startswith("Node.js v")]
    return prefix + lines[-1][:300] if lines else ""
