"""KeyBar, the one-widget footer: it must look and act like Textual's Footer."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Input

from tests.tui.helpers import screen_cells
from widgets.keybar import KeyBar


class KeysApp(App[None]):
    """Four shown keys (one disabled by check_action) and a focused Input."""

    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+o", "note('tutor')", "Tutor"),
        Binding("f1", "note('help')", "Help"),
        Binding("f2", "note('dashboard')", "Dashboard"),
        Binding("f3", "note('hidden')", "Hidden", show=False),
    ]

    def __init__(self, bar: type, theme: str = "textual-dark") -> None:
        super().__init__()
        self.bar = bar
        self.chosen_theme = theme
        self.notes: list[str] = []
        self.bells = 0

    def compose(self) -> ComposeResult:
        yield Input()
        yield self.bar()

    def on_mount(self) -> None:
        self.theme = self.chosen_theme

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if parameters == ("dashboard",) else True  # shown, disabled

    def action_note(self, what: str) -> None:
        self.notes.append(what)

    def bell(self) -> None:
        self.bells += 1


async def bottom_line(bar: type, theme: str, width: int, hover: int | None = None):
    """The last screen line, cell by cell."""
    app = KeysApp(bar, theme)
    async with app.run_test(size=(width, 5)) as pilot:
        await pilot.pause()
        if hover is not None:
            await pilot.hover(offset=(hover, 4))
        await pilot.pause()
        return screen_cells(app, slice(4, 5))


def text(cells) -> str:
    return "".join(char for char, _ in cells)


@pytest.mark.parametrize(
    "theme", ["textual-dark", "textual-light", "nord", "solarized-light", "gruvbox"]
)
@pytest.mark.parametrize("width", [80, 40, 20])
async def test_key_bar_draws_the_line_textuals_footer_draws(theme, width):
    footer = await bottom_line(Footer, theme, width)
    assert await bottom_line(KeyBar, theme, width) == footer
    assert "^o" in text(footer)  # the comparison is of something


@pytest.mark.parametrize("x", [2, 10, 75])  # a key, a description, the palette key
async def test_hovering_a_key_highlights_it_as_the_footer_does(x):
    footer = await bottom_line(Footer, "textual-dark", 80, hover=x)
    assert await bottom_line(KeyBar, "textual-dark", 80, hover=x) == footer
    assert footer != await bottom_line(Footer, "textual-dark", 80)


async def test_the_key_bar_leaves_out_hidden_keys_and_dims_disabled_ones():
    cells = await bottom_line(KeyBar, "textual-dark", 80)
    line = text(cells)
    assert "Hidden" not in line

    def colour(label: str):
        return cells[line.index(label)][1].color

    assert colour("f2") != colour("f1")  # f2 (Dashboard) is disabled
    assert colour("Dashboard") != colour("Help")
    assert colour("f1") == colour("^o")


async def click_key(label: str) -> KeysApp:
    """A KeysApp after a click on the key bar where it shows `label`."""
    app = KeysApp(KeyBar)
    async with app.run_test(size=(80, 5)) as pilot:
        await pilot.pause()
        line = str(app.query_one(KeyBar).render())
        await pilot.click(KeyBar, offset=(line.index(label), 0))
        await pilot.pause()
    return app


async def test_clicking_a_key_runs_its_action():
    app = await click_key("Help")
    assert (app.notes, app.bells) == (["help"], 0)


async def test_clicking_a_disabled_key_rings_the_bell_and_runs_nothing():
    app = await click_key("Dashboard")
    assert (app.notes, app.bells) == ([], 1)


async def test_the_key_bar_follows_the_focused_widgets_keys():
    class WithKeys(Input):
        BINDINGS = [Binding("f5", "app.note('send')", "Send")]

    class TwoInputs(KeysApp):
        def compose(self) -> ComposeResult:
            yield Input(id="plain")
            yield WithKeys(id="keyed")
            yield KeyBar()

    app = TwoInputs(KeyBar)
    async with app.run_test(size=(80, 6)) as pilot:
        await pilot.pause()
        bar = app.query_one(KeyBar)
        assert "Send" not in str(bar.render())
        app.query_one("#keyed").focus()
        await pilot.pause()
        assert "Send" in str(bar.render())
