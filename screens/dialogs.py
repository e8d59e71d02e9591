"""Modal dialogs: rate a course, help (every binding of the current screen)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class StarPicker(Static, can_focus=True):
    """The stars: focused first, so 1–5 and ←/→ choose (in the comment box they type)."""

    DEFAULT_CSS = """
    StarPicker { height: 1; padding: 0 1; }
    StarPicker:focus { background: $boost; text-style: bold; }
    """


class RateCourseDialog(ModalScreen[tuple[int, str] | None]):
    """1–5 stars (keys 1–5 or ←/→ while the stars have focus) and optional text."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="rate.cancel"),
        *[
            Binding(str(n), f"set_stars({n})", f"{n} stars", show=False, id=f"rate.{n}")
            for n in range(1, 6)
        ],
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
            yield StarPicker(id="stars")
            yield Input(
                self.text,
                placeholder="What worked, what didn't? (optional)",
                max_length=5000,
                id="feedback",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Submit", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#stars").focus()
        self._show_stars()

    @on(events.DescendantFocus)
    @on(events.DescendantBlur)
    def _focus_moved(self) -> None:
        self._show_stars()

    def _show_stars(self) -> None:
        text = Text("★" * self.stars, style="bold yellow")
        text.append("☆" * (5 - self.stars), style="dim")
        if self.stars:
            text.append(f"   {self.stars} of 5", style="dim")
        # Say what works where the focus is: in the comment box, digits are text.
        if self.focused is self.query_one("#stars"):
            text.append("   press 1–5 or ←/→", style="dim")
        else:
            text.append("   shift+tab back here to change them", style="dim")
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


class ConfirmDialog(ModalScreen[bool]):
    """A question with a consequence: y (or the button) goes ahead, n or esc does not."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, message: str, yes: str) -> None:
        super().__init__()
        self.question_title = title
        self.message = message
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm", classes="dialog"):
            yield Label(Text(self.question_title), classes="dialog-title")
            yield Static(Text(self.message))
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", variant="error", id="yes")
                yield Button("Cancel (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()  # the safe answer is the default

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


# What the focused widget is, to a learner: the group its keys are listed under.
WIDGET_NAMES = {
    "CodeEditor": "The editor",
    "TextArea": "The text box",
    "Input": "The text field",
    "ListView": "The list",
    "DataTable": "The table",
    "ChatPane": "The tutor",
    "Select": "The menu",
    "Markdown": "The text",
    "VerticalScroll": "The panel",
    "Button": "The button",
}


def _widget_name(node) -> str:
    for cls in type(node).__mro__:
        if cls.__name__ in WIDGET_NAMES:
            return WIDGET_NAMES[cls.__name__]
    return "The focused part"


def help_groups(app) -> list[tuple[str, list[tuple[str, str]]]]:
    """The keys that work now, once each, grouped by what they act on: this screen,
    the focused widget (the editor, the list, …), then the app. A key the screen also
    binds is listed with the screen's meaning (enter: "Next lesson", not "Select");
    keys with one meaning in one group share a row ("q ^q  Quit")."""
    from textual.screen import Screen

    screen = app.screen
    screen_meaning: dict[str, str] = {}
    for cls in type(screen).__mro__:  # the screen's own first, in their order
        if cls is Screen:
            break
        for binding in getattr(cls, "BINDINGS", None) or []:
            if isinstance(binding, Binding) and binding.description:
                for key in binding.key.split(","):
                    screen_meaning.setdefault(key.strip(), binding.description)
    order = list(dict.fromkeys(screen_meaning.values()))
    groups: dict[str, dict[str, list[str]]] = {}
    for key, active in screen.active_bindings.items():
        binding, node = active.binding, active.node
        if key in screen_meaning:
            group, description = "This screen", screen_meaning[key]
        elif node is app or node is screen:  # the app's, and Textual's own
            group, description = "Everywhere", binding.description
        else:
            group, description = _widget_name(node), binding.description
        if description == "palette":
            description = "Command palette"
        if description:
            keys = groups.setdefault(group, {}).setdefault(description, [])
            display = app.get_key_display(binding)
            if display not in keys:
                keys.append(display)
    if "This screen" in groups:
        mine = groups["This screen"]
        groups["This screen"] = {
            d: mine[d]
            for d in sorted(mine, key=lambda d: order.index(d) if d in order else len(order))
        }
    widget_groups = [g for g in groups if g not in ("This screen", "Everywhere")]
    return [
        (g, [(" ".join(keys), d) for d, keys in groups[g].items()])
        for g in ["This screen", *widget_groups, "Everywhere"]
        if g in groups
    ]


class HelpScreen(ModalScreen[None]):
    """The keys of the screen underneath, grouped (help_groups), with a filter."""

    BINDINGS = [
        Binding("escape,f1", "dismiss", "Close", id="help.close"),
        Binding("down", "scroll(1)", "Scroll down", show=False, id="help.down"),
        Binding("up", "scroll(-1)", "Scroll up", show=False, id="help.up"),
        Binding("pagedown", "scroll(10)", "Page down", show=False, id="help.pagedown"),
        Binding("pageup", "scroll(-10)", "Page up", show=False, id="help.pageup"),
    ]

    def __init__(self, title: str, groups: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.help_title = title
        self.groups = groups

    @property
    def rows(self) -> list[tuple[str, str]]:
        return [row for _group, rows in self.groups for row in rows]

    def compose(self) -> ComposeResult:
        with Vertical(id="help", classes="dialog"):
            yield Label(Text(f"Keys — {self.help_title}"), classes="dialog-title")
            yield Input(
                placeholder="Type to find a key (what it does, or the key)", id="help-filter"
            )
            with VerticalScroll(id="help-keys"):
                yield Static(self._table(""), id="help-table")
            yield Label("esc closes · ↑ ↓ scroll · ctrl+p opens the command palette", classes="dim")

    def _table(self, query: str) -> Table:
        words = query.lower().split()
        table = Table(box=None, show_header=False, padding=(0, 2), expand=True)
        table.add_column(style="bold cyan", no_wrap=True, min_width=10)
        table.add_column(ratio=1)
        shown = 0
        for group, rows in self.groups:
            rows = [(k, d) for k, d in rows if all(w in f"{k} {d} {group}".lower() for w in words)]
            if not rows:
                continue
            table.add_row(Text(group, style="bold"), "", end_section=False)
            for key, description in rows:
                table.add_row(key, description)
                shown += 1
            table.add_row("", "")
        if not shown:
            table.add_row("", Text(f"No key does “{query}” here.", style="dim"))
        return table

    @on(Input.Changed, "#help-filter")
    def _filter(self, event: Input.Changed) -> None:
        self.query_one("#help-table", Static).update(self._table(event.value))

    def action_scroll(self, lines: int) -> None:
        """The list scrolls while the filter keeps the focus."""
        keys = self.query_one("#help-keys", VerticalScroll)
        keys.scroll_to(y=keys.scroll_y + lines, animate=False)

    def action_dismiss(self) -> None:
        self.dismiss(None)
