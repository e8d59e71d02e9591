"""Screens and widgets ask the app for navigation, writes and celebrations with messages
(screens/messages.py) and read data through their typed handle (screens.base.host,
DataScreen.api): nothing in screens/ or widgets/ reaches `self.app.<name>` for a name
Textual's App does not have (the duck typing issue #20 removed: `self.app.open_lesson`,
`self.app.run_write`, `self.app.celebrate`, `self.app.backend`, …)."""

from __future__ import annotations

import ast
from pathlib import Path

from textual.app import App

ROOT = Path(__file__).resolve().parents[2]


def app_attributes_used(source: str) -> set[str]:
    """Names read as `self.app.<name>` (or `<anything>.app.<name>`)."""
    used = set()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "app"
        ):
            used.add(node.attr)
    return used


def textuals(name: str) -> bool:
    """Part of Textual's App: on the class, or set by its __init__ (console, …)."""
    return hasattr(App, name) or hasattr(App(), name)


def test_screens_and_widgets_use_only_textuals_app_api():
    beyond = {}
    for package in ("screens", "widgets"):
        for path in sorted((ROOT / package).glob("*.py")):
            names = {n for n in app_attributes_used(path.read_text()) if not textuals(n)}
            if names:
                beyond[str(path.relative_to(ROOT))] = sorted(names)
    assert not beyond, f"post a message (screens/messages.py) or use host(): {beyond}"


def test_the_check_sees_an_app_method_called_by_duck_typing():
    used = app_attributes_used("def f(self):\n    self.app.open_lesson('x')\n")
    assert used == {"open_lesson"} and not textuals("open_lesson")
