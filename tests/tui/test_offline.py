"""Pilot tests: the app without its backend — the offline indicator, screens from the
cache, writes kept and sent when the backend is back, "make available offline", and
refused changes shown with their reason. Real PostgreSQL behind a TCP proxy we cut."""

from __future__ import annotations

import pytest

from screens.course import CourseScreen
from screens.dashboard import DashboardScreen
from screens.lesson import LessonScreen
from services.data.backend import LocalBackend
from services.offline.backend import OfflineBackend
from tests.stack.faults import TcpProxy
from tests.tui.helpers import first_run, wait_for, wait_for_screen, wait_for_toast
from tui.app import LearnApp
from widgets.sync_status import SyncDialog, SyncIndicator


@pytest.fixture(scope="module")
def proxy(seeded_url):
    cut = TcpProxy(seeded_url)
    yield cut
    cut.stop()


@pytest.fixture
def make_offline_app(proxy, tmp_path, monkeypatch):
    """A LearnApp whose database is reached through `proxy` (up when the test starts)."""
    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "home"))
    if not proxy.running:
        proxy.start()

    def make() -> LearnApp:
        return LearnApp(
            lambda progress: OfflineBackend(
                LocalBackend(
                    proxy.url,
                    progress=progress,
                    migrate=False,
                    session_path=tmp_path / "session.json",
                    in_process_grader=True,
                ),  # as on the embedded database
                backoff=(0.1, 0.3),
            )
        )

    yield make
    if not proxy.running:
        proxy.start()


def indicator_text(app: LearnApp) -> str:
    """What the Header's sync indicator says ("" while hidden)."""
    found = app.screen.query(SyncIndicator)
    if not found or not found.first().has_class("-shown"):
        return ""
    return str(found.first().render())


async def test_offline_indicator_appears_when_the_backend_goes_and_disappears_when_back(
    make_offline_app, proxy
):
    app = make_offline_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        assert indicator_text(app) == ""
        proxy.stop()
        await pilot.press("R")  # refresh the dashboard
        shown = await wait_for(pilot, lambda: indicator_text(app), what="offline indicator")
        assert shown.startswith("offline — as of ")
        assert app.screen.dashboard is not None  # still showing the saved data
        proxy.start()
        await wait_for(
            pilot, lambda: indicator_text(app) == "" and app.backend.online, what="indicator gone"
        )


async def test_a_lesson_completed_offline_waits_and_is_sent_when_the_backend_is_back(
    make_offline_app, proxy, db
):
    app = make_offline_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        course_id = (await app.api.catalog(search="foundations")).courses[0].id
        await app.api.enroll(course_id)
        app.open_course(course_id)
        course = await wait_for_screen(pilot, CourseScreen)
        await wait_for(pilot, lambda: course.detail, what="course")
        await pilot.press("enter")
        lesson = await wait_for_screen(pilot, LessonScreen)
        await wait_for(pilot, lambda: lesson.detail, what="lesson")
        proxy.stop()
        await pilot.press("m")
        await wait_for(pilot, lambda: "1 waiting" in indicator_text(app), what="1 waiting")
        await pilot.press("escape")
        course = await wait_for_screen(pilot, CourseScreen)
        assert course.detail.course.id == course_id  # from the cache
        proxy.start()
        await wait_for(pilot, lambda: indicator_text(app) == "", what="queue drained")
        user = app.backend.current_user.id
        assert (
            db.su_one(
                "select count(*) from public.user_progress where user_id = %s and completed",
                (user,),
            )
            == 1
        )


async def test_make_available_offline_opens_lessons_never_visited_without_the_backend(
    make_offline_app, proxy
):
    app = make_offline_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        course_id = (await app.api.catalog(search="foundations")).courses[0].id
        app.open_course(course_id)
        course = await wait_for_screen(pilot, CourseScreen)
        await wait_for(pilot, lambda: course.detail, what="course")
        await pilot.press("a")
        await wait_for_toast(pilot, lambda n: "available offline" in str(n.message), "downloaded")
        proxy.stop()
        last = course.detail.lessons[-1]
        app.open_lesson(last.id)
        lesson = await wait_for_screen(pilot, LessonScreen)
        await wait_for(pilot, lambda: lesson.detail, what="lesson from the cache")
        assert lesson.detail.lesson.title == last.title


async def test_a_refused_change_is_listed_with_its_reason_until_dismissed(make_offline_app, proxy):
    app = make_offline_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        course_id = (await app.api.catalog(search="foundations")).courses[0].id
        proxy.stop()
        await app.api.set_enrollment_status(course_id, "paused")  # not enrolled
        proxy.start()
        await wait_for(pilot, lambda: indicator_text(app) == "1 refused", what="refused")
        await wait_for_screen(pilot, DashboardScreen)
        await pilot.press("y")
        dialog = await wait_for_screen(pilot, SyncDialog)
        text = "\n".join(str(w.render()) for w in dialog.query(".refused"))
        assert "Course status change" in text and "not enrolled" in text
        await pilot.press("x")
        await wait_for(pilot, lambda: indicator_text(app) == "", what="dismissed")
        assert app.backend.refused == []
