"""An assessment: instructions beside a code editor, tests run in the sandbox,
submission through the API, a countdown, attempt history, and a draft that is saved
as you type and restored after a crash or quit.

One module, over 400 lines, on purpose: the screen is one state machine (no attempt →
started → tests running → submitted → graded) that the clock, the draft, the runs and
the submission all read and change; split by section, each part would reach into the
others' state. Its parts are marked by section comments in that order.

Public names: AssessmentScreen."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timezone

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Header, Markdown, Static, TextArea

from screens import messages
from screens.base import DataScreen, friendly
from services.data.api import AssessmentDetail
from services.review import drafts
from services.tutor.context import TutorContext
from services.words import plural
from widgets.chat import ChatPane
from widgets.editor import CodeEditor
from widgets.keybar import KeyBar
from widgets.panels import ScrollPanel
from widgets.results import ResultsTable
from widgets.transcripts import mark_transcripts

WARN_AT = 60  # seconds left when the countdown turns red and warns
AUTOSAVE_AFTER = 0.8  # seconds of quiet typing before the draft is written


def _elapsed(started_at: str | None) -> float:
    """Seconds since the server's started_at (0 when unknown)."""
    if not started_at:
        return 0.0
    started = datetime.fromisoformat(str(started_at).replace("Z", "+00:00"))
    return max(0.0, (datetime.now(timezone.utc) - started).total_seconds())


GRADER_RECENT_S = 30  # a grader seen this recently is taken to be running


def _grader_recent(seen_at) -> bool:
    if not seen_at:
        return False
    seen = datetime.fromisoformat(str(seen_at).replace("Z", "+00:00"))
    return (datetime.now(timezone.utc) - seen).total_seconds() < GRADER_RECENT_S


def _clip(value, width: int = 40) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\n", "⏎")
    return text if len(text) <= width else text[: width - 1] + "…"


def _why(test: dict, entry: str | None) -> str:
    """A test's message without the call the Test column already names:
    "returned 'hello world', expected 'hello-world'"."""
    message = test.get("message") or ("passed" if test["status"] == "pass" else "")
    if entry and message.startswith(f"{entry}(") and ") returned " in message:
        return "returned " + message.split(") returned ", 1)[1]
    return message


