"""widgets/textual_adapter/app.py: the one private Textual hook the
app keeps (App._handle_exception, for the crash log), checked against the Textual this
runs on. CHECKED_TEXTUAL names the range: Textual >=8.2,<9 (checked on 8.2.8)."""

from __future__ import annotations

import inspect

import pytest
import textual
from textual.app import App

from widgets.textual_adapter.app import CHECKED_TEXTUAL, CrashHookApp


def test_the_installed_textual_is_in_the_range_the_adapter_was_checked_against():
    def version(text: str) -> tuple[int, ...]:
        return tuple(int(part) for part in text.lstrip("<>=").split(".")[:2])

    low, high = (version(bound) for bound in CHECKED_TEXTUAL)
    assert low <= version(textual.__version__) < high, textual.__version__


def test_textuals_private_crash_hook_still_takes_the_error():
    hook = getattr(App, "_handle_exception", None)
    assert callable(hook), textual.__version__
    assert list(inspect.signature(hook).parameters) == ["self", "error"]


class Crashing(CrashHookApp[None]):
    def __init__(self, crashed_raises: bool = False) -> None:
        super().__init__()
        self.seen: list[Exception] = []
        self.crashed_raises = crashed_raises

    def crashed(self, error: Exception) -> None:
        self.seen.append(error)
        if self.crashed_raises:
            raise RuntimeError("the crash log could not be written")

    def on_mount(self) -> None:
        self.call_later(self.broken)

    def broken(self) -> None:
        raise ZeroDivisionError("a bug in a handler")


async def test_an_unhandled_exception_reaches_crashed_and_the_app_still_exits_with_it():
    app = Crashing()
    with pytest.raises(ZeroDivisionError):
        async with app.run_test(size=(40, 10)) as pilot:
            await pilot.pause()
            await pilot.pause()
    assert [type(e) for e in app.seen] == [ZeroDivisionError]
    assert app.return_code == 1


async def test_a_crashed_that_fails_does_not_hide_the_crash():
    app = Crashing(crashed_raises=True)
    with pytest.raises(ZeroDivisionError):
        async with app.run_test(size=(40, 10)) as pilot:
            await pilot.pause()
            await pilot.pause()
    assert app.return_code == 1
