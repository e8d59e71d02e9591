"""Navigation: the top-level sections (d, c, u, n), and the screens other screens open
(screens.messages: OpenCourse, OpenLesson, OpenAssessment, OpenReview, OpenUrl, GoTo).
Screens are imported when first opened (start-up cost, benchmarks/startup.py).

Public names: AppNavigation (mixed into tui.app.LearnApp), top_level_screen.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.screen import Screen

from screens import messages


def top_level_screen(name: str) -> type[Screen]:
    """The screen class of a top-level section (imported when first wanted)."""
    if name == "dashboard":
        from screens.dashboard import DashboardScreen as screen
    elif name == "catalog":
        from screens.catalog import CatalogScreen as screen
    elif name == "profile":
        from screens.profile import ProfileScreen as screen
    else:
        from screens.notifications import NotificationsScreen as screen
    return screen


class AppNavigation(App[None]):
    """Where each screen's request leads (LearnApp provides `backend`). The open_…
    methods are public: tests and the command palette (tui.commands) call them."""

    backend: Any

    def action_goto(self, name: str) -> None:
        if self.backend.current_user is None:
            return
        screen_type = top_level_screen(name)
        if isinstance(self.screen, screen_type):
            return
        # Keep one dashboard at the bottom; the other sections replace each other.
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if name != "dashboard":
            self.push_screen(screen_type())

    def on_go_to(self, message: messages.GoTo) -> None:
        self.action_goto(message.name)

    def on_open_course(self, message: messages.OpenCourse) -> None:
        self.open_course(message.course_id)

    def on_open_lesson(self, message: messages.OpenLesson) -> None:
        self.open_lesson(message.lesson_id)

    def on_open_assessment(self, message: messages.OpenAssessment) -> None:
        self.open_assessment(message.assessment_id)

    def on_open_review(self, _message: messages.OpenReview) -> None:
        self.open_review()

    def on_open_url(self, message: messages.OpenUrl) -> None:
        self.open_url(message.url)

    def open_course(self, course_id: str) -> None:
        from screens.course import CourseScreen

        self.push_screen(CourseScreen(course_id))

    def action_studio(self) -> None:
        """The author studio: my courses, publishing, analytics."""
        from screens.studio import StudioScreen

        if self.backend.current_user is None or isinstance(self.screen, StudioScreen):
            return
        self.push_screen(StudioScreen())

    def open_lesson(self, lesson_id: str) -> None:
        from screens.lesson import LessonScreen

        self.push_screen(LessonScreen(lesson_id))

    def open_assessment(self, assessment_id: str) -> None:
        try:
            from screens.assessment import AssessmentScreen
        except ImportError:
            self.notify("Assessments open in the editor once it is installed.")
            return
        self.push_screen(AssessmentScreen(assessment_id))

    def open_review(self) -> None:
        """Spaced review of the key points learned (screens.review)."""
        from screens.review import ReviewScreen

        if self.backend.current_user is None or isinstance(self.screen, ReviewScreen):
            return
        self.push_screen(ReviewScreen())

    def open_url(self, url: str | None) -> None:
        """Follow a notification's action: learn://course/<id>, learn://lesson/<id>, …"""
        if not url:
            return
        if url.startswith("learn://achievements"):
            self.action_goto("profile")
        elif url.startswith("learn://course/"):
            self.open_course(url.rsplit("/", 1)[1])
        elif url.startswith("learn://lesson/"):
            self.open_lesson(url.rsplit("/", 1)[1])
        elif url.startswith(("http://", "https://")):
            self.open_url_in_browser(url)

    def open_url_in_browser(self, url: str) -> None:
        import webbrowser

        if not webbrowser.open(url):
            self.notify(url, title="Open this link in your browser")
