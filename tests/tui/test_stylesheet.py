"""tui/app.tcss: a rule that styles an id names the screen it is for. Screens share ids
(#courses on the dashboard and the catalog, #body on every data screen): a bare `#id`
rule would style all of them."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from textual.screen import Screen

import screens

STYLESHEET = Path(__file__).resolve().parents[2] / "tui" / "app.tcss"


def screen_class_names() -> set[str]:
    names: set[str] = set()
    for module in pkgutil.iter_modules(screens.__path__):
        loaded = importlib.import_module(f"screens.{module.name}")
        for value in vars(loaded).values():
            if isinstance(value, type) and issubclass(value, Screen):
                names.add(value.__name__)
    return names


def selectors(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found = []
    for head in re.findall(r"([^{}]+)\{", css):
        found += [s.strip() for s in head.split(",") if s.strip()]
    return found


def test_every_id_rule_names_its_screen():
    known = screen_class_names()
    unscoped = []
    for selector in selectors(STYLESHEET.read_text()):
        if "#" not in selector:
            continue
        first = re.split(r"[\s.:#>]", selector, maxsplit=1)[0]
        if first not in known:
            unscoped.append(selector)
    assert not unscoped, f"scope these by their screen (`DashboardScreen #x`): {unscoped}"


def test_the_check_sees_a_bare_id_rule():
    known = screen_class_names()
    assert "DashboardScreen" in known and "QuizDialog" in known
    (selector,) = selectors("/* c */ #courses { height: 1; }")
    assert re.split(r"[\s.:#>]", selector, maxsplit=1)[0] not in known
