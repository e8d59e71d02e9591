"""The author studio: my courses (drafts included), publish / unpublish, open a course
as learners see it, and per course its analytics — enrollments, completion, a lesson
funnel, assessment pass rates, ratings and feedback, tutor usage — drawn as bars and
sparklines. Every number comes from the database (`course_analytics`, which answers
only a course's author)."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Header, ListItem, ListView, Sparkline, Static

from screens import messages
from screens.base import DataScreen, friendly, host
from services.authoring.publishing import (
    AssessmentStats,
    AuthoringAPI,
    CourseAnalytics,
    FeedbackEntry,
    FunnelStep,
    RatingStats,
    StudioCourse,
)
from services.words import plural
from widgets.keybar import KeyBar
from widgets.lists import refill
from widgets.progress import bar, stars

EMPTY = (
    "You have no courses yet.\n\nWrite one as a folder (content/courses/ holds "
    "examples), check it with `learn course validate DIR`, look at it with "
    "`learn course preview DIR`, then `learn course publish DIR`."
)


# ---------------------------------------------------------------------------
# Renderings: data in, text out (no fetching)
# ---------------------------------------------------------------------------

# What the studio says where the database withholds a figure of fewer than 3 learners.
WITHHELD = "hidden below 3 learners"


def _count_bar(value: int, top: int, width: int = 16) -> Text:
    filled = round(width * value / top) if top else 0
    text = Text("█" * filled, style="cyan")
    text.append("░" * (width - filled), style="dim")
    return text


def render_head(a: CourseAnalytics, theme=None) -> Text:
    e = a.enrollments
    text = Text(a.course.title, style="bold")
    text.append(
        "   published" if a.course.is_published else "   draft",
        style="green" if a.course.is_published else "italic magenta",
    )
    text.append(f"\n\n{e.total}", style="bold")
    text.append(f" learner{'' if e.total == 1 else 's'} enrolled   ")
    if e.withheld:
        text.append(WITHHELD, style="dim")
    else:
        text.append(
            f"active {e.active} · paused {e.paused} · completed {e.completed} · "
            f"dropped {e.dropped}",
            style="dim",
        )
    text.append("\nCompletion  ")
    if e.withheld:
        text.append(WITHHELD, style="dim")
    elif a.completion_rate is None:
        text.append("no enrollments yet", style="dim")
    else:
        text.append_text(bar(a.completion_rate, 24, theme))
    if e.average_progress is not None:
        text.append(f"   average progress {e.average_progress:.0f}%", style="dim")
    return text


def render_funnel(steps: list[FunnelStep], enrolled: int, theme=None) -> Text:
    text = Text()
    if not steps:
        return Text("No published lessons.", style="dim")
    if any(step.withheld or step.completed is None for step in steps):
        return Text(
            f"{len(steps)} lessons: figures {WITHHELD} (each learner's progress stays private)",
            style="dim",
        )
    for number, step in enumerate(steps, start=1):
        title = step.title if len(step.title) <= 30 else step.title[:29] + "…"
        text.append(f"{number:>2}. {title:<30} ", style="")
        text.append_text(bar(step.rate or 0, 20, theme))
        text.append(f"  {step.completed}/{enrolled}", style="dim")
        if step.started > step.completed:
            text.append(f"  ({step.started - step.completed} reading)", style="dim")
        text.append("\n")
    text.rstrip()
    return text


def render_assessments(stats: list[AssessmentStats], theme=None) -> Text:
    if not stats:
        return Text("No published assessments.", style="dim")
    text = Text()
    for s in stats:
        title = s.title if len(s.title) <= 30 else s.title[:29] + "…"
        text.append(f"{title:<30} ")
        if not s.attempts:
            text.append("no submissions yet\n", style="dim")
            continue
        if s.withheld or s.average_score is None:
            text.append(
                f"{s.attempts} attempt{'' if s.attempts == 1 else 's'} by "
                f"{s.learners}: {WITHHELD}\n",
                style="dim",
            )
            continue
        text.append("pass ", style="dim")
        text.append_text(bar(s.pass_rate or 0, 16, theme))
        text.append(f"  avg {s.average_score or 0:.0f}", style="bold")
        text.append(
            f"  {s.attempts} attempt{'' if s.attempts == 1 else 's'} by {s.learners}\n", style="dim"
        )
    text.rstrip()
    return text


def render_rating(rating: RatingStats) -> Text:
    if rating.withheld or rating.distribution is None:
        return Text(
            f"{rating.count} rating{'' if rating.count == 1 else 's'}: {WITHHELD}", style="dim"
        )
    text = Text(stars(rating.average, rating.count) + "\n")
    top = max(rating.distribution or [0])
    for star in range(5, 0, -1):
        count = rating.distribution[star - 1] if len(rating.distribution) >= star else 0
        text.append(f"{star} ★ ", style="yellow")
        text.append_text(_count_bar(count, top))
        text.append(f" {count}\n", style="dim")
    text.rstrip()
    return text


def render_feedback(entries: list[FeedbackEntry]) -> Text:
    if not entries:
        return Text("No written feedback yet.", style="dim")
    text = Text()
    for entry in entries:
        if entry.rating:
            text.append("★" * entry.rating + " ", style="yellow")
        if entry.about:
            text.append(f"[{entry.about}] ", style="dim")
        text.append(f"“{entry.text}”", style="italic")
        if entry.at:
            text.append(f"  {str(entry.at)[:10]}", style="dim")
        text.append("\n")
    text.rstrip()
    return text


class StudioCourseItem(ListItem):
    def __init__(self, course: StudioCourse) -> None:
        label = Text(course.title, style="bold")
        label.append("\n")
        if course.is_published:
            label.append("published", style="green")
        else:
            label.append("draft", style="italic magenta")
        label.append(
            f" · {plural(course.lesson_count, 'lesson')} · "
            f"{plural(course.assessment_count, 'assessment')}",
            style="dim",
        )
        if course.unpublished_lessons:
            label.append(f" · {course.unpublished_lessons} unpublished", style="dim")
        if course.rating_count:
            label.append(f"\n{stars(course.rating_avg, course.rating_count)}", style="dim")
        super().__init__(Static(label))
        self.course = course


# ---------------------------------------------------------------------------
# The screen
# ---------------------------------------------------------------------------


class StudioScreen(DataScreen):
    """My courses on the left; the highlighted course's analytics on the right."""

    CSS_PATH = "studio.tcss"
    AUTO_FOCUS = "#studio-list"
    BINDINGS = [
        Binding("p", "toggle_published", "Publish/unpublish", id="studio.publish"),
        Binding("o", "preview", "Preview", id="studio.preview"),
        Binding("enter", "preview", "Preview", id="studio.open", show=False),
        Binding("escape", "app.pop_screen", "Back", id="studio.back"),
    ]

    class AnalyticsLoaded(Message):
        def __init__(self, analytics: CourseAnalytics) -> None:
            super().__init__()
            self.analytics = analytics

    def __init__(self) -> None:
        super().__init__()
        self.courses: list[StudioCourse] = []
        self.analytics: CourseAnalytics | None = None
        self._selected: str | None = None

    @property
    def authoring(self) -> AuthoringAPI:
        return AuthoringAPI(host(self).backend)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="studio-courses", classes="panel"):
                yield ListView(id="studio-list")
                yield Static(EMPTY, id="studio-empty")
            with VerticalScroll(id="studio-analytics", classes="panel"):
                yield Static(id="an-head")
                yield Static(
                    "Enrollments per week", id="an-enrollments-title", classes="section-title"
                )
                yield Sparkline([], id="an-enrollments", summary_function=max)
                yield Static(
                    "Lesson funnel (enrolled learners who completed each lesson)",
                    classes="section-title",
                )
                yield Static(id="an-funnel")
                yield Static("Assessments (a pass scores 70 or more)", classes="section-title")
                yield Static(id="an-assessments")
                yield Static("Ratings", classes="section-title")
                yield Static(id="an-rating")
                yield Static("Recent feedback", classes="section-title")
                yield Static(id="an-feedback")
                yield Static("Tutor", classes="section-title")
                yield Static(id="an-tutor")
                yield Sparkline([], id="an-tutor-weeks", summary_function=max)
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = "Author studio"
        self.query_one("#studio-courses").border_title = "My courses"
        self.query_one("#studio-analytics").border_title = "Analytics"
        self.query_one("#studio-analytics").display = False
        self.query_one("#studio-empty").display = False

    async def fetch(self) -> list[StudioCourse]:
        return await self.authoring.my_courses()

    def show(self, data: list[StudioCourse]) -> None:
        self.courses = data
        listing = self.query_one("#studio-list", ListView)
        ids = [c.id for c in data]
        refill(
            listing,
            [StudioCourseItem(c) for c in data],
            ids.index(self._selected) if self._selected in ids else 0,
        )
        self.query_one("#studio-empty").display = not data
        listing.display = bool(data)
        if not data:
            self.query_one("#studio-analytics").display = False
            return
        self._select(data[listing.index or 0])

    @property
    def selected(self) -> StudioCourse | None:
        return next((c for c in self.courses if c.id == self._selected), None)

    @on(ListView.Highlighted, "#studio-list")
    def _highlighted(self, event: ListView.Highlighted) -> None:
        if isinstance(event.item, StudioCourseItem) and event.item.course.id != self._selected:
            self._select(event.item.course)

    def _select(self, course: StudioCourse) -> None:
        self._selected = course.id
        self.sub_title = course.title
        self.load_analytics(course.id)

    @work(exclusive=True, group="analytics")
    async def load_analytics(self, course_id: str) -> None:
        try:
            analytics = await self.authoring.analytics(course_id)
        except Exception as exc:  # every failure becomes a toast, never a traceback
            self.post_message(self.Failed(friendly(exc)))
            return
        self.post_message(self.AnalyticsLoaded(analytics))

    @on(AnalyticsLoaded)
    def _analytics_loaded(self, message: AnalyticsLoaded) -> None:
        a = message.analytics
        if a.course.id != self._selected:
            return
        self.analytics = a
        self.query_one("#studio-analytics").display = True
        self.query_one("#an-head", Static).update(render_head(a, self.app.current_theme))
        weeks = [w.count for w in a.enrollments_by_week]
        self.query_one("#an-enrollments-title", Static).update(
            f"Enrollments per week: {weeks[-1] if weeks else 0} this week, {sum(weeks)} in "
            f"the last {plural(len(weeks), 'week')}"
        )
        self.query_one("#an-enrollments", Sparkline).data = weeks
        theme = self.app.current_theme
        self.query_one("#an-funnel", Static).update(
            render_funnel(a.funnel, a.enrollments.total, theme)
        )
        self.query_one("#an-assessments", Static).update(render_assessments(a.assessments, theme))
        self.query_one("#an-rating", Static).update(render_rating(a.rating))
        self.query_one("#an-feedback", Static).update(render_feedback(a.feedback))
        tutor = Text(f"{a.tutor.questions}", style="bold")
        tutor.append(
            f" question{'' if a.tutor.questions == 1 else 's'} to the tutor from "
            f"{a.tutor.learners} learner{'' if a.tutor.learners == 1 else 's'} "
            "(per week below)"
        )
        self.query_one("#an-tutor", Static).update(tutor)
        self.query_one("#an-tutor-weeks", Sparkline).data = [w.count for w in a.tutor.by_week]

    # Actions --------------------------------------------------------------------

    def action_toggle_published(self) -> None:
        course = self.selected
        if course is None:
            return
        publish = not course.is_published

        def go(yes: bool | None = True) -> None:
            if yes:
                self.write(
                    lambda: self.authoring.set_published(course.id, publish),
                    success=f"“{course.title}” is {'published' if publish else 'a draft again'}.",
                    then=lambda _r: self.reload(quiet=True),
                )

        analytics = (
            self.analytics if self.analytics and self.analytics.course.id == course.id else None
        )
        # (the breakdown is withheld below 3 learners: then every enrolled one counts)
        learners = (
            analytics.enrollments.total - (analytics.enrollments.dropped or 0) if analytics else 0
        )
        if publish or not learners:
            go()
            return
        from screens.dialogs import ConfirmDialog

        self.app.push_screen(
            ConfirmDialog(
                f"Unpublish “{course.title}”?",
                f"{plural(learners, 'learner')} enrolled will no longer see its lessons and "
                "assessments until you publish it again. Their progress is kept.",
                "Unpublish",
            ),
            go,
        )

    def action_preview(self) -> None:
        course = self.selected
        if course is not None:
            self.post_message(messages.OpenCourse(course.id))
