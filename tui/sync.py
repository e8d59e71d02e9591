"""Offline and sync (services.offline.backend.OfflineBackend): the sync state in every
screen's Header, the background flusher, what changes when the server goes and comes
back, and the sync dialog (y).

Public names: AppSync (mixed into tui.app.LearnApp).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App

from screens.base import friendly

if TYPE_CHECKING:
    from services.offline.status import SyncStatus


class AppSync(App[None]):
    """The offline outbox's half of LearnApp (which provides `backend`, `on_ui_thread`,
    `start_live`)."""

    backend: Any

    if TYPE_CHECKING:  # provided by LearnApp and tui.live

        def on_ui_thread(self) -> bool: ...

        def start_live(self) -> None: ...

        def follows_live_notifications(self) -> bool: ...

    def show_storage_notices(self) -> None:
        """A damaged queue or cache file moved aside (services.offline.store): say so."""
        store = sys.modules.get("services.offline.store")
        for line in store.take_notices() if store is not None else []:
            self.notify(line, title="Repaired", severity="warning", timeout=30)

    _sync_status: SyncStatus | None = None

    def start_sync(self) -> None:
        """Show the sync state in every screen's Header and run the background flusher."""
        backend = self.backend
        if not hasattr(backend, "sync_forever"):
            return
        if self._sync_status is None:
            backend.add_listener(self._sync_changed)
            self.screen_change_signal.subscribe(
                self, lambda _screen: self.call_after_refresh(self._show_sync_status)
            )
        self._sync_changed(backend.status)
        self.run_worker(
            backend.sync_forever(), name="sync", group="sync", exclusive=True, exit_on_error=False
        )

    def _sync_changed(self, status: SyncStatus) -> None:
        if not self.on_ui_thread():
            self.call_from_thread(self._sync_changed, status)
            return
        before, self._sync_status = self._sync_status, status
        self._show_sync_status()
        self.show_storage_notices()
        if before is None:
            return
        if before.online and not status.online:
            self.notify(
                "Showing what was saved on this machine; your changes are kept and "
                "sent when the server is back.",
                title="Offline",
                severity="warning",
            )
        elif status.online and not before.online:
            self.notify("The server is back.", title="Online")
            self.call_later(self.reload_screen)
            if not self.follows_live_notifications():  # it could not start while offline
                self.start_live()
        elif status.pending < before.pending:
            # Sent: the server's answer replaces what the screen showed as waiting.
            self.call_later(self.reload_screen)
        if status.refused > before.refused:
            self.notify(
                "The server refused a change you made: press y to see why.",
                title="Not synced",
                severity="error",
                timeout=10,
            )
        if status.sign_in_needed and not before.sign_in_needed:
            self.notify(
                "Your session has ended: sign in again to send your changes (nothing is lost).",
                title="Sign in again",
                severity="warning",
            )

    def _show_sync_status(self) -> None:
        """The indicator sits at the right of the current screen's Header, mounted the
        first time there is something to say (online with nothing waiting: nothing)."""
        from textual.widgets import Header

        headers = self.screen.query(Header)
        header = headers.first() if headers else None
        if header is None or not header.is_attached:  # no Header, or quitting
            return
        found = header.query("#sync-status")
        if found:
            indicator = found.first()
        elif self._sync_status and self._sync_status.describe():
            from widgets.sync_status import SyncIndicator

            indicator = SyncIndicator(id="sync-status")
            header.mount(indicator)
        else:
            return
        indicator.show_status(self._sync_status)

    def reload_screen(self) -> None:
        """The screen on top reads its data again, in place."""
        from screens.base import DataScreen

        if isinstance(self.screen, DataScreen):
            self.screen.reload(quiet=True)

    def action_sync(self) -> None:
        backend = self.backend
        if not hasattr(backend, "sync_forever"):
            self.notify("Changes go straight to the server here; there is nothing to sync.")
            return

        def chosen(choice: str | None) -> None:
            try:
                if choice == "retry":
                    backend.retry_refused()
                elif choice == "dismiss":
                    backend.dismiss_refused()
            except Exception as exc:  # the outbox file could not be used
                self.notify(friendly(exc), title="Not changed", severity="error")
                return
            if choice in ("sync", "retry"):
                self._sync_now()

        from widgets.sync_status import SyncDialog

        try:
            status, refused = backend.status, backend.refused
        except Exception as exc:
            self.notify(friendly(exc), title="Sync status", severity="error")
            return
        self.push_screen(SyncDialog(status, refused), chosen)

    @work(exclusive=True, group="sync-now")
    async def _sync_now(self) -> None:
        try:
            report = await self.backend.flush()
        except Exception as exc:
            self.notify(friendly(exc), title="Not synced", severity="error")
            return
        if report.stopped:
            self.notify(report.stopped, title="Not synced", severity="warning")
        else:
            self.notify(
                f"Sent {report.sent + report.already_applied}; {report.waiting} waiting.",
                title="Synced",
            )
