"""The few places `learn` relies on Textual's internals, each in one section here.

Every name below reaches past Textual's public API; a Textual upgrade can break any of
them, so each section says what it uses and tests/tui/test_textual_adapter.py names
the Textual versions it was checked against. Nothing else in widgets/ imports
`textual.widgets._*` or touches those private attributes.

Markdown lists
--------------
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
widgets/answer_markdown.py's AnswerMarkdown.

Uses: `textual.widgets._markdown` (MarkdownList, MarkdownListItem, MarkdownParagraph,
MarkdownBulletList, MarkdownOrderedList, which `textual.widgets.markdown` does not
export); a list's `_blocks`, an item's `bullet` and `_blocks`, a paragraph's
`_content`; `MarkdownBlock._update_from_block` and `_copy_context`;
`DOMNode._inherit_component_classes`.

What it buys (benchmarks/tutor.py, 2 cores; see that file for the commands):
MEASURED
"""

from __future__ import annotations

# =========================================================================================
# Markdown lists (its imports are here, at the top of the section)
# =========================================================================================
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

# -- end of "Markdown lists" --------------------------------------------------------------
