"""Practice in your own editor: `learn practice ASSESSMENT`.

The assessment's starter code (or the learner's draft, the same one the TUI's editor
saves: services.review.drafts) is written to a workspace file, `<practice_dir>/<course>/
<assessment>.py` (services.review.workspace; practice_dir defaults to ~/learn). A
watcher (watchfiles) sees every save; the visible tests run again and the results are
printed as the TUI's table shows them. A syntax error is one line with its position,
never a traceback. Keys: h the next hint (the tutor's ladder; without a model, the
course passages that match), s submit (every test, then the attempt is recorded and its
review card rated), q stop. Each save is also written to the draft, so switching to the
TUI loses nothing.

No Textual here: this runs in a plain terminal next to the learner's editor. It stays
one module (~450 lines): the session (`Practice`), its inputs (`saves`, `key_presses`)
and what it prints (`results_table`, `summary_line`) are one loop that `run_practice` drives.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.review import drafts
from services.runner.results import STATUS_ICONS
from services.text import terminal_safe

if TYPE_CHECKING:
    from rich.console import Console

    from services.data.api import AssessmentDetail, LearningAPI
    from services.runner import Assessment

DEBOUNCE_MS = 30  # quiet time after a change before the tests run (watchfiles step)


def printable(text: Any) -> str:
    """Any value as text that is safe to print to a terminal: `terminal_safe` of its
    str() ("" for None)."""
    return "" if text is None else terminal_safe(str(text))


def syntax_problem(code: str, language: str, filename: str = "<file>") -> str | None:
    """One line for a Python syntax error (with its line and column), else None."""
    if language != "python":
        return None
    try:
        compile(code, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" if exc.lineno else "somewhere"
        if exc.offset:
            where += f", column {exc.offset}"
        return f"SyntaxError at {where}: {printable(exc.msg)}"
    except ValueError as exc:  # e.g. source code with NUL bytes
        return f"Cannot compile: {printable(exc)}"
    return None


def visible_only(spec: Assessment) -> Assessment:
    """The assessment with its hidden tests left out (what practice runs on a save)."""
    return spec._replace(tests=[t for t in spec.tests if not t.hidden])


def _clip(value: Any, width: int) -> str:
    text = printable("" if value is None else value).replace("\n", "⏎")
    return text if len(text) <= width else text[: width - 1] + "…"


def results_table(result: dict[str, Any], width: int = 100):
    """The run as the TUI's results table shows it (a rich Table)."""
    from rich.table import Table
    from rich.text import Text

    narrow = width < 90
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold dim")
    table.add_column(" ", width=1)
    table.add_column("Test", overflow="ellipsis", no_wrap=True, max_width=28 if narrow else 32)
    table.add_column("Expected", overflow="ellipsis", no_wrap=True)
    table.add_column("Actual", overflow="ellipsis", no_wrap=True)
    if not narrow:
        table.add_column("Output", overflow="ellipsis", no_wrap=True)
    table.add_column("ms", justify="right")
    cell = 16 if narrow else 24
    for test in result["tests"]:
        icon, style = STATUS_ICONS.get(test["status"], ("?", ""))
        actual = test.get("actual")
        if test["status"] not in ("pass", "fail") and test.get("message"):
            actual = test["message"]
        row: list[Text | str | None] = [
            Text(icon, style=style),
            _clip(test["name"], 32),
            _clip(test.get("expected"), cell),
            _clip(actual, cell),
        ]
        if not narrow:
            row.append(_clip(test.get("output"), 20))
        row.append(f"{test.get('duration_ms') or 0:.0f}")
        table.add_row(*row)
    return table


def summary_line(result: dict[str, Any]) -> tuple[str, str]:
    score = result["score"]
    icon, style = STATUS_ICONS.get(result["status"], ("?", ""))
    return (
        f"{icon} {score['passed']}/{score['total']} tests pass ({score['percent']}%)",
        f"bold {style}",
    )


# ---------------------------------------------------------------------------
# Watching
# ---------------------------------------------------------------------------


async def saves(
    path: Path, stop: asyncio.Event, *, last: str | None = None, debounce_ms: int = DEBOUNCE_MS
) -> AsyncIterator[str]:
    """The file's text after each save that changed it. Watches the folder, so editors
    that save by writing a new file and renaming it over the old one are seen too; and
    looks at the file every half second without an event as well, so a save made while
    the watch was being set up is not missed."""
    import watchfiles

    name = path.name
    async for _changes in watchfiles.awatch(
        path.parent,
        stop_event=stop,
        step=debounce_ms,
        debounce=1600,
        watch_filter=lambda _change, changed: Path(changed).name == name,
        recursive=False,
        rust_timeout=500,
        yield_on_timeout=True,
    ):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:  # between an editor's delete and its rename
            continue
        if text != last:
            last = text
            yield text


# ---------------------------------------------------------------------------
# The session
# ---------------------------------------------------------------------------


