"""Pilot tests for the assessment screen: run, submit, the countdown, the draft."""

from __future__ import annotations

import time

import pytest

from screens.assessment import AssessmentScreen
from services import drafts
from tests.tui.helpers import first_run, wait_for, wait_for_screen

SOLUTION = '''def make_slug(title: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
    return "-".join(words)
'''


async def open_slug_assessment(pilot):
    app = pilot.app
    course = (await app.api.catalog(search="foundations")).courses[0]
    detail = await app.api.course_detail(course.id)
    assessment = next(a for a in detail.assessments if a.title == "Make a URL slug")
    app.open_assessment(assessment.id)
    screen = await wait_for_screen(pilot, AssessmentScreen)
    await wait_for(pilot, lambda: screen.detail and screen.spec, what="assessment")
    return screen


@pytest.fixture(autouse=True)
def _no_drafts_between_tests(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "home"))


async def test_running_the_starter_code_shows_failing_tests(make_app):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        await pilot.press("ctrl+r")
        result = await wait_for(pilot, lambda: screen.last_result, what="results")
        assert result["status"] == "fail"
        assert screen.query_one("#results").row_count == len(result["tests"]) == 9


async def test_submitting_a_solution_records_the_attempt_and_best_score(make_app):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        screen.query_one("#editor").load_text(SOLUTION)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.detail.best_score == 100, what="best score")
        assert screen.last_result["score"]["percent"] == 100
        assert [a.status for a in screen.detail.attempts][:1] == ["completed"]
        assert any("Perfect score" in str(n.title) for n in pilot.app._notifications)


async def test_at_zero_the_attempt_is_submitted_as_it_stands(make_app):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        assert screen.timer_running
        screen.deadline = time.monotonic()          # the clock runs out
        await wait_for(pilot, lambda: screen.detail.attempts
                       and screen.detail.attempts[0].status == "completed", what="submitted")
        assert screen.detail.best_score is not None and screen.detail.best_score < 100
        assert not screen.timer_running


async def test_the_draft_is_restored_after_leaving(make_app):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        screen.query_one("#editor").load_text("# my work in progress\n")
        await wait_for(pilot, lambda: drafts.load(screen.assessment_id)
                       == "# my work in progress\n", what="autosave")
        await pilot.press("escape")
        again = await open_slug_assessment(pilot)
        assert again.query_one("#editor").text == "# my work in progress\n"


async def test_reset_restores_the_starter_code(make_app):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        starter = screen.detail.assessment.starter_code
        screen.query_one("#editor").load_text("garbage")
        await pilot.press("f2")
        await pilot.pause()
        assert screen.query_one("#editor").text == starter


async def test_a_pass_well_inside_the_time_limit_rates_the_review_card_easy(make_app):
    from services.review import Reviews

    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        screen.query_one("#editor").load_text(SOLUTION)
        await pilot.press("ctrl+s")
        reviews = Reviews(pilot.app.api)
        await wait_for(pilot, lambda: screen.detail.best_score == 100, what="passed")
        card = None
        for _ in range(100):
            card = await reviews.card_for_assessment(screen.assessment_id)
            if card is not None and card.reps:
                break
            await pilot.pause(0.05)
        assert card is not None and card.reps == 1
        sent = [e for e in pilot.app.backend.outbox.events(
            pilot.app.backend.namespace, pilot.app.backend.current_user.id, status="sent")
            if e.fn == "record_review"]
        assert [(e.args["p_rating"], e.args["p_source"]) for e in sent] == [(4, "assessment")]


async def test_saves_from_learn_practice_show_up_in_the_editor(make_app):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        await pilot.pause(1.2)
        await wait_for(pilot, lambda: not screen._typing, what="the editor's own autosave")
        time.sleep(0.01)                   # a later mtime than the editor's own save
        drafts.save(screen.assessment_id, "# saved in my own editor\n")
        await wait_for(pilot, lambda: screen.query_one("#editor").text
                       == "# saved in my own editor\n", what="picked up")
