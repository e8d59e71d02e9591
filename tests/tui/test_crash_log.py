"""A crash of the app itself (an exception no handler caught) is written to learn.log
with a reference, through widgets.textual_adapter.app.CrashHookApp (Textual's private
App._handle_exception, checked by tests/tui/test_textual_adapter_app.py)."""

from __future__ import annotations

import pytest

from services import logs


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