@dataclass
class Practice:
    """One `learn practice` run: the file, the checks on each save, hints, submit."""

    api: LearningAPI
    detail: AssessmentDetail
    spec: Assessment
    path: Path
    console: Console
    tutor: Any = None
    started: float = field(default_factory=time.monotonic)
    hints_used: int = 0
    last_result: dict[str, Any] | None = None
    code: str = ""
    last_run_seconds: float = 0.0  # the test run itself, of the last check
    on_checked: Callable[[], None] | None = None  # called once a check is on screen

    @property
    def draft_key(self) -> str:
        return self.detail.assessment.id

    def _print(self, text: str = "", style: str | None = None) -> None:
        self.console.print(text, style=style, markup=False, highlight=False)
        self.console.file.flush()

    async def check(self, code: str, *, label: str = "saved") -> dict[str, Any] | None:
        """A save: keep it as the draft, then the syntax check and the visible tests."""
        from rich.rule import Rule

        from services.runner import run

        self.code = code
        drafts.save(self.draft_key, code)
        self.console.print(Rule(f"{label} {time.strftime('%H:%M:%S')}", style="dim"))
        problem = syntax_problem(code, self.spec.language, self.path.name)
        if problem:
            self._print(problem, "bold red")
            self.last_result = None
            self._shown()
            return None
        started = time.perf_counter()
        result = (await asyncio.to_thread(run, visible_only(self.spec), code)).to_dict()
        self.last_run_seconds = time.perf_counter() - started
        self.last_result = result
        self.show(result)
        self._shown()
        return result

    def _shown(self) -> None:
        self.console.file.flush()
        if self.on_checked is not None:
            self.on_checked()

    def show(self, result: dict[str, Any]) -> None:
        text, style = summary_line(result)
        hidden = sum(1 for t in self.spec.tests if t.hidden)
        if hidden:
            text += f" · {hidden} hidden test{'s' if hidden != 1 else ''} run when you submit"
        self._print(text, style)
        if result.get("message"):
            self._print(printable(result["message"]).splitlines()[0][:200], "red")
        self.console.print(results_table(result, self.console.width))

    def keys_line(self) -> None:
        self._print("h hint · s submit · q stop", "dim")

    async def hint(self) -> None:
        """The next rung of the tutor's hint ladder; with no model, hints from the
        learner's own failing tests, then the course passages about this assessment."""
        from services.tutor.context import TutorContext
        from services.tutor.tutor import Tutor

        if self.tutor is None:
            self.tutor = Tutor(self.api)
        context = TutorContext.for_assessment(self.detail, code=self.code, results=self.last_result)
        self.hints_used += 1
        try:
            endpoint = await self.tutor.endpoint()
        except Exception:
            endpoint = None
        if endpoint is None:
            await self._hint_without_model(context)
            return
        self._print(f"Hint {self.hints_used} (from {endpoint.model}):", "bold cyan")
        try:
            answer = self.tutor.ask("I'm stuck: give me the next hint, not the solution.", context)
            async for piece in answer:
                self.console.file.write(printable(piece))
                self.console.file.flush()
            self._print()
        except Exception as exc:
            from services.errors import from_exception

            self._print(f"No hint now: {from_exception(exc)}", "yellow")

    async def _hint_without_model(self, context: Any) -> None:
        rung = self.hints_used
        self._print(
            f"Hint {rung} (no AI model is set up: from your tests and the course)", "bold cyan"
        )
        failing = [t for t in (self.last_result or {}).get("tests", []) if t["status"] != "pass"]
        if rung == 1 and failing:
            test = failing[0]
            self._print(f"Look at the test {printable(test['name'])!r} first:")
            if test.get("message") and test["status"] != "fail":
                self._print(f"  it stopped with {printable(test['message']).splitlines()[0]}")
            else:
                self._print(f"  expected {_clip(test.get('expected'), 60)}")
                self._print(f"  got      {_clip(test.get('actual'), 60)}")
            self._print("What does your code do differently for that input?", "dim")
            return
        if rung <= 2 or not failing:
            title = self.detail.assessment.title
            passages = await self.tutor.course_passages(title, context)
            if not passages and self.detail.lesson is not None:
                passages = await self.tutor.course_passages(self.detail.lesson.title, context)
            for passage in passages[:2]:
                self._print(
                    f"{printable(passage.title)} · {printable(passage.course_title)}", "bold"
                )
                self._print(" ".join(printable(passage.excerpt).split())[:400])
            if passages:
                return
        self._print(
            "That is every hint there is without a model: set one up with "
            "`learn config openai_base_url …` (or run Ollama) for a hint ladder.",
            "yellow",
        )

    async def submit(self) -> dict[str, Any] | None:
        """Every test (hidden ones too), then the attempt and the review card's rating."""
        from services.review.spaced import Rating, Reviews, assessment_rating
        from services.runner import run

        code = self.path.read_text(encoding="utf-8", errors="replace")
        drafts.save(self.draft_key, code)
        problem = syntax_problem(code, self.spec.language, self.path.name)
        if problem:
            self._print(f"Not submitted: {problem}", "bold red")
            return None
        result = (await asyncio.to_thread(run, self.spec, code)).to_dict()
        self.show(result)
        score = result["score"]["percent"]
        response = await self.api.submit_attempt(self.draft_key, code, result, score)
        achievements = list(response.achievements)
        if response.get("queued"):
            self._print(
                f"Saved on this machine ({score}%): recorded when the server is back.", "yellow"
            )
        elif response["attempt"].get("status") == "submitted":  # a grader decides
            self._print(f"Submitted: grading… ({score}% ran on this machine, unverified)", "dim")
            graded = await self._verified(response["attempt"]["id"])
            if graded is None:
                self._print(
                    "Waiting for a grader: the verified score is recorded when one "
                    "grades it (`learn grader`, or open `learn`).",
                    "yellow",
                )
                return result
            score = float(graded["attempt"].get("score") or 0)
            achievements = graded.get("achievements") or []
            self._print(f"Verified: {score:.0f}% recorded.", "bold green")
        else:
            self._print(f"Submitted: {score}% recorded.", "bold green")
        for achievement in achievements:
            self._print(
                f"★ {printable(achievement.title)} +{achievement.points} points", "bold yellow"
            )
        rating = assessment_rating(
            passed=score >= 70,
            used_hint=self.hints_used > 0,
            seconds=time.monotonic() - self.started,
            time_limit_minutes=self.detail.assessment.time_limit,
        )
        with contextlib.suppress(Exception):  # the attempt is what matters here
            outcome = await Reviews(self.api).rate_assessment(self.draft_key, rating)
            if outcome is not None:
                from services.review.spaced import when

                self._print(
                    f"Review card rated {rating.label}: next review {when(outcome.card.due)}.",
                    "dim",
                )
        if rating == Rating.AGAIN:
            self._print("Keep going: save again to rerun the visible tests.", "dim")
        return result

    async def _verified(self, attempt_id: str, wait_s: float = 30.0) -> dict[str, Any] | None:
        """The attempt once a grader recorded it; None if none did within `wait_s`. On
        the embedded database this process grades it, as the app does (services.grader,
        as the role learn_grader)."""
        from services.grader.local import local_grader

        grader = await asyncio.to_thread(local_grader, self.api.backend, "practice")
        if grader is not None:
            with contextlib.suppress(Exception):  # a grader elsewhere may still grade it
                await asyncio.to_thread(grader.run, once=True)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                answer = await self.api.attempt_result(attempt_id)
                if answer["attempt"]["status"] != "submitted":
                    return answer
            await asyncio.sleep(0.25)
        return None


