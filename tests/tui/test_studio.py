"""The author studio: my courses (drafts too), publish / unpublish, preview, and the
analytics of a course with a known history, drawn as bars and sparklines."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path

from textual.widgets import Sparkline

from screens.course import CourseScreen
from screens.studio import StudioScreen
from services.authoring.course import load_course
from services.authoring.publishing import AuthoringAPI
from services.paths import bundled_courses
from tests.tui.helpers import first_run, screen_text, wait_for, wait_for_screen

SOURCE = next(p for p in bundled_courses() if p.name == "python-foundations")


async def publish_copy(app, tmp_path: Path, *, draft: bool = False) -> tuple[str, str]:
    """Publish a copy of Python Foundations as the app's user: (course id, slug)."""
    folder = Path(shutil.copytree(SOURCE, tmp_path / f"pf-{uuid.uuid4().hex[:8]}"))
    result = await AuthoringAPI(app.backend).publish(load_course(folder), draft=draft)
    return result.course_id, folder.name


def learner_history(db, course_id: str, learners: int = 3) -> None:
    """`learners` learners, each: enrolled, lesson 1 done, chunk solved (graded 100), rated 4
    with text, one question to the tutor. (The studio shows per-item figures once 3
    learners stand behind them.)"""
    for _ in range(learners):
        _one_learner(db, course_id)


def _one_learner(db, course_id: str) -> None:
    learner = db.new_user()
    lesson = db.su_one(
        "select id from public.lessons where course_id = %s order by order_index limit 1",
        (course_id,),
    )
    chunk = db.su_one(
        "select id from public.assessments where course_id = %s and slug = 'chunk'", (course_id,)
    )
    db.run_as(learner, "select public.enroll(%s)", (course_id,))
    db.run_as(learner, "select public.record_lesson_progress(%s, 30, null, true)", (lesson,))
    result = {
        "version": 1,
        "status": "pass",
        "message": None,
        "score": {"passed": 3, "total": 3, "percent": 100},
        "tests": [],
    }
    solution = next(a.solution for a in load_course(SOURCE).assessments if a.slug == "chunk")
    attempt = db.run_as(
        learner,
        "select public.submit_attempt(%s, %s, %s::jsonb, 100::numeric) as r",
        (chunk, solution, json.dumps(result)),
    )[0]["r"]["attempt"]["id"]
    deadline = time.monotonic() + 30  # the app's in-process grader verifies it
    while (
        db.su_one("select status from assessment_attempts where id = %s", (attempt,)) != "completed"
    ):
        assert time.monotonic() < deadline, "the submission was not graded"
        time.sleep(0.05)
    db.run_as(
        learner,
        "select public.submit_feedback(4, 'Clear and friendly', 'course_rating', %s)",
        (course_id,),
    )
    db.run_as(
        learner,
        "select public.log_chat('What is None?', 'Nothing.', 'lesson_chat', %s, %s)",
        (course_id, lesson),
    )


async def open_studio(pilot) -> StudioScreen:
    pilot.app.action_studio()
    return await wait_for_screen(pilot, StudioScreen)


async def test_studio_shows_a_course_analytics_with_bars_and_sparklines(make_app, db, tmp_path):
    app = make_app()
    async with app.run_test(size=(140, 60)) as pilot:
        await first_run(pilot, name="Author")
        course_id, _slug = await publish_copy(app, tmp_path)
        learner_history(db, course_id)
        studio = await open_studio(pilot)
        await wait_for(pilot, lambda: studio.analytics, what="analytics")
        text = screen_text(pilot)
        assert "3 learners enrolled" in text
        assert " 1. Values and types" in text and "100%  3/3" in text  # the funnel's bar
        assert "avg 100" in text and "“Clear and friendly”" in text
        assert "3 questions to the tutor from 3 learners" in text
        assert studio.query_one("#an-enrollments", Sparkline).data[-1] == 3
        assert studio.query_one("#an-tutor-weeks", Sparkline).data[-1] == 3


