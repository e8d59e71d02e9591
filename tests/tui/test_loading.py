"""How screens load: the home screen arrives with its data, and every screen fetches
once when it opens (Textual runs on_mount of each class in the MRO, so a subclass that
also called super().on_mount() used to load twice)."""

from __future__ import annotations

from collections import Counter

import pytest

from screens.catalog import CatalogScreen
from screens.course import CourseScreen
from screens.dashboard import DashboardScreen
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
    monkeypatch.setattr(app_module, "_top_level",
                        lambda name: Watching if name == "dashboard" else original(name))
    app = LearnApp(lambda progress: CountingBackend(progress))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await wait_for_screen(pilot, Watching)
        await wait_for(pilot, lambda: screen.dashboard is not None, what="dashboard")
        await _settled(pilot)
        assert loading == []          # never showed a loading state


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
        await wait_for_toast(pilot, lambda n: "Could not load" in (n.title or ""),
                             "error toast")
        assert backend.calls["dashboard"] == 1
        backend.fail.clear()
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.dashboard is not None, what="dashboard")
        assert backend.calls["dashboard"] == 2
