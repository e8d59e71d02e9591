"""Loading / empty / error states, one widget for all screens."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StateMessage(Static):
    """A centred message for the empty and error states of a screen."""

    DEFAULT_CSS = """
    StateMessage { width: 1fr; height: auto; padding: 1 2; color: $text-muted;
                   text-align: center; }
    StateMessage.-error { color: $error; }
    """

    def show_error(self, message: str) -> None:
        self.add_class("-error")
        self.update(Text(f"⚠ {message}\n\nPress r to try again."))  # text, not markup
        self.display = True

    def show_empty(self, message: str) -> None:
        self.remove_class("-error")
        self.update(message)
        self.display = True

    def clear(self) -> None:
        self.display = False
