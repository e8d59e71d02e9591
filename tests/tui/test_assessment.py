"""Pilot tests for the assessment screen: run, submit, the countdown, the draft."""

from __future__ import annotations

import time

import pytest

from screens.assessment import AssessmentScreen
from services.review import drafts
from tests.tui.helpers import first_run, wait_for, wait_for_screen, wait_for_toast

SOLUTION = """def make_slug(title: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
    return "-".join(words)
"""


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


HIDDEN_ONLY_WRONG = (
    SOLUTION
    + """
_real = make_slug


def make_slug(title: str) -> str:
    return "x" if "東" in title else _real(title)   # only a hidden test has it
"""
)


def _grading_line(screen) -> str:
    line = screen.query_one("#grading-status")
    return str(line.render()) if line.display else ""


async def test_submission_shows_grading_then_the_verified_result(make_app):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        screen.query_one("#editor").load_text(SOLUTION)
        shown: list[str] = []  # every line the screen showed, in order
        show = screen._grading_line
        screen._grading_line = lambda text, style="dim": (shown.append(text), show(text, style))
        await pilot.press("ctrl+s")
        await wait_for(
            pilot, lambda: _grading_line(screen).startswith("verified"), what="verified", timeout=40
        )
        assert shown[0].startswith("grading…") and shown[-1] == "verified: 100%"
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
        await wait_for(
            pilot, lambda: _grading_line(screen).startswith("verified"), what="verified", timeout=40
        )
        assert screen.detail.best_score is not None and screen.detail.best_score < 100


async def test_without_a_grader_the_submission_waits_visibly(make_app, seeded_url):
    import psycopg

    with psycopg.connect(seeded_url, autocommit=True) as conn:  # no grader seen, ever
        conn.execute("delete from private.grader_heartbeats")
    async with make_app(in_process_grader=False).run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        screen.query_one("#editor").load_text(SOLUTION)
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: "waiting for a grader" in _grading_line(screen),
            what="waiting for a grader",
            timeout=15,
        )
        assert "unverified" in _grading_line(screen)
        assert screen.detail.best_score is None


async def test_at_zero_the_attempt_is_submitted_as_it_stands(make_app):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        await pilot.press("f5")
        await wait_for(pilot, lambda: screen.timer_running, what="timer")
        screen.deadline = time.monotonic()  # the clock runs out
        await wait_for(
            pilot,
            lambda: screen.detail.attempts and screen.detail.attempts[0].status == "completed",
            what="submitted",
        )
        assert screen.detail.best_score is not None and screen.detail.best_score < 100
        assert not screen.timer_running


async def test_the_draft_is_restored_after_leaving(make_app):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        screen.query_one("#editor").load_text("# my work in progress\n")
        await wait_for(
            pilot,
            lambda: drafts.load(screen.assessment_id) == "# my work in progress\n",
            what="autosave",
        )
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


LOOPS = "def make_slug(title):\n    while True:\n        pass\n"
SLOW_SOLUTION = SOLUTION.replace("    words =", "    __import__('time').sleep(0.2)\n    words =")
SLEEPS = "import time\ndef make_slug(title):\n    time.sleep(60)\n"


def attempts_of(db, app) -> list[tuple[str, float | None]]:
    """(status, score) of the signed-in learner's attempts, oldest first."""
    rows = db.su(
        "select status, score from public.assessment_attempts where user_id = %s"
        " order by started_at",
        (app.backend.current_user.id,),
    )
    return [(r["status"], None if r["score"] is None else float(r["score"])) for r in rows]


def state_line(screen) -> str:
    return str(screen.query_one("#attempt-state").render())


def key_bar(app) -> str:
    """The bottom line as painted (not as it would render now)."""
    return "".join(segment.text for segment in app.screen._compositor.render_strips()[-1])


def summary(screen) -> str:
    return str(screen.query_one("#result-summary").render())


async def test_opening_and_leaving_without_starting_records_nothing(make_app, db):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        assert state_line(screen).startswith("Not started · 15 min timer starts at your first edit")
        assert not screen.timer_running
        await pilot.press("escape", "escape")  # the editor lets go of focus, then back
        await pilot.pause()
        assert not isinstance(pilot.app.screen, AssessmentScreen)
        assert attempts_of(db, pilot.app) == []


async def test_the_first_edit_starts_the_timed_attempt(make_app, db):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        await pilot.press("x")
        await wait_for(pilot, lambda: screen.timer_running, what="timer")
        assert state_line(screen).startswith("Timed attempt running · ")
        assert attempts_of(db, pilot.app) == [("in-progress", None)]


