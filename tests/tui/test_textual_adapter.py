"""widgets/textual_adapter/ reaches past Textual's public API: these tests name the
Textual it was checked against, and fail with what to re-check when Textual changes.

Section "Markdown lists": checked against Textual 8.2.8 (requirements.lock).
"""

from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path

from textual.dom import DOMNode
from textual.widgets.markdown import MarkdownBlock

ROOT = Path(__file__).resolve().parents[2]

# The Markdown-lists section was checked against these Textual versions: from the first,
# up to (not including) the second.
MARKDOWN_LISTS_CHECKED = ((8, 2, 8), (8, 3, 0))

RECHECK = (
    "widgets/textual_adapter/markdown.py was checked against Textual "
    "{low} up to {high}, and Textual {installed} is installed. Re-check it: that "
    "textual.widgets._markdown still defines MarkdownList, MarkdownListItem, "
    "MarkdownParagraph, MarkdownBulletList and MarkdownOrderedList; that a list keeps its "
    "items in `_blocks` (an item its blocks, and `bullet`), a paragraph its Content in "
    "`_content`; that Markdown.append still calls `_update_from_block` on the last block; "
    "that DOMNode still reads `_inherit_component_classes`. Then run "
    "tests/tui/test_chat_markdown.py (an answer must look exactly as Textual's Markdown "
    "draws it) and `python benchmarks/tutor.py --pace 50,100,200`, and widen "
    "MARKDOWN_LISTS_CHECKED here."
)


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def test_textual_is_a_version_the_markdown_lists_adapter_was_checked_against():
    installed = importlib.metadata.version("textual")
    low, high = MARKDOWN_LISTS_CHECKED
    message = RECHECK.format(
        low=".".join(map(str, low)), high=".".join(map(str, high)), installed=installed
    )
    assert low <= version(installed) < high, message


def test_the_textual_internals_the_markdown_lists_adapter_uses_still_exist():
    from textual.widgets import _markdown

    names = [
        "MarkdownList",
        "MarkdownListItem",
        "MarkdownParagraph",
        "MarkdownBulletList",
        "MarkdownOrderedList",
    ]
    missing = [name for name in names if not hasattr(_markdown, name)]
    missing += [
        f"MarkdownBlock.{name}"
        for name in ("_update_from_block", "_copy_context")
        if not hasattr(MarkdownBlock, name)
    ]
    if not hasattr(DOMNode, "_inherit_component_classes"):
        missing.append("DOMNode._inherit_component_classes")
    assert not missing, f"gone from Textual: {missing}. " + RECHECK.format(
        low="8.2.8", high="8.3.0", installed=importlib.metadata.version("textual")
    )


def test_only_the_adapter_imports_textuals_private_modules():
    offenders = []
    for package in ("tui", "screens", "widgets"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "textual_adapter" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.ImportFrom):
                    modules = [node.module or ""]
                elif isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                else:
                    continue
                for module in modules:
                    parts = module.split(".")
                    if parts[0] == "textual" and any(p.startswith("_") for p in parts):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {module}")
    assert not offenders, f"put these behind widgets/textual_adapter/: {offenders}"
