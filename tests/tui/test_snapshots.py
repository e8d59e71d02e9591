"""Snapshot tests: every screen at 120×40 with fixed data (tests/tui/fixed_backend.py).
Update after an intended change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the report before committing."""

from __future__ import annotations

import pytest

from tests.tui.fixed_backend import ASSESSMENT, COURSE, LESSONS, FixedBackend
from tui.app import LearnApp

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARN_HOME", str(tmp_path))


def make_app(signed_in: bool = True) -> LearnApp:
    return LearnApp(lambda progress: FixedBackend(progress, signed_in=signed_in))


async def _settle(pilot) -> None:
    """Until every data worker is done (the boot worker may wait for a screen)."""
    for _ in range(100):
        await pilot.pause(0.02)
        busy = [w for w in pilot.app.workers if w.is_running and w.group != "boot"]
        busy += [w for s in pilot.app.screen_stack for w in s.workers if w.is_running]
        if not busy:
            break
    await pilot.pause()
    pilot.app.clear_notifications()
    for editor in pilot.app.screen.query("Input, TextArea"):
        editor.cursor_blink = False  # a blinking cursor is a coin toss in a snapshot
    await pilot.pause()


def test_first_run_screen(snap_compare):
    assert snap_compare(make_app(signed_in=False), terminal_size=SIZE, run_before=_settle)


def test_dashboard_screen(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_settle)


def test_dashboard_screen_at_80_by_24(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_settle)


def test_dashboard_screen_light_theme(snap_compare):
    app = make_app()
    app.theme = "textual-light"
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def _goto(keys: str):
    async def run(pilot) -> None:
        await _settle(pilot)
        await pilot.press(*keys)
        await _settle(pilot)

    return run


def _open(method: str, ident: str):
    async def run(pilot) -> None:
        await _settle(pilot)
        getattr(pilot.app, method)(ident)
        await _settle(pilot)

    return run


def test_review_screen(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_goto("r"))


def test_review_screen_revealed_at_80_by_24(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_revealed)


async def _revealed(pilot) -> None:
    await _goto("r")(pilot)
    await pilot.press("space")
    await _settle(pilot)


def test_catalog_screen(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_goto("c"))


def test_course_screen(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_open("open_course", COURSE))


def test_lesson_screen(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_open("open_lesson", LESSONS[2]))


def test_assessment_screen(snap_compare):
    assert snap_compare(
        make_app(), terminal_size=SIZE, run_before=_open("open_assessment", ASSESSMENT)
    )


def test_profile_screen(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_goto("u"))


def test_notifications_screen(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_goto("n"))


def test_help_screen(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_goto(["f1"]))


def test_rate_course_dialog(snap_compare):
    async def run(pilot) -> None:
        await _open("open_course", COURSE)(pilot)
        await pilot.press("s")
        await _settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run)
