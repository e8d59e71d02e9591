"""LearnApp: the Textual application — start-up, the app's commands and the tutor. Its
other jobs are mixed in from their own modules: navigation (tui.navigation), writes and
celebrations (tui.writes), live notifications (tui.live), offline and sync (tui.sync);
the crash hook is Textual's private one, behind widgets.textual_adapter.

Screens ask for navigation, writes and celebrations with messages
(screens.messages), handled by those modules' `on_…` handlers.

A little over 400 lines: start-up (boot, the cached home, sign-in, then sync, live
feed and grader) reads as one sequence and stays here whole; the in-process grader's
start shrinks when services.grader provides it.

Public names: LearnApp, DRAW_WAIT.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import App
from textual.binding import Binding

from screens.base import friendly
from screens.first_run import BootScreen
from services.text import terminal_safe
from tui.commands import ContentCommands, LearnCommands
from tui.live import AppLive
from tui.navigation import AppNavigation
from tui.navigation import top_level_screen as _top_level
from tui.sync import AppSync
from tui.writes import AppWrites
from widgets.textual_adapter.app import CrashHookApp

if TYPE_CHECKING:
    from services.data.api import LearningAPI
    from services.tutor.context import TutorContext
    from services.tutor.tutor import Tutor
    from widgets.chat import ChatPane

# Everything past the boot screen is imported when first needed: the first frame
# should cost little more than Textual itself (benchmarks/startup.py).

DRAW_WAIT = 1.0  # seconds start-up waits for the boot screen's first frame


class _NotStarted:
    """The backend before the boot worker has made it (it is imported after the
    first frame): nobody is signed in yet."""

    kind = "local"
    current_user = None

    async def close(self) -> None:
        return None


class LearnApp(AppNavigation, AppWrites, AppLive, AppSync, CrashHookApp[None]):
    """Browse courses, read lessons, solve assessments, ask the tutor."""

    TITLE = "learn"
    SAVES = True  # False: a preview, where nothing is written (keys that write hide)
    CSS_PATH = Path(__file__).with_name("app.tcss")
    COMMANDS = App.COMMANDS | {LearnCommands, ContentCommands}
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("ctrl+o", "toggle_tutor", "Tutor", id="app.tutor"),
        Binding("d", "goto('dashboard')", "Dashboard", id="app.dashboard"),
        Binding("c", "goto('catalog')", "Catalog", id="app.catalog"),
        Binding("u", "goto('profile')", "Profile", id="app.profile", show=False),
        Binding("n", "goto('notifications')", "Notifications", id="app.notifications", show=False),
        Binding("w", "studio", "Author studio", id="app.studio", show=False),
        Binding("ctrl+t", "toggle_theme", "Theme", id="app.theme", show=False),
        Binding("f8", "zoom", "Zoom pane", id="app.zoom", show=False),
        Binding("y", "sync", "Sync status", id="app.sync", show=False),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        backend_factory: Callable[[Callable[[str], None]], Any],
        *,
        theme: str | None = None,
        start: str | None = None,
    ) -> None:
        """`backend_factory(progress)` makes the Backend; progress messages show while
        it starts (the first run creates the database). `start="review"` opens the
        review screen over the dashboard (`learn review`)."""
        super().__init__()
        self._backend_factory = backend_factory
        self._start = start
        self.backend: Any = _NotStarted()
        chosen = theme or _saved_theme()
        if chosen and chosen in self.available_themes:
            self.theme = chosen

    @cached_property
    def api(self) -> LearningAPI:
        """LearningAPI over the backend: what every screen talks to."""
        from services.data.api import LearningAPI

        return LearningAPI(self.backend)

    @cached_property
    def tutor(self) -> Tutor:
        from services.tutor.tutor import Tutor

        return Tutor(self.api)

    def notify(self, message: str, *, title: str = "", markup: bool = False, **kwargs: Any) -> None:
        """Toasts carry others' text (achievement titles, links, server messages): made
        terminal_safe here too, where every toast passes, whatever built it; and shown
        as text, not markup (a "[link=…]" in a server's message is not a hyperlink)."""
        super().notify(terminal_safe(message), title=terminal_safe(title), markup=markup, **kwargs)

    _ui_thread: int | None = None

    def on_ui_thread(self) -> bool:
        """Whether this runs on the thread the app runs on (recorded as it loads);
        from any other, call_from_thread."""
        return threading.get_ident() == self._ui_thread

    def _progress(self, message: str) -> None:
        screen = self.screen_stack[-1] if self.screen_stack else None
        if isinstance(screen, BootScreen):
            if self.on_ui_thread():
                screen.progress(message)
            else:
                self.call_from_thread(screen.progress, message)

    # Start-up ---------------------------------------------------------------

    def on_load(self) -> None:
        self._ui_thread = threading.get_ident()

    def on_mount(self) -> None:
        self.push_screen(BootScreen())
        self.boot()
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme) -> None:
        """Keep the choice for the next start, and redraw what has colours in it."""
        self.run_worker(
            lambda: _save_theme(theme.name), thread=True, group="theme", exit_on_error=False
        )
        self.call_after_refresh(self.reload_screen)

    @work(exclusive=True, group="boot")
    async def boot(self) -> None:
        boot = self.screen if isinstance(self.screen, BootScreen) else None
        if boot is not None:
            # The boot screen is the first frame, and start-up begins right after it
            # (call_after_refresh would wait a further refresh, ~20 ms idle). Not
            # drawn within DRAW_WAIT (it always is, so far): start anyway.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(boot.drawn.wait(), DRAW_WAIT)
        try:
            if isinstance(self.backend, _NotStarted):
                self.backend = self._backend_factory(self._progress)
            await self._show_cached_home()
            connecting = asyncio.ensure_future(self.backend.connect())
            await asyncio.sleep(0)  # it starts, and waits on a thread or the network:
            _top_level("dashboard")  # meanwhile, import what the home screen needs
            self.api  # noqa: B018
            await connecting
        except Exception as exc:
            if boot:
                boot.progress(f"[red]{friendly(exc)}[/red]\n\nPress q to quit.")
            self.notify(friendly(exc), title="Could not start", severity="error", timeout=30)
            self.show_storage_notices()
            return
        for line in getattr(self.backend, "start_warnings", None) or []:
            self.notify(line, title="Database", severity="warning", timeout=20)
        self.show_storage_notices()
        if self.backend.current_user is None:
            from screens.first_run import LocalProfileScreen, SignInScreen

            if not isinstance(self.screen, BootScreen):  # a cached home: not theirs now
                await self.switch_screen(BootScreen())

            screen = LocalProfileScreen() if self.backend.kind == "local" else SignInScreen()
            await self.push_screen_wait(screen)
        await self.show_home()
        self.start_sync()
        self.start_live()
        self._start_local_grader()
        warm = getattr(self.backend, "warm", None)
        if warm is not None:  # a head start left the connection for later: open it
            self.call_after_refresh(lambda: self.run_worker(warm, group="warm"))

    async def _show_cached_home(self) -> None:
        """The home screen as it was last seen (the read cache), at once, while the
        backend starts (a cold embedded database takes ~0.5 s): labelled "as of …",
        refreshed in place when the backend answers (show_home)."""
        from services.offline.backend import OfflineBackend

        backend = self.backend
        found = backend.cached("dashboard") if isinstance(backend, OfflineBackend) else None
        if found is None or not isinstance(self.screen, BootScreen):
            return
        from services.data.api import LearningAPI

        try:
            data = await LearningAPI(_Replay({"dashboard": found.result})).dashboard()
        except Exception:  # a cache from another version: start the usual way
            return
        home = _top_level("dashboard")()
        home.preset(data, found.fetched_at)
        await self.switch_screen(home)

    async def show_home(self) -> None:
        top = self.screen
        if (
            len(self.screen_stack) == 2
            and isinstance(top, _top_level("dashboard"))
            and top.as_of is not None
        ):
            top.reload(quiet=True)  # painted from the cache: refresh in place
            self.refresh_bindings()
            user = self.backend.current_user
            self.sub_title = (user.email or "") if user else ""
            return
        home = _top_level("dashboard")()
        await home.preload()  # so it appears with its data, not a loading state
        while len(self.screen_stack) > 1:
            self.pop_screen()
        await self.push_screen(home)
        self.refresh_bindings()  # signed in: the app's keys appear
        user = self.backend.current_user
        self.sub_title = terminal_safe(user.email or "") if user else ""
        if self._start == "review":
            self._start = None
            self.open_review()

    def crashed(self, error: Exception) -> None:
        """Textual's crash path (widgets.textual_adapter.app.CrashHookApp): the traceback
        also goes to learn.log, under a reference."""
        from services.errors import unexpected

        unexpected(error)

    async def on_unmount(self) -> None:
        if self._local_grader is not None:
            self._local_grader.stop()
        closers = [self.stop_live, self.backend.close]
        if "tutor" in self.__dict__:  # only if it was ever used
            closers.insert(0, self.tutor.aclose)
        for closing in closers:
            try:
                await closing()
            except Exception:  # quitting goes on; what failed goes to the log
                import logging

                logging.getLogger("learn.app").warning("closing failed at exit", exc_info=True)

    # Navigation -------------------------------------------------------------

    _SIGNED_IN_ONLY = frozenset({"goto", "toggle_tutor", "studio", "sync"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Before anyone is signed in (first run, sign-in), the app's keys are hidden."""
        return not (action in self._SIGNED_IN_ONLY and self.backend.current_user is None)

    # Commands ---------------------------------------------------------------

    def action_help(self) -> None:
        from screens.dialogs import HelpScreen, help_groups

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen(self.screen.title or "learn", help_groups(self)))

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """Textual saves to ~/Downloads and fails when it does not exist: pick a folder
        that exists (services.paths.screenshots_dir)."""
        if path is None:
            from services.paths import screenshots_dir

            path = str(screenshots_dir())
        return super().deliver_screenshot(filename, path, time_format)

    @on(events.DeliveryFailed)
    def _screenshot_failed(self, event: events.DeliveryFailed) -> None:
        """Say why, and where it tried (Textual says "Failed to save screenshot")."""
        if event.name == "screenshot":
            event.prevent_default()
            self.notify(f"{event.exception}", title="Screenshot not saved", severity="error")

    async def action_quit(self) -> None:
        """Quit, after asking when the screen says quitting would interrupt something
        (a timed attempt)."""
        from screens.base import DataScreen
        from screens.dialogs import ConfirmDialog

        screen = self.screen
        warning = screen.leave_warning() if isinstance(screen, DataScreen) else None
        if warning is None:
            await super().action_quit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(ConfirmDialog("Quit during a timed attempt?", warning, "Quit"), answered)

    def action_zoom(self) -> None:
        """f8: the pane with the focus fills the screen (the editor, the tutor, a list);
        f8 again, or esc, puts it back."""
        from widgets.chat import ChatPane

        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        focused = screen.focused
        if focused is None:
            return
        pane = next(
            (
                node
                for node in focused.ancestors_with_self
                if isinstance(node, ChatPane) or node.has_class("panel")
            ),
            focused,
        )
        screen.maximized = pane

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_settings(self) -> None:
        from services import config

        settings = config.load()
        lines = [f"{k}: {v}" for k, v in settings.masked().items()]
        self.notify(
            "\n".join(lines), title="Settings (learn config KEY VALUE to change)", timeout=15
        )

    @work(exclusive=True, group="auth")
    async def action_sign_out(self) -> None:
        await self.stop_live()
        try:
            await self.backend.sign_out()
        except Exception as exc:
            self.notify(friendly(exc), severity="error")
            return
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.boot()

    # The tutor ----------------------------------------------------------------

    def action_toggle_tutor(self) -> None:
        """Open or close the tutor beside the current screen; it knows what you see."""
        from textual.screen import ModalScreen

        from services.tutor.context import TutorContext
        from widgets.chat import toggle_chat

        if self.backend.current_user is None or isinstance(self.screen, ModalScreen):
            return
        screen = self.screen
        toggle_chat(screen, self.tutor, getattr(screen, "tutor_context", TutorContext.general))

    def on_chat_pane_history_wanted(self, event: ChatPane.HistoryWanted) -> None:
        self.load_chat_history(event.pane, event.context)

    @work(group="chat-history")
    async def load_chat_history(self, pane: ChatPane, context: TutorContext) -> None:
        from widgets.chat import ChatPane

        try:
            entries = await self.api.chat_history(**context.history_args())
        except Exception as exc:
            pane.post_message(ChatPane.History([], context, error=friendly(exc)))
            return
        pane.post_message(ChatPane.History(entries, context))

    # Verified grading on the embedded database (services.grader) -----------------------

    _local_grader: Any = None

    def _start_local_grader(self) -> None:
        """On the embedded database, grade verified submissions in-process, as the role
        learn_grader (exactly what `learn grader` may do), woken by NOTIFY."""
        if getattr(self.backend, "kind", None) != "local":
            return  # (a backend without grading_url gets no grader: local_grader says so)
        from services.grader.local import start_local_grader

        self._local_grader = start_local_grader(self.backend, "in-process")


class _Replay:
    """A backend that answers calls with results saved earlier (LearningAPI parses them
    exactly as it parses the server's)."""

    def __init__(self, results: dict[str, Any]) -> None:
        self.results = results

    async def call(self, fn: str, **_args: Any) -> Any:
        return self.results[fn]


def _saved_theme() -> str | None:
    """The theme chosen last time (config.toml's `theme`, or LEARN_THEME)."""
    from services import config

    try:
        return config.load().theme
    except Exception:  # a broken config file is `learn config`'s to report
        return None


def _save_theme(name: str) -> None:
    from services import config

    if config.load().theme != name:
        config.set_value("theme", name)
