"""The app's one write path (tui/writes.py), as a screen asks for it
(screens.messages.request_write): the write outlives the screen that asked, a refusal
is a toast with what to do, and `then` runs only where it can."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from screens.messages import request_write
from services.errors import Offline
from tests.tui.helpers import wait_for
from tui.writes import AppWrites


class Asking(Screen):
    def compose(self) -> ComposeResult:
        yield Static("asking", id="shown")


class WritesApp(AppWrites):
    def follows_live_notifications(self) -> bool:
        return False

    def on_mount(self) -> None:
        self.push_screen(Asking())


def toasts(app) -> list:
    return list(app._notifications)


async def test_a_refused_write_is_a_toast_that_says_what_to_do():
    app = WritesApp()

    async def refused():
        raise Offline("Can't reach the server; check your connection and try again.")

    async with app.run_test() as pilot:
        request_write(app.screen, refused, success="Saved.")
        await wait_for(pilot, lambda: toasts(app), what="a toast")
        (toast,) = toasts(app)
        assert toast.title == "Not saved" and toast.severity == "error"
        assert "check your connection" in toast.message


async def test_a_write_asked_by_a_screen_that_closes_at_once_still_runs():
    app = WritesApp()
    written = asyncio.Event()

    async def write():
        written.set()
        return SimpleNamespace(achievements=[], data={})

    async with app.run_test() as pilot:
        screen = app.screen
        request_write(screen, write, success="Saved.")
        app.pop_screen()
        await wait_for(pilot, written.is_set, what="the write")
        await wait_for(pilot, lambda: [t.message for t in toasts(app)] == ["Saved."])


async def test_a_write_the_outbox_kept_says_it_is_sent_later():
    app = WritesApp()

    async def queued():
        return SimpleNamespace(achievements=[], data={"queued": True})

    async with app.run_test() as pilot:
        request_write(app.screen, queued, success="Saved.")
        toast = await wait_for(pilot, lambda: toasts(app) and toasts(app)[0], what="a toast")
        assert toast.message.startswith("Saved on this machine")


async def test_new_achievements_are_celebrated_one_toast_each():
    app = WritesApp()
    badge = SimpleNamespace(title="First lesson", description="Completed it.", points=10)

    async def write():
        return SimpleNamespace(achievements=[badge], data={})

    async with app.run_test() as pilot:
        request_write(app.screen, write)
        toast = await wait_for(pilot, lambda: toasts(app) and toasts(app)[0], what="a toast")
        assert toast.title == "★ First lesson" and "+10 points" in toast.message
        assert len(toasts(app)) == 1


async def test_then_gets_the_result_while_its_screen_is_open():
    app = WritesApp()
    results = []

    async def write():
        return "the result"

    async with app.run_test() as pilot:
        request_write(app.screen, write, then=results.append)
        await wait_for(pilot, lambda: results == ["the result"], what="then")


async def test_then_failing_after_its_screen_closed_shows_nothing():
    app = WritesApp()
    release, called = asyncio.Event(), asyncio.Event()

    async def slow():
        await release.wait()
        return None

    async with app.run_test() as pilot:
        screen = app.screen

        def then(_result) -> None:
            called.set()
            screen.query_one("#shown", Static).update("done")  # the screen has gone

        request_write(screen, slow, then=then)
        app.pop_screen()
        await pilot.pause()
        release.set()
        await wait_for(pilot, called.is_set, what="then")
        await pilot.pause()
        assert toasts(app) == []


async def test_then_failing_while_its_screen_is_open_is_a_toast():
    app = WritesApp()

    async def write():
        return None

    def then(_result) -> None:
        raise KeyError("a bug in the screen")

    async with app.run_test() as pilot:
        request_write(app.screen, write, then=then)
        toast = await wait_for(pilot, lambda: toasts(app) and toasts(app)[0], what="a toast")
        assert toast.severity == "error" and "KeyError" in toast.message
