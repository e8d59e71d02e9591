"""What OfflineBackend needs of the backend it wraps, beyond the Backend protocol
(services.data.backend.Backend), as typed protocols instead of attribute lookups.

    BatchBackend        call_batch(calls): several calls in one transaction (LocalBackend)
    takes_batches(b)    whether b's class implements BatchBackend
    Namespaced          namespace: which server and database (LocalBackend, SupabaseBackend)
    Describable         describe(): one line for people (LocalBackend, SupabaseBackend)
    LocalExtras         what only LocalBackend has: start_warnings, warm(), grading_url(),
                        local_profiles(), sign_in_profile()

(These describe the data backends: they belong beside Backend once services.data is
reorganised; they live here until then.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, runtime_checkable

from services.data.backend import CurrentUser


@runtime_checkable
class BatchBackend(Protocol):
    async def call_batch(self, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        """The calls in order in one transaction, each in its own savepoint: per call its
        JSON, or the LearnError it raised. If the batch itself fails, it raises and
        nothing of it was applied."""
        ...


def takes_batches(backend: object) -> TypeGuard[BatchBackend]:
    """Whether the backend's class implements call_batch. The class, not the instance:
    a wrapper that forwards unknown attributes to another backend (the tests' network
    cutters do) sends each call through its own `call` unless it defines call_batch."""
    return issubclass(type(backend), BatchBackend)


@runtime_checkable
class Namespaced(Protocol):
    @property
    def namespace(self) -> str:
        """Which server and database: keeps caches, queues and sessions apart."""
        ...


@runtime_checkable
class Describable(Protocol):
    def describe(self) -> str:
        """One line for people: which backend, where."""
        ...


@runtime_checkable
class LocalExtras(Protocol):
    start_warnings: list[str]

    async def warm(self) -> None:
        """Open the connection a head start left for later."""

    def grading_url(self) -> str | None:
        """The URL for an in-process grader, or None (blocking: call from a thread)."""

    async def local_profiles(self) -> list[dict[str, Any]]:
        """Accounts on this database (for a "who's learning?" picker)."""

    async def sign_in_profile(self, user_id: str) -> CurrentUser:
        """Sign in to a local profile that has no password (single-user mode)."""


if TYPE_CHECKING:
    from services.data.backend import LocalBackend, SupabaseBackend

    def _the_backends_match(local: LocalBackend, remote: SupabaseBackend) -> None:
        """mypy: the data backends have what these protocols say they have."""
        batches: BatchBackend = local
        named: list[Namespaced] = [local, remote]
        described: list[Describable] = [local, remote]
        extras: LocalExtras = local
        del batches, named, described, extras
