"""OfflineBackend's typed seams (services.data.protocol): it is a Backend, forwards
every method explicitly, and sends batches only to a backend whose class takes them.
(The behaviour behind them, on real PostgreSQL, is in test_offline*.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from services.data.backend import Backend, CurrentUser
from services.data.protocol import can_batch
from services.offline.backend import OfflineBackend
from services.offline.cache import ReadCache
from services.offline.outbox import Outbox

USER = CurrentUser("00000000-0000-4000-8000-000000000001", "ada@example.com")


class Plain:
    """The Backend protocol and nothing else: no namespace, describe, batches or extras."""

    kind = "supabase"

    def __init__(self) -> None:
        self.current_user: CurrentUser | None = USER
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.signed_out: list[dict[str, Any]] = []

    async def connect(self) -> None:
        return None

    async def call(self, fn: str, **args: Any) -> Any:
        self.calls.append((fn, args))
        return {"replayed": False, "achievements": []}

    async def sign_out(self, **kw: Any) -> None:
        self.signed_out.append(kw)
        self.current_user = None

    async def close(self) -> None:
        return None


class Forwarding:
    """A wrapper that forwards what it does not define (as the tests' network cutters)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class Batching(Plain):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    async def call_batch(self, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        self.batches.append(len(calls))
        return [await self.call(fn, **args) for fn, args in calls]


@pytest.fixture
def wrap(tmp_path):
    made: list[OfflineBackend] = []

    def make(inner: Any) -> OfflineBackend:
        backend = OfflineBackend(
            inner,
            cache=ReadCache(tmp_path / "reads.sqlite3"),
            outbox=Outbox(tmp_path / "outbox.sqlite3"),
        )
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.cache.close()
        backend.outbox.close()


def test_the_offline_backend_is_a_backend(wrap):
    assert isinstance(wrap(Plain()), Backend)


def test_a_wrapper_forwarding_attributes_does_not_take_batches_unless_its_class_does():
    assert not can_batch(Forwarding(Batching()))
    assert can_batch(Batching())


def test_what_the_wrapped_backend_lacks_gets_a_harmless_answer(wrap):
    backend = wrap(Plain())
    assert backend.describe() == "supabase"
    assert backend.namespace == "supabase"
    assert backend.start_warnings == []
    assert backend.grading_url() is None


async def test_warm_and_local_profiles_do_nothing_on_a_backend_without_them(wrap):
    backend = wrap(Plain())
    await backend.warm()
    assert await backend.local_profiles() == []


async def test_sign_out_everywhere_reaches_the_wrapped_backend(wrap):
    inner = Plain()
    backend = wrap(inner)
    await backend.sign_out(everywhere=True)
    assert inner.signed_out == [{"everywhere": True}]


async def test_a_plain_sign_out_passes_no_options_to_a_backend_that_takes_none(wrap):
    inner = Plain()
    await wrap(inner).sign_out()
    assert inner.signed_out == [{}]


async def _replay_three(backend: OfflineBackend) -> None:
    for i in range(3):
        backend.outbox.append(
            backend.namespace,
            USER.id,
            "log_chat",
            {"p_event_id": f"e{i}", "p_occurred_at": "2026-12-05T10:00:00+00:00"},
        )
    report = await backend.flush()
    assert (report.sent, report.waiting) == (3, 0)


async def test_a_queue_goes_in_one_batch_to_a_backend_whose_class_can_batch(wrap):
    inner = Batching()
    await _replay_three(wrap(inner))
    assert inner.batches == [3]


async def test_a_queue_goes_call_by_call_through_a_wrapper_that_forwards_attributes(wrap):
    inner = Batching()
    await _replay_three(wrap(Forwarding(inner)))
    assert inner.batches == [] and len(inner.calls) == 3


class Profiles(Plain):
    """A local database's extras: a profile without a password, and provider sign-in."""

    start_warnings: list[str] = []

    def __init__(self) -> None:
        super().__init__()
        self.current_user = None

    async def warm(self) -> None:
        return None

    def grading_url(self) -> str | None:
        return None

    async def local_profiles(self) -> list[dict[str, Any]]:
        return []

    async def sign_in_profile(self, user_id: str) -> CurrentUser:
        self.current_user = CurrentUser(user_id, "")
        return self.current_user

    async def sign_in_with_provider(self, provider: str, open_url: Any, **kw: Any) -> CurrentUser:
        self.current_user = USER
        return USER


async def test_signing_in_to_a_local_profile_remembers_the_learner_for_offline_starts(wrap):
    backend = wrap(Profiles())
    await backend.sign_in_profile(USER.id)
    assert backend.remembered_user() == CurrentUser(USER.id, "")


async def test_signing_in_with_a_provider_remembers_the_learner_for_offline_starts(wrap):
    backend = wrap(Profiles())
    await backend.sign_in_with_provider("github", lambda url: None)
    assert backend.remembered_user() == USER
