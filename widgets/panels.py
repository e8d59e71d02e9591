"""A scrolling panel that takes the focus only when there is something to scroll, so
that tab goes from one thing that can act to the next."""

from __future__ import annotations

from textual.containers import VerticalScroll


class ScrollPanel(VerticalScroll):
    """VerticalScroll, focusable only while its content is taller (or wider) than it."""

    def allow_focus(self) -> bool:
        return super().allow_focus() and (self.max_scroll_y > 0 or self.max_scroll_x > 0)
