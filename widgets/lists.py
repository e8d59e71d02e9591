"""Refilling a ListView so that its cursor shows at once."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import ListItem, ListView


def refill(list_view: ListView, items: Sequence[ListItem], index: int | None = 0) -> None:
    """Replace the items and highlight `index` (clamped; None: the first).

    ListView highlights an item when its index *changes*: after clear() + extend() with
    the same index as before (a reload, a one-item list) no item would be highlighted
    until an arrow key, and enter would open something the learner cannot see."""
    removed = list_view.clear()
    mounted = list_view.extend(items)
    if not items:
        return
    target = min(max(index or 0, 0), len(items) - 1)

    async def highlight() -> None:
        # The old items leave the list only once removed: until then an index could
        # point at one of them.
        await removed
        await mounted
        if list_view.is_attached and items[0] in list_view.children:
            list_view.index = target

    list_view.call_later(highlight)
