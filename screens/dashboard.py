"""Home: streak, a year of activity, enrolled courses, achievements, notifications."""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, ListView, Static

from screens import messages
from screens.base import DataScreen
from services.data.api import Dashboard, OpenAssessment
from services.words import plural
from widgets.cards import AchievementList, EnrolledCourseItem
from widgets.heatmap import ActivityHeatmap
from widgets.keybar import KeyBar
from widgets.lists import refill
from widgets.panels import ScrollPanel
from widgets.status import StateMessage


def streak_text(dashboard: Dashboard) -> Text:
    streak = dashboard.streak
    unit = "week" if streak.streak_type == "weekly" else "day"
    text = Text()
    text.append("★ " if streak.current else "☆ ", style="bold orange1" if streak.current else "dim")
    text.append(f"{streak.current}", style="bold orange1" if streak.current else "bold")
    text.append(f" {unit}{'s' if streak.current != 1 else ''} streak\n")
    text.append(
        f"longest {streak.longest}   ·   {plural(dashboard.points, 'point')}\n\n", style="dim"
    )
    if streak.active_today:
        text.append(
            "✓ You learned today. See you tomorrow!"
            if unit == "day"
            else "✓ You learned this week.",
            style="green",
        )
    elif streak.current:
        when = "today" if unit == "day" else "this week"
        text.append(
            f"Complete a lesson, an assessment or a review {when} to keep it going.", style="yellow"
        )
    else:
        text.append("Complete a lesson, an assessment or a review to start a streak.", style="dim")
    return text


def review_text(summary) -> Text:
    """'● 5 cards to review — press r', and when the next ones come."""
    from services.review.spaced import when

    text = Text()
    if summary.due_now:
        text.append(
            f"● {summary.due_now} card{'s' if summary.due_now != 1 else ''} to review — press r\n",
            style="bold",
        )
        later = summary.due_today - summary.due_now
        if later > 0:
            text.append(f"  {later} more later today\n", style="dim")
    elif summary.total:
        text.append("✓ Reviews done for now", style="green")
        if summary.next_due:
            text.append(f" · next {when(summary.next_due)}", style="dim")
        text.append("\n")
    else:
        text.append("○ Completed lessons become review cards\n", style="dim")
    return text