async def test_studio_hides_the_figures_of_a_single_learner(make_app, db, tmp_path):
    app = make_app()
    async with app.run_test(size=(140, 60)) as pilot:
        await first_run(pilot, name="Author")
        course_id, _slug = await publish_copy(app, tmp_path)
        learner_history(db, course_id, learners=1)
        studio = await open_studio(pilot)
        await wait_for(pilot, lambda: studio.analytics, what="analytics")
        text = screen_text(pilot)
        assert "1 learner enrolled" in text and "hidden below 3 learners" in text
        assert "avg 100" not in text and "1/1" not in text and "1 rating (average from 3)" in text


async def test_studio_lists_drafts_too(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=(140, 60)) as pilot:
        await first_run(pilot, name="Author")
        await publish_copy(app, tmp_path, draft=True)
        studio = await open_studio(pilot)
        await wait_for(pilot, lambda: studio.courses, what="my courses")
        assert [c.is_published for c in studio.courses] == [False]
        assert "draft · 11 lessons" in screen_text(pilot)


async def test_studio_unpublishes_the_highlighted_course(make_app, db, tmp_path):
    app = make_app()
    async with app.run_test(size=(140, 60)) as pilot:
        await first_run(pilot, name="Author")
        course_id, _slug = await publish_copy(app, tmp_path)
        studio = await open_studio(pilot)
        await wait_for(pilot, lambda: studio.analytics, what="analytics")
        await pilot.press("p")
        await wait_for(
            pilot, lambda: studio.courses and not studio.courses[0].is_published, what="unpublished"
        )
        assert (
            db.su_one("select is_published from public.courses where id = %s", (course_id,))
            is False
        )


async def test_unpublishing_a_course_with_enrolled_learners_asks_first(make_app, db, tmp_path):
    from screens.dialogs import ConfirmDialog

    app = make_app()
    async with app.run_test(size=(140, 60)) as pilot:
        await first_run(pilot, name="Author")
        course_id, _slug = await publish_copy(app, tmp_path)
        learner_history(db, course_id, learners=1)
        studio = await open_studio(pilot)
        await wait_for(pilot, lambda: studio.analytics, what="analytics")
        await pilot.press("p")
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        assert "1 learner enrolled" in dialog.message
        await pilot.press("n")
        await wait_for_screen(pilot, StudioScreen)
        await pilot.press("p")
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await wait_for(
            pilot, lambda: studio.courses and not studio.courses[0].is_published, what="unpublished"
        )
        assert (
            db.su_one("select is_published from public.courses where id = %s", (course_id,))
            is False
        )


async def test_studio_opens_the_course_as_learners_see_it(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=(140, 60)) as pilot:
        await first_run(pilot, name="Author")
        course_id, _slug = await publish_copy(app, tmp_path)
        studio = await open_studio(pilot)
        await wait_for(pilot, lambda: studio.courses, what="my courses")
        await pilot.press("o")
        course = await wait_for_screen(pilot, CourseScreen)
        assert course.course_id == course_id


async def test_studio_without_courses_says_how_to_write_one(make_app):
    app = make_app()
    async with app.run_test(size=(140, 60)) as pilot:
        await first_run(pilot, name="Learner")
        studio = await open_studio(pilot)
        await wait_for(
            pilot, lambda: studio.query_one("#studio-empty").display, what="the empty state"
        )
        assert "learn course publish DIR" in screen_text(pilot)


async def test_studio_is_in_the_command_palette(make_app):
    app = make_app()
    async with app.run_test(size=(140, 60)) as pilot:
        await first_run(pilot, name="Learner")
        await pilot.press("ctrl+p")
        await pilot.press(*"author studio")
        await wait_for(
            pilot, lambda: app.screen.query_one("CommandList").option_count, what="a hit"
        )
        await pilot.press("enter")
        await wait_for_screen(pilot, StudioScreen)
