"""Driving the app like a person: wait for what a screen shows."""

from __future__ import annotations

import asyncio

from textual.pilot import Pilot
from textual.screen import Screen


async def wait_for(pilot: Pilot, predicate, timeout: float = 15.0, what: str = "condition"):
    """Let the app run until predicate() is truthy (workers finish on their own time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        await pilot.pause()
        try:
            value = predicate()
        except Exception:
            value = None
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def wait_for_screen(pilot: Pilot, screen_type: type[Screen], timeout: float = 15.0):
    return await wait_for(
        pilot,
        lambda: isinstance(pilot.app.screen, screen_type) and pilot.app.screen,
        timeout,
        screen_type.__name__,
    )


async def wait_for_toast(pilot: Pilot, matches, what: str = "toast"):
    """Until the app shows a notification for which matches(notification) is true."""
    return await wait_for(
        pilot, lambda: any(matches(n) for n in pilot.app._notifications), what=what
    )


def screen_text(pilot: Pilot) -> str:
    """Everything the current screen shows, as plain text."""
    from textual.widgets import Static

    parts = []
    for widget in pilot.app.screen.query(Static):
        if widget.display:
            parts.append(str(widget.render()))
    return "\n".join(parts)


async def first_run(pilot: Pilot, name: str = "Ada Lovelace", timezone: str = "UTC") -> None:
    from screens.dashboard import DashboardScreen
    from screens.first_run import LocalProfileScreen

    await wait_for_screen(pilot, LocalProfileScreen)
    screen = pilot.app.screen
    screen.query_one("#name").value = name
    screen.query_one("#timezone").value = timezone
    await pilot.press("ctrl+s")
    await wait_for_screen(pilot, DashboardScreen)
    await wait_for(pilot, lambda: getattr(pilot.app.screen, "dashboard", None), what="dashboard")


def screen_cells(app, rows: slice = slice(None)) -> list[tuple[str, object]]:
    """What the screen shows, cell by cell as (character, style). A blank cell's
    foreground cannot be seen, so only its background counts."""
    from rich.style import Style

    cells = []
    for strip in app.screen._compositor.render_strips()[rows]:
        for segment in strip:
            style = segment.style.clear_meta_and_links() if segment.style else None
            for char in segment.text:
                blank = char == " " and style is not None
                cells.append((char, Style(bgcolor=style.bgcolor) if blank else style))
    return cells