async def key_presses(stream=None) -> AsyncIterator[str]:
    """Single key presses from the terminal (cbreak mode, restored after), or the
    characters of a pipe. Ends at end of input."""
    stream = stream or sys.stdin
    fd = stream.fileno()
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def readable() -> None:
        try:
            data = os.read(fd, 64)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(fd)
            queue.put_nowait(None)
            return
        for ch in data.decode("utf-8", "ignore"):
            queue.put_nowait(ch)

    saved = None
    if os.isatty(fd):
        import termios
        import tty

        saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
    loop.add_reader(fd, readable)
    try:
        while True:
            ch = await queue.get()
            if ch is None:
                return
            yield ch
    finally:
        with contextlib.suppress(Exception):
            loop.remove_reader(fd)
        if saved is not None:
            import termios

            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


async def run_practice(
    practice: Practice, *, keys: AsyncIterator[str] | None, stop: asyncio.Event | None = None
) -> int:
    """Check the file now, then on every save; act on keys until q (or stop)."""
    stop = stop or asyncio.Event()
    busy = asyncio.Lock()

    async def on_saves() -> None:
        async with busy:
            first = practice.path.read_text(encoding="utf-8", errors="replace")
            await practice.check(first, label="checked")
            practice.keys_line()
        # Anything saved since `first` was read is seen by the watch (or its poll).
        async for text in saves(practice.path, stop, last=first):
            async with busy:
                await practice.check(text)
                practice.keys_line()

    async def on_keys() -> None:
        if keys is None:
            return
        async for ch in keys:
            key = ch.lower()
            if key == "q":
                stop.set()
                return
            if key in ("h", "s"):
                async with busy:
                    await (practice.hint() if key == "h" else practice.submit())
                    practice.keys_line()
        # End of input (no terminal): keep watching until interrupted.

    watcher = asyncio.create_task(on_saves())
    watcher.add_done_callback(lambda _task: stop.set())  # it failed: do not hang
    reader = asyncio.create_task(on_keys())
    try:
        await stop.wait()
    finally:
        reader.cancel()
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
            await asyncio.wait_for(watcher, 2)
    error = watcher.exception() if watcher.done() and not watcher.cancelled() else None
    if error is not None:
        raise error
    return 0
