"""Notifications: unread first; mark one or all read; open the action."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Header, ListItem, ListView, Static

from screens import messages
from screens.base import DataScreen
from services.data.api import Notification, Notifications
from widgets.keybar import KeyBar
from widgets.lists import refill
from widgets.status import StateMessage


class NotificationItem(ListItem):
    def __init__(self, notification: Notification) -> None:
        text = Text(
            "● " if not notification.is_read else "  ",
            style="bold cyan" if not notification.is_read else "dim",
        )
        text.append(notification.title, style="bold" if not notification.is_read else "")
        if notification.created_at:
            text.append(f"   {notification.created_at:%Y-%m-%d %H:%M}", style="dim")
        if notification.message:
            text.append(f"\n  {notification.message}", style="dim")
        super().__init__(Static(text))
        self.notification = notification


class NotificationsScreen(DataScreen):
    AUTO_FOCUS = "#notifications"
    BINDINGS = [
        Binding("enter", "open", "Open", id="notifications.open"),
        Binding("space", "mark_read", "Mark read", id="notifications.read"),
        Binding("a", "mark_all_read", "Mark all read", id="notifications.read_all"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="body"):
            yield StateMessage(id="empty")
            yield ListView(id="notifications")
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = "Notifications"

    async def fetch(self) -> Notifications:
        return await self.api.notifications()

    def show(self, data: Notifications) -> None:
        self.sub_title = f"{data.unread} unread"
        items = self.query_one("#notifications", ListView)
        index = items.index
        refill(items, [NotificationItem(n) for n in data.notifications], index)
        empty = self.query_one("#empty", StateMessage)
        if not data.notifications:
            empty.show_empty("Nothing here yet. Achievements and news will show up here.")
            return
        empty.clear()

    def _selected(self) -> Notification | None:
        item = self.query_one("#notifications", ListView).highlighted_child
        return item.notification if isinstance(item, NotificationItem) else None

    def action_mark_read(self) -> None:
        n = self._selected()
        if n and not n.is_read:
            self.write(
                lambda: self.api.mark_notifications_read([n.id]),
                then=lambda _r: self.reload(quiet=True),
            )

    def action_mark_all_read(self) -> None:
        self.write(
            lambda: self.api.mark_notifications_read(None),
            success="All read.",
            then=lambda _r: self.reload(quiet=True),
        )

    def action_open(self) -> None:
        n = self._selected()
        if n is None:
            return
        if not n.is_read:
            self.action_mark_read()
        self.post_message(messages.OpenUrl(n.action_url))

    @on(ListView.Selected)
    def _chosen(self) -> None:
        self.action_open()
