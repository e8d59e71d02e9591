"""The tutor's answers as Markdown: what streams in, drawn cheaply and safely.

    AnswerMarkdown                      Textual's Markdown for an answer: cleaned of
                                        control sequences, lists one widget each
    streamed_as_parsed(markdown, text)  do the streamed blocks match a full parse?

The time to show an answer goes into mounting widgets (benchmarks/tutor.py: 2,000
tokens, ~10k characters, 34 blocks). Textual builds a list as four widgets an item:
102 of that answer's 134 widgets, and over half the time to show it. AnswerMarkdown's
lists are one widget each and its inline styles are resolved once on the document
(both in widgets/textual_adapter/markdown.py, which says what they
buy), so that answer is 38 widgets.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownBlock

from services.text import terminal_safe
from widgets.textual_adapter.markdown import MARKDOWN_LIST_BLOCKS, styled_by_document

_TABLE_BLOCKS = {"table_open", "thead_open", "tbody_open", "tr_open", "th_open", "td_open"}


class AnswerMarkdown(Markdown):
    """Textual's Markdown, lighter to mount: lists are one widget each (textual_adapter's
    CompactBulletList, CompactOrderedList) and inline styles are resolved once per
    answer, not once per block (tables keep Textual's blocks as they are)."""

    COMPONENT_CLASSES = {"em", "strong", "s", "code_inline", "answer--bullet"}

    # Markdown's rules for these (and MarkdownBullet's), with the document in place of
    # each block.
    DEFAULT_CSS = """
    AnswerMarkdown {
        &:dark > .code_inline { background: $warning 10%; color: $text-warning 95%; }
        &:light > .code_inline { background: $error 5%; color: $text-error 95%; }
        &:ansi > .code_inline { background: ansi_default !important; }
        & > .em { text-style: italic; }
        & > .strong { text-style: bold; }
        & > .s { text-style: strike; }
        & > .answer--bullet { color: $text-primary; }
        &:light > .answer--bullet { color: $text-secondary; }
    }
    """

    BLOCKS = {**Markdown.BLOCKS, **MARKDOWN_LIST_BLOCKS}

    def update(self, markdown: str) -> Any:
        # an answer is the model's text: services/tutor/answer.py cleans it as it
        # streams; this is the second line of defence, one regex search per frame's
        # worth of text
        return super().update(terminal_safe(markdown))

    def append(self, markdown: str) -> Any:
        return super().append(terminal_safe(markdown))

    def get_block_class(self, block_name: str) -> type[MarkdownBlock]:
        block = super().get_block_class(block_name)
        return block if block_name in _TABLE_BLOCKS else styled_by_document(block)


_TOP_LEVEL = frozenset(
    {
        "heading_open",
        "paragraph_open",
        "blockquote_open",
        "bullet_list_open",
        "ordered_list_open",
        "table_open",
        "hr",
        "fence",
        "code_block",
    }
)


def streamed_as_parsed(markdown: Markdown, text: str) -> bool:
    """Do the blocks built by streaming match a fresh parse of the whole answer?

    `Markdown.append` re-parses from the start of the last block, so the streamed
    document normally is exactly the parsed one; the full `update` (which remounts every
    block, ~5 ms each) is then skipped. Anything else — a different source or block
    layout — gets the full update."""
    from markdown_it import MarkdownIt

    if markdown.source != text:
        return False
    tokens = MarkdownIt("gfm-like").parse(text)
    expected = [
        tuple(t.map) for t in tokens if t.level == 0 and t.map is not None and t.type in _TOP_LEVEL
    ]
    actual = [tuple(b.source_range) for b in markdown.children if isinstance(b, MarkdownBlock)]
    return expected == actual
