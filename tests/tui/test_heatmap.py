"""The activity heatmap draws its lines as strips; they must look as its text did."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from textual.app import App, ComposeResult
from textual.color import Color
from textual.widget import Widget

from tests.tui.helpers import screen_cells
from widgets.heatmap import ActivityHeatmap, level_styles

TODAY = date(2026, 11, 24)
COUNTS = {TODAY - timedelta(days=back): (back * 7919) % 5 for back in range(0, 365, 2)}
ACTIVE = sum(1 for count in COUNTS.values() if count)


class DrawnAsText(ActivityHeatmap):
    """The graph as one Text through Textual's render(), as the widget drew it before."""

    def render(self):
        return self.graph()

    def render_line(self, y: int):
        return Widget.render_line(self, y)


class HeatmapApp(App[None]):
    def __init__(self, kind: type[ActivityHeatmap], theme: str) -> None:
        super().__init__()
        self.kind = kind
        self.chosen_theme = theme

    def compose(self) -> ComposeResult:
        yield self.kind(COUNTS, TODAY)

    def on_mount(self) -> None:
        self.theme = self.chosen_theme


async def drawn(kind: type[ActivityHeatmap], theme: str, width: int):
    app = HeatmapApp(kind, theme)
    async with app.run_test(size=(width, 12)) as pilot:
        await pilot.pause()
        return screen_cells(app)


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
@pytest.mark.parametrize("width", [120, 70, 30])
async def test_heatmap_strips_show_what_its_text_showed(theme, width):
    before = await drawn(DrawnAsText, theme, width)
    assert await drawn(ActivityHeatmap, theme, width) == before
    assert any(char == "■" for char, _ in before)  # the comparison is of a graph


async def test_heatmap_draws_again_when_its_counts_change():
    app = HeatmapApp(ActivityHeatmap, "textual-dark")
    async with app.run_test(size=(120, 12)) as pilot:
        await pilot.pause()
        heatmap = app.query_one(ActivityHeatmap)
        assert f"{ACTIVE} active days" in heatmap.render_line(8).text
        heatmap.counts = {TODAY: 3}
        await pilot.pause()
        line = heatmap.render_line(8).text
        assert "1 active day " in line


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light", "nord", "gruvbox"])
async def test_busiest_day_is_drawn_in_the_themes_success_colour(theme):
    app = HeatmapApp(ActivityHeatmap, theme)
    async with app.run_test(size=(120, 12)) as pilot:
        await pilot.pause()
        heatmap = app.query_one(ActivityHeatmap)
        heatmap.counts = {TODAY: 4}
        heatmap.today = TODAY
        await pilot.pause()
        row = heatmap.render_line(1 + TODAY.weekday())  # under the month labels
        today_cell = [s for s in row if s.text.strip() == "■"][-1]
        success = Color.parse(app.theme_variables["success"]).hex.lower()
        assert (
            today_cell.style.color.name.lower() == level_styles(app.theme_variables)[4] == success
        )
