"""LocalBackend.call_batch: the outbox's replay path — one transaction, each call
isolated, results in order, a refusal affecting only its own call."""

from __future__ import annotations

import uuid

import pytest

from services.data.backend import LocalBackend
from services.data.seed import seed_bundled
from services.errors import InvalidInput, NotFound


@pytest.fixture
async def learner(db_url, tmp_path):
    seed_bundled(db_url)
    backend = LocalBackend(db_url, session_path=tmp_path / "session.json")
    await backend.connect()
    await backend.sign_up(None, None, full_name="Batch Learner")
    yield backend
    await backend.close()


def chat(question: str, event_id: str | None = None) -> tuple[str, dict]:
    return (
        "log_chat",
        {"p_question": question, "p_answer": "a", "p_event_id": event_id or str(uuid.uuid4())},
    )


async def test_a_batch_returns_each_calls_result_in_order(learner, db):
    results = await learner.call_batch([chat("one"), chat("two"), chat("three")])
    assert [r["replayed"] for r in results] == [False, False, False]
    rows = db.su(
        "select question from chat_history where user_id = %s order by created_at, question",
        (learner.current_user.id,),
    )
    assert sorted(r["question"] for r in rows) == ["one", "three", "two"]


async def test_a_refused_call_in_a_batch_affects_only_itself(learner, db):
    calls = [
        chat("before"),
        (
            "log_chat",
            {"p_question": "", "p_answer": "empty question", "p_event_id": str(uuid.uuid4())},
        ),
        chat("after"),
    ]
    results = await learner.call_batch(calls)
    assert isinstance(results[1], InvalidInput)
    assert results[0]["replayed"] is False and results[2]["replayed"] is False
    questions = {
        r["question"]
        for r in db.su(
            "select question from chat_history where user_id = %s", (learner.current_user.id,)
        )
    }
    assert {"before", "after"} <= questions and "" not in questions


async def test_replaying_a_batch_applies_nothing_twice(learner, db):
    calls = [chat(f"q{i}", str(uuid.uuid4())) for i in range(5)]
    await learner.call_batch(calls)
    again = await learner.call_batch(calls)
    assert all(r["replayed"] for r in again)
    assert (
        db.su_one(
            "select count(*) from chat_history where user_id = %s and question like 'q%%'",
            (learner.current_user.id,),
        )
        == 5
    )


async def test_an_unknown_function_fails_the_whole_batch_before_anything_runs(learner, db):
    with pytest.raises(NotFound):
        await learner.call_batch([chat("never"), ("no_such_function", {})])
    assert db.su_one("select count(*) from chat_history where question = 'never'") == 0
