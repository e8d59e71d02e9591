"""A contribution-graph style heatmap of daily learning activity."""

from __future__ import annotations

from datetime import date, timedelta

from rich.text import Text
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

# How much of the theme's success colour each level mixes into the background.
LEVEL_MIX = (0.0, 0.3, 0.5, 0.75, 1.0)
DAY_LABELS = ("Mon", "", "Wed", "", "Fri", "", "")


def level_styles(variables: dict[str, str]) -> tuple[str, ...]:
    """Five colours from the theme's CSS variables: an empty day is the background a
    little towards the foreground; busier days mix in more of the success colour."""
    from textual.color import Color

    background = Color.parse(variables.get("background", "#000000"))
    foreground = Color.parse(variables.get("foreground", "#ffffff"))
    accent = Color.parse(variables.get("success", "#39d353"))
    empty = background.blend(foreground, 0.12)
    return (
        empty.hex.lower(),
        *(background.blend(accent, mix).hex.lower() for mix in LEVEL_MIX[1:]),
    )


def level(count: int, peak: int) -> int:
    """0 for no activity, then 1–4 by quarter of the busiest day."""
    if count <= 0:
        return 0
    if peak <= 1:
        return 4
    return min(4, 1 + (4 * (count - 1)) // peak)


class ActivityHeatmap(Widget):
    """Weeks as columns (oldest left), Monday..Sunday as rows, like GitHub's graph.
    Shows as many of the last 53 weeks as fit the width."""

    DEFAULT_CSS = """
    ActivityHeatmap { height: 10; width: 1fr; }
    """

    counts: reactive[dict[date, int]] = reactive(dict, layout=True)
    today: reactive[date | None] = reactive(None)

    def __init__(
        self, counts: dict[date, int] | None = None, today: date | None = None, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.set_reactive(ActivityHeatmap.counts, dict(counts or {}))
        self.set_reactive(ActivityHeatmap.today, today)
        self._drawn: tuple[tuple, list[Strip]] | None = None

    def render_line(self, y: int) -> Strip:
        """Line y of the graph. The lines are drawn once per size, data and theme as
        strips: ~400 coloured cells went through Textual's Text → Content conversion
        on every paint before, the dashboard's costliest widget (~40 ms)."""
        style = self.rich_style
        width = self.size.width
        key = (width, style, self.app.current_theme.name)
        if self._drawn is None or self._drawn[0] != key:
            console = self.app.console
            lines = [
                Strip(line.render(console, end="")).crop_extend(0, width, style).apply_style(style)
                for line in self.graph().wrap(console, width)
            ]
            self._drawn = (key, lines)
        lines = self._drawn[1]
        return lines[y] if y < len(lines) else Strip.blank(width, style)

    def watch_counts(self) -> None:
        self._drawn = None

    def watch_today(self) -> None:
        self._drawn = None

    def graph(self) -> Text:
        """The whole graph as text: month labels, seven rows of weeks, the legend."""
        today = self.today or date.today()
        width = max(self.size.width - 4, 10)
        cell = 2 if width >= 53 * 2 else 1
        weeks = min(53, width // cell)
        start = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
        peak = max(self.counts.values(), default=0)
        styles = level_styles(self.app.theme_variables)
        glyph = "■ " if cell == 2 else "■"

        text = Text()
        # Month labels above the first week of each month.
        header = [" "] * (weeks * cell)
        for w in range(weeks):
            first = start + timedelta(weeks=w)
            if first.day <= 7:
                label = first.strftime("%b")
                pos = w * cell
                if pos + len(label) <= len(header) and all(c == " " for c in header[pos : pos + 4]):
                    header[pos : pos + len(label)] = label
        text.append("    " + "".join(header).rstrip() + "\n", style="dim")
        for row in range(7):
            text.append(f"{DAY_LABELS[row]:<4}", style="dim")
            for w in range(weeks):
                day = start + timedelta(weeks=w, days=row)
                if day > today:
                    text.append(" " * cell)
                    continue
                count = self.counts.get(day, 0)
                text.append(glyph, style=styles[level(count, peak)])
            text.append("\n")
        active = sum(1 for d, c in self.counts.items() if c > 0 and (today - d).days < 365)
        summary = f"    {active} active day{'s' if active != 1 else ''} in the last year"
        legend_width = 10 + 5 * len(glyph)
        text.append(summary, style="dim")
        # The legend beside the summary when it fits, else on the line below.
        text.append("   " if len(summary) + 3 + legend_width <= self.size.width else "\n    ")
        text.append("Less ", style="dim")
        for style in styles:
            text.append(glyph, style=style)
        text.append(" More", style="dim")
        return text
