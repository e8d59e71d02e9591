"""What every data screen shares: load in a worker, then show; loading, empty and
error states; errors as toasts with what to do, never a traceback."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from services.errors import LearnError, from_exception


def friendly(exc: BaseException) -> str:
    """One line a person can act on."""
    error = exc if isinstance(exc, LearnError) else from_exception(exc)
    return str(error)


class DataScreen(Screen):
    """Subclasses implement `fetch()` (async, returns data) and `show(data)`."""

    BINDINGS = [Binding("r", "reload", "Refresh", id="reload", show=False)]

    class Loaded(Message):
        def __init__(self, data: Any) -> None:
            super().__init__()
            self.data = data

    class Failed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def on_mount(self) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        if getattr(self, "_shown_once", False):
            self.reload(quiet=True)

    def action_reload(self) -> None:
        self.reload()

    @property
    def api(self):
        return self.app.api

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
        self.show(message.data)

    @on(Failed)
    def _on_failed(self, message: Failed) -> None:
        self.set_loading(False)
        self.show_error(message.error)

    # Writes ------------------------------------------------------------------

    def write(self, call, *, success: str | None = None, then=None) -> None:
        """An API write, run by the app so it survives leaving this screen."""
        self.app.run_write(call, success=success, then=then)
