"""Live notifications while the app is open (services.data.live): the Header's unread
count follows them and each new one shows as a toast, without a reload.

Public names: AppLive (mixed into tui.app.LearnApp).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App


class AppLive(App[None]):
    """The live feed's half of LearnApp (which provides `backend`, `api`,
    `on_ui_thread`)."""

    backend: Any
    api: Any

    if TYPE_CHECKING:  # provided by LearnApp

        def on_ui_thread(self) -> bool: ...

    _live_watch: Any = None
    _unread: int | None = None
    _seen_notifications: set[str] | None = None
    _badge_follows_screens = False
    _count_may_be_stale = False

    def follows_live_notifications(self) -> bool:
        """Each achievement's notification is shown as it arrives (so tui.writes does
        not celebrate it again)."""
        return self._live_watch is not None

    def start_live(self) -> None:
        """Follow the learner's notifications while the app is open: the Header's count
        updates and new achievements show as toasts, without a reload."""
        if self._live_watch is not None or self.backend.current_user is None:
            return
        if not self._badge_follows_screens:
            self._badge_follows_screens = True
            self.screen_change_signal.subscribe(self, self._screen_changed_live)
        self.run_worker(
            self._watch_live(), name="live", group="live", exclusive=True, exit_on_error=False
        )

    def _screen_changed_live(self, screen: Any) -> None:
        """Each screen's Header gets the badge; leaving the notifications screen (where
        some may have been marked read) reads the count again."""
        from screens.notifications import NotificationsScreen

        if isinstance(screen, NotificationsScreen):
            self._count_may_be_stale = True
        elif self._count_may_be_stale and self._live_watch is not None:
            self._count_may_be_stale = False
            self._read_notifications()
        self.call_after_refresh(self._show_unread)

    async def _watch_live(self) -> None:
        watch = getattr(self.backend, "watch_notifications", None)
        if watch is None:
            return
        try:
            self._live_watch = await watch(self._live_event)
        except Exception as exc:  # offline at start, say: the counts stay as loaded
            import logging

            logging.getLogger("learn.live").debug("no live notifications: %s", type(exc).__name__)

    async def stop_live(self) -> None:
        watch, self._live_watch = self._live_watch, None
        self._seen_notifications, self._unread = None, None
        if watch is not None:
            await watch.stop()

    def _live_event(self, event: Any) -> None:
        """From the feed (on the app's loop): ids of new notifications, or a resync."""
        if not self.on_ui_thread():
            self.call_from_thread(self._live_event, event)
            return
        self._read_notifications()

    @work(exclusive=True, group="live-read", exit_on_error=False)
    async def _read_notifications(self) -> None:
        """Read them through the API (RLS): the feed only says that something changed."""
        try:
            data = await self.api.notifications(limit=50)
        except Exception:
            return  # offline: the next event or resync reads again
        first = self._seen_notifications is None
        seen = self._seen_notifications or set()
        new = [] if first else [n for n in data.notifications if n.id not in seen and not n.is_read]
        self._seen_notifications = seen | {n.id for n in data.notifications}
        changed = data.unread != self._unread
        self._unread = data.unread
        self._show_unread()
        for notification in reversed(new):  # oldest first
            self._toast_notification(notification)
        if (new or changed) and not first:
            self._reload_if_showing_notifications()

    def _toast_notification(self, notification: Any) -> None:
        from services.errors import one_line

        title = one_line(notification.title, 80)
        text = one_line(notification.message or "", 200) or "Press n to see it."
        if notification.type == "achievement":
            self.notify(text, title=f"★ {title}", timeout=8, markup=False)
        else:
            self.notify(text, title=title, timeout=6, markup=False)

    def _show_unread(self) -> None:
        from textual.widgets import Header

        if self._unread is None:
            return
        headers = self.screen.query(Header)
        header = headers.first() if headers else None
        if header is None or not header.is_attached:
            return
        from widgets.notification_badge import NotificationBadge

        found = header.query(NotificationBadge)
        badge = found.first() if found else None
        if badge is None:
            if not self._unread:
                return
            badge = NotificationBadge(id="notification-badge")
            header.mount(badge)
        badge.show_count(self._unread)

    def _reload_if_showing_notifications(self) -> None:
        from screens.dashboard import DashboardScreen
        from screens.notifications import NotificationsScreen

        if isinstance(self.screen, (DashboardScreen, NotificationsScreen)):
            self.screen.reload(quiet=True)