class DashboardScreen(DataScreen):
    """The home screen."""

    AUTO_FOCUS = "#courses"
    BINDINGS = [
        Binding("space", "resume", "Continue", id="dashboard.resume"),
        Binding("enter", "continue_course", "Next lesson", id="dashboard.continue"),
        Binding("o", "open_course", "Open course", id="dashboard.open"),
        Binding("r", "review", "Review", id="dashboard.review"),
        # r is Review here (issue #18): the screen's refresh moves to R
        Binding("R", "reload", "Refresh", id="dashboard.reload", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with ScrollPanel(id="body"):
            with Horizontal(id="dash-top"):
                yield Static(id="streak", classes="panel")
                with Vertical(id="activity", classes="panel"):
                    yield ActivityHeatmap(id="heatmap")
            with Horizontal(id="dash-bottom"):
                with Vertical(id="courses-panel", classes="panel"):
                    yield Static(id="continue")
                    yield StateMessage(id="courses-empty")
                    yield ListView(id="courses")
                with Vertical(id="side-panel", classes="panel"):
                    yield Static(id="reviews-summary")
                    yield Static(id="notifications-summary")
                    yield AchievementList([], id="achievements")
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = "Dashboard"
        self.query_one("#streak").border_title = "Streak"
        self.query_one("#activity").border_title = "Activity — last 365 days"
        self.query_one("#courses-panel").border_title = "Your courses"
        self.query_one("#side-panel").border_title = "Reviews · Achievements"

    open_assessment: OpenAssessment | None = None

    async def fetch(self) -> Dashboard:
        return await self.api.dashboard()

    def show(self, data: Dashboard) -> None:
        before = getattr(self, "dashboard", None)
        self.dashboard = data
        self.query_one("#streak", Static).update(streak_text(data))
        heatmap = self.query_one(ActivityHeatmap)
        heatmap.today = data.streak.today or date.today()
        heatmap.counts = {d.date: d.lessons + d.assessments for d in data.activity}
        unread = data.unread_notifications
        self.query_one("#notifications-summary", Static).update(
            Text(
                f"● {unread} unread notification{'s' if unread != 1 else ''} — press n\n",
                style="bold" if unread else "dim",
            )
        )
        self.query_one(AchievementList).show(data.achievements)
        self._load_reviews()
        courses = self.query_one("#courses", ListView)
        if before is None or before.enrollments != data.enrollments:  # else: no flicker
            refill(courses, [EnrolledCourseItem(c) for c in data.enrollments], courses.index)
        self._show_continue()
        if self.as_of is None:  # from the cache, the backend may not be up yet
            self._find_open_assessment()
        empty = self.query_one("#courses-empty", StateMessage)
        if data.enrollments:
            empty.clear()
        else:
            empty.show_empty(
                "You are not enrolled in any course yet.\nPress c to browse the catalog."
            )

    @work(exclusive=True, group="reviews")
    async def _load_reviews(self) -> None:
        """Due reviews, after the dashboard is drawn: a second small read, so start-up
        (the dashboard in one round trip, services/data/headstart.py) does not wait for it."""
        from services.review.spaced import Reviews

        try:
            summary = await Reviews(self.api).summary()
        except Exception:  # offline and never read, or an older server
            return
        self.query_one("#reviews-summary", Static).update(review_text(summary))

    def action_review(self) -> None:
        self.post_message(messages.OpenReview())

    # Continue where you left off ---------------------------------------------------

    @work(exclusive=True, group="resume")
    async def _find_open_assessment(self) -> None:
        """Asked after the dashboard shows, so that start-up does not wait for it."""
        try:
            found = await self.api.open_assessment()
        except Exception:  # offline and never asked: the next lesson will do
            return
        self.open_assessment = found
        self._show_continue()

    def _resume_target(self) -> tuple[str, str, str] | None:
        """(kind, id, what) to continue: the assessment in progress, else the next lesson
        of the first course that has one (the list puts the latest active one first)."""
        if self.open_assessment is not None:
            a = self.open_assessment
            return ("assessment", a.id, f"“{a.title}” — assessment in progress")
        dashboard = getattr(self, "dashboard", None)
        for course in dashboard.enrollments if dashboard else []:
            if course.status == "active" and course.next_lesson:
                return (
                    "lesson",
                    course.next_lesson.id,
                    f"“{course.next_lesson.title}” — {course.title}",
                )
        return None

    def _show_continue(self) -> None:
        target = self._resume_target()
        line = self.query_one("#continue", Static)
        line.display = target is not None
        self.refresh_bindings()
        if target is not None:
            line.update(
                Text.assemble(
                    ("▶ ", "bold green"),
                    ("space", "bold"),
                    " continue ",
                    target[2],
                    no_wrap=True,
                    overflow="ellipsis",
                )
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Continue shows when there is something to continue; the course keys when
        there is a course."""
        if action == "resume":
            return self._resume_target() is not None
        if action in ("continue_course", "open_course"):
            dashboard = getattr(self, "dashboard", None)
            return bool(dashboard and dashboard.enrollments)
        return super().check_action(action, parameters)

    def action_resume(self) -> None:
        target = self._resume_target()
        if target is None:
            self.notify("Nothing to continue yet: press c to find a course.")
        elif target[0] == "assessment":
            self.post_message(messages.OpenAssessment(target[1]))
        else:
            self.post_message(messages.OpenLesson(target[1]))

    def _selected_course(self):
        courses = self.query_one("#courses", ListView)
        item = courses.highlighted_child
        return item.course if isinstance(item, EnrolledCourseItem) else None

    def action_continue_course(self) -> None:
        course = self._selected_course()
        if course is None:
            self.post_message(messages.GoTo("catalog"))
        elif course.next_lesson:
            self.post_message(messages.OpenLesson(course.next_lesson.id))
        else:
            self.post_message(messages.OpenCourse(course.course_id))

    def action_open_course(self) -> None:
        course = self._selected_course()
        if course is not None:
            self.post_message(messages.OpenCourse(course.course_id))

    @on(ListView.Selected, "#courses")
    def _course_chosen(self, event: ListView.Selected) -> None:
        self.action_continue_course()
