"""A crash of the app itself (an exception no handler caught) is written to learn.log
with a reference, through Textual's private App._handle_exception (Textual 8.2)."""

from __future__ import annotations

import pytest
import textual

from services import logs


def test_the_crash_hook_exists_in_this_textual():
    from textual.app import App

    assert callable(getattr(App, "_handle_exception", None)), textual.__version__


async def test_a_crash_of_the_app_is_logged_with_its_traceback_and_a_reference(make_app):
    logs.shutdown()
    path = logs.setup()
    app = make_app()

    def broken() -> None:
        raise ZeroDivisionError("a bug in a handler")

    try:
        with pytest.raises(ZeroDivisionError):
            async with app.run_test(size=(80, 24)) as pilot:
                app.call_later(broken)
                await pilot.pause()
                await pilot.pause()
    finally:
        logs.shutdown()
    text = path.read_text()
    assert "unexpected error, ref " in text and "ZeroDivisionError" in text
    assert "Traceback" in text and "broken" in text
