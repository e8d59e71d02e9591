"""A course: description, lessons in order, assessments, progress; enroll, pause,
resume, drop and rate."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, ListItem, ListView, Markdown, Static

from screens import messages
from screens.base import DataScreen, friendly, host
from screens.dialogs import RateCourseDialog
from services.data.api import AssessmentSummary, CourseDetail, LessonSummary
from services.tutor.context import TutorContext
from services.words import plural
from widgets.cards import DIFFICULTY_STYLE
from widgets.chat import ChatPane
from widgets.keybar import KeyBar
from widgets.lists import refill
from widgets.panels import ScrollPanel
from widgets.progress import bar, duration, stars
from widgets.sync_status import DownloadBar


class LessonItem(ListItem):
    def __init__(self, lesson: LessonSummary, number: int) -> None:
        mark = Text("✓ ", style="green") if lesson.completed else Text("○ ", style="dim")
        label = Text.assemble(mark, (f"{number:>2}. ", "dim"), lesson.title)
        if lesson.duration:
            label.append(f"  {lesson.duration}", style="dim")
        if lesson.time_spent:
            label.append(f"  · {duration(lesson.time_spent)} spent", style="dim")
        if lesson.pending:
            label.append("  waiting to sync", style="yellow")
        if not lesson.is_published:
            label.append("  draft", style="italic magenta")
        super().__init__(Static(label))
        self.lesson = lesson


class AssessmentItem(ListItem):
    def __init__(self, assessment: AssessmentSummary) -> None:
        label = Text("✎ ", style="cyan")
        label.append(assessment.title)
        if assessment.time_limit:
            label.append(f"  {assessment.time_limit} min", style="dim")
        if assessment.best_score is not None:
            style = "green" if assessment.best_score >= 70 else "yellow"
            label.append(f"  best {assessment.best_score:.0f}%", style=style)
        else:
            label.append("  not attempted", style="dim")
        super().__init__(Static(label))
        self.assessment = assessment


class CourseScreen(DataScreen):
    AUTO_FOCUS = "#lessons"
    BINDINGS = [
        Binding("e", "enroll", "Enroll", id="course.enroll"),
        Binding("p", "pause", "Pause/resume", id="course.pause"),
        Binding("x", "drop", "Drop", id="course.drop", show=False),
        Binding("s", "rate", "Rate", id="course.rate"),
        Binding("a", "download", "Make available offline", id="course.download", show=False),
        Binding("enter", "open", "Open", id="course.open", show=False),
        Binding("escape", "app.pop_screen", "Back", id="course.back"),
    ]

    def __init__(self, course_id: str) -> None:
        super().__init__()
        self.course_id = course_id
        self.detail: CourseDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with ScrollPanel(id="course-about", classes="panel"):
                yield Static(id="course-meta")
                yield Markdown(id="course-description")
            with Vertical(id="course-content", classes="panel"):
                yield ListView(id="lessons")
                yield Static("Assessments", classes="section-title")
                yield ListView(id="assessments")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#course-about").border_title = "About"
        self.query_one("#course-content").border_title = "Lessons"

    async def fetch(self) -> CourseDetail:
        return await self.api.course_detail(self.course_id)

    def show(self, data: CourseDetail) -> None:
        self.detail = data
        course = data.course
        self.title = course.title
        meta = Text()
        meta.append(course.title + "\n", style="bold")
        meta.append(
            course.difficulty_level, style=DIFFICULTY_STYLE.get(course.difficulty_level, "")
        )
        parts = [
            course.duration or "",
            f"{course.estimated_hours:g} h" if course.estimated_hours else "",
            stars(course.rating_avg, course.rating_count),
        ]
        meta.append("  ·  " + "  ·  ".join(p for p in parts if p) + "\n", style="dim")
        if data.enrollment:
            meta.append_text(bar(data.enrollment.progress, 24, self.app.current_theme))
            meta.append(f"   {data.enrollment.status}\n", style="dim")
        elif self.saves:
            meta.append("Not enrolled — press e to enroll\n", style="yellow")
        else:
            meta.append("Preview — as learners see it before they enroll\n", style="yellow")
        if data.my_rating and data.my_rating.rating:
            meta.append(f"Your rating: {'★' * data.my_rating.rating}\n", style="dim")
        self.query_one("#course-meta", Static).update(meta)
        self.query_one("#course-description", Markdown).update(
            course.description or course.short_description or ""
        )
        lessons = self.query_one("#lessons", ListView)
        index = lessons.index
        nxt = data.next_lesson
        refill(
            lessons,
            [LessonItem(lesson, i + 1) for i, lesson in enumerate(data.lessons)],
            index if index is not None else data.lessons.index(nxt) if nxt in data.lessons else 0,
        )
        assessments = self.query_one("#assessments", ListView)
        refill(assessments, [AssessmentItem(a) for a in data.assessments], assessments.index)
        assessments.display = bool(data.assessments)
        self.query_one(".section-title").display = bool(data.assessments)
        for pane in self.query(ChatPane):
            pane.refresh_context()
        self.refresh_bindings()

    @on(ListView.Selected)
    def _chosen(self, event: ListView.Selected) -> None:
        if isinstance(event.item, LessonItem):
            self.post_message(messages.OpenLesson(event.item.lesson.id))
        elif isinstance(event.item, AssessmentItem):
            self.post_message(messages.OpenAssessment(event.item.assessment.id))

    def action_open(self) -> None:
        focused = self.focused
        if isinstance(focused, ListView) and focused.highlighted_child is not None:
            focused.action_select_cursor()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the keys that do something now: enroll before, pause/drop/rate after
        (a rating needs an enrollment); none of them in a preview (nothing is saved)."""
        if action not in ("enroll", "pause", "drop", "rate"):
            return super().check_action(action, parameters)
        if self.detail is None or not self.saves:
            return False
        enrolled = self._status() not in (None, "dropped")
        return not enrolled if action == "enroll" else enrolled

    def _status(self) -> str | None:
        return self.detail.enrollment.status if self.detail and self.detail.enrollment else None

    def action_enroll(self) -> None:
        if self.detail is None:
            return
        if self._status() in ("active", "completed"):
            self.notify("You are already enrolled.")
            return
        self.write(
            lambda: self.api.enroll(self.course_id),
            success=f"Enrolled in {self.detail.course.title}.",
            then=lambda _r: self.reload(quiet=True),
        )

    def action_pause(self) -> None:
        status = self._status()
        if status is None:
            self.notify("Enroll first (e).", severity="warning")
            return
        new = "active" if status == "paused" else "paused"
        if status == "completed":
            self.notify("This course is completed.")
            return
        self.write(
            lambda: self.api.set_enrollment_status(self.course_id, new),
            success="Resumed." if new == "active" else "Paused.",
            then=lambda _r: self.reload(quiet=True),
        )

    def action_drop(self) -> None:
        if self._status() is None:
            return
        self.write(
            lambda: self.api.set_enrollment_status(self.course_id, "dropped"),
            success="Dropped. Your progress is kept; enroll again any time.",
            then=lambda _r: self.reload(quiet=True),
        )

    def action_rate(self) -> None:
        if self.detail is None:
            return
        current = self.detail.my_rating

        def rated(result: tuple[int, str] | None) -> None:
            if result is None:
                return
            stars_, text = result
            self.write(
                lambda: self.api.rate_course(self.course_id, stars_, text or None),
                success="Thanks for rating this course.",
                then=lambda _r: self.reload(quiet=True),
            )

        self.app.push_screen(
            RateCourseDialog(
                self.detail.course.title,
                current.rating if current else None,
                current.feedback_text if current else None,
            ),
            rated,
        )

    def action_download(self) -> None:
        """Fetch the course, its lessons and assessments for offline use."""
        if not hasattr(host(self).backend, "fetch"):
            self.notify("This backend keeps everything on this machine already.")
            return
        self._download()

    @work(exclusive=True, group="download")
    async def _download(self) -> None:
        from services.offline.download import download_course

        progress = DownloadBar()
        await self.query_one("#course-content").mount(progress)
        try:
            report = await download_course(host(self).backend, self.course_id, progress.advance)
        except Exception as exc:
            self.notify(friendly(exc), title="Not available offline", severity="error")
        else:
            self.notify(
                f"{plural(report.lessons, 'lesson')} and "
                f"{plural(report.assessments, 'assessment')} are "
                "available offline.",
                title=report.title,
            )
        finally:
            await progress.remove()

    def tutor_context(self) -> TutorContext:
        """What the tutor knows about this screen."""
        return TutorContext.for_course(self.detail) if self.detail else TutorContext.general()
