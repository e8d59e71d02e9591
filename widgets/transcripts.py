"""REPL transcripts in Markdown: a Python code block whose first line is a `>>> ` prompt
is a session (prompts, code and what Python printed), not a program; highlighted as
Python source, its output (`<class 'int'>`, tracebacks) comes out as broken code.
Pygments' `pycon` lexer highlights the code after each prompt and leaves the output
plain."""

from __future__ import annotations

import re

FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})[ \t]*([\w+-]*)[ \t]*$")
PYTHON_NAMES = ("", "python", "py", "python3", "py3")


def is_transcript(code: str) -> bool:
    first = next((line for line in code.splitlines() if line.strip()), "")
    return first.lstrip().startswith(">>>")


def mark_transcripts(markdown: str) -> str:
    """The Markdown with each Python (or unlabelled) fenced block that starts with a
    `>>>` prompt labelled `pycon`."""
    if ">>>" not in markdown:
        return markdown
    lines = markdown.split("\n")
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence, language = opening.groups()
        end = index + 1
        while end < len(lines):
            closing = FENCE.match(lines[end])
            if (
                closing
                and closing.group(2)[0] == fence[0]
                and len(closing.group(2)) >= len(fence)
                and not closing.group(3)
            ):
                break
            end += 1
        if language.lower() in PYTHON_NAMES and is_transcript("\n".join(lines[index + 1 : end])):
            lines[index] = f"{indent}{fence}pycon"
        index = end + 1
    return "\n".join(lines)
