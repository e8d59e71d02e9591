"""The lesson reader: content, explanation, highlighted code example, key points;
mark complete; previous/next; time spent (paused when idle or in the background)
saved with the reading position, which is restored on return."""

from __future__ import annotations

import time

from rich.syntax import Syntax
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Markdown, Static

from screens.base import DataScreen
from services.data.api import LessonDetail
from services.tutor.context import TutorContext
from widgets.chat import ChatPane
from widgets.keybar import KeyBar
from widgets.panels import ScrollPanel
from widgets.progress import duration
from widgets.transcripts import is_transcript, mark_transcripts

IDLE_AFTER = 120  # seconds without a key, click or scroll: the learner stepped away
SAVE_EVERY = 30  # seconds between progress saves while reading


class LessonScreen(DataScreen):
    BINDINGS = [
        Binding("m", "complete", "Mark complete", id="lesson.complete"),
        Binding("right_square_bracket", "next", "Next", id="lesson.next"),
        Binding("left_square_bracket", "previous", "Previous", id="lesson.previous"),
        Binding("escape", "back", "Back", id="lesson.back"),
    ]

    def __init__(self, lesson_id: str) -> None:
        super().__init__()
        self.lesson_id = lesson_id
        self.detail: LessonDetail | None = None
        self.unsaved_seconds = 0
        self.last_input = time.monotonic()
        self.app_focused = True
        self._last_scroll = 0.0
        self._from_neighbour = False

    def compose(self) -> ComposeResult:
        yield Header()
        with ScrollPanel(id="body"):
            yield Static(id="lesson-meta")
            yield Markdown(id="lesson-content")
            yield Static("Explanation", classes="section-title")
            yield Markdown(id="lesson-explanation")
            yield Static("Code example", classes="section-title")
            yield Static(id="lesson-code")
            yield Static("Key points", classes="section-title")
            yield Static(id="lesson-key-points")
            yield Static(id="lesson-footer")
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_interval(1, self._tick)

    async def fetch(self) -> LessonDetail:
        return await self.api.lesson_detail(self.lesson_id)

    def show(self, data: LessonDetail) -> None:
        first = self.detail is None or self.detail.lesson.id != data.lesson.id
        self.detail = data
        lesson = data.lesson
        self.title = f"{data.course.title} — {lesson.title}"
        meta = Text()
        meta.append(lesson.title + "\n", style="bold")
        parts = [lesson.difficulty or "", lesson.duration or ""]
        if data.progress and data.progress.time_spent:
            parts.append(f"{duration(data.progress.time_spent)} spent")
        meta.append("  ·  ".join(p for p in parts if p), style="dim")
        if data.progress and data.progress.completed:
            meta.append("   ✓ completed", style="green")
        if data.progress and data.progress.pending:
            meta.append("   (waiting to sync)", style="yellow")
        self.query_one("#lesson-meta", Static).update(meta)
        self.query_one("#lesson-content", Markdown).update(mark_transcripts(lesson.content or ""))
        self.query_one("#lesson-explanation", Markdown).update(
            mark_transcripts(lesson.explanation or "")
        )
        for widget_id, present in (
            ("lesson-explanation", lesson.explanation),
            ("lesson-code", lesson.code_example),
            ("lesson-key-points", lesson.key_points),
        ):
            widget = self.query_one(f"#{widget_id}")
            widget.display = bool(present)
            index = list(widget.parent.children).index(widget)
            widget.parent.children[index - 1].display = bool(present)
        if lesson.code_example:
            code = lesson.code_example
            self.query_one("#lesson-code", Static).update(
                Syntax(
                    code,
                    "pycon" if is_transcript(code) else "python",
                    line_numbers=not is_transcript(code),
                    word_wrap=True,
                    theme="ansi_light" if not self.app.current_theme.dark else "monokai",
                )
            )
        points = Text()
        for point in lesson.key_points:
            points.append("• ", style="cyan")
            points.append(point + "\n")
        self.query_one("#lesson-key-points", Static).update(points)
        nav = Text()
        if data.previous:
            nav.append(f"[ ← {data.previous.title}", style="dim")
        if data.next:
            nav.append("      " if data.previous else "")
            nav.append(f"{data.next.title} → ]", style="dim")
        if not data.enrolled and self.saves:
            nav.append(
                "\n\nEnroll in this course (on its page, e) to track your progress.", style="yellow"
            )
        elif not (data.progress and data.progress.completed):
            nav.append("\n\nPress m to mark this lesson complete.", style="yellow")
        self.query_one("#lesson-footer", Static).update(nav)
        if first:
            # Opened from a list: where the learner left off; by ] or [: at its top.
            body = self.query_one("#body", ScrollPanel)
            position = data.progress.last_position if data.progress else 0
            if position and not self._from_neighbour:
                self.call_after_refresh(body.scroll_to, y=position, animate=False)
            else:
                self.call_after_refresh(body.scroll_home, animate=False)
            self._from_neighbour = False
            self.call_after_refresh(self._focus_body)
        for pane in self.query(ChatPane):
            pane.refresh_context()

    def _focus_body(self) -> None:
        """The text takes the keys (arrows, page up/down) once it is long enough to
        scroll; until it is loaded there is nothing to focus."""
        body = self.query_one("#body", ScrollPanel)
        if self.focused is None and body.focusable:
            body.focus()

    # Time tracking --------------------------------------------------------------

    def on_key(self, _event: events.Key) -> None:
        self.last_input = time.monotonic()

    def on_mouse_move(self, _event: events.MouseMove) -> None:
        self.last_input = time.monotonic()

    def on_app_focus(self, _event: events.AppFocus) -> None:
        self.app_focused = True

    def on_app_blur(self, _event: events.AppBlur) -> None:
        self.app_focused = False

    def _tick(self) -> None:
        if self.detail is None or not self.is_current:
            return
        scroll = self.query_one("#body", ScrollPanel).scroll_y
        if scroll != self._last_scroll:
            self._last_scroll = scroll
            self.last_input = time.monotonic()
        if self.app_focused and time.monotonic() - self.last_input < IDLE_AFTER:
            self.unsaved_seconds += 1
            if self.unsaved_seconds >= SAVE_EVERY:
                self.save_progress()

    def _position(self) -> int:
        return int(self.query_one("#body", ScrollPanel).scroll_y)

    def save_progress(self, completed: bool | None = None, then=None) -> None:
        if self.detail is None:
            return
        seconds, self.unsaved_seconds = self.unsaved_seconds, 0
        lesson_id, position = self.detail.lesson.id, self._position()
        saved = self.detail.progress.last_position if self.detail.progress else 0
        if completed is None and not seconds and position == saved:
            return  # nothing new to save: queue nothing
        if self.detail.progress:
            self.detail.progress.last_position = position
        self.write(
            lambda: self.api.record_lesson_progress(
                lesson_id, time_spent=seconds, last_position=position, completed=completed
            ),
            then=then,
        )

    # Actions ----------------------------------------------------------------------

    def action_complete(self) -> None:
        if self.detail is None:
            return
        if not self.detail.enrolled and self.saves:
            self.notify(
                f"Enroll in {self.detail.course.title} to mark lessons complete: "
                "esc to the course, then e.",
                title="Not enrolled",
                severity="warning",
            )
            return
        done = bool(self.detail.progress and self.detail.progress.completed)

        def after(result) -> None:
            enrollment = result.get("enrollment") or {}
            if result.get("already_waiting"):
                self.notify("Already waiting to sync: nothing new was queued.")
            elif result.get("queued"):
                self.notify(
                    ("Marked complete" if not done else "Marked not complete")
                    + " on this machine: it is sent when the server is back.",
                    title="Waiting to sync",
                )
            elif not done and enrollment:
                self.notify(f"Lesson complete — course {float(enrollment['progress']):.0f}% done.")
            self.reload(quiet=True)

        self.save_progress(completed=not done, then=after)

    def _go(self, target) -> None:
        if target is None:
            self.notify("No more lessons that way.")
            return
        self.save_progress()
        self.lesson_id = target.id
        self.detail = None
        self._from_neighbour = True
        self.query_one("#body", ScrollPanel).scroll_home(animate=False)
        self.reload()

    def action_next(self) -> None:
        self._go(self.detail.next if self.detail else None)

    def action_previous(self) -> None:
        self._go(self.detail.previous if self.detail else None)

    def action_back(self) -> None:
        self.save_progress()
        self.app.pop_screen()

    @on(events.ScreenSuspend)
    def _suspended(self) -> None:
        if self.unsaved_seconds:
            self.save_progress()

    def tutor_context(self) -> TutorContext:
        """What the tutor knows about this screen."""
        return TutorContext.for_lesson(self.detail) if self.detail else TutorContext.general()