class AssessmentScreen(DataScreen):
    """An attempt's life: "idle" (opened, nothing recorded) → "starting" → "started"
    (timed when the assessment has a time limit) → "sending" → "submitted". The clock
    starts with the learner: the first edit, the first run, or F5; leaving before that
    records nothing. A run of the tests (ctrl+r) never cancels a submission; esc cancels
    a run or a submission's tests (the attempt stays open and can be submitted again)."""

    BINDINGS = [
        Binding("ctrl+r", "run_tests", "Run tests", id="assessment.run"),
        Binding("ctrl+s", "submit", "Submit", id="assessment.submit"),
        Binding("f5", "start", "Start", id="assessment.start"),
        Binding("f2", "reset", "Reset to starter", id="assessment.reset"),
        Binding("ctrl+n", "new_attempt", "New attempt", id="assessment.new", show=False),
        Binding("f6", "practice", "Practise in your editor", id="assessment.practice"),
        Binding("escape", "back", "Back", id="assessment.back"),
        # Before the editor sees esc, but only while tests run (check_action).
        Binding("escape", "cancel_run", "Cancel run", id="assessment.cancel", priority=True),
        Binding(
            "alt+left", "split(-10)", "Narrower instructions", id="assessment.narrower", show=False
        ),
        Binding("alt+right", "split(10)", "Wider instructions", id="assessment.wider", show=False),
    ]
    SPLITS = (20, 70)  # the instructions' share of the width, in percent: lowest, highest
    split = 45  # as app.tcss has it
    # Under 100 columns the tutor takes the instructions' place (it knows them).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(self, assessment_id: str) -> None:
        super().__init__()
        self.assessment_id = assessment_id
        self.detail: AssessmentDetail | None = None
        self.spec = None
        self.phase = "idle"  # idle | starting | started | sending | submitted
        self.attempt_id: str | None = None  # the server's attempt (None: offline start)
        self.deadline: float | None = None  # monotonic time the timer hits zero
        self.warned = False
        self.last_result: dict | None = None
        self._loaded_text: str | None = None  # what the editor was given (not an edit)
        self._start_task: asyncio.Task | None = None
        self._cancel: threading.Event | None = None  # the running tests' cancel switch
        # "run" | "submit" while tests run (not `_running`: Textual's MessagePump has one)
        self._testing: str | None = None
        self._autosave_timer = None
        self.used_hint = False  # the tutor answered here: a pass rates Hard
        self._submitted_after: float | None = None  # seconds into the timed attempt
        self._graded_here: str | None = None  # the attempt submitted here, being graded
        self._awaiting: str | None = None  # the attempt whose grade is awaited
        self._typing = False  # edits not yet saved to the draft
        self._draft_seen: float | None = None  # the draft's mtime this editor last knew

    @property
    def submitting(self) -> bool:
        return self._testing == "submit" or self.phase == "sending"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="assessment-left", classes="panel"):
                with ScrollPanel(id="instructions-scroll"):
                    yield Static(id="assessment-meta")
                    yield Markdown(id="instructions")
                yield Static(id="attempts")
            with Vertical(id="assessment-right"):
                yield Static(id="attempt-state")
                yield CodeEditor(id="editor")
                yield Static(id="result-summary")
                yield Static(id="grading-status")
                yield ResultsTable(id="results", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#assessment-left").border_title = "Instructions"
        table = self.query_one("#results", DataTable)
        table.add_columns(" ", "Test", "ms", "Result")
        self.query_one("#result-summary", Static).update(
            Text("ctrl+r runs the tests · ctrl+s submits your attempt", style="dim")
        )
        self.query_one("#grading-status", Static).display = False
        self.set_interval(1, self._tick)
        self.set_interval(1, self._pick_up_outside_edits)

    def on_unmount(self) -> None:
        if self._cancel is not None:  # leaving: no test keeps running for nobody
            self._cancel.set()

    async def fetch(self) -> AssessmentDetail:
        return await self.api.assessment_detail(self.assessment_id)

    def _limit_minutes(self) -> int | None:
        return self.detail.assessment.time_limit if self.detail else None

    def _start_clock(self, minutes: int | None, started_at: str | None) -> None:
        if not minutes:
            self.deadline = None
            return
        self.deadline = time.monotonic() + max(0.0, minutes * 60 - _elapsed(started_at))
        self.warned = minutes * 60 <= WARN_AT  # a 1-minute attempt: no "one minute left"

    def show(self, data: AssessmentDetail) -> None:
        from services.runner.spec import assessment_from_row

        first = self.detail is None
        self.detail = data
        a = data.assessment
        self.title = a.title
        self.spec = assessment_from_row(a.__dict__)
        meta = Text(a.title + "\n", style="bold")
        parts = [
            a.difficulty or "",
            f"{a.time_limit} min" if a.time_limit else "untimed",
            a.language,
            plural(len(a.test_cases), "test"),
            {"verified": "verified grading", "self": "self-graded"}.get(a.grading or "", ""),
        ]
        meta.append("  ·  ".join(p for p in parts if p), style="dim")
        if data.course:
            meta.append(
                f"\n{data.course.title}" + (f" — {data.lesson.title}" if data.lesson else ""),
                style="dim",
            )
        self.query_one("#assessment-meta", Static).update(meta)
        self.query_one("#instructions", Markdown).update(
            mark_transcripts(a.instructions or a.description or "")
        )
        self._show_attempts()
        waiting = next((x for x in data.attempts if x.status == "submitted"), None)
        if waiting is not None and waiting.id != self._awaiting:
            self._await_grade(waiting.id)  # submitted (here, before, or from the outbox)
        if first:
            editor = self.query_one("#editor", TextArea)
            editor.language = a.language if a.language in ("python", "javascript", "bash") else None
            draft = drafts.load(self.assessment_id)
            self._draft_seen = drafts.modified(self.assessment_id)
            worked = draft is not None and draft.strip() != (a.starter_code or "").strip()
            self._loaded_text = draft if worked else (a.starter_code or "")
            editor.load_text(self._loaded_text)
            if worked:
                self.notify("Restored your unsaved draft.")
            editor.focus()
            self._resume(data.open_attempt, worked)
        self._show_state()
        for pane in self.query(ChatPane):
            pane.refresh_context()

    def _resume(self, open_attempt, worked: bool) -> None:
        """An attempt started earlier (the learner left while it ran) goes on; one whose
        time ran out while they were away is submitted as it stands — unless nothing
        was ever written in it (opened by an older version of the app): then it is left
        for the server to close when the learner starts again, and nothing is recorded."""
        if open_attempt is None or self.phase != "idle":
            return
        minutes = self._limit_minutes()
        expired = bool(minutes) and _elapsed(open_attempt.started_at) >= minutes * 60
        if expired and not worked:
            return
        self.phase = "started"
        self.attempt_id = open_attempt.id
        self._start_clock(minutes, open_attempt.started_at)
        if expired:
            self.notify(
                "Your timed attempt ran out while you were away.", title="Time", severity="warning"
            )

    def _show_attempts(self) -> None:
        data = self.detail
        if data is None:
            return
        text = Text("Attempts", style="bold")
        if data.best_score is not None:
            text.append(f"   best {data.best_score:.0f}%", style="green")
        text.append("\n")
        finished = [x for x in data.attempts if x.status in ("completed", "submitted")]
        if not finished:
            text.append("none submitted yet", style="dim")
        for attempt in finished[:5]:
            if attempt.status == "submitted":  # waiting for a grader
                text.append("submitted  grading…\n", style="dim")
                continue
            when = (attempt.completed_at or "")[:16].replace("T", " ")
            text.append(f"{when}  {attempt.score or 0:.0f}%", style="")
            if attempt.grading in ("self", "error"):
                text.append(
                    " self-reported" if attempt.grading == "self" else " not graded", style="yellow"
                )
            if attempt.time_spent is not None:
                text.append(
                    f"  {attempt.time_spent // 60}m{attempt.time_spent % 60:02d}s", style="dim"
                )
            if attempt.pending:
                text.append("  waiting to sync", style="yellow")
            text.append("\n")
        self.query_one("#attempts", Static).update(text)

    def _show_state(self) -> None:
        """One line over the editor: is a (timed) attempt running, and what the keys do."""
        minutes = self._limit_minutes()
        left = self.remaining()
        text = Text()
        if self.phase == "idle":
            if minutes:
                text.append("Not started", style="bold")
                text.append(
                    f" · {minutes} min timer starts at your first edit, run or F5", style="dim"
                )
            else:
                text.append("Not started", style="bold")
                text.append(" · untimed · starts at your first edit, run or F5", style="dim")
        elif self.phase == "starting":
            text.append("Starting your attempt…", style="dim")
        elif self.phase in ("started", "sending"):
            if left is not None:
                minutes_left, seconds = divmod(int(left), 60)
                style = "bold red" if left <= WARN_AT else "bold"
                text.append(
                    f"Timed attempt running · {minutes_left:02d}:{seconds:02d} left", style=style
                )
            elif self.attempt_id is None:
                text.append("Attempt in progress on this machine", style="bold")
                text.append(" · not timed (the server was not reached)", style="dim")
            else:
                text.append("Attempt in progress", style="bold")
                text.append(" · untimed", style="dim")
            if self.phase == "sending":
                text.append(" · sending…", style="dim")
        else:  # submitted
            text.append("Submitted", style="bold green")
            text.append(" · ctrl+n starts a new attempt; runs now are practice", style="dim")
        self.query_one("#attempt-state", Static).update(text)
        if self.phase in ("started", "sending") and left is not None:
            minutes_left, seconds = divmod(int(left), 60)
            self.sub_title = f"⏱ {minutes_left:02d}:{seconds:02d} left"
        elif self.phase in ("started", "sending"):
            self.sub_title = "untimed"
        else:
            self.sub_title = ""

    # The clock --------------------------------------------------------------

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    @property
    def timer_running(self) -> bool:
        left = self.remaining()
        return left is not None and left > 0 and self.phase in ("started", "sending")

    def _tick(self) -> None:
        if self.detail is None:
            return
        self._show_state()
        left = self.remaining()
        if left is None or self.phase != "started":
            return
        if left <= WARN_AT and not self.warned:
            self.warned = True
            self.notify(
                "One minute left. At zero your code is submitted as it stands.",
                title="Time",
                severity="warning",
            )
        if left <= 0 and self._testing != "submit":
            self.notify("Time is up: submitting your code as it stands.", severity="warning")
            self.action_submit()

    # Starting ---------------------------------------------------------------

    def action_start(self) -> None:
        if self.phase == "submitted":
            self.notify("This attempt is submitted: ctrl+n starts a new one.")
        elif self.phase != "idle":
            self.notify("Your attempt is already running.")
        else:
            self._begin()

    def _begin(self) -> asyncio.Task | None:
        """Start an attempt (once): the server times it; offline it is kept locally."""
        if self.phase == "idle" and self.detail is not None:
            self.phase = "starting"
            self._show_state()
            self._start_task = asyncio.ensure_future(self._start_attempt())
        return self._start_task

    async def _start_attempt(self) -> None:
        try:
            result = await self.api.start_attempt(self.assessment_id)
        except Exception as exc:  # offline or refused: still an attempt, kept on this machine
            self.attempt_id = None
            self.deadline = None
            self.notify(
                f"{friendly(exc)} — your attempt is not timed on the server.", severity="warning"
            )
        else:
            attempt = result["attempt"]
            self.attempt_id = attempt["id"]
            self._start_clock(self._limit_minutes(), attempt.get("started_at"))
        self.phase = "started"
        if self.is_attached:
            self._show_state()

    # Drafts -----------------------------------------------------------------

    @on(TextArea.Changed, "#editor")
    def _edited(self) -> None:
        text = self.query_one("#editor", TextArea).text
        if text == self._loaded_text:
            return  # the screen filled the editor: not the learner
        self._typing = True
        self._loaded_text = None
        if self.phase == "idle":
            self._begin()
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
        self._autosave_timer = self.set_timer(AUTOSAVE_AFTER, self.save_draft)

    def save_draft(self) -> None:
        drafts.save(self.assessment_id, self.query_one("#editor", TextArea).text)
        self._draft_seen = drafts.modified(self.assessment_id)
        self._typing = False

    def _pick_up_outside_edits(self) -> None:
        """`learn practice` saves the same draft from the learner's own editor: show
        those saves here (unless this editor has unsaved typing of its own)."""
        if self.detail is None or self._typing:
            return
        changed = drafts.modified(self.assessment_id)
        if changed is None or changed == self._draft_seen:
            return
        self._draft_seen = changed
        text = drafts.load(self.assessment_id)
        editor = self.query_one("#editor", TextArea)
        if text is None or text == editor.text:
            return
        editor.load_text(text)
        self.notify("Updated with the file you saved in your editor.")

    def action_practice(self) -> None:
        """Write the code to the workspace file and say how to watch it from a shell."""
        from services import config
        from services.review.workspace import prepare_file, workspace_file, workspace_root

        if self.detail is None:
            return
        self.save_draft()
        a = self.detail.assessment
        course = self.detail.course.slug if self.detail.course else None
        try:
            root = workspace_root(config.load().practice_dir)
            path = workspace_file(
                root,
                course or (self.detail.course.title if self.detail.course else None),
                a.slug or a.title,
                a.language,
            )
            prepare_file(path, self.assessment_id, a.starter_code or "")
        except Exception as exc:
            self.notify(friendly(exc), title="Could not write the file", severity="error")
            return
        self.notify(
            f"Wrote {path}. In another terminal: learn practice {a.slug or a.id} "
            "— every save there runs the tests, and shows up here.",
            title="Practise in your editor",
            timeout=15,
        )

    # Running and submitting -------------------------------------------------

    def action_run_tests(self) -> None:
        if self.spec is None:
            return
        if self.submitting:
            self.notify("Your submission is being checked: it is recorded in a moment.")
            return
        self.save_draft()
        if self.phase == "idle":
            self._begin()
        self._run_tests(self.query_one("#editor", TextArea).text)

    def action_submit(self) -> None:
        if self.spec is None or self.submitting:
            return
        if self.phase == "submitted":
            self.notify("This attempt is already submitted. Press ctrl+n for a new attempt.")
            return
        self.save_draft()
        if self._cancel is not None:  # a practice run gives way to the submission
            self._cancel.set()
        self._testing = "submit"
        self._submit(self.query_one("#editor", TextArea).text, self._begin())

    async def _tests(self, code: str, kind: str) -> dict | None:
        """Run the tests in a thread; None when cancelled (esc, or the screen left)."""
        from services.runner import run

        cancel = self._cancel = threading.Event()
        self._testing = kind
        self.refresh_bindings()
        self.query_one("#result-summary", Static).update(
            Text("Running tests… (esc cancels)", style="dim")
        )
        try:
            result = await asyncio.to_thread(run, self.spec, code, cancel)
        except Exception as exc:
            self.notify(friendly(exc), title="Could not run the tests", severity="error")
            return None
        finally:
            if self._cancel is cancel:
                self._cancel = None
                self._testing = None
                self.refresh_bindings()
        if cancel.is_set():
            return None
        self.last_result = result.to_dict()
        self._show_result(self.last_result)
        return self.last_result

    @work(exclusive=True, group="run")
    async def _run_tests(self, code: str) -> None:
        if await self._tests(code, "run") is None and self.is_attached and self._testing is None:
            self.query_one("#result-summary", Static).update(Text("Run cancelled.", style="dim"))

    @work(exclusive=True, group="submit")
    async def _submit(self, code: str, starting: asyncio.Task | None) -> None:
        try:
            if starting is not None:
                await starting
            result = await self._tests(code, "submit")
        finally:
            if self._testing == "submit":
                self._testing = None
        if result is None:
            if self.is_attached:
                self.query_one("#result-summary", Static).update(
                    Text(
                        "Submission cancelled: your attempt is still open (ctrl+s submits).",
                        style="yellow",
                    )
                )
            return
        self.phase = "sending"
        self._show_state()
        # Shielded: leaving the screen must not cut a submission in half.
        sending = asyncio.ensure_future(
            self.api.submit_attempt(
                self.assessment_id,
                code,
                result,
                result["score"]["percent"],
                attempt_id=self.attempt_id,
            )
        )
        try:
            response = await asyncio.shield(sending)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.phase = "started"
            self._show_state()
            self.notify(friendly(exc), title="Not submitted", severity="error")
            return
        self.phase = "submitted"
        limit, left = self._limit_minutes(), self.remaining()
        self._submitted_after = limit * 60 - left if limit and left is not None else None
        graded_later = (
            not response.get("queued") and response["attempt"].get("status") == "submitted"
        )
        if not graded_later:  # else the verified score rates it (_grade_recorded)
            self._rate_card(result["score"]["percent"])
        self.attempt_id = None
        self.deadline = None
        self._show_state()
        self.post_message(messages.Celebrate(response.achievements))
        if response.get("queued"):  # offline: kept in the outbox, sent when back
            self.notify(
                f"Saved on this machine ({result['score']['percent']}%): "
                "it is recorded when the server is back.",
                title="Attempt queued",
            )
        elif response["attempt"].get("status") == "submitted":  # a grader decides the score
            self._graded_here = response["attempt"]["id"]
            self._await_grade(response["attempt"]["id"])
            return
        else:
            score = response["attempt"]["score"]
            self.notify(
                f"Submitted: {float(score):.0f}%. Press ctrl+n for a new attempt.",
                title="Attempt recorded",
            )
        self.reload(quiet=True)

    def _rate_card(self, percent: float) -> None:
        """The assessment's review card: failed Again, passed after a hint Hard, passed
        in under half the time limit Easy, else Good (services.review.spaced)."""
        from services.review.spaced import Reviews, assessment_rating

        limit = self._limit_minutes()
        rating = assessment_rating(
            passed=percent >= 70,
            used_hint=self.used_hint,
            seconds=self._submitted_after,
            time_limit_minutes=limit,
        )
        reviews, assessment_id = Reviews(self.api), self.assessment_id
        self.write(lambda: reviews.rate_assessment(assessment_id, rating))

    def on_chat_pane_answered(self, _event: ChatPane.Answered) -> None:
        self.used_hint = True

    def _show_result(self, result: dict) -> None:
        from services.runner.results import STATUS_ICONS  # loaded by then: the tests ran

        score = result["score"]
        summary = Text()
        icon, style = STATUS_ICONS.get(result["status"], ("?", ""))
        summary.append(
            f"{icon} {score['passed']}/{score['total']} tests passed ({score['percent']}%)",
            style=f"bold {style}",
        )
        if result.get("message"):
            summary.append(f"\n{result['message']}", style="red")
        self.query_one("#result-summary", Static).update(summary)
        # The explanation `learn check` prints, wrapped in what the table has room for
        # (up to three lines); enter on a row shows everything.
        table = self.query_one("#results", DataTable)
        table.clear(columns=True)
        name_width = min(20, max([4, *(len(t["name"]) for t in result["tests"])]))
        room = max(16, (table.size.width or 72) - name_width - 16)
        table.add_column(" ", width=1)
        table.add_column("Test", width=name_width)
        table.add_column("ms", width=4)
        table.add_column("Result (enter: details)", width=room)
        for index, test in enumerate(result["tests"]):
            icon, style = STATUS_ICONS.get(test["status"], ("?", ""))
            why = _why(test, self.spec.entry if self.spec else None)
            table.add_row(
                Text(icon, style=style),
                _clip(test["name"], name_width),
                Text(f"{test.get('duration_ms') or 0:.0f}", justify="right"),
                Text(_clip(why, 3 * room - 4), style="dim" if test["status"] == "pass" else ""),
                key=str(index),
                height=None,
            )

    @on(ResultsTable.Resized)
    def _rewrap_results(self) -> None:
        if self.last_result is not None:
            self._show_result(self.last_result)

    @on(DataTable.RowSelected, "#results")
    def _result_chosen(self, event: DataTable.RowSelected) -> None:
        from screens.result_detail import ResultDetail, test_code

        if self.last_result is None or event.row_key.value is None:
            return
        index = int(event.row_key.value)
        result = self.last_result["tests"][index]
        tests = self.spec.tests if self.spec is not None else []
        test = next((t for t in tests if t.name == result["name"]), None)
        self.app.push_screen(
            ResultDetail(
                result,
                test_code(test, self.spec.entry if self.spec else None),
                dark=self.app.current_theme.dark,
            )
        )

    # Verified grading: the submission waits for a grader --------------------------

    class GradeRecorded(Message):
        """The grader recorded the verified result of an attempt submitted here."""

        def __init__(self, result: dict) -> None:
            super().__init__()
            self.result = result

    def _grading_line(self, text: str, style: str = "dim") -> None:
        line = self.query_one("#grading-status", Static)
        line.update(Text(text, style=style))
        line.display = bool(text)

    @work(exclusive=True, group="grade")
    async def _await_grade(self, attempt_id: str) -> None:
        """Poll the attempt until a grader has recorded it (fast at first: on the
        embedded database the in-process grader answers within a second)."""
        self._awaiting = attempt_id
        self._grading_line("grading… the result above ran on this machine and is unverified")
        started = time.monotonic()
        while True:
            waited = time.monotonic() - started
            await asyncio.sleep(0.2 if waited < 5 else 1.0 if waited < 60 else 3.0)
            try:
                result = await self.api.attempt_result(attempt_id)
            except Exception:  # offline for a moment: keep waiting, visibly
                self._grading_line("grading… (cannot reach the server; still waiting)")
                continue
            if result["attempt"]["status"] != "submitted":
                self.post_message(self.GradeRecorded(result))
                self._awaiting = None
                return
            if waited > 3 and not _grader_recent(result.get("grader_seen_at")):
                self._grading_line(
                    "waiting for a grader (none seen recently) — the result above is unverified",
                    "yellow",
                )

    @on(GradeRecorded)
    def _grade_recorded(self, message: GradeRecorded) -> None:
        attempt = message.result["attempt"]
        verdict = attempt.get("execution_result") or {}
        if attempt.get("grading") == "error":
            self._grading_line(f"not graded: {verdict.get('message') or 'grader error'}", "red")
        else:
            if verdict.get("score"):
                self.last_result = verdict
                self._show_result(verdict)
            self._grading_line(f"verified: {float(attempt.get('score') or 0):.0f}%", "green")
            if attempt.get("id") == self._graded_here:
                self._rate_card(float(attempt.get("score") or 0))
            self.notify(
                f"Verified: {float(attempt.get('score') or 0):.0f}%. "
                "Press ctrl+n for a new attempt.",
                title="Attempt graded",
            )
        self.post_message(messages.Celebrate(message.result.get("achievements") or []))
        self.reload(quiet=True)

    def action_new_attempt(self) -> None:
        if self.detail is None:
            return
        if self.phase in ("starting", "started", "sending"):
            self.notify("You have an attempt in progress.")
            return
        self.phase = "idle"
        self._begin()
        self.notify("New attempt started.")

    def action_reset(self) -> None:
        if self.detail is None:
            return
        editor = self.query_one("#editor", TextArea)
        drafts.save(self.assessment_id + ".before-reset", editor.text)
        editor.replace(
            self.detail.assessment.starter_code or "", editor.document.start, editor.document.end
        )
        self.notify("Reset to the starter code (ctrl+z brings yours back).")

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "cancel_run":
            return self._cancel is not None
        return True

    def action_cancel_run(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def action_back(self) -> None:
        if self._cancel is not None:  # esc stops the tests that are running first
            self._cancel.set()
            return
        self.save_draft()
        self.app.pop_screen()

    @on(CodeEditor.ExternalEditRequested)
    def _edit_externally(self, event: CodeEditor.ExternalEditRequested) -> None:
        """ctrl+e: the code in the learner's own editor ($VISUAL, $EDITOR), the app
        suspended meanwhile; what they save comes back as one undoable edit."""
        from screens.external_editor import edit_in_external_editor

        editor = event.editor
        self.save_draft()
        try:
            text = edit_in_external_editor(
                self.app, editor.text, suffix=".py" if editor.language == "python" else ".txt"
            )
        except Exception as exc:  # no editor, no terminal to hand over, …
            self.notify(friendly(exc), title="Could not open your editor", severity="error")
            return
        if text is not None and text != editor.text:
            editor.replace(text, editor.document.start, editor.document.end)
            self.notify("Loaded what you saved in your editor (ctrl+z undoes it).")

    def action_split(self, delta: int) -> None:
        """alt+←/→: move the divider between the instructions and the editor."""
        low, high = self.SPLITS
        self.split = max(low, min(high, self.split + delta))
        self.query_one("#assessment-left").styles.width = f"{self.split}%"

    def leave_warning(self) -> str | None:
        if not self.timer_running:
            return None
        minutes = int((self.remaining() or 0) // 60)
        return (
            f"The clock of your timed attempt keeps running while learn is closed "
            f"({plural(minutes, 'minute')} left). If it runs out, your code is submitted "
            "as it stands when you next open this assessment."
        )

    # The tutor's view of this screen ----------------------------------------

    def tutor_context(self) -> TutorContext:
        """Instructions, the code as it stands, the last results; never the solution."""
        if self.detail is None:
            return TutorContext.general()
        return TutorContext.for_assessment(
            self.detail,
            code=self.query_one("#editor", TextArea).text,
            results=self.last_result,
            timer_running=self.timer_running,
        )
