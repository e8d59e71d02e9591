"""An assessment: instructions beside a code editor, tests run in the sandbox,
submission through the API, a countdown, attempt history, and a draft that is saved
as you type and restored after a crash or quit."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Header, Markdown, Static, TextArea

from screens.base import DataScreen, friendly
from services import drafts
from services.api import AssessmentDetail
from services.tutor import TutorContext
from services.words import plural
from widgets.chat import ChatPane
from widgets.editor import CodeEditor
from widgets.keybar import KeyBar
from widgets.panels import ScrollPanel
from widgets.results import ResultsTable
from widgets.transcripts import mark_transcripts

STATUS_ICONS = {"pass": ("✓", "green"), "fail": ("✗", "red"), "error": ("!", "red"),
                "timeout": ("⏱", "yellow"), "memory_limit": ("M", "yellow"),
                "output_limit": ("…", "yellow")}
WARN_AT = 60          # seconds left when the countdown turns red and warns
AUTOSAVE_AFTER = 0.8  # seconds of quiet typing before the draft is written


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
    BINDINGS = [
        Binding("ctrl+r", "run_tests", "Run tests", id="assessment.run"),
        Binding("ctrl+s", "submit", "Submit", id="assessment.submit"),
        Binding("f2", "reset", "Reset to starter", id="assessment.reset"),
        Binding("ctrl+n", "new_attempt", "New attempt", id="assessment.new", show=False),
        Binding("escape", "back", "Back", id="assessment.back"),
        Binding("alt+left", "split(-10)", "Narrower instructions", id="assessment.narrower",
                show=False),
        Binding("alt+right", "split(10)", "Wider instructions", id="assessment.wider",
                show=False),
    ]
    SPLITS = (20, 70)      # the instructions' share of the width, in percent: lowest, highest
    split = 45             # as app.tcss has it
    # Under 100 columns the tutor takes the instructions' place (it knows them).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(self, assessment_id: str) -> None:
        super().__init__()
        self.assessment_id = assessment_id
        self.detail: AssessmentDetail | None = None
        self.spec = None
        self.attempt_id: str | None = None
        self.deadline: float | None = None      # monotonic time the timer hits zero
        self.warned = False
        self.last_result: dict | None = None
        self.submitting = False
        self._autosave_timer = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="assessment-left", classes="panel"):
                with ScrollPanel(id="instructions-scroll"):
                    yield Static(id="assessment-meta")
                    yield Markdown(id="instructions")
                yield Static(id="attempts")
            with Vertical(id="assessment-right"):
                yield CodeEditor(id="editor")
                yield Static(id="result-summary")
                yield ResultsTable(id="results", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#assessment-left").border_title = "Instructions"
        table = self.query_one("#results", DataTable)
        table.add_columns(" ", "Test", "ms", "Result")
        self.query_one("#result-summary", Static).update(
            Text("ctrl+r runs the tests · ctrl+s submits your attempt", style="dim"))
        self.set_interval(1, self._tick)

    async def fetch(self) -> AssessmentDetail:
        detail = await self.api.assessment_detail(self.assessment_id)
        if self.detail is None and self.attempt_id is None:   # opening: start or resume
            if detail.open_attempt is not None:
                started = detail.open_attempt
            else:
                started = None
                try:
                    result = await self.api.start_attempt(self.assessment_id)
                    started = result["attempt"]
                except Exception as exc:  # offline or refused: still practise locally
                    self.notify(f"{friendly(exc)} — your attempt is not timed on the server.",
                                severity="warning")
            if started is not None:
                attempt = started if isinstance(started, dict) else started.__dict__
                self.attempt_id = attempt["id"]
                self._start_clock(detail.assessment.time_limit, attempt.get("started_at"))
        return detail

    def _start_clock(self, minutes: int | None, started_at: str | None) -> None:
        if not minutes:
            self.deadline = None
            return
        elapsed = 0.0
        if started_at:
            started = datetime.fromisoformat(str(started_at).replace("Z", "+00:00"))
            elapsed = max(0.0, (datetime.now(timezone.utc) - started).total_seconds())
        self.deadline = time.monotonic() + max(0.0, minutes * 60 - elapsed)
        self.warned = False

    def show(self, data: AssessmentDetail) -> None:
        from services.runner.spec import assessment_from_row

        first = self.detail is None
        self.detail = data
        a = data.assessment
        self.title = a.title
        self.spec = assessment_from_row(a.__dict__)
        meta = Text(a.title + "\n", style="bold")
        parts = [a.difficulty or "", f"{a.time_limit} min" if a.time_limit else "untimed",
                 a.language, plural(len(a.test_cases), "test")]
        meta.append("  ·  ".join(p for p in parts if p), style="dim")
        if data.course:
            meta.append(f"\n{data.course.title}" + (f" — {data.lesson.title}"
                                                     if data.lesson else ""), style="dim")
        self.query_one("#assessment-meta", Static).update(meta)
        self.query_one("#instructions", Markdown).update(
            mark_transcripts(a.instructions or a.description or ""))
        self._show_attempts()
        if first:
            editor = self.query_one("#editor", TextArea)
            editor.language = a.language if a.language in ("python", "javascript", "bash") \
                else None
            draft = drafts.load(self.assessment_id)
            if draft is not None and draft.strip() != (a.starter_code or "").strip():
                editor.load_text(draft)
                self.notify("Restored your unsaved draft.")
            else:
                editor.load_text(a.starter_code or "")
            editor.focus()
        for pane in self.query(ChatPane):
            pane.refresh_context()

    def _show_attempts(self) -> None:
        data = self.detail
        if data is None:
            return
        text = Text("Attempts", style="bold")
        if data.best_score is not None:
            text.append(f"   best {data.best_score:.0f}%", style="green")
        text.append("\n")
        finished = [x for x in data.attempts if x.status == "completed"]
        if not finished:
            text.append("none submitted yet", style="dim")
        for attempt in finished[:5]:
            when = (attempt.completed_at or "")[:16].replace("T", " ")
            text.append(f"{when}  {attempt.score or 0:.0f}%", style="")
            if attempt.time_spent is not None:
                text.append(f"  {attempt.time_spent // 60}m{attempt.time_spent % 60:02d}s",
                            style="dim")
            text.append("\n")
        self.query_one("#attempts", Static).update(text)

    # The clock --------------------------------------------------------------

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    @property
    def timer_running(self) -> bool:
        left = self.remaining()
        return left is not None and left > 0 and self.attempt_id is not None

    def _tick(self) -> None:
        left = self.remaining()
        if left is None or self.attempt_id is None:
            self.sub_title = "" if self.attempt_id is None else "untimed"
            return
        minutes, seconds = divmod(int(left), 60)
        self.sub_title = f"⏱ {minutes:02d}:{seconds:02d} left"
        if left <= WARN_AT and not self.warned:
            self.warned = True
            self.notify("One minute left. At zero your code is submitted as it stands.",
                        title="Time", severity="warning")
        if left <= 0 and not self.submitting:
            self.notify("Time is up: submitting your code as it stands.", severity="warning")
            self.action_submit()

    # Drafts -----------------------------------------------------------------

    @on(TextArea.Changed, "#editor")
    def _edited(self) -> None:
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
        self._autosave_timer = self.set_timer(AUTOSAVE_AFTER, self.save_draft)

    def save_draft(self) -> None:
        drafts.save(self.assessment_id, self.query_one("#editor", TextArea).text)

    # Running and submitting -------------------------------------------------

    def action_run_tests(self) -> None:
        if self.spec is None:
            return
        self.save_draft()
        self._run(submit=False)

    def action_submit(self) -> None:
        if self.spec is None or self.submitting:
            return
        self.save_draft()
        self.submitting = True
        self._run(submit=True)

    @work(exclusive=True, group="run")
    async def _run(self, submit: bool) -> None:
        from services.runner import run

        code = self.query_one("#editor", TextArea).text
        self.query_one("#result-summary", Static).update(Text("Running tests…", style="dim"))
        try:
            result = await asyncio.to_thread(run, self.spec, code)
        except Exception as exc:
            self.submitting = False
            self.notify(friendly(exc), title="Could not run the tests", severity="error")
            return
        self.last_result = result.to_dict()
        self._show_result(self.last_result)
        if not submit:
            return
        try:
            response = await self.api.submit_attempt(
                self.assessment_id, code, self.last_result,
                self.last_result["score"]["percent"], attempt_id=self.attempt_id)
        except Exception as exc:
            self.submitting = False
            self.notify(friendly(exc), title="Not submitted", severity="error")
            return
        self.submitting = False
        self.attempt_id = None
        self.deadline = None
        self.app.celebrate(response.achievements)
        if response.get("queued"):  # offline: kept in the outbox, sent when back
            self.notify(f"Saved on this machine ({self.last_result['score']['percent']}%): "
                        "it is recorded when the server is back.", title="Attempt queued")
            return
        score = response["attempt"]["score"]
        self.notify(f"Submitted: {float(score):.0f}%. Press ctrl+n for a new attempt.",
                    title="Attempt recorded")
        self.reload(quiet=True)

    def _show_result(self, result: dict) -> None:
        score = result["score"]
        summary = Text()
        icon, style = STATUS_ICONS.get(result["status"], ("?", ""))
        summary.append(f"{icon} {score['passed']}/{score['total']} tests passed "
                       f"({score['percent']}%)", style=f"bold {style}")
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
            table.add_row(Text(icon, style=style), _clip(test["name"], name_width),
                          Text(f"{test.get('duration_ms') or 0:.0f}", justify="right"),
                          Text(_clip(why, 3 * room - 4), style="dim"
                               if test["status"] == "pass" else ""),
                          key=str(index), height=None)

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
        self.app.push_screen(ResultDetail(result, test_code(test, self.spec.entry
                                                             if self.spec else None),
                                          dark=self.app.current_theme.dark))

    def action_new_attempt(self) -> None:
        if self.attempt_id is not None:
            self.notify("You have an attempt in progress.")
            return
        self._new_attempt()

    @work(exclusive=True, group="attempt")
    async def _new_attempt(self) -> None:
        try:
            result = await self.api.start_attempt(self.assessment_id)
        except Exception as exc:
            self.notify(friendly(exc), severity="error")
            return
        attempt = result["attempt"]
        self.attempt_id = attempt["id"]
        self._start_clock(self.detail.assessment.time_limit if self.detail else None,
                          attempt.get("started_at"))
        self.notify("New attempt started.")

    def action_reset(self) -> None:
        if self.detail is None:
            return
        editor = self.query_one("#editor", TextArea)
        drafts.save(self.assessment_id + ".before-reset", editor.text)
        editor.replace(self.detail.assessment.starter_code or "", editor.document.start,
                       editor.document.end)
        self.notify("Reset to the starter code (ctrl+z brings yours back).")

    def action_back(self) -> None:
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
            text = edit_in_external_editor(self.app, editor.text,
                                           suffix=".py" if editor.language == "python"
                                           else ".txt")
        except Exception as exc:     # no editor, no terminal to hand over, …
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
        return (f"The clock of your timed attempt keeps running while learn is closed "
                f"({plural(minutes, 'minute')} left). If it runs out, your code is submitted "
                "as it stands when you next open this assessment.")

    # The tutor's view of this screen ----------------------------------------

    def tutor_context(self) -> TutorContext:
        """Instructions, the code as it stands, the last results; never the solution."""
        if self.detail is None:
            return TutorContext.general()
        return TutorContext.for_assessment(
            self.detail, code=self.query_one("#editor", TextArea).text,
            results=self.last_result, timer_running=self.timer_running)
