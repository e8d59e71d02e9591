"""The code editor of the assessment screen: TextArea's code editor with the habits
of a programmer's editor (Enter keeps the indentation and indents after a colon, Tab
indents) and a way out: escape is the screen's Back, ctrl+e asks for $EDITOR."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea


class CodeEditor(TextArea):
    """A Python-minded TextArea. Posts `ExternalEditRequested` on ctrl+e (the screen
    suspends the app and runs the learner's editor)."""

    BINDINGS = [
        Binding("ctrl+e", "external_edit", "Edit in $EDITOR", id="editor.external"),
    ]

    class ExternalEditRequested(Message):
        def __init__(self, editor: CodeEditor) -> None:
            super().__init__()
            self.editor = editor

    def __init__(
        self, text: str = "", *, language: str | None = "python", id: str | None = None
    ) -> None:
        super().__init__(
            text,
            language=language,
            id=id,
            soft_wrap=False,
            theme="monokai",
            tab_behavior="indent",
            show_line_numbers=True,
        )
        self.indent_type = "spaces"
        self.indent_width = 4

    async def _on_key(self, event: events.Key) -> None:
        # Textual calls TextArea._on_key after this one unless prevented.
        if event.key == "escape":
            # TextArea would move the focus on; the key goes on to the screen's Back.
            event.prevent_default()
        elif event.key == "enter" and not self.read_only:
            event.stop()
            event.prevent_default()
            start, end = self.selection
            self.replace("\n" + self.indent_after(start), start, end)

    def indent_after(self, location: tuple[int, int]) -> str:
        """The indentation of a new line broken at `location`: the line's own, one
        level more after a colon (def, if, for, …)."""
        row, column = location
        before = self.document.get_line(row)[:column]
        indent = before[: len(before) - len(before.lstrip(" \t"))]
        if before.split("#", 1)[0].rstrip().endswith(":"):
            indent += " " * self.indent_width
        return indent

    def action_external_edit(self) -> None:
        self.post_message(self.ExternalEditRequested(self))
