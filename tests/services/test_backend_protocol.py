"""services.data.protocol: the typed seam over the backends — which backends take batches
(can_batch, looked up on the class) and call_batch over any Backend."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.data.local import LocalBackend
from services.data.protocol import Backend, BatchBackend, call_batch, can_batch
from services.data.seed import seed_bundled
from services.data.supabase import SupabaseBackend
from services.errors import InvalidInput, Offline


class CallsOnly:
    """A backend that makes one call at a time (as SupabaseBackend does), over a real
    LocalBackend: it has no call_batch of its own."""

    kind = "local"

    def __init__(self, inner: LocalBackend):
        self.inner = inner
        self.calls: list[str] = []

    async def call(self, fn: str, **args: Any) -> Any:
        self.calls.append(fn)
        return await self.inner.call(fn, **args)


class Forwarding:
    """A wrapper that forwards every attribute to the backend it wraps."""

    def __init__(self, inner: Any):
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
async def learner(db_url, tmp_path):
    seed_bundled(db_url)
    backend = LocalBackend(db_url, session_path=tmp_path / "session.json")
    await backend.connect()
    await backend.sign_up(None, None, full_name="Protocol Learner")
    yield backend
    await backend.close()


def chat(question: str) -> tuple[str, dict]:
    return (
        "log_chat",
        {"p_question": question, "p_answer": "a", "p_event_id": str(uuid.uuid4())},
    )


def test_the_local_backend_takes_batches_and_supabase_does_not():
    local = LocalBackend("postgresql://127.0.0.1:1/none", migrate=False)
    supabase = SupabaseBackend("http://127.0.0.1:1", "key")
    assert can_batch(local) and isinstance(local, BatchBackend)
    assert not can_batch(supabase)
    assert isinstance(supabase, Backend)


def test_a_wrapper_that_forwards_attributes_does_not_take_batches():
    local = LocalBackend("postgresql://127.0.0.1:1/none", migrate=False)
    assert not can_batch(Forwarding(local))


async def test_call_batch_over_a_backend_without_batches_makes_each_call_in_order(learner, db):
    one_at_a_time = CallsOnly(learner)
    refused = ("log_chat", {"p_question": "", "p_answer": "x", "p_event_id": str(uuid.uuid4())})
    results = await call_batch(one_at_a_time, [chat("first"), refused, chat("third")])
    assert one_at_a_time.calls == ["log_chat"] * 3
    assert results[0]["replayed"] is False and results[2]["replayed"] is False
    assert isinstance(results[1], InvalidInput)  # the server's answer, that call's outcome
    questions = {
        r["question"]
        for r in db.su(
            "select question from chat_history where user_id = %s", (learner.current_user.id,)
        )
    }
    assert {"first", "third"} <= questions


async def test_call_batch_raises_when_the_first_call_cannot_reach_the_server(tmp_path):
    unreachable = LocalBackend(
        "postgresql://learn@127.0.0.1:1/none?connect_timeout=2",
        migrate=False,
        session_path=tmp_path / "session.json",
    )
    try:
        with pytest.raises(Offline):
            await call_batch(CallsOnly(unreachable), [chat("lost"), chat("also lost")])
    finally:
        await unreachable.close()


async def test_call_batch_stops_trying_once_the_server_cannot_be_reached(learner, tmp_path):
    """After the first call the server is gone: that call and the later ones (not tried)
    carry the Offline error; the first call's answer is kept."""
    unreachable = LocalBackend(
        "postgresql://learn@127.0.0.1:1/none?connect_timeout=2",
        migrate=False,
        session_path=tmp_path / "gone.json",
    )
    one_at_a_time = CallsOnly(learner)

    async def then_unreachable(fn: str, **args: Any) -> Any:
        one_at_a_time.calls.append(fn)
        backend = learner if len(one_at_a_time.calls) == 1 else unreachable
        return await backend.call(fn, **args)

    one_at_a_time.call = then_unreachable  # type: ignore[method-assign]
    try:
        results = await call_batch(one_at_a_time, [chat("sent"), chat("lost"), chat("untried")])
    finally:
        await unreachable.close()
    assert results[0]["replayed"] is False
    assert isinstance(results[1], Offline) and results[2] is results[1]
    assert len(one_at_a_time.calls) == 2  # the third was not tried
