"""One test's result in full: what it checks, expected, actual, output and message."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

STATUS_WORDS = {
    "pass": ("✓ passed", "green"),
    "fail": ("✗ failed", "red"),
    "error": ("! error", "red"),
    "timeout": ("⏱ took too long", "yellow"),
    "memory_limit": ("M used too much memory", "yellow"),
    "output_limit": ("… printed too much", "yellow"),
}


def test_code(test: Any, entry: str | None) -> str | None:
    """The test as code a learner can run (services.runner.spec.TestCase), or None for
    a hidden one."""
    if test is None or test.hidden:
        return None
    if test.kind == "call":
        parts = [repr(a) for a in test.args or []]
        parts += [f"{k}={v!r}" for k, v in (test.kwargs or {}).items()]
        compare = "" if test.compare == "exact" else f"  # compared {test.compare}"
        return f"{entry or 'solve'}({', '.join(parts)}) == {test.expected!r}{compare}"
    return f"# stdin\n{test.stdin or ''}".rstrip(
        "\n"
    ) + f"\n# expected output\n{test.expected_stdout or ''}".rstrip("\n")


class ResultDetail(ModalScreen[None]):
    """The whole of one row of the results table."""

    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close", id="result.close")]

    def __init__(self, result: dict[str, Any], code: str | None, *, dark: bool = True) -> None:
        super().__init__()
        self.result = result
        self.code = code
        self.dark = dark

    def compose(self) -> ComposeResult:
        r = self.result
        word, style = STATUS_WORDS.get(r.get("status", ""), (r.get("status", "?"), ""))
        with VerticalScroll(id="result-detail", classes="dialog"):
            yield Label(
                Text.assemble(
                    (r.get("name") or "test", "bold"),
                    "  ",
                    (word, f"bold {style}"),
                    (f"  {r.get('duration_ms') or 0:.0f} ms", "dim"),
                ),
                classes="dialog-title",
            )
            yield Static(self._body(), id="result-body")
            yield Label("esc closes", classes="dim")

    def _body(self) -> Group:
        r = self.result
        parts: list[Any] = []

        def section(title: str, value: Any, style: str = "") -> None:
            if value is None or value == "":
                return
            parts.append(Text(title, style="bold"))
            parts.append(Text(str(value), style=style))
            parts.append(Text(""))

        if self.code:
            parts.append(Text("The test", style="bold"))
            parts.append(
                Syntax(
                    self.code,
                    "python",
                    word_wrap=True,
                    theme="monokai" if self.dark else "ansi_light",
                    background_color="default",
                )
            )
            parts.append(Text(""))
        elif r.get("message") == "hidden test" or self.code is None:
            parts.append(Text("A hidden test: only its name and result are shown.\n", style="dim"))
        section(
            "Why",
            r.get("message") if r.get("message") != "hidden test" else None,
            "red" if r.get("status") != "pass" else "",
        )
        section("Expected", r.get("expected"))
        section("Actual", r.get("actual"))
        section("Output (what your code printed)", r.get("output"), "dim")
        return Group(*parts)

    def action_dismiss(self) -> None:
        self.dismiss(None)
