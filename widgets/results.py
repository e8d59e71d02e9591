"""The assessment's results table: says when its width changes, so the screen can wrap
the explanations again (the tutor pane opening, a divider moved, a zoom)."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import DataTable


class ResultsTable(DataTable):
    class Resized(Message):
        """The table's width changed."""

    _width = 0

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width:
            self._width = event.size.width
            self.post_message(self.Resized())
