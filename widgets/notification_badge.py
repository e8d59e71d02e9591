"""The unread notification count at the right of the Header: "● 3 unread".

The app mounts it into each screen's Header (as it does the sync indicator) and sets
the count whenever the live feed (services.data.live) says something changed. It gets a
number and shows it; it never fetches."""

from __future__ import annotations

from textual.widgets import Static


class NotificationBadge(Static):
    """ "● 3 unread" docked at the right of a Header; hidden at 0."""

    DEFAULT_CSS = """
    NotificationBadge { dock: right; width: auto; height: 1; padding: 0 1; display: none;
                        background: $accent 40%; color: $text; text-style: bold; }
    NotificationBadge.-shown { display: block; }
    """

    def show_count(self, unread: int | None) -> None:
        count = max(0, unread or 0)
        self.update(f"● {count} unread" if count else "")
        self.set_class(bool(count), "-shown")
        self.tooltip = "Notifications: press n" if count else None
