"""Spaced review on real PostgreSQL: cards made by the database, the FSRS scheduler's
state round-tripping through record_review, offline reviews replayed once through the
outbox, two machines' reviews merged by rebuilding from the logs, and review sessions
counting for the streak. The local backend sits behind a TCP proxy we cut."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from services import errors
from services.data.api import LearningAPI
from services.data.backend import LocalBackend
from services.data.seed import seed_bundled
from services.offline.backend import OfflineBackend
from services.offline.cache import ReadCache
from services.offline.outbox import Outbox
from services.review.spaced import Rating, Reviews, assessment_rating, rebuilt_state
from tests.stack.faults import TcpProxy


@pytest.fixture(scope="module")
def seeded_url(db_url) -> str:
    seed_bundled(db_url)
    return db_url


@pytest.fixture(scope="module")
def pg_proxy(seeded_url):
    proxy = TcpProxy(seeded_url)
    yield proxy
    proxy.stop()


@pytest.fixture
def net(pg_proxy):
    if not pg_proxy.running:
        pg_proxy.start()
    yield pg_proxy
    if not pg_proxy.running:
        pg_proxy.start()


@pytest.fixture
async def make(net, tmp_path, monkeypatch):
    """make(home) → an OfflineBackend over LocalBackend through the proxy; its cache,
    outbox and session live in `home` (one folder per machine)."""
    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "learn-home"))
    made: list[OfflineBackend] = []

    def factory(home: Path = tmp_path) -> OfflineBackend:
        home.mkdir(parents=True, exist_ok=True)
        inner = LocalBackend(net.url, migrate=False, session_path=home / "session.json")
        backend = OfflineBackend(
            inner,
            cache=ReadCache(home / "reads.sqlite3"),
            outbox=Outbox(home / "outbox.sqlite3"),
            backoff=(0.05, 0.2),
        )
        made.append(backend)
        return backend

    yield factory
    for backend in made:
        try:
            await backend.close()
        except Exception:
            pass


async def _learner_with_cards(backend: OfflineBackend) -> tuple[LearningAPI, Reviews, str]:
    """A new learner who completed the first lesson of Python Foundations."""
    await backend.sign_up(None, None, full_name="Ada")
    api = LearningAPI(backend)
    course = (await api.catalog(search="foundations")).courses[0]
    detail = await api.course_detail(course.id)
    await api.enroll(course.id)
    lesson = detail.lessons[0].id
    await api.record_lesson_progress(lesson, time_spent=60, completed=True)
    return api, Reviews(api), lesson


def _logs(db, card_id: str) -> list[dict]:
    return db.su(
        "select rating, reviewed_at from review_logs where card_id = %s order by reviewed_at",
        (card_id,),
    )


def _card(db, card_id: str) -> dict:
    return db.su("select * from review_cards where id = %s", (card_id,))[0]


async def test_completing_a_lesson_makes_one_due_card_per_key_point(make, db):
    backend = make()
    api, reviews, lesson = await _learner_with_cards(backend)
    points = (await api.lesson_detail(lesson)).lesson.key_points
    queue = await reviews.queue()
    assert len(points) > 0
    assert [c.prompt for c in queue.cards] == [p.strip() for p in points]
    assert queue.summary.due_now == len(points)


async def test_two_goods_put_a_card_further_out_than_one(make, db):
    backend = make()
    _api, reviews, _lesson = await _learner_with_cards(backend)
    card = (await reviews.queue()).cards[0]
    now = datetime.now(timezone.utc)
    once = await reviews.rate(card, Rating.GOOD, reviewed_at=now - timedelta(minutes=30))
    twice = await reviews.rate(once.card, Rating.GOOD, reviewed_at=now - timedelta(minutes=5))
    stored = _card(db, card.id)
    assert not stored["stale"] and stored["due"] == twice.card.due
    assert twice.card.due - (now - timedelta(minutes=5)) > once.card.due - (
        now - timedelta(minutes=30)
    )
    assert twice.card.due > now + timedelta(hours=12)


async def test_again_brings_a_card_back_today(make, db):
    backend = make()
    _api, reviews, _lesson = await _learner_with_cards(backend)
    card = (await reviews.queue()).cards[0]
    good = await reviews.rate(card, Rating.GOOD)
    good = await reviews.rate(good.card, Rating.GOOD)
    again = await reviews.rate(good.card, Rating.AGAIN)
    due = _card(db, card.id)["due"]
    assert due == again.card.due
    assert due - datetime.now(timezone.utc) < timedelta(minutes=15)
    assert (await reviews.summary()).due_today >= 1


async def test_reviews_made_offline_replay_once_and_leave_the_queue_meanwhile(make, net, db):
    backend = make()
    _api, reviews, _lesson = await _learner_with_cards(backend)
    queue = await reviews.queue()
    first, second = queue.cards[0], queue.cards[1]
    net.stop()
    outcome = await reviews.rate(first, Rating.EASY, duration_ms=3000)
    assert outcome.queued and outcome.card.due > datetime.now(timezone.utc)
    offline_queue = await reviews.queue()  # from the cache, the review applied on top
    assert first.id not in [c.id for c in offline_queue.cards]
    assert second.id in [c.id for c in offline_queue.cards]
    assert _logs(db, first.id) == []
    net.start()
    report = await backend.flush()
    again = await backend.flush()
    assert (report.sent, again.sent, again.already_applied) == (1, 0, 0)
    assert [g["rating"] for g in _logs(db, first.id)] == [4]
    assert _card(db, first.id)["due"] == outcome.card.due


async def test_two_machines_reviewing_offline_merge_by_rebuilding_from_the_logs(
    make, net, db, tmp_path
):
    laptop = make(tmp_path / "laptop")
    _api, reviews, _lesson = await _learner_with_cards(laptop)
    card = (await reviews.queue()).cards[0]
    desktop = make(tmp_path / "desktop")
    await desktop.sign_in_profile(laptop.current_user.id)  # the same learner, elsewhere
    other = Reviews(LearningAPI(desktop))
    assert card.id in [c.id for c in (await other.queue()).cards]
    net.stop()
    now = datetime.now(timezone.utc)
    await reviews.rate(card, Rating.GOOD, reviewed_at=now - timedelta(minutes=3))
    await other.rate(card, Rating.AGAIN, reviewed_at=now - timedelta(minutes=2))
    net.start()
    assert (await desktop.flush()).sent == 1  # the later review arrives first
    assert (await laptop.flush()).sent == 1  # the earlier one, out of order
    assert _card(db, card.id)["stale"]
    await reviews.queue()  # rebuilds the stale card
    stored = _card(db, card.id)
    expected = rebuilt_state(
        [{"rating": g["rating"], "reviewed_at": g["reviewed_at"]} for g in _logs(db, card.id)]
    )
    assert not stored["stale"] and [g["rating"] for g in _logs(db, card.id)] == [3, 1]
    assert stored["due"].isoformat() == expected["due"]
    assert stored["stability"] == pytest.approx(expected["stability"])


async def test_a_forged_state_out_of_range_is_refused(make, db):
    backend = make()
    _api, _reviews, _lesson = await _learner_with_cards(backend)
    card_id = db.su_one(
        "select id::text from review_cards where user_id = %s limit 1", (backend.current_user.id,)
    )
    now = datetime.now(timezone.utc)
    forged = {
        "state": 2,
        "step": None,
        "stability": 1.0,
        "difficulty": 5.0,
        "due": (now + timedelta(days=365 * 200)).isoformat(),
        "last_review": now.isoformat(),
    }
    with pytest.raises(errors.InvalidInput):
        await backend.call(
            "record_review",
            p_rating=3,
            p_reviewed_at=now.isoformat(),
            p_new_state=forged,
            p_card_id=card_id,
        )
    assert _logs(db, card_id) == []


async def test_another_learners_card_cannot_be_reviewed(make, db, tmp_path):
    owner = make(tmp_path / "owner")
    _api, reviews, _lesson = await _learner_with_cards(owner)
    card = (await reviews.queue()).cards[0]
    intruder = make(tmp_path / "intruder")
    await intruder.sign_up(None, None, full_name="Eve")
    with pytest.raises(errors.LearnError):
        await Reviews(LearningAPI(intruder)).rate(card, Rating.EASY)
    assert _logs(db, card.id) == []


async def test_a_finished_review_session_counts_for_the_streak_only_with_reviews(make, db):
    backend = make()
    _api, reviews, _lesson = await _learner_with_cards(backend)
    user = backend.current_user.id
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date()
    # A 4-day run up to yesterday, as the streak rules keep it (20261205001100_streaks.sql).
    db.su(
        "update user_streaks set current_streak = 4, longest_streak = 4,"
        " last_activity_date = %s, last_activity_at = now() - interval '1 day',"
        " streak_started_at = now() - interval '4 days' where user_id = %s",
        (yesterday, user),
    )
    started = datetime.now(timezone.utc)
    empty = await reviews.finish_session(started)
    assert empty.get("counted") is False
    assert db.su_one("select current_streak from user_streaks where user_id = %s", (user,)) == 4
    card = (await reviews.queue()).cards[0]
    await reviews.rate(card, Rating.GOOD)
    counted = await reviews.finish_session(started)
    assert counted.get("counted") is True and counted["streak"]["current"] == 5
    assert db.su_one("select count(*) from review_sessions where user_id = %s", (user,)) == 1


async def test_passing_an_assessment_makes_a_card_that_its_rating_schedules(make, db):
    backend = make()
    await backend.sign_up(None, None, full_name="Ada")
    api = LearningAPI(backend)
    reviews = Reviews(api)
    assessment = db.su_one(
        "select a.id::text from assessments a join courses c"
        " on c.id = a.course_id where a.is_published limit 1"
    )
    # A self-graded course: the score this test sends is the one recorded (in a verified
    # course a grader decides it, tests/services/test_grader.py).
    db.su(
        "update courses set grading = 'self' where id = (select course_id from assessments"
        " where id = %s)",
        (assessment,),
    )
    failed = {
        "version": 1,
        "status": "fail",
        "message": None,
        "score": {"passed": 0, "total": 2, "percent": 0},
        "tests": [],
    }
    await api.submit_attempt(assessment, "x = 1", failed, 0)
    assert await reviews.card_for_assessment(assessment) is None
    assert await reviews.rate_assessment(assessment, Rating.AGAIN) is None
    passed = {**failed, "status": "pass", "score": {"passed": 2, "total": 2, "percent": 100}}
    await api.submit_attempt(assessment, "x = 1", passed, 100)
    rating = assessment_rating(passed=True, used_hint=False, seconds=60, time_limit_minutes=20)
    outcome = await reviews.rate_assessment(assessment, rating)
    card = await reviews.card_for_assessment(assessment)
    assert rating == Rating.EASY and card.reps == 1 and card.due == outcome.card.due
    assert card.due > datetime.now(timezone.utc) + timedelta(days=1)


def test_assessment_ratings_follow_the_rules():
    assert (
        assessment_rating(passed=False, used_hint=False, seconds=10, time_limit_minutes=20)
        == Rating.AGAIN
    )
    assert (
        assessment_rating(passed=True, used_hint=True, seconds=10, time_limit_minutes=20)
        == Rating.HARD
    )
    assert (
        assessment_rating(passed=True, used_hint=False, seconds=900, time_limit_minutes=20)
        == Rating.GOOD
    )
    assert (
        assessment_rating(passed=True, used_hint=False, seconds=300, time_limit_minutes=20)
        == Rating.EASY
    )


def test_learn_review_due_json_lists_the_due_cards_for_scripts(seeded_url, tmp_path):
    import asyncio
    import json
    import os
    import subprocess
    import sys

    home = tmp_path / "home"

    async def learner() -> list[str]:
        backend = LocalBackend(
            seeded_url, migrate=False, session_path=home / "data" / "session.json"
        )
        await backend.sign_up(None, None, full_name="Ada")
        api = LearningAPI(backend)
        course = (await api.catalog(search="foundations")).courses[0]
        lesson = (await api.course_detail(course.id)).lessons[0].id
        await api.enroll(course.id)
        await api.record_lesson_progress(lesson, completed=True)
        points = (await api.lesson_detail(lesson)).lesson.key_points
        await backend.close()
        return [p.strip() for p in points]

    points = asyncio.run(learner())
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SUPABASE_", "DATABASE_URL", "LEARN_"))
    }
    env.update(LEARN_HOME=str(home), DATABASE_URL=seeded_url)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "review", "--due", "--json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert listed["version"] == 1
    assert [c["prompt"] for c in listed["due"]] == points
    assert {c["kind"] for c in listed["due"]} == {"key point"}
    assert listed["summary"]["due_now"] == len(points)
