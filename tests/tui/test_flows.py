"""Pilot tests: the learner's flows, end to end, on real PostgreSQL."""

from __future__ import annotations

from screens.catalog import CatalogScreen
from screens.course import CourseScreen
from screens.dashboard import DashboardScreen
from screens.lesson import LessonScreen
from screens.notifications import NotificationsScreen
from screens.profile import ProfileScreen
from tests.tui.helpers import first_run, screen_text, wait_for, wait_for_screen, wait_for_toast


async def test_first_run_browse_enroll_read_complete_shows_streak_and_progress(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        await pilot.press("c")
        catalog = await wait_for_screen(pilot, CatalogScreen)
        await wait_for(pilot, lambda: len(catalog.query("CourseCard")) == 3, what="courses")
        titles = [card.course.title for card in catalog.query("CourseCard")]
        catalog.query_one("#courses").index = titles.index("Python Foundations")
        await pilot.press("e")
        await wait_for(
            pilot,
            lambda: any(c.course.enrolled for c in catalog.query("CourseCard")),
            what="enrolled",
        )
        await pilot.press("enter")
        course = await wait_for_screen(pilot, CourseScreen)
        await wait_for(pilot, lambda: course.detail, what="course detail")
        await pilot.press("enter")
        lesson = await wait_for_screen(pilot, LessonScreen)
        await wait_for(pilot, lambda: lesson.detail, what="lesson")
        assert lesson.detail.lesson.title == "Values and types"
        await pilot.press("m")
        await wait_for(
            pilot,
            lambda: lesson.detail.progress and lesson.detail.progress.completed,
            what="completed",
        )
        await pilot.press("d")
        dashboard = await wait_for_screen(pilot, DashboardScreen)
        await wait_for(pilot, lambda: dashboard.dashboard.enrollments, what="enrollments")
        assert dashboard.dashboard.streak.current == 1
        enrolled = dashboard.dashboard.enrollments[0]
        assert enrolled.title == "Python Foundations"
        assert round(enrolled.progress) == 9  # 1 of 11 lessons
        assert "1 day streak" in screen_text(pilot)


async def test_completing_a_first_lesson_celebrates_the_achievement(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot, name="Grace")
        course_id = (await app.api.catalog(search="foundations")).courses[0].id
        await app.api.enroll(course_id)
        app.open_course(course_id)
        course = await wait_for_screen(pilot, CourseScreen)
        await wait_for(pilot, lambda: course.detail, what="course detail")
        await pilot.press("enter")
        lesson = await wait_for_screen(pilot, LessonScreen)
        await wait_for(pilot, lambda: lesson.detail, what="lesson")
        await pilot.press("m")
        await wait_for_toast(pilot, lambda n: "First lesson" in str(n.title or ""))


async def open_profile(pilot) -> ProfileScreen:
    await pilot.press("u")
    profile = await wait_for_screen(pilot, ProfileScreen)
    await wait_for(pilot, lambda: profile.query_one("#full_name").value, what="profile")
    return profile


async def test_editing_the_profile_saves_it(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        profile = await open_profile(pilot)
        profile.query_one("#full_name").value = "Ada King"
        profile.query_one("#bio").text = "Countess of Lovelace"
        profile.query_one("#learning_goals").text = "finish Python\nlearn SQL"
        profile.query_one("#timezone").value = "Europe/London"
        await pilot.press("ctrl+s")
        await wait_for_toast(pilot, lambda n: "Profile saved" in str(n.message), "saved")
        page = await app.api.my_profile()
        assert page.profile.full_name == "Ada King"
        assert page.profile.bio == "Countess of Lovelace"
        assert page.profile.learning_goals == ["finish Python", "learn SQL"]
        assert page.profile.timezone == "Europe/London"


async def test_profile_with_an_unknown_time_zone_shows_an_error_and_keeps_the_form(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        profile = await open_profile(pilot)
        profile.query_one("#timezone").value = "Mars/Olympus"
        await pilot.press("ctrl+s")
        await wait_for_toast(pilot, lambda n: n.severity == "error", "error toast")
        assert profile.query_one("#timezone").value == "Mars/Olympus"
        assert (await app.api.my_profile()).profile.timezone == "UTC"


async def test_notifications_can_be_read(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        course_id = (await app.api.catalog(search="foundations")).courses[0].id
        detail = await app.api.course_detail(course_id)
        await app.api.enroll(course_id)
        await app.api.record_lesson_progress(detail.lessons[0].id, completed=True)
        await pilot.press("n")
        screen = await wait_for_screen(pilot, NotificationsScreen)
        await wait_for(pilot, lambda: screen.sub_title == "1 unread", what="1 unread")
        await pilot.press("a")
        await wait_for(pilot, lambda: screen.sub_title == "0 unread", what="0 unread")
        assert (await app.api.notifications()).unread == 0


async def test_f1_lists_the_bindings_of_the_current_screen(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        await pilot.press("f1")
        from screens.dialogs import HelpScreen

        help_screen = await wait_for_screen(pilot, HelpScreen)
        descriptions = [d for _k, d in help_screen.rows]
        assert "Refresh" in descriptions and "Catalog" in descriptions
        assert "Continue" not in descriptions  # a new learner has nothing to continue
        await pilot.press("escape")
        await wait_for_screen(pilot, DashboardScreen)


async def test_typing_in_the_search_box_does_not_trigger_navigation_keys(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        await pilot.press("c")
        catalog = await wait_for_screen(pilot, CatalogScreen)
        await pilot.press("slash")
        await pilot.press(*"dunc")
        assert isinstance(app.screen, CatalogScreen)
        assert catalog.query_one("#search").value == "dunc"


async def test_an_achievement_is_toasted_once(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot, name="Grace")
        course_id = (await app.api.catalog(search="foundations")).courses[0].id
        await app.api.enroll(course_id)
        app.open_course(course_id)
        course = await wait_for_screen(pilot, CourseScreen)
        await wait_for(pilot, lambda: course.detail, what="course detail")
        await pilot.press("enter")
        lesson = await wait_for_screen(pilot, LessonScreen)
        await wait_for(pilot, lambda: lesson.detail, what="lesson")
        await pilot.press("m")
        await wait_for_toast(pilot, lambda n: "First lesson" in str(n.title or ""))
        await pilot.pause(1.5)  # the write's answer and the live feed both came
        toasts = [n for n in app._notifications if "First lesson" in str(n.title or "")]
        assert len(toasts) == 1
