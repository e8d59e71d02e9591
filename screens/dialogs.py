"""Modal dialogs: rate a course, help (every binding of the current screen)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class RateCourseDialog(ModalScreen[tuple[int, str] | None]):
    """1–5 stars (keys 1–5 or ←/→) and optional text."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="rate.cancel"),
        *[Binding(str(n), f"set_stars({n})", f"{n} stars", show=False, id=f"rate.{n}")
          for n in range(1, 6)],
        Binding("left", "change(-1)", "Fewer stars", show=False, id="rate.less"),
        Binding("right", "change(1)", "More stars", show=False, id="rate.more"),
        Binding("ctrl+s", "submit", "Submit", id="rate.submit"),
    ]

    def __init__(self, title: str, stars: int | None, text: str | None) -> None:
        super().__init__()
        self.course_title = title
        self.stars = stars or 0
        self.text = text or ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Label(Text(f"Rate “{self.course_title}”"), classes="dialog-title")
            yield Static(id="stars")
            yield Input(self.text, placeholder="What worked, what didn't? (optional)",
                        max_length=5000, id="feedback")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Submit", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._show_stars()

    def _show_stars(self) -> None:
        text = Text("★" * self.stars, style="bold yellow")
        text.append("☆" * (5 - self.stars), style="dim")
        text.append("   press 1–5" if not self.stars else f"   {self.stars} of 5", style="dim")
        self.query_one("#stars", Static).update(text)

    def action_set_stars(self, n: int) -> None:
        if isinstance(self.focused, Input):
            return
        self.stars = n
        self._show_stars()

    def action_change(self, delta: int) -> None:
        if isinstance(self.focused, Input):
            return
        self.stars = max(1, min(5, self.stars + delta))
        self._show_stars()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        if not 1 <= self.stars <= 5:
            self.notify("Choose 1 to 5 stars first (keys 1–5).", severity="warning")
            return
        self.dismiss((self.stars, self.query_one("#feedback", Input).value.strip()))

    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#feedback")
    def _input_submitted(self) -> None:
        self.action_submit()


class HelpScreen(ModalScreen[None]):
    """Every binding of the screen underneath (its widgets', its own and the app's)."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", id="help.close")]

    def __init__(self, title: str, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.help_title = title
        self.rows = rows

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Label(Text(f"Keys — {self.help_title}"), classes="dialog-title")
            yield Static(self._table())
            yield Label("esc closes · ctrl+p opens the command palette", classes="dim")

    def _table(self) -> Table:
        table = Table(box=None, show_header=False, padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for key, description in self.rows:
            table.add_row(key, description)
        return table

    def action_dismiss(self) -> None:
        self.dismiss(None)
