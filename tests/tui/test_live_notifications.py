"""Pilot tests: a notification the database writes while the app is open appears at
once — the Header's unread count updates and an achievement shows as a toast — with
no reload (LISTEN/NOTIFY on the test PostgreSQL)."""

from __future__ import annotations

import pytest

from screens.notifications import NotificationsScreen
from tests.tui.helpers import first_run, wait_for, wait_for_screen, wait_for_toast
from widgets.notification_badge import NotificationBadge


def badge_text(app) -> str:
    found = app.screen.query(NotificationBadge)
    if not found or not found.first().has_class("-shown"):
        return ""
    return str(found.first().render())


@pytest.fixture
def su(db_url):
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn


def _write(su, user_id: str, title: str, kind: str, message: str | None = None) -> None:
    su.execute(
        "insert into public.notifications (user_id, title, message, type) values (%s, %s, %s, %s)",
        (user_id, title, message, kind),
    )


async def _live(pilot) -> str:
    app = pilot.app
    await first_run(pilot)
    await wait_for(
        pilot,
        lambda: app._live_watch is not None and app._seen_notifications is not None,
        what="the live feed",
    )
    return app.backend.current_user.id


async def test_an_achievement_shows_as_a_toast_and_in_the_header_count(make_app, su):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        user = await _live(pilot)
        before = app._unread
        _write(
            su,
            user,
            "Achievement unlocked: Night owl",
            "achievement",
            "Studied after midnight +10 points.",
        )
        await wait_for_toast(
            pilot,
            lambda n: n.title == "★ Achievement unlocked: Night owl" and "+10 points" in n.message,
            what="the achievement toast",
        )
        await wait_for(
            pilot, lambda: badge_text(app) == f"● {before + 1} unread", what="the header count"
        )


async def test_a_course_update_updates_the_count_and_the_dashboard_line(make_app, su):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        user = await _live(pilot)
        before = app._unread
        _write(su, user, "Python Foundations has a new lesson", "course_update")
        _write(su, user, "Another update", "course_update")
        await wait_for(
            pilot, lambda: badge_text(app) == f"● {before + 2} unread", what="the header count"
        )
        summary = app.screen.query_one("#notifications-summary")
        await wait_for(
            pilot,
            lambda: f"{before + 2} unread" in str(summary.render()),
            what="the dashboard's line",
        )


async def test_markup_in_a_notification_is_shown_as_text(make_app, su):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        user = await _live(pilot)
        _write(su, user, "[bold red]Not markup[/]", "achievement", "[link=x]y[/link]")
        await wait_for_toast(
            pilot,
            lambda n: (
                n.title == "★ [bold red]Not markup[/]"
                and n.message == "[link=x]y[/link]"
                and not n.markup
            ),
        )


async def test_reading_them_all_clears_the_header_count(make_app, su):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        user = await _live(pilot)
        _write(su, user, "Read me", "info")
        await wait_for(pilot, lambda: badge_text(app).endswith("unread"), what="a count")
        await pilot.press("n")
        await wait_for_screen(pilot, NotificationsScreen)
        await pilot.pause()
        await pilot.press("a")
        await wait_for_toast(pilot, lambda n: n.message == "All read.")
        await pilot.press("d")
        await wait_for(
            pilot, lambda: app._unread == 0 and badge_text(app) == "", what="the count cleared"
        )
