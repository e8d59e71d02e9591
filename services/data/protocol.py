"""The data-access seam: what every backend is, and the small helpers they share.

    Backend          the protocol every screen and command talks to (through
                     services.data.api.LearningAPI): call(fn, **args), sign-in, live feed
    BatchBackend     a Backend that also runs several calls in one transaction
    call_batch       several calls through any Backend (batched when it is a BatchBackend)
    can_batch        whether a backend takes batches (looked up on its class)
    Namespaced       namespace: which server and database (LocalBackend, SupabaseBackend)
    Describable      describe(): one line for people (LocalBackend, SupabaseBackend)
    LocalExtras      what only LocalBackend has: start_warnings, warm(), grading_url(),
                     local_profiles(), sign_in_profile() (OfflineBackend forwards them)
    CurrentUser      the signed-in learner (id, email)
    check_identifier, check_email, json_default, Progress

Imports nothing heavy: services.offline and the preview use it without loading psycopg
or supabase-py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, runtime_checkable

from services import errors
from services.errors import InvalidInput, LearnError

Progress = Callable[[str], None]
Call = tuple[str, dict[str, Any]]  # (function, named arguments)

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_identifier(name: str, what: str = "name") -> str:
    if not isinstance(name, str) or not _IDENT.match(name):
        raise InvalidInput(f"{what} {name!r} is not a valid SQL identifier.")
    return name


def check_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 255:
        raise InvalidInput("That email address is not valid.", code="email_address_invalid")
    return email


@dataclass(frozen=True)
class CurrentUser:
    id: str
    email: str | None = None


@runtime_checkable
class Backend(Protocol):
    """What every screen and command talks to (through services.data.api.LearningAPI)."""

    kind: str  # "local" or "supabase"

    @property
    def current_user(self) -> CurrentUser | None: ...

    async def connect(self) -> None:
        """Open connections and restore the saved session (call() does it lazily)."""

    async def call(self, fn: str, **args: Any) -> Any:
        """`public.<fn>(arg := value, …)` as the signed-in user (anon if none) → JSON.

        Raises a LearnError. (A function returning void gives None locally but [] through
        PostgREST's 204; the API's functions all return jsonb.)"""

    async def sign_up(
        self, email: str | None, password: str | None, *, full_name: str | None = None, **meta: Any
    ) -> CurrentUser | None:
        """Create an account (the signup trigger makes the profile) and sign in.

        Returns None when the server wants the email confirmed first."""

    async def sign_in(self, email: str, password: str) -> CurrentUser: ...

    async def sign_in_with_otp(self, email: str) -> None:
        """Email a one-time code (Supabase)."""

    async def verify_otp(self, email: str, token: str) -> CurrentUser: ...

    async def reset_password(self, email: str) -> None: ...

    async def sign_in_with_provider(
        self, provider: str, open_url: Callable[[str], Any], *, timeout: float = 300.0
    ) -> CurrentUser:
        """Sign in with an OAuth provider (Supabase): PKCE through the browser, the code
        received on a loopback redirect (services.data.oauth). `open_url(url)` shows the
        person where to go (opens a browser, prints it); it may be async."""

    async def watch_notifications(self, on_event: Callable[[Any], None]) -> Any:
        """Start the live feed of the signed-in learner's new notifications
        (services.data.live: `on_event(LiveEvent)`); returns a Watch to stop() it."""

    async def sign_out(self, *, everywhere: bool = False) -> None:
        """Forget this machine's session (`everywhere`: revoke all the learner's sessions
        on the server too, where the backend has a server)."""

    async def close(self) -> None: ...


@runtime_checkable
class BatchBackend(Backend, Protocol):
    """A Backend that runs several calls as the signed-in user in ONE transaction, each
    in its own savepoint (services.data.local.LocalBackend)."""

    async def call_batch(self, calls: list[Call]) -> list[Any]:
        """Each call's JSON, or the LearnError it raised (its savepoint rolled back, the
        others kept), in order. If the batch itself fails (connection lost), it raises
        and nothing of it is applied."""


def can_batch(backend: object) -> TypeGuard[BatchBackend]:
    """True when the backend's class defines call_batch. Looked up on the class, so a
    wrapper that forwards attributes to another backend does not count (its call_batch
    would skip the wrapper)."""
    return callable(getattr(type(backend), "call_batch", None))


async def call_batch(backend: Backend, calls: list[Call]) -> list[Any]:
    """Several calls, in order: each call's JSON or the LearnError it raised.

    A BatchBackend runs them in one transaction (one commit), and raises, having applied
    nothing, if the batch itself fails. Any other backend makes them one at a time: a
    failure the server answered is that call's outcome; one that says the server cannot
    be reached raises if it is the first call (nothing applied), and is otherwise the
    outcome of that call and of every later one, which are not tried."""
    if can_batch(backend):
        return await backend.call_batch(calls)
    outcomes: list[Any] = []
    for fn, args in calls:
        try:
            outcomes.append(await backend.call(fn, **args))
        except Exception as exc:
            error = exc if isinstance(exc, LearnError) else errors.from_exception(exc)
            if not errors.is_unreachable(error):
                outcomes.append(error)
                continue
            if not outcomes:
                raise
            outcomes += [error] * (len(calls) - len(outcomes))
            break
    return outcomes


def json_default(value: Any) -> Any:
    """`json.dumps(default=)` for call arguments: uuids, dates and times, sets, tuples."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


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
    from services.data.local import LocalBackend
    from services.data.supabase import SupabaseBackend

    def _the_backends_match(local: LocalBackend, remote: SupabaseBackend) -> None:
        """mypy: the data backends have what these protocols say they have."""
        batches: BatchBackend = local
        named: list[Namespaced] = [local, remote]
        described: list[Describable] = [local, remote]
        extras: LocalExtras = local
        del batches, named, described, extras
