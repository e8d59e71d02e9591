"""Writes and celebrations: what the app does with a screen's WriteRequested and
Celebrate (screens.messages). One implementation, for LearnApp and for PreviewApp
(tui.preview), which only says differently why a write was refused.

Public names: AppWrites (mixed into tui.app.LearnApp), is_queued.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App

from screens.base import friendly
from screens.messages import Celebrate, WriteRequested

log = logging.getLogger("learn.writes")


class AppWrites(App[None]):
    """The app's half of a write: run it in the app's own worker (it outlives the screen
    that asked), say how it went, celebrate new achievements, then hand the result
    back to the screen (`then`). Uses `follows_live_notifications()` (tui.live)."""

    if TYPE_CHECKING:  # provided by the other halves of LearnApp

        def follows_live_notifications(self) -> bool: ...

    def on_write_requested(self, request: WriteRequested) -> None:
        self.run_write(request)

    def on_celebrate(self, message: Celebrate) -> None:
        self.celebrate(message.achievements)

    @work(group="write")
    async def run_write(self, request: WriteRequested) -> None:
        """Run an API write; errors become toasts; achievements are celebrated."""
        try:
            result = await request.call()
        except Exception as exc:
            self.write_failed(exc)
            return
        self.celebrate(getattr(result, "achievements", None) or [])
        success = request.success
        if success and is_queued(result):
            success = "Saved on this machine: it is sent when the server is back."
        if success:
            self.notify(success)
        if request.then is not None:
            self._hand_back(request, result)

    def write_failed(self, exc: Exception) -> None:
        """Say why a write was not saved (PreviewApp says it differently)."""
        self.notify(friendly(exc), title="Not saved", severity="error")

    def _hand_back(self, request: WriteRequested, result: Any) -> None:
        """`then(result)` for the screen that asked. That screen may have closed while
        the write ran: what it then does with its widgets can fail, and only that is
        expected (logged, at debug level); a failure while it is open is a toast and
        goes to the log with its traceback."""
        assert request.then is not None
        try:
            request.then(result)
        except Exception as exc:
            origin = request.origin
            if origin is not None and origin not in self.screen_stack:
                log.debug("the screen that asked for a write has closed: %r", exc)
                return
            self.notify(friendly(exc), title="Saved, but not shown", severity="error")

    def celebrate(self, achievements: Iterable[Any]) -> None:
        """A toast per new achievement — unless the live feed follows the notifications:
        each achievement comes with one (the database makes it), and that toast is shown
        as it arrives (tui.live). One achievement, one toast."""
        if self.follows_live_notifications():
            return
        for achievement in achievements:
            self.notify(
                f"{achievement.description or ''}  +{achievement.points} points",
                title=f"★ {achievement.title}",
                timeout=8,
            )


def is_queued(result: Any) -> bool:
    """A write the offline outbox kept for later (services.offline.outbox)."""
    return isinstance(getattr(result, "data", None), dict) and bool(result.data.get("queued"))