async def test_ctrl_r_right_after_ctrl_s_does_not_cancel_the_submission(make_app, db):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        screen.query_one("#editor").load_text(SLOW_SOLUTION)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Running tests" in summary(screen), what="running")
        await pilot.press("ctrl+r")
        await wait_for_toast(pilot, lambda n: "being checked" in str(n.message), "refusal")
        await wait_for(
            pilot, lambda: _grading_line(screen).startswith("verified"), what="verified", timeout=40
        )
        assert attempts_of(db, pilot.app) == [("completed", 100.0)]


async def test_ctrl_s_after_a_submission_records_nothing_more(make_app, db):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        screen.query_one("#editor").load_text(SOLUTION)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.detail.best_score == 100, what="recorded")
        await pilot.press("ctrl+s")
        await wait_for_toast(pilot, lambda n: "already submitted" in str(n.message), "refusal")
        await pilot.pause(0.5)
        assert attempts_of(db, pilot.app) == [("completed", 100.0)]
        assert state_line(screen).startswith("Submitted · ctrl+n starts a new attempt")


async def test_a_submission_cancelled_with_esc_can_be_submitted_again(make_app, db):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        screen.query_one("#editor").load_text(SLEEPS)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Running tests" in summary(screen), what="running")
        await pilot.press("escape")
        await wait_for(pilot, lambda: "Submission cancelled" in summary(screen), what="cancel")
        assert isinstance(pilot.app.screen, AssessmentScreen)  # esc stopped the tests only
        assert attempts_of(db, pilot.app) == [("in-progress", None)]
        screen.query_one("#editor").load_text(SOLUTION)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.phase == "submitted", what="submitted")
        assert attempts_of(db, pilot.app) == [("completed", 100.0)]


async def test_esc_cancels_a_run_that_loops(make_app):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        screen.query_one("#editor").load_text(SLEEPS)
        await pilot.press("ctrl+r")
        await wait_for(
            pilot, lambda: "Running tests… (esc cancels)" in summary(screen), what="running"
        )
        await wait_for(pilot, lambda: "esc Cancel run" in key_bar(pilot.app), what="key")
        await pilot.press("escape")
        await wait_for(pilot, lambda: summary(screen) == "Run cancelled.", what="cancelled")
        await wait_for(pilot, lambda: "esc Back" in key_bar(pilot.app), what="back key")
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, AssessmentScreen)


async def test_a_looping_submission_is_recorded_with_the_tests_after_the_timeout_not_run(
    make_app, db
):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        screen.query_one("#editor").load_text(LOOPS)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.phase == "submitted", what="submitted")
        statuses = [t["status"] for t in screen.last_result["tests"]]
        # Locally, the visible tests only (the hidden ones stay with the grader).
        assert statuses == ["timeout"] + ["error"] * 6
        assert screen.last_result["tests"][1]["message"].startswith("not run: an earlier test")
        await wait_for(
            pilot, lambda: _grading_line(screen).startswith("verified"), what="verified", timeout=40
        )
        assert attempts_of(db, pilot.app) == [("completed", 0.0)]


async def test_an_attempt_left_open_past_its_time_untouched_is_not_submitted(make_app, db):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        user = pilot.app.backend.current_user.id
        course = (await pilot.app.api.catalog(search="foundations")).courses[0]
        detail = await pilot.app.api.course_detail(course.id)
        slug = next(a for a in detail.assessments if a.title == "Make a URL slug")
        # As v0.1 left it: opened (so started) an hour ago, never worked on.
        db.su(
            "insert into public.assessment_attempts (user_id, assessment_id, status,"
            " started_at) values (%s, %s, 'in-progress', now() - interval '1 hour')",
            (user, slug.id),
        )
        screen = await open_slug_assessment(pilot)
        await pilot.pause(1.5)  # a tick or more of the clock
        assert screen.phase == "idle" and not screen.timer_running
        await pilot.press("f5")
        await wait_for(pilot, lambda: screen.timer_running, what="a fresh clock")
        assert attempts_of(db, pilot.app) == [("abandoned", None), ("in-progress", None)]


async def test_a_pass_well_inside_the_time_limit_rates_the_review_card_easy(make_app):
    from services.review.spaced import Reviews

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
        sent = [
            e
            for e in pilot.app.backend.outbox.events(
                pilot.app.backend.namespace, pilot.app.backend.current_user.id, status="sent"
            )
            if e.fn == "record_review"
        ]
        assert [(e.args["p_rating"], e.args["p_source"]) for e in sent] == [(4, "assessment")]


async def test_saves_from_learn_practice_show_up_in_the_editor(make_app):
    async with make_app().run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        screen = await open_slug_assessment(pilot)
        await pilot.pause(1.2)
        await wait_for(pilot, lambda: not screen._typing, what="the editor's own autosave")
        time.sleep(0.01)  # a later mtime than the editor's own save
        drafts.save(screen.assessment_id, "# saved in my own editor\n")
        await wait_for(
            pilot,
            lambda: screen.query_one("#editor").text == "# saved in my own editor\n",
            what="picked up",
        )


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
