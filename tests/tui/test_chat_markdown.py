"""The answer's Markdown (widgets.answer_markdown.AnswerMarkdown): what Textual's Markdown draws,
with fewer widgets. No server and no database: the widget alone in a small app."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownFence

from widgets.answer_markdown import AnswerMarkdown
from widgets.textual_adapter.markdown import CompactBulletList

ANSWER = """\
## Hashing

A **dict** finds a key by *hashing* it: `hash(key)` picks the slot, ~~no scan~~.

- lookups stay **fast** even when the table grows, because the slot is computed
- keys must be hashable
  - strings and numbers, with `__hash__`
  - tuples of *hashable* things
- see [the docs](https://docs.python.org/3/library/stdtypes.html#dict)

3. three
4. four, with words enough to wrap onto a second line of the pane
10. ten

```python
def lookup(table, key):
    return table.get(key)
```

> A quote with `code` in it.

| key | value |
|-----|-------|
| `a` | **1** |
"""


class Side(App[None]):
    """One Markdown class showing `text` at a chat pane's width."""

    CSS = "Markdown { width: 44; padding: 0; }"

    def __init__(self, markdown: type[Markdown], text: str = ANSWER, theme: str = "") -> None:
        super().__init__()
        self.markdown_class = markdown
        self.text = text
        self.start_theme = theme

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield self.markdown_class(self.text)

    def on_mount(self) -> None:
        if self.start_theme:
            self.theme = self.start_theme


def cells(app: App) -> list[list[tuple]]:
    """The screen as it looks: each cell's character, colours and attributes (not a
    blank's foreground colour, which nothing shows, nor any metadata)."""
    rows = []
    for strip in app.screen._compositor.render_strips():
        row = []
        for segment in strip:
            style = segment.style
            for char in segment.text:
                look = (
                    (
                        None if char.isspace() else style.color,
                        style.bgcolor,
                        style.bold,
                        style.italic,
                        style.strike,
                        style.underline,
                    )
                    if style
                    else None
                )
                row.append((char, look))
        rows.append(row)
    return rows


async def drawn(markdown: type[Markdown], text: str = ANSWER, theme: str = ""):
    app = Side(markdown, text, theme)
    async with app.run_test(size=(60, 50)) as pilot:
        await pilot.pause()
        return cells(app)


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
async def test_an_answer_looks_as_textual_markdown_draws_it(theme):
    assert await drawn(AnswerMarkdown, theme=theme) == await drawn(Markdown, theme=theme)


async def test_a_list_in_an_answer_is_one_widget():
    app = Side(AnswerMarkdown)
    async with app.run_test(size=(60, 50)) as pilot:
        await pilot.pause()
        markdown = app.query_one(AnswerMarkdown)
        [bullets] = markdown.query(CompactBulletList)  # the nested list is inside it
        assert not bullets.children
        assert not markdown.query("MarkdownBullet")


async def test_a_list_holding_code_keeps_textual_list_widgets():
    text = "- run this:\n\n  ```python\n  print(1)\n  ```\n- done\n"
    app = Side(AnswerMarkdown, text)
    async with app.run_test(size=(60, 50)) as pilot:
        await pilot.pause()
        [bullets] = app.query(CompactBulletList)
        assert bullets.query(MarkdownFence)
        assert len(bullets.query("MarkdownBullet")) == 2


async def test_a_list_being_streamed_grows_in_place():
    app = Side(AnswerMarkdown, "")
    async with app.run_test(size=(60, 50)) as pilot:
        markdown = app.query_one(AnswerMarkdown)
        await markdown.append("- one\n")
        [first] = markdown.query(CompactBulletList)
        await markdown.append("- two\n")
        await pilot.pause()
        assert list(markdown.query(CompactBulletList)) == [first]
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "• one" in shown and "• two" in shown


async def test_selecting_an_answer_includes_its_lists():
    app = Side(AnswerMarkdown, "Before.\n\n- one item\n- two items\n")
    async with app.run_test(size=(60, 50)) as pilot:
        await pilot.pause()
        app.query_one(AnswerMarkdown).text_select_all()
        await pilot.pause()
        selected = app.screen.get_selected_text() or ""
        assert "• one item\n• two items" in selected
        assert "Before." in selected


async def test_code_in_an_answer_is_highlighted():
    app = Side(AnswerMarkdown, "```python\ndef lookup(table, key):\n    return key\n```\n")
    async with app.run_test(size=(60, 50)) as pilot:
        await pilot.pause()
        fence = app.query_one(MarkdownFence)
        top, bottom = fence.region.y, fence.region.bottom
        colours = {
            look[0] for row in cells(app)[top:bottom] for char, look in row if look and char.strip()
        }
        assert len(colours) >= 3  # keyword, name, punctuation at least
