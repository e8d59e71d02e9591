"""Small text renderings shared by widgets: progress bars, stars, durations."""

from __future__ import annotations

from typing import Any

from rich.text import Text


def bar(percent: float | None, width: int = 20, theme: Any = None) -> Text:
    """A text progress bar with its percentage, e.g. ██████░░░░ 60%, in the colours of
    `theme` (a Textual Theme: its accent — the list cursor is its primary, and a bar
    on the highlighted row must still show — and success when complete)."""
    pct = max(0.0, min(100.0, float(percent or 0)))
    filled = round(width * pct / 100)
    done, going = (
        (theme.success or "green", theme.accent or "cyan")
        if theme is not None
        else ("green", "cyan")
    )
    text = Text()
    text.append("█" * filled, style=done if pct >= 100 else going)
    text.append("░" * (width - filled), style="dim")
    text.append(f" {pct:3.0f}%")
    return text


def stars(rating: float | None, count: int = 0) -> str:
    if count and rating is None:  # the database shows an average from 3 ratings on
        return f"{count} rating{'' if count == 1 else 's'} (average from 3)"
    if rating is None or count == 0:
        return "no ratings yet"
    full = round(rating)
    return f"{'★' * full}{'☆' * (5 - full)} {rating:.1f} ({count})"


def duration(seconds: int | float | None) -> str:
    seconds = int(seconds or 0)
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
