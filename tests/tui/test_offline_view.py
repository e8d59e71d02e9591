"""Pilot: what the learner does offline shows at once, labelled as waiting to sync, and
the server's answer replaces it when the backend is back. Real PostgreSQL behind a TCP
proxy we cut (the fixtures of test_offline)."""

from __future__ import annotations

from screens.assessment import AssessmentScreen
from screens.course import CourseScreen
from screens.lesson import LessonScreen
from tests.tui.helpers import first_run, wait_for, wait_for_screen, wait_for_toast
from tests.tui.test_offline import indicator_text, make_offline_app, proxy  # noqa: F401

SOLUTION = """def make_slug(title: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
    return "-".join(words)
"""


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def open_first_lesson(pilot):
    app = pilot.app
    course_id = (await app.api.catalog(search="foundations")).courses[0].id
    await app.api.enroll(course_id)
    app.open_course(course_id)
    course = await wait_for_screen(pilot, CourseScreen)
    await wait_for(pilot, lambda: course.detail, what="course")
    await pilot.press("enter")
    lesson = await wait_for_screen(pilot, LessonScreen)
    await wait_for(pilot, lambda: lesson.detail, what="lesson")
    return lesson


async def test_a_lesson_marked_complete_offline_shows_done_waiting_to_sync_then_synced(
    make_offline_app,  # noqa: F811
    proxy,  # noqa: F811
    db,
):
    app = make_offline_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        lesson = await open_first_lesson(pilot)
        assert "Press m to mark this lesson complete" in text_of(lesson, "#lesson-footer")
        proxy.stop()
        await pilot.press("m")
        await wait_for(
            pilot,
            lambda: "(waiting to sync)" in text_of(lesson, "#lesson-meta"),
            what="done, waiting",
        )
        assert "✓ completed" in text_of(lesson, "#lesson-meta")
        assert "Press m" not in text_of(lesson, "#lesson-footer")
        await wait_for_toast(
            pilot, lambda n: "Marked complete on this machine" in str(n.message), "toast"
        )
        await pilot.press("escape")
        course = await wait_for_screen(pilot, CourseScreen)
        await wait_for(pilot, lambda: course.detail.lessons[0].pending, what="course view")
        completions = [
            e
            for e in app.backend.pending_writes("record_lesson_progress")
            if e.args["p_completed"] is not None
        ]
        assert len(completions) == 1
        proxy.start()
        await wait_for(
            pilot,
            lambda: (
                app.backend.pending_count == 0
                and course.detail.lessons[0].completed
                and not course.detail.lessons[0].pending
            ),
            what="server's answer",
        )
        user = app.backend.current_user.id
        assert (
            db.su_one(
                "select count(*) from public.user_progress where user_id = %s and completed",
                (user,),
            )
            == 1
        )


async def test_an_attempt_submitted_offline_is_listed_waiting_to_sync_then_recorded_once(
    make_offline_app,  # noqa: F811
    proxy,  # noqa: F811
    db,
):
    app = make_offline_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        course = (await app.api.catalog(search="foundations")).courses[0]
        detail = await app.api.course_detail(course.id)
        slug = next(a for a in detail.assessments if a.title == "Make a URL slug")
        app.open_assessment(slug.id)
        screen = await wait_for_screen(pilot, AssessmentScreen)
        await wait_for(pilot, lambda: screen.detail and screen.spec, what="assessment")
        screen.query_one("#editor").load_text(SOLUTION)  # starts the attempt
        await wait_for(pilot, lambda: screen.phase == "started", what="started")
        proxy.stop()
        await pilot.press("ctrl+s")
        await wait_for(
            pilot, lambda: "waiting to sync" in text_of(screen, "#attempts"), what="listed"
        )
        assert "100%" in text_of(screen, "#attempts")
        await pilot.press("ctrl+s")
        await wait_for_toast(pilot, lambda n: "already submitted" in str(n.message), "refusal")
        # one submission waits (beside the review card's rating the submission made)
        assert len(app.backend.pending_writes("submit_attempt")) == 1
        proxy.start()
        await wait_for(
            pilot,
            lambda: (
                app.backend.pending_count == 0
                and "waiting to sync" not in text_of(screen, "#attempts")
                and screen.detail.best_score == 100
            ),
            what="server's answer",
        )
        user = app.backend.current_user.id
        assert (
            db.su_one(
                "select count(*) from public.assessment_attempts where user_id = %s"
                " and status = 'completed'",
                (user,),
            )
            == 1
        )
