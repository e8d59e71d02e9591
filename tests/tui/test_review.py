"""Pilot tests: the review screen on real PostgreSQL — from the dashboard's `r`,
reveal, rate with 1–4, the next card, a finished session counting for the streak."""

from __future__ import annotations

from screens.dashboard import DashboardScreen
from screens.review import ReviewScreen
from tests.tui.helpers import first_run, screen_text, wait_for, wait_for_screen


async def _complete_first_lesson(app) -> list[str]:
    course_id = (await app.api.catalog(search="foundations")).courses[0].id
    await app.api.enroll(course_id)
    detail = await app.api.course_detail(course_id)
    lesson = detail.lessons[0].id
    await app.api.record_lesson_progress(lesson, completed=True)
    return (await app.api.lesson_detail(lesson)).lesson.key_points


async def _reviewing(pilot) -> ReviewScreen:
    dashboard = await wait_for_screen(pilot, DashboardScreen)
    dashboard.reload()
    await wait_for(pilot, lambda: "to review" in screen_text(pilot), what="due count")
    await pilot.press("r")
    screen = await wait_for_screen(pilot, ReviewScreen)
    await wait_for(pilot, lambda: screen.card is not None, what="a card")
    return screen


async def test_the_dashboard_counts_due_cards_and_r_opens_the_first(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        points = await _complete_first_lesson(app)
        screen = await _reviewing(pilot)
        assert screen.card.prompt == points[0].strip()
        assert f"key point 1 of {len(points)}" in screen_text(pilot)
        assert points[0].strip() not in screen_text(pilot)  # not before it is revealed


async def test_space_reveals_and_a_rating_moves_to_the_next_card(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        points = await _complete_first_lesson(app)
        screen = await _reviewing(pilot)
        await pilot.press("4")  # rating before revealing does nothing
        assert screen.reviewed == 0
        await pilot.press("space")
        assert points[0].strip() in screen_text(pilot)
        assert "Easy" in screen_text(pilot) and "days" in screen_text(pilot)
        await pilot.press("4")
        assert screen.reviewed == 1 and screen.card.prompt == points[1].strip()
        backend = app.backend
        user = backend.current_user.id
        sent = await wait_for(
            pilot,
            lambda: [
                e
                for e in backend.outbox.events(backend.namespace, user, status="sent")
                if e.fn == "record_review"
            ],
            what="sent",
        )
        assert sent[0].args["p_rating"] == 4 and sent[0].result["card"]["reps"] == 1


async def test_again_keeps_a_card_in_the_session_and_finishing_counts_for_the_streak(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        points = await _complete_first_lesson(app)
        user = app.backend.current_user.id
        screen = await _reviewing(pilot)
        await pilot.press("space", "1")  # Again: back in a minute, so later today
        assert screen.queue[-1].prompt == points[0].strip()
        for _ in range(len(points)):  # the rest and the first again, all Easy
            await pilot.press("space", "4")
        await wait_for(pilot, lambda: screen.card is None, what="the end")
        assert "All done" in screen_text(pilot)
        await wait_for(
            pilot,
            lambda: (
                app.backend.outbox.count(app.backend.namespace, user) == 0
                and app.backend.outbox.events(app.backend.namespace, user, status="sent")[-1].fn
                == "finish_review_session"
            ),
            what="the session sent",
        )
        sent = [
            e
            for e in app.backend.outbox.events(app.backend.namespace, user, status="sent")
            if e.fn in ("record_review", "finish_review_session")
        ]
        assert [e.fn for e in sent].count("record_review") == len(points) + 1
        assert sent[-1].result["counted"] is True
        assert sent[-1].result["reviews"] == len(points) + 1


async def test_quiz_me_suggests_a_rating_and_the_learner_still_rates(make_app, monkeypatch):
    from screens.quiz import QuizDialog
    from tests.stack.openai_standin import OpenAIStandIn

    with OpenAIStandIn(models=["tutor-model"]) as ai:
        monkeypatch.setenv("OPENAI_BASE_URL", ai.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("LEARN_MODEL", "tutor-model")
        ai.reply("What does type() tell you about a value?")
        ai.reply("Good — you named the function and what it returns.")
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await first_run(pilot)
            points = await _complete_first_lesson(app)
            screen = await _reviewing(pilot)
            await pilot.press("k")
            dialog = await wait_for_screen(pilot, QuizDialog)
            await wait_for(pilot, lambda: dialog.question, what="the question")
            assert "type()" in str(dialog.query_one("#quiz-question").render())
            await pilot.press(*"its type", "enter")
            await wait_for(pilot, lambda: dialog.result, what="the verdict")
            await pilot.press("enter")
            await wait_for_screen(pilot, ReviewScreen)
            assert screen.revealed and "The tutor suggests Good" in screen_text(pilot)
            assert screen.reviewed == 0  # a suggestion is not a rating
            await pilot.press("2")
            assert screen.reviewed == 1 and screen.card.prompt == points[1].strip()
        asked = ai.requests[0].body["messages"][-1]["content"]
        assert points[0].strip() in asked


async def test_quitting_mid_session_keeps_the_sessions_end_in_the_outbox(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_run(pilot)
        await _complete_first_lesson(app)
        screen = await _reviewing(pilot)
        await pilot.press("space", "3")
        assert screen.reviewed == 1
        backend = app.backend
        user = backend.current_user.id
        await wait_for(
            pilot,
            lambda: [
                e
                for e in backend.outbox.events(backend.namespace, user, status="sent")
                if e.fn == "record_review"
            ],
            what="sent",
        )
        outbox, namespace = backend.outbox, backend.namespace
        await pilot.press("q")
    from services.offline.outbox import Outbox

    reopened = Outbox(outbox.path)  # the app closed its own as it quit
    queued = [e.fn for e in reopened.events(namespace, user, status="queued")]
    reopened.close()
    assert queued == ["finish_review_session"]
