"""Text that did not come from the program, made safe to show on a terminal.

A terminal reads the text it is given as a channel of commands: ESC starts a control
sequence (OSC 2 sets the window title, OSC 52 writes the clipboard, OSC 8 makes
hyperlinks, CSI 2J clears the screen), and so do C1 characters (0x9b is CSI on its
own) and other C0 characters. Course and lesson text comes from authors, answers from
a model, test output from learners' code, names from other people: `terminal_safe`
removes every C0 control character except newline and tab, DEL and every C1 control
character, so what is left is only ever printed, never obeyed. It removes the control
characters, not the sequences' printable tails: "ESC ] 2 ; x BEL" shows as "]2;x", which
tells an author or learner that something was there.

It runs where untrusted text enters the program (services/data/api.py's JSON, the tutor's
stream, the runner's results, course folders, error messages) and again where output
is written (the CLI's stdout and stderr), so a screen or command cannot forget it.
"""

from __future__ import annotations

import re
from typing import Any

# C0 except tab (0x09) and newline (0x0a); DEL; C1 (0x80-0x9f).
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_search, _sub = CONTROL.search, CONTROL.sub
_NAMES = {
    0x07: "BEL",
    0x08: "BS",
    0x0D: "CR",
    0x1B: "ESC",
    0x7F: "DEL",
    0x9B: "CSI",
    0x9D: "OSC",
    0x90: "DCS",
}


def terminal_safe(text: str) -> str:
    """`text` without C0/C1 control characters (newline and tab are kept)."""
    # search first: nearly every string is clean, and search allocates nothing.
    if CONTROL.search(text) is None:
        return text
    return CONTROL.sub("", text)


def terminal_safe_json(value: Any) -> Any:
    """Every string in a JSON value (keys too) made `terminal_safe`; the same object
    back when nothing needed cleaning, so clean data is not copied. (Numbers, booleans
    and None are skipped without a call: a dashboard holds a year of daily figures.)"""
    kind = type(value)
    if kind is str:
        return terminal_safe(value)
    if kind is dict:
        out = None
        for key, item in value.items():
            kind = type(item)
            if kind is str:
                clean = _sub("", item) if _search(item) else item
            elif kind is dict or kind is list:
                clean = terminal_safe_json(item)
            else:
                clean = item
            clean_key = _sub("", key) if type(key) is str and _search(key) else key
            if clean is not item or clean_key is not key:
                if out is None:
                    out = dict(value)
                if clean_key is not key:
                    del out[key]
                out[clean_key] = clean
        return value if out is None else out
    if kind is list:
        items = None
        for i, item in enumerate(value):
            kind = type(item)
            if kind is str:
                clean = _sub("", item) if _search(item) else item
            elif kind is dict or kind is list:
                clean = terminal_safe_json(item)
            else:
                continue
            if clean is not item:
                if items is None:
                    items = list(value)
                items[i] = clean
        return value if items is None else items
    return value


def control_characters(text: str) -> list[tuple[int, str]]:
    """(line number, name) of each line's first control character: for `validate`.
    A CR right before a newline (a file saved with Windows line endings) is allowed."""
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        match = CONTROL.search(line[:-1] if line.endswith("\r") else line)
        if match:
            found.append((number, describe(match.group())))
    return found


def describe(char: str) -> str:
    """U+001B (ESC): how a control character is named in messages."""
    code = ord(char)
    name = _NAMES.get(code)
    return f"U+{code:04X}" + (f" ({name})" if name else "")


class TerminalSafeWriter:
    """A text stream that passes on what is written to it made `terminal_safe`: the
    CLI's stdout and stderr, so a line that prints someone else's text (a course title,
    a server's message, a program's output) cannot carry a control sequence even where
    the data layer missed it. The CLI writes no escape sequences of its own."""

    def __init__(self, stream: Any):
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(terminal_safe(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, encoding, fileno, …
        return getattr(self.stream, name)
