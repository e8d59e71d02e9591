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
        # the visible tests: the 2 hidden ones run on the grader
        assert screen.query_one("#results").row_count == len(result["tests"]) == 7


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


HIDDEN_ONLY_WRONG = SOLUTION + '''
_real = make_slug


def make_slug(title: str) -> str:
    return "x" if "東" in title else _real(title)   # only a hidden test has it
'''


def _grading_line(screen) -> str:
    line = screen.query_one("#grading-status")
    return str(line.render()) if line.display else ""


async def test_submission_shows_grading_then_the_verified_result(make_app):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        screen.query_one("#editor").load_text(SOLUTION)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "grading" in _grading_line(screen), what="grading…")
        await wait_for(pilot, lambda: _grading_line(screen).startswith("verified"), what="verified",
                       timeout=40)
        assert screen.last_result["score"] == {"passed": 9, "total": 9, "percent": 100}


async def test_verified_score_counts_the_hidden_tests_the_local_run_cannot(make_app):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        screen.query_one("#editor").load_text(HIDDEN_ONLY_WRONG)
        await pilot.press("ctrl+r")
        local = await wait_for(pilot, lambda: screen.last_result, what="local run")
        assert local["score"]["percent"] == 100
        screen.last_result = None
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: _grading_line(screen).startswith("verified"), what="verified",
                       timeout=40)
        assert screen.detail.best_score is not None and screen.detail.best_score < 100


async def test_without_a_grader_the_submission_waits_visibly(make_app, seeded_url):
    import psycopg

    with psycopg.connect(seeded_url, autocommit=True) as conn:   # no grader seen, ever
        conn.execute("delete from private.grader_heartbeats")
    async with make_app(in_process_grader=False).run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        screen.query_one("#editor").load_text(SOLUTION)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "waiting for a grader" in _grading_line(screen),
                       what="waiting for a grader", timeout=15)
        assert "unverified" in _grading_line(screen)
        assert screen.detail.best_score is None


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


async def test_reopening_shows_the_submission_still_waiting_for_a_grader(make_app, seeded_url):
    import psycopg

    with psycopg.connect(seeded_url, autocommit=True) as conn:
        conn.execute("delete from private.grader_heartbeats")
    async with make_app(in_process_grader=False).run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        screen.query_one("#editor").load_text(SOLUTION)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "grading" in _grading_line(screen), what="grading…")
        await pilot.press("escape")
        screen = await open_slug_assessment(pilot)
        await wait_for(pilot, lambda: "grading" in _grading_line(screen), what="resumed")
        assert "grading…" in str(screen.query_one("#attempts").render())
