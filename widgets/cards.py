"""Course cards, enrolled-course rows and achievement rows: data in, messages out."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import ListItem, Static

from services.data.api import Achievement, CourseSummary, EnrolledCourse
from services.words import plural
from widgets.progress import bar, stars

DIFFICULTY_STYLE = {"Beginner": "green", "Intermediate": "yellow", "Advanced": "red"}


class CourseCard(ListItem):
    """One course in the catalog."""

    DEFAULT_CSS = """
    CourseCard { height: auto; padding: 0 1; border-bottom: solid $panel; }
    CourseCard Static { width: 1fr; }
    """

    def __init__(self, course: CourseSummary) -> None:
        super().__init__(Static(self.describe(course, self.app.current_theme)))
        self.course = course

    @staticmethod
    def describe(course: CourseSummary, theme=None) -> Text:
        text = Text()
        text.append(course.title, style="bold")
        if not course.is_published:
            text.append("  draft", style="italic magenta")
        if course.enrolled:
            text.append("  ✓ enrolled", style="green")
        text.append("\n")
        text.append(course.short_description or "", style="")
        text.append("\n")
        text.append(
            course.difficulty_level, style=DIFFICULTY_STYLE.get(course.difficulty_level, "")
        )
        details = [
            course.duration or "",
            f"{course.estimated_hours:g} h" if course.estimated_hours else "",
            plural(course.lesson_count, "lesson"),
            stars(course.rating_avg, course.rating_count),
        ]
        text.append("  ·  " + "  ·  ".join(d for d in details if d), style="dim")
        if course.tags:
            text.append("\n" + " ".join(f"#{t}" for t in course.tags), style="dim italic")
        if course.enrolled and course.progress is not None:
            text.append("\n")
            text.append_text(bar(course.progress, 24, theme))
        return text


class EnrolledCourseItem(ListItem):
    """A course on the dashboard: progress and what comes next."""

    DEFAULT_CSS = """
    EnrolledCourseItem { height: auto; padding: 0 1; }
    """

    def __init__(self, course: EnrolledCourse) -> None:
        super().__init__(Static(self.describe(course, self.app.current_theme)))
        self.course = course

    @staticmethod
    def describe(course: EnrolledCourse, theme=None) -> Text:
        text = Text()
        text.append(course.title, style="bold")
        if course.status != "active":
            text.append(f"  {course.status}", style="italic dim")
        text.append("\n")
        text.append_text(bar(course.progress, 20, theme))
        if course.next_lesson:
            text.append("   → next: ", style="dim")
            text.append(course.next_lesson.title)
        elif course.status == "completed":
            text.append("   ✓ completed", style="green")
        return text


def achievement_line(achievement: Achievement, *, with_date: bool = False) -> Text:
    text = Text()
    text.append("★ ", style="yellow")
    text.append(achievement.title, style="bold")
    text.append(f"  +{achievement.points}", style="green")
    if with_date and achievement.earned_at:
        text.append(f"  {achievement.earned_at:%Y-%m-%d}", style="dim")
    if achievement.description:
        text.append(f"\n   {achievement.description}", style="dim")
    return text


class AchievementList(Static):
    """Achievements with points (and dates on the profile)."""

    def __init__(
        self,
        achievements: list[Achievement],
        *,
        with_dates: bool = False,
        empty: str = "No achievements yet — complete a lesson to earn your first.",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.achievements = achievements
        self.with_dates = with_dates
        self.empty = empty

    def on_mount(self) -> None:
        self.show(self.achievements)

    def show(self, achievements: list[Achievement]) -> None:
        self.achievements = achievements
        if not achievements:
            self.update(Text(self.empty, style="dim italic"))
            return
        text = Text()
        for i, achievement in enumerate(achievements):
            if i:
                text.append("\n")
            text.append_text(achievement_line(achievement, with_date=self.with_dates))
        self.update(text)


class Selected(Message):
    """A widget asks its screen to open something (a course, a lesson...)."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__()
        self.kind = kind
        self.ident = ident
