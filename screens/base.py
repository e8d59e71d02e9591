"""What every data screen shares: load in a worker, then show; loading, empty and
error states; errors as toasts with what to do, never a traceback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from screens.messages import request_write
from services.errors import LearnError, from_exception

if TYPE_CHECKING:  # imported when first used: start-up cost (benchmarks/startup.py)
    from services.data.api import LearningAPI
    from services.tutor.tutor import Tutor


def friendly(exc: BaseException) -> str:
    """One line a person can act on."""
    error = exc if isinstance(exc, LearnError) else from_exception(exc)
    return str(error)


class LearnHost(Protocol):
    """What a screen may use of the app that runs it (tui.app.LearnApp provides it):
    data access and the app's settings. Everything else a screen asks of the app is a
    message (screens.messages)."""

    SAVES: bool  # False in a preview: nothing is written, the keys that write hide
    backend: Any  # services.data.backend.Backend, or the offline/preview ones over it

    @property
    def api(self) -> LearningAPI: ...

    @property
    def tutor(self) -> Tutor: ...


def host(screen: Screen) -> LearnHost:
    """The typed handle of the app that runs `screen` (a LearnApp, or a test's app that
    provides the same attributes)."""
    return cast(LearnHost, screen.app)


class DataScreen(Screen):
    """Subclasses implement `fetch()` (async, returns data) and `show(data)`.

    Textual calls `on_mount` of every class in the MRO, this one after the subclass's:
    a subclass's on_mount must not call super().on_mount() (it would load twice)."""

    BINDINGS = [
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]

    class Loaded(Message):
        def __init__(self, data: Any) -> None:
            super().__init__()
            self.data = data

    class Failed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    _preloaded: tuple[bool, Any] | None = None
    as_of: datetime | None = None  # shown from the read cache, until fresh data comes

    def preset(self, data: Any, as_of: datetime) -> None:
        """Mount with data saved earlier (the read cache), labelled "as of …" in the
        header until the screen's own load replaces it in place."""
        self._preloaded = (True, data)
        self.as_of = as_of

    async def preload(self) -> None:
        """Fetch before the screen is pushed, so it mounts with its data: one layout,
        no loading state (the first screen after start-up). A failure is kept and
        shown as the screen mounts, as a failed load would be."""
        try:
            self._preloaded = (True, await self.fetch())
        except Exception as exc:  # every failure becomes a message, never a traceback
            self._preloaded = (False, friendly(exc))

    def on_mount(self) -> None:
        if self._preloaded is None:
            self.reload()
            return
        (ok, value), self._preloaded = self._preloaded, None
        self._fresh = True  # the resume that follows needs no reload
        if ok:
            self._shown_once = True
            self.show(value)
            if self.as_of is not None:
                local = self.as_of.astimezone()
                self.sub_title = f"as of {local:%H:%M} · updating…"
        else:
            self.show_error(value)

    def on_screen_resume(self) -> None:
        if getattr(self, "_fresh", False):
            self._fresh = False
        elif getattr(self, "_shown_once", False):
            self.reload(quiet=True)

    def action_back(self) -> None:
        """Esc: out of a text field first (what was typed stays), then the screen below
        (the dashboard is the bottom one and has none)."""
        from textual.widgets import Input, TextArea

        if isinstance(self.focused, (Input, TextArea)):
            self.set_focus(None)
        elif len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return len(self.app.screen_stack) > 2
        return True

    def leave_warning(self) -> str | None:
        """What quitting now would interrupt (the app asks before quitting), or None."""
        return None

    def action_reload(self) -> None:
        self.reload()

    @property
    def api(self) -> LearningAPI:
        """What the screen reads and writes through (services.data.api.LearningAPI)."""
        return host(self).api

    @property
    def saves(self) -> bool:
        """False in a preview (tui.preview): nothing is written, so keys that write hide."""
        return host(self).SAVES

    def reload(self, quiet: bool = False) -> None:
        if not quiet:
            self.set_loading(True)
        self._load()

    def set_loading(self, loading: bool) -> None:
        body = self.query("#body")
        if body:
            body.first().loading = loading

    @work(exclusive=True, group="load")
    async def _load(self) -> None:
        try:
            data = await self.fetch()
        except Exception as exc:  # every failure becomes a message, never a traceback
            self.post_message(self.Failed(friendly(exc)))
            return
        self.post_message(self.Loaded(data))

    async def fetch(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def show(self, data: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def show_error(self, message: str) -> None:
        self.notify(message, title="Could not load", severity="error")

    @on(Loaded)
    def _on_loaded(self, message: Loaded) -> None:
        self.set_loading(False)
        self._shown_once = True
        if self.as_of is not None:  # fresh data replaces the cached one
            self.as_of = None
            self.sub_title = None
        self.show(message.data)

    @on(Failed)
    def _on_failed(self, message: Failed) -> None:
        self.set_loading(False)
        self.show_error(message.error)

    # Writes ------------------------------------------------------------------

    def write(
        self,
        call: Callable[[], Awaitable[Any]],
        *,
        success: str | None = None,
        then: Callable[[Any], None] | None = None,
    ) -> None:
        """An API write, run by the app so it survives leaving this screen
        (screens.messages.WriteRequested); `then(result)` runs if this screen is still
        open when it is done."""
        request_write(self, call, success=success, then=then)
