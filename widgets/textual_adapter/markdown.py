"""Markdown lists: the chat answer's lists as one widget each (Textual internals).

tests/tui/test_textual_adapter.py names the Textual versions this was checked against.

    CompactBulletList, CompactOrderedList   Markdown list blocks that are one widget
    MARKDOWN_LIST_BLOCKS                    them, as Markdown.BLOCKS entries
    ListLines                               the Visual they draw
    styled_by_document(block)               a block class styled by its document

Textual builds a Markdown list as four widgets an item (a Horizontal, the bullet, a
Vertical, the paragraph). Here a list whose items hold only paragraphs and lists is one
widget drawing `ListLines` (wrapped items, hanging indents, the same bullets, numbers
and styles), updated in place while it streams instead of remounted every frame; and
the inline styles (em, strong, code) are resolved once on the document instead of
through four virtual nodes styled for each block. Used by
widgets/answer_markdown.py's AnswerMarkdown, which declares the component classes
these blocks are styled by (em, strong, s, code_inline and answer--bullet, the
bullets' style).

Uses: `textual.widgets._markdown` (MarkdownList, MarkdownListItem, MarkdownParagraph,
MarkdownBulletList, MarkdownOrderedList, which `textual.widgets.markdown` does not
export); a list's `_blocks`, an item's `bullet` and `_blocks`, a paragraph's
`_content`; `MarkdownBlock._update_from_block` and `_copy_context`;
`DOMNode._inherit_component_classes`.

What it buys, measured with benchmarks/tutor.py on 2 shared cores (load 3-5), Textual
8.2.8, this against Textual's own Markdown (`--markdown plain`, public API only). Delay:
from a token's arrival to the frame that shows it, p50 / p95; CPU: process seconds per
answer (the stand-in model in a child process):

    --pace 50,100,200 --tokens 600 --shape dense --runs 2   (a list every ~80 tokens)
       50 tok/s   40 /  87 ms, 3.45 s   plain  58 / 206 ms, 4.14 s
      100 tok/s   51 / 119 ms, 2.29 s   plain  67 / 206 ms, 2.83 s
      200 tok/s   53 / 126 ms, 1.62 s   plain  84 / 436 ms, 1.77 s
    --pace 50,100,200 --tokens 600 --runs 2                 (a list every ~270 tokens)
       50 tok/s   33 /  55 ms, 3.33 s   plain  38 / 121 ms, 3.47 s
      100 tok/s   42 /  86 ms, 1.92 s   plain  44 / 162 ms, 2.18 s
      200 tok/s   51 / 113 ms, 1.32 s   plain  50 / 116 ms, 1.48 s
    --pace 100 --tokens 2000 --runs 1
      100 tok/s   39 /  80 ms, 8.85 s   plain  47 / 167 ms, 9.20 s
    full speed, 2,000 tokens (--runs 5; --markdown compact | plain): the whole answer
    on screen 411 | 543 ms; shown from history in one render 177 | 267 ms

A learner notices the difference: while a list streams, Textual's Markdown remounts
the list's widgets every frame. In list-heavy answers one token in twenty then shows
0.2-0.44 s late (these lists: 0.09-0.13 s) — a visible stall, past the ~0.1 s at which
a delay stops feeling immediate; in answers with fewer lists 0.12-0.17 s against
0.06-0.09 s at 50-100 tokens/s (equal at 200). Each answer costs 4-20% more CPU, and
a conversation reloaded from history takes half as long again to draw. So the
internals stay, here.
"""

from __future__ import annotations

import contextlib
import functools
import types
from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.content import Content
from textual.css.styles import RulesMap
from textual.selection import Selection
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual.widgets._markdown import (  # the block classes, which it does not export
    MarkdownBulletList,
    MarkdownList,
    MarkdownListItem,
    MarkdownOrderedList,
    MarkdownParagraph,
)
from textual.widgets.markdown import MarkdownBlock


