"""LearnApp: the Textual application."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding

from screens.base import friendly
from screens.catalog import CatalogScreen
from screens.course import CourseScreen
from screens.dashboard import DashboardScreen
from screens.dialogs import HelpScreen
from screens.first_run import BootScreen, LocalProfileScreen, SignInScreen
from screens.lesson import LessonScreen
from screens.notifications import NotificationsScreen
from screens.profile import ProfileScreen
from services.api import LearningAPI
from tui.commands import ContentCommands, LearnCommands

TOP_LEVEL = {"dashboard": DashboardScreen, "catalog": CatalogScreen,
             "profile": ProfileScreen, "notifications": NotificationsScreen}


class LearnApp(App[None]):
    """Browse courses, read lessons, solve assessments, ask the tutor."""

    TITLE = "learn"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {LearnCommands, ContentCommands}
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("d", "goto('dashboard')", "Dashboard", id="app.dashboard"),
        Binding("c", "goto('catalog')", "Catalog", id="app.catalog"),
        Binding("u", "goto('profile')", "Profile", id="app.profile"),
        Binding("n", "goto('notifications')", "Notifications", id="app.notifications"),
        Binding("ctrl+t", "toggle_theme", "Theme", id="app.theme", show=False),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, backend_factory: Callable[[Callable[[str], None]], Any], *,
                 theme: str | None = None) -> None:
        """`backend_factory(progress)` makes the Backend; progress messages show while
        it starts (the first run creates the database)."""
        super().__init__()
        self.backend = backend_factory(self._progress)
        self.api = LearningAPI(self.backend)
        if theme:
            self.theme = theme

    def _progress(self, message: str) -> None:
        screen = self.screen_stack[-1] if self.screen_stack else None
        if isinstance(screen, BootScreen):
            self.call_from_thread(screen.progress, message) \
                if self._thread_id != threading.get_ident() else screen.progress(message)

    # Start-up ---------------------------------------------------------------

    def on_mount(self) -> None:
        self.push_screen(BootScreen())
        self.boot()

    @work(exclusive=True, group="boot")
    async def boot(self) -> None:
        boot = self.screen if isinstance(self.screen, BootScreen) else None
        try:
            await self.backend.connect()
        except Exception as exc:
            if boot:
                boot.progress(f"[red]{friendly(exc)}[/red]\n\nPress q to quit.")
            self.notify(friendly(exc), title="Could not start", severity="error", timeout=30)
            return
        if self.backend.current_user is None:
            screen = LocalProfileScreen() if self.backend.kind == "local" else SignInScreen()
            await self.push_screen_wait(screen)
        await self.show_home()

    async def show_home(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()
        await self.push_screen(DashboardScreen())
        user = self.backend.current_user
        self.sub_title = (user.email or "") if user else ""

    async def on_unmount(self) -> None:
        try:
            await self.backend.close()
        except Exception:
            pass

    # Navigation -------------------------------------------------------------

    def action_goto(self, name: str) -> None:
        if self.backend.current_user is None:
            return
        screen_type = TOP_LEVEL[name]
        if isinstance(self.screen, screen_type):
            return
        # Keep one dashboard at the bottom; the other sections replace each other.
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if name != "dashboard":
            self.push_screen(screen_type())

    def open_course(self, course_id: str) -> None:
        self.push_screen(CourseScreen(course_id))

    def open_lesson(self, lesson_id: str) -> None:
        self.push_screen(LessonScreen(lesson_id))

    def open_assessment(self, assessment_id: str) -> None:
        try:
            from screens.assessment import AssessmentScreen
        except ImportError:
            self.notify("Assessments open in the editor once it is installed.")
            return
        self.push_screen(AssessmentScreen(assessment_id))

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

    # Commands ---------------------------------------------------------------

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        rows: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()

        def add(binding) -> None:
            if binding.description and (binding.key, binding.description) not in seen:
                seen.add((binding.key, binding.description))
                rows.append((self.get_key_display(binding), binding.description))

        # What the focused widget does first, then the screen's own keys, then the app's.
        for active in self.screen.active_bindings.values():
            add(active.binding)
        for namespace in (self.screen, self):
            for bindings in namespace._bindings.key_to_bindings.values():
                for binding in bindings:
                    add(binding)
        self.push_screen(HelpScreen(self.screen.title or "learn", rows))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_settings(self) -> None:
        from services import config

        settings = config.load()
        lines = [f"{k}: {v}" for k, v in settings.masked().items()]
        self.notify("\n".join(lines), title="Settings (learn config KEY VALUE to change)",
                    timeout=15)

    @work(exclusive=True, group="auth")
    async def action_sign_out(self) -> None:
        try:
            await self.backend.sign_out()
        except Exception as exc:
            self.notify(friendly(exc), severity="error")
            return
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.boot()

    # Writes and celebrations ----------------------------------------------------

    @work(group="write")
    async def run_write(self, call, *, success: str | None = None, then=None) -> None:
        """Run an API write; errors become toasts; achievements are celebrated."""
        try:
            result = await call()
        except Exception as exc:
            self.notify(friendly(exc), title="Not saved", severity="error")
            return
        self.celebrate(getattr(result, "achievements", None) or [])
        if success:
            self.notify(success)
        if then is not None:
            try:
                then(result)
            except Exception:  # the screen that asked may be gone
                pass

    def celebrate(self, achievements) -> None:
        for achievement in achievements:
            self.notify(f"{achievement.description or ''}  +{achievement.points} points",
                        title=f"🏆 {achievement.title}", timeout=8)
