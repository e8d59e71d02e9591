"""The review tables' rules, called as a hostile API client would call them (through
PostgREST's request settings): cards made by the database, idempotent reviews, the
checks on a client-computed state, rebuilds only from the logs stored now, and review
sessions that count for the streak only with reviews."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.db.helpers import make_assessment, make_course, run, submit_attempt


@pytest.fixture(scope="module")
def w(db):
    author = db.new_user("review-author@example.test")
    course = make_course(db, author, lessons=2)
    db.su(
        "update lessons set key_points = array['First point', '  ', 'Second point'] where id = %s",
        (course.lessons[0],),
    )
    assessment = make_assessment(db, author, course.id)
    return {"author": author, "course": course, "assessment": assessment}


def rpc(db, uid, fn, **args):
    names = ", ".join(f"{k} := %({k})s" for k in args)
    values = {k: Jsonb(v) if isinstance(v, dict) else v for k, v in args.items()}
    return run(db, uid, f"select public.{fn}({names}) as r", values)[0]["r"]


def learner_with_cards(db, w) -> tuple[str, list[dict]]:
    uid = db.new_user()
    run(
        db,
        uid,
        "insert into course_enrollments (user_id, course_id) values (auth.uid(), %s)",
        (w["course"].id,),
    )
    rpc(db, uid, "record_lesson_progress", p_lesson_id=w["course"].lessons[0], p_completed=True)
    return uid, rpc(db, uid, "review_queue")["due"]


def state(at: datetime, *, days: float = 1, **over) -> dict:
    return {
        "state": 2,
        "step": None,
        "stability": 3.2,
        "difficulty": 5.1,
        "due": (at + timedelta(days=days)).isoformat(),
        "last_review": at.isoformat(),
        **over,
    }


def test_a_completed_lesson_makes_a_card_per_non_blank_key_point(db, w):
    _uid, cards = learner_with_cards(db, w)
    assert [(c["prompt"], c["key_point_index"]) for c in cards] == [
        ("First point", 0),
        ("Second point", 2),
    ]


def test_only_a_passed_assessment_makes_a_card(db, w):
    uid = db.new_user()
    submit_attempt(db, uid, w["assessment"], 1, 2)
    assert rpc(db, uid, "review_card", p_assessment_id=w["assessment"]) is None
    submit_attempt(db, uid, w["assessment"], 2, 2)
    submit_attempt(db, uid, w["assessment"], 2, 2)
    assert rpc(db, uid, "review_card", p_assessment_id=w["assessment"])["reps"] == 0
    assert db.su_one("select count(*) from review_cards where user_id = %s", (uid,)) == 1


def test_a_replayed_review_is_stored_once(db, w):
    uid, cards = learner_with_cards(db, w)
    now = datetime.now(timezone.utc)
    event = str(uuid.uuid4())
    args = {
        "p_rating": 3,
        "p_reviewed_at": now,
        "p_new_state": state(now),
        "p_card_id": cards[0]["id"],
        "p_event_id": event,
    }
    first = rpc(db, uid, "record_review", **args)
    again = rpc(db, uid, "record_review", **args)
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert db.su_one("select count(*) from review_logs where card_id = %s", (cards[0]["id"],)) == 1


@pytest.mark.parametrize(
    ("label", "bad"),
    [
        ("due beyond the maximum interval", {"due": "2200-01-01T00:00:00+00:00"}),
        ("due before the review", {"due": "2000-01-01T00:00:00+00:00"}),
        ("difficulty out of range", {"difficulty": 11}),
        ("stability not positive", {"stability": 0}),
        ("unknown state", {"state": 7}),
        ("not the state after this review", {"last_review": "2026-01-01T00:00:00+00:00"}),
        ("a wrong type", {"stability": "lots"}),
    ],
)
def test_a_forged_card_state_is_refused(db, w, label, bad):
    uid, cards = learner_with_cards(db, w)
    now = datetime.now(timezone.utc)
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        rpc(
            db,
            uid,
            "record_review",
            p_rating=4,
            p_reviewed_at=now,
            p_new_state=state(now, **bad),
            p_card_id=cards[0]["id"],
        )
    assert db.su_one("select count(*) from review_logs where card_id = %s", (cards[0]["id"],)) == 0


def test_a_review_in_the_future_is_refused(db, w):
    uid, cards = learner_with_cards(db, w)
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        rpc(
            db,
            uid,
            "record_review",
            p_rating=3,
            p_reviewed_at=later,
            p_new_state=state(later),
            p_card_id=cards[0]["id"],
        )


def test_another_learners_card_is_not_found(db, w):
    _owner, cards = learner_with_cards(db, w)
    intruder = db.new_user()
    now = datetime.now(timezone.utc)
    with pytest.raises(psycopg.errors.NoDataFound):
        rpc(
            db,
            intruder,
            "record_review",
            p_rating=4,
            p_reviewed_at=now,
            p_new_state=state(now),
            p_card_id=cards[0]["id"],
        )
    with pytest.raises(psycopg.errors.NoDataFound):
        rpc(
            db,
            intruder,
            "rebuild_review_card",
            p_card_id=cards[0]["id"],
            p_new_state=state(now),
            p_log_count=0,
        )


def test_anon_cannot_record_a_review(db, w):
    _owner, cards = learner_with_cards(db, w)
    now = datetime.now(timezone.utc)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        rpc(
            db,
            None,
            "record_review",
            p_rating=4,
            p_reviewed_at=now,
            p_new_state=state(now),
            p_card_id=cards[0]["id"],
        )


def test_a_review_from_an_old_state_marks_the_card_stale_and_keeps_its_state(db, w):
    uid, cards = learner_with_cards(db, w)
    now = datetime.now(timezone.utc)
    card = cards[0]["id"]
    rpc(
        db,
        uid,
        "record_review",
        p_rating=3,
        p_reviewed_at=now - timedelta(minutes=5),
        p_new_state=state(now - timedelta(minutes=5), days=2),
        p_card_id=card,
    )
    out = rpc(
        db,
        uid,
        "record_review",
        p_rating=1,
        p_reviewed_at=now,
        p_new_state=state(now, days=0.01),
        p_card_id=card,
        p_basis=None,
    )
    stored = db.su("select stale, due from review_cards where id = %s", (card,))[0]
    assert out["stale"] is True and stored["stale"]
    assert stored["due"] == now - timedelta(minutes=5) + timedelta(days=2)
    assert rpc(db, uid, "review_summary")["stale"] == 1


def test_a_rebuild_must_come_from_the_logs_stored_now(db, w):
    uid, cards = learner_with_cards(db, w)
    now = datetime.now(timezone.utc)
    card = cards[0]["id"]
    rpc(
        db,
        uid,
        "record_review",
        p_rating=3,
        p_reviewed_at=now,
        p_new_state=state(now),
        p_card_id=card,
        p_basis="2020-01-01T00:00:00+00:00",
    )  # stale at once
    stale = rpc(
        db,
        uid,
        "rebuild_review_card",
        p_card_id=card,
        p_new_state=state(now),
        p_log_count=2,
        p_last_reviewed_at=now,
    )
    assert stale["rebuilt"] is False
    done = rpc(
        db,
        uid,
        "rebuild_review_card",
        p_card_id=card,
        p_new_state=state(now, days=4),
        p_log_count=1,
        p_last_reviewed_at=now,
    )
    assert done["rebuilt"] is True and done["card"]["stale"] is False


def test_a_review_session_without_reviews_does_not_count(db, w):
    uid, _cards = learner_with_cards(db, w)
    db.su(
        "update user_streaks set current_streak = 0, last_activity_date = null where user_id = %s",
        (uid,),
    )
    out = rpc(
        db,
        uid,
        "finish_review_session",
        p_started_at=datetime.now(timezone.utc) - timedelta(minutes=10),
    )
    assert out["counted"] is False
    assert db.su_one("select current_streak from user_streaks where user_id = %s", (uid,)) == 0
    assert db.su_one("select count(*) from review_sessions where user_id = %s", (uid,)) == 0


def test_learners_cannot_write_review_tables_directly(db, w):
    uid, cards = learner_with_cards(db, w)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run(
            db,
            uid,
            "update review_cards set due = now() + interval '1 year' where id = %s",
            (cards[0]["id"],),
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run(
            db,
            uid,
            "insert into review_logs (user_id, card_id, rating, reviewed_at, event_id)"
            " values (auth.uid(), %s, 4, now(), gen_random_uuid())",
            (cards[0]["id"],),
        )