class ListLines(Visual):
    """A Markdown list drawn as lines of text: each item wrapped beside its bullet.

    `items` are (bullet, parts), the parts being the item's paragraphs (Content, with
    the inline styles Textual gives them) and nested lists (ListLines). Continuation
    lines hang under the item's text, as in Textual's own list."""

    def __init__(self, items: list[tuple[str, list[Content | ListLines]]]) -> None:
        self.items = items
        self._lines: tuple[int, list[Content]] = (-1, [])
        self._content: tuple[int, Content] = (-1, Content())

    def lines(self, width: int) -> list[Content]:
        if self._lines[0] != width:
            lines: list[Content] = []
            for bullet, parts in self.items:
                indent = cell_len(bullet)
                inner = max(1, width - indent)
                body: list[Content] = []
                for part in parts:
                    body.extend(
                        part.wrap(inner) if isinstance(part, Content) else part.lines(inner)
                    )
                first, pad = Content.styled(bullet, ".answer--bullet"), Content(" " * indent)
                lines.extend(
                    (pad if n else first) + line for n, line in enumerate(body or [Content()])
                )
            self._lines = (width, lines)
        return self._lines[1]

    def content(self, width: int) -> Content:
        """The list at `width` as one Content: what is drawn, and what is selected."""
        if self._content[0] != width:
            self._content = (width, Content("\n").join(self.lines(width)))
        return self._content[1]

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        return self.content(width).render_strips(width, height, style, options)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return max(
            (
                cell_len(bullet)
                + max((part.get_optimal_width(rules, container_width) for part in parts), default=0)
                for bullet, parts in self.items
            ),
            default=0,
        )

    def get_minimal_width(self, rules: RulesMap) -> int:
        return max(
            (
                cell_len(bullet) + max((part.get_minimal_width(rules) for part in parts), default=1)
                for bullet, parts in self.items
            ),
            default=1,
        )

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self.lines(width))


class _CompactList(MarkdownList if TYPE_CHECKING else object):
    """A list that is one widget (ListLines), not four per item (Horizontal, bullet,
    Vertical, paragraph). A list whose items hold anything but paragraphs and lists
    (code, quotes, tables) keeps Textual's own widgets.

    A mixin, put before Textual's list class: Textual takes a widget's CSS type names
    from its first DOMNode base, so the list keeps MarkdownBulletList's styles."""

    def bullets(self) -> list[str]:
        raise NotImplementedError

    def list_lines(self) -> ListLines | None:
        items: list[tuple[str, list[Content | ListLines]]] = []
        for item, bullet in zip(self._blocks, self.bullets(), strict=True):
            if not isinstance(item, MarkdownListItem):
                return None
            parts: list[Content | ListLines] = []
            for block in item._blocks:
                if isinstance(block, _CompactList):
                    nested = block.list_lines()
                    if nested is None:
                        return None
                    parts.append(nested)
                elif isinstance(block, MarkdownParagraph):
                    parts.append(block._content)
                else:
                    return None
            items.append((bullet, parts))
        return ListLines(items)

    def compose(self) -> ComposeResult:
        lines = self.list_lines()
        if lines is None:
            yield from super().compose()
            return
        self._blocks.clear()
        self.update(lines)

    async def _update_from_block(self, block: MarkdownBlock) -> None:
        """The list being streamed is updated in place, not remounted every frame."""
        if (
            type(block) is type(self)
            and isinstance(block, _CompactList)
            and not self.children
            and (lines := block.list_lines()) is not None
        ):
            self._copy_context(block)
            self.update(lines)
            return
        await super()._update_from_block(block)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        if not isinstance(self.visual, ListLines):
            return super().get_selection(selection)
        return selection.extract(self.visual.content(self.content_size.width).plain), "\n"


class CompactBulletList(_CompactList, MarkdownBulletList):
    def bullets(self) -> list[str]:
        return [getattr(item, "bullet", "") for item in self._blocks]


class CompactOrderedList(_CompactList, MarkdownOrderedList):
    def bullets(self) -> list[str]:  # numbered as MarkdownOrderedList numbers
        start = 1
        if self._blocks and isinstance(self._blocks[0], MarkdownListItem):
            with contextlib.suppress(ValueError):
                start = int(self._blocks[0].bullet)
        numbers = [f"{n}. " for n in range(start, start + len(self._blocks))]
        width = max(map(len, numbers), default=0) + 1
        return [number.rjust(width) for number in numbers]


@functools.cache
def styled_by_document(block: type[MarkdownBlock]) -> type[MarkdownBlock]:
    """`block` without its own inline-style component classes (em, strong, s,
    code_inline): Textual looks a span's style up the ancestors, so the AnswerMarkdown
    holding them once replaces four virtual nodes styled for every block mounted
    (AnswerMarkdown's COMPONENT_CLASSES and DEFAULT_CSS hold them).
    Made on first use (a widget class costs ~0.4 ms to create)."""
    if block.__module__ != __name__:
        block = types.new_class(
            block.__name__, (block,), exec_body=lambda ns: ns.update(__module__=__name__)
        )
    # DOMNode's `inherit_component_classes=False`, set once the class exists:
    # Widget.__init_subclass__ does not pass that keyword on (Textual 8.2).
    block._inherit_component_classes = False  # a private attribute: see the test
    return block


MARKDOWN_LIST_BLOCKS: dict[str, type[MarkdownBlock]] = {
    "bullet_list_open": CompactBulletList,
    "ordered_list_open": CompactOrderedList,
}
