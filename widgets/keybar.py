"""The footer every screen shows: its keys in one line, as Textual's Footer draws them.

Textual's `Footer` is a container with one widget per key, and it rebuilds them all
whenever the bindings change (every screen change and every focus move): mounting
and styling ~8 widgets, several times as a screen opens, ~35-45 ms of work for the
dashboard (benchmarks/startup.py). `KeyBar` is one widget that draws the same line
again: same layout, colours and theme variables, the command palette key at the
right, disabled keys dimmed, hover highlight, a click presses the key.

Kept because a person can see the difference (re-measured for issue #20, 2026-12-05,
Textual 8.2.8, 2 shared cores; medians):
- `python benchmarks/footer.py --runs 5 --switches 15`, key press → the screen settled
  (data shown, footer filled in): catalog (c) 148 ms with KeyBar vs 230 ms with
  Footer; back to the dashboard (d) 54 ms vs 151 ms. With Footer the keys visibly fill
  in after the screen (~80-100 ms later); the first frame is as quick with either
  (catalog 52 vs 37 ms, dashboard 12 vs 14 ms: noise-level).
- `python benchmarks/startup.py --runs 7 --warm-only --footer keybar|textual`, start →
  the dashboard's data (warm): 337 ms with KeyBar vs 363-397 ms with Footer (two runs
  each; fastest runs 295 vs 318 ms): ~25-60 ms at start-up.
It uses public API only (active_bindings, bindings_updated_signal, get_key_display,
simulate_key).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.binding import Binding
    from textual.screen import Screen


class _Key(NamedTuple):
    key: str  # what a click presses
    display: str
    description: str
    enabled: bool
    tooltip: str
    palette: bool = False


class KeyBar(Widget, can_focus=False):
    """The current screen's shown bindings at the bottom of the screen."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "keybar--item",
        "keybar--key",
        "keybar--description",
        "keybar--hover",
        "keybar--separator",
    }
    # Footer and FooterKey's DEFAULT_CSS, flattened: the same theme variables.
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .keybar--item { background: $footer-item-background; }
        .keybar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .keybar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .keybar--hover { color: $footer-key-foreground; background: $block-hover-background; }
        .keybar--separator { color: $foreground 20%; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._ready = False  # as Footer: nothing until the screen says its keys
        self._hover: _Key | None = None
        self._spans: list[tuple[int, int, _Key]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        self._ready = True
        if screen.app.app_focus and screen is self.screen:
            self.refresh()

    def _keys(self) -> tuple[list[_Key], _Key | None]:
        """The shown keys in binding order (one per action, as Footer), and the
        command palette's, which sits at the right."""
        if not self._ready:
            return [], None
        app = self.app
        active = self.screen.active_bindings
        keys: list[_Key] = []
        actions: set[str] = set()
        for _node, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in actions:
                actions.add(binding.action)
                keys.append(self._key(binding, enabled, tooltip))
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, tooltip = active[app.COMMAND_PALETTE_BINDING]
            palette = self._key(
                binding, enabled, binding.tooltip or binding.description, palette=True
            )
        return keys, palette

    def _key(self, binding: Binding, enabled: bool, tooltip: str, *, palette: bool = False) -> _Key:
        return _Key(
            binding.key,
            self.app.get_key_display(binding),
            binding.description,
            enabled,
            tooltip,
            palette,
        )

    def _draw(self, key: _Key, hovered: bool) -> Text:
        """One key as FooterKey renders it: " k Description ", or "k Description" for
        the palette's key (Footer leaves that one compact)."""
        under = "keybar--hover" if hovered else "keybar--item"
        shown, described = (
            (key.display, f" {key.description}")
            if key.palette
            else (f" {key.display} ", f"{key.description} ")
        )
        text = Text.assemble((shown, self._stacked(under, "keybar--key")))
        if key.description:
            text.append(described, self._stacked(under, "keybar--description"))
        if not key.enabled:
            text.stylize(Style(dim=True))
        return text

    def _stacked(self, *names: str) -> Style:
        """Component styles on top of each other, each background blended over the
        ones below, as FooterKey's parts are over FooterKey over Footer."""
        background = self.background_colors[1]
        style = Style()
        for name in names:
            background += self.get_component_styles(name).background
            style += self.get_component_rich_style(name)
        return style + Style(bgcolor=background.rich_color)

    def render(self) -> Text:
        keys, palette = self._keys()
        width = self.size.width
        line = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []
        tail = None
        if palette is not None:
            # Footer docks it right, after a "▏" border and with one cell of padding.
            under = "keybar--hover" if self._hover == palette else "keybar--item"
            tail = Text("▏", self._stacked(under, "keybar--separator"))
            tail.append_text(self._draw(palette, self._hover == palette))
            tail.append(" ", self._stacked(under))
        room = width - (tail.cell_len if tail is not None else 0)
        for key in keys:
            drawn = self._draw(key, self._hover == key)
            start = line.cell_len
            if start >= room:
                break
            line.append_text(drawn)
            self._spans.append((start, min(start + drawn.cell_len, room), key))
        line.truncate(max(room, 0))
        if tail is not None and room >= 0:
            line.pad_right(room - line.cell_len)
            self._spans.append((room, width, palette))
            line.append_text(tail)
        return line

    def _key_at(self, x: int) -> _Key | None:
        return next((key for start, end, key in self._spans if start <= x < end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self._key_at(event.x)
        if key != self._hover:
            self._hover = key
            self.tooltip = (key.tooltip or None) if key is not None else None
            self.refresh()

    def on_leave(self, _event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self._key_at(event.x)
        if key is None:
            return
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()
