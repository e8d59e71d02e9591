"""How screens load: the home screen arrives with its data, and every screen fetches
once when it opens (Textual runs on_mount of each class in the MRO, so a subclass that
also called super().on_mount() used to load twice)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from screens.catalog import CatalogScreen
from screens.course import CourseScreen
from screens.dashboard import DashboardScreen
from screens.first_run import BootScreen
from services.offline.status import SyncStatus
from tests.tui.fixed_backend import COURSE, FixedBackend
from tests.tui.helpers import wait_for, wait_for_screen, wait_for_toast
from tui.app import LearnApp


class CountingBackend(FixedBackend):
    def __init__(self, progress=None, fail: set[str] | None = None):
        super().__init__(progress)
        self.calls: Counter[str] = Counter()
        self.fail = fail or set()

    async def call(self, fn, **args):
        self.calls[fn] += 1
        if fn in self.fail:
            raise ConnectionRefusedError("no server")
        return await super().call(fn, **args)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARN_HOME", str(tmp_path))


async def _settled(pilot) -> None:
    for _ in range(10):
        await pilot.pause(0.02)


async def test_home_screen_mounts_with_its_data_and_no_loading_state(monkeypatch):
    import tui.app as app_module

    loading: list[bool] = []

    class Watching(DashboardScreen):
        def set_loading(self, value: bool) -> None:
            loading.append(value)
            super().set_loading(value)

    original = app_module._top_level
    monkeypatch.setattr(
        app_module, "_top_level", lambda name: Watching if name == "dashboard" else original(name)
    )
    app = LearnApp(lambda progress: CountingBackend(progress))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await wait_for_screen(pilot, Watching)
        await wait_for(pilot, lambda: screen.dashboard is not None, what="dashboard")
        await _settled(pilot)
        assert loading == []  # never showed a loading state


async def test_dashboard_is_fetched_once_at_start_up():
    backend = CountingBackend()
    app = LearnApp(lambda progress: backend)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await wait_for_screen(pilot, DashboardScreen)
        await wait_for(pilot, lambda: screen.dashboard is not None, what="dashboard")
        await _settled(pilot)
        assert backend.calls["dashboard"] == 1


async def test_each_screen_fetches_once_when_it_opens():
    backend = CountingBackend()
    app = LearnApp(lambda progress: backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_screen(pilot, DashboardScreen)
        await pilot.press("c")
        catalog = await wait_for_screen(pilot, CatalogScreen)
        await wait_for(pilot, lambda: catalog.query("CourseCard"), what="courses")
        app.open_course(COURSE)
        course = await wait_for_screen(pilot, CourseScreen)
        await wait_for(pilot, lambda: course.detail, what="course detail")
        await _settled(pilot)
        assert (backend.calls["catalog"], backend.calls["course_detail"]) == (1, 1)


async def test_home_screen_that_failed_to_load_says_so_and_fetches_again_on_refresh():
    backend = CountingBackend(fail={"dashboard"})
    app = LearnApp(lambda progress: backend)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await wait_for_screen(pilot, DashboardScreen)
        await wait_for_toast(pilot, lambda n: "Could not load" in (n.title or ""), "error toast")
        assert backend.calls["dashboard"] == 1
        backend.fail.clear()
        await pilot.press("R")  # the dashboard's refresh (r is Review)
        await wait_for(pilot, lambda: screen.dashboard is not None, what="dashboard")
        assert backend.calls["dashboard"] == 2


async def test_start_up_work_begins_once_the_boot_screen_is_drawn():
    drawn_when_made: list[bool] = []

    def make_backend(progress):
        screen = app.screen
        drawn_when_made.append(isinstance(screen, BootScreen) and screen.drawn.is_set())
        return CountingBackend(progress)

    app = LearnApp(make_backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_screen(pilot, DashboardScreen)
        assert drawn_when_made == [True]


async def test_start_up_goes_on_when_the_boot_screen_is_never_drawn(monkeypatch):
    import tui.app as app_module
    from screens import first_run

    monkeypatch.setattr(first_run._Title, "render", lambda self: "learn")  # never says
    monkeypatch.setattr(app_module, "DRAW_WAIT", 0.1)
    app = LearnApp(lambda progress: CountingBackend(progress))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await wait_for_screen(pilot, DashboardScreen)
        await wait_for(pilot, lambda: screen.dashboard is not None, what="dashboard")


async def test_the_boot_screen_spins_while_start_up_takes_a_while():
    from textual.widgets import LoadingIndicator

    class SlowToConnect(CountingBackend):
        async def connect(self) -> None:
            await asyncio.sleep(BootScreen.SPINNER_AFTER + 0.5)

    app = LearnApp(lambda progress: SlowToConnect(progress))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, BootScreen) and app.screen.query(LoadingIndicator),
            what="spinner",
        )
        await wait_for_screen(pilot, DashboardScreen)


class WaitingWritesBackend(CountingBackend):
    """Signed in with two writes waiting to be sent: the sync indicator has something
    to say as soon as the home screen is up."""

    status = SyncStatus(pending=2)

    def add_listener(self, listener):
        return lambda: None

    async def sync_forever(self) -> None:
        return None


async def test_waiting_writes_show_in_the_header_as_the_home_screen_appears():
    app = LearnApp(lambda progress: WaitingWritesBackend(progress))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await wait_for_screen(pilot, DashboardScreen)
        found = await wait_for(pilot, lambda: screen.query("#sync-status"), what="indicator")
        assert "2 waiting" in str(found.first().render())


async def test_quitting_as_the_home_screen_appears_ends_cleanly():
    class QuitAtOnce(LearnApp):
        async def show_home(self) -> None:
            await super().show_home()
            self.exit()  # the boot worker carries on into _start_sync

    app = QuitAtOnce(lambda progress: WaitingWritesBackend(progress))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")
    assert app.return_code == 0
