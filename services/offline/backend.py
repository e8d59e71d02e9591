"""The offline backend: any Backend, with a read cache of RPC results and a durable outbox
of writes.

    OfflineBackend(inner)   wraps any Backend (services.data.backend) and is one itself,
                            so LearningAPI and the screens do not change:

    reads   (CACHED_READS)  go to the inner backend and fill the ReadCache; when the
                            backend is unreachable the cached result is returned and
                            `status` says offline, "as of <when it was fetched>".
    writes  (QUEUED_WRITES) are stored in the Outbox first (a client event id and the
                            time the learner acted), then the queue is sent in order,
                            one event at a time. Unreachable: the write returns
                            `{"queued": true, "event_id": …, "achievements": []}`.
    others                  (start_attempt, authoring calls, anything unknown) go straight
                            through: they need the server's answer, or are not safe to
                            replay or to serve stale.

Exactly once: the server's write functions are idempotent on (user, event id) — a
second delivery returns the stored result with `replayed: true` — and count activity
on the day it happened (within 48 hours, private.activity_time()). So a crash between
"the server applied it" and "marked sent here" only means one harmless replay; an
event is marked sent only after the server confirmed it, and never deleted before.

Why events leave the queue:
    sent      the server applied it (now, or before: replayed)
    refused   the server said no for good (PermissionDenied, InvalidInput, NotFound,
              Conflict — or a ServerError on MAX_SERVER_ERRORS tries): kept with the
              reason and listed for the learner until dismissed; never dropped silently.
They stay queued, and replay stops, when the server is unreachable (Offline, timeouts,
5xx, a ServerError), or when the session is gone (AuthError, NotSignedIn, ConfigError):
then `status.sign_in_needed` asks the learner to sign in again; nothing is lost.

Files: the cache is in paths.cache_dir() (disposable, services.offline.cache), the outbox
in paths.data_dir() (WAL, one transaction per state change; appends synchronous=FULL, see
services.offline.outbox). Both are SQLite, mode 0600. The replay and the background
flusher are in services.offline.replay; the status the app shows in services.offline.status.
(Just over 400 lines: every Backend method is forwarded explicitly, typed, instead of
through __getattr__.)
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from services import errors
from services.data.backend import Backend, CurrentUser
from services.data.protocol import Describable, LocalExtras, Namespaced
from services.errors import LearnError, Offline
from services.offline.basics import is_unreachable, iso, reraise, utcnow
from services.offline.cache import CACHED_READS, CachedRead, ReadCache
from services.offline.outbox import QUEUED_WRITES, Outbox, OutboxEvent
from services.offline.replay import Replayer, ReplayReport
from services.offline.status import Link, Listener, SyncStatus

log = logging.getLogger("learn.offline")

T = TypeVar("T")


class OfflineBackend:
    """Any Backend, made to keep working without the server (see the module's top).

    `backoff=(first, longest)` seconds between tries while the backend is unreachable
    (doubling, with jitter); `idle=` seconds between checks for queued events while
    online (a safety net: writes and sign-ins wake the flusher at once).

    It is a Backend itself (mypy checks it below). What only some backends have
    (services.data.protocol) is forwarded explicitly, with a harmless answer when
    the wrapped backend lacks it: describe(), start_warnings, warm(), grading_url(),
    local_profiles(), sign_in_profile()."""

    def __init__(
        self,
        inner: Backend,
        *,
        cache: ReadCache | None = None,
        outbox: Outbox | None = None,
        backoff: tuple[float, float] = (1.0, 30.0),
        idle: float = 30.0,
    ):
        self.inner = inner
        self.kind: str = inner.kind  # "local" or "supabase", as the wrapped backend
        self.cache = cache if cache is not None else ReadCache()
        self.outbox = outbox if outbox is not None else Outbox()
        self.link = Link(backoff)
        self.replayer = Replayer(self, idle=idle)
        self._listeners: list[Listener] = []
        self._last_status: SyncStatus | None = None
        self._namespace: tuple[Backend, str] | None = None

    def __repr__(self) -> str:
        return f"OfflineBackend({self.inner!r})"

    # -- the Backend protocol ------------------------------------------------

    @property
    def namespace(self) -> str:
        inner = self.inner
        if self._namespace is None or self._namespace[0] is not inner:
            name = inner.namespace if isinstance(inner, Namespaced) else inner.kind
            self._namespace = (inner, str(name))
        return self._namespace[1]

    @property
    def current_user(self) -> CurrentUser | None:
        user = self.inner.current_user
        if user is None and not self.link.connected_once and not self.link.online:
            return self.remembered_user()
        return user

    async def connect(self) -> None:
        """Connect the inner backend. Unreachable, but a learner was signed in here
        before: carry on offline as them (reads from the cache, writes queued)."""
        try:
            await self.inner.connect()
        except Exception as exc:
            error = errors.from_exception(exc)
            if not is_unreachable(error) or self.remembered_user() is None:
                reraise(error, exc)
            self.note_unreachable(error)
            return
        self.link.connected_once = True
        self.remember_user()
        self.notify()

    async def call(self, fn: str, **args: Any) -> Any:
        user = self.current_user
        if fn in QUEUED_WRITES and user is not None:
            return await self._write(user, fn, args)
        if fn in CACHED_READS:
            return await self._read(fn, args)
        return await self._direct(fn, args)

    async def sign_up(
        self, email: str | None, password: str | None, *, full_name: str | None = None, **meta: Any
    ) -> CurrentUser | None:
        return await self._auth(self.inner.sign_up(email, password, full_name=full_name, **meta))

    async def sign_in(self, email: str, password: str) -> CurrentUser:
        return await self._auth(self.inner.sign_in(email, password))

    async def verify_otp(self, email: str, token: str) -> CurrentUser:
        return await self._auth(self.inner.verify_otp(email, token))

    async def sign_in_with_otp(self, email: str) -> None:
        await self.inner.sign_in_with_otp(email)

    async def reset_password(self, email: str) -> None:
        await self.inner.reset_password(email)

    async def sign_in_with_provider(
        self, provider: str, open_url: Callable[[str], Any], *, timeout: float = 300.0
    ) -> CurrentUser:
        return await self._auth(
            self.inner.sign_in_with_provider(provider, open_url, timeout=timeout)
        )

    async def watch_notifications(self, on_event: Callable[[Any], None]) -> Any:
        return await self.inner.watch_notifications(on_event)

    async def sign_out(self, *, everywhere: bool = False) -> None:
        if everywhere:
            await self.inner.sign_out(everywhere=True)
        else:
            await self.inner.sign_out()
        self.cache.forget_user(self.namespace)
        self.link.sign_in_needed = False
        self.notify()

    async def close(self) -> None:
        try:
            await self.inner.close()
        finally:
            self.cache.close()
            self.outbox.close()

    # -- what only some backends have (services.data.protocol) --------------

    def describe(self) -> str:
        inner = self.inner
        return inner.describe() if isinstance(inner, Describable) else inner.kind

    @property
    def start_warnings(self) -> list[str]:
        inner = self.inner
        return inner.start_warnings if isinstance(inner, LocalExtras) else []

    async def warm(self) -> None:
        inner = self.inner
        if isinstance(inner, LocalExtras):
            await inner.warm()

    def grading_url(self) -> str | None:
        inner = self.inner
        return inner.grading_url() if isinstance(inner, LocalExtras) else None

    async def local_profiles(self) -> list[dict[str, Any]]:
        inner = self.inner
        return await inner.local_profiles() if isinstance(inner, LocalExtras) else []

    async def sign_in_profile(self, user_id: str) -> CurrentUser:
        inner = self.inner
        if not isinstance(inner, LocalExtras):
            raise LearnError(
                "Local profiles are only on the local database: sign in with `learn login`."
            )
        return await self._auth(inner.sign_in_profile(user_id))

    # -- status --------------------------------------------------------------

    @property
    def online(self) -> bool:
        return self.link.online

    @property
    def offline_since(self) -> datetime | None:
        return self.link.offline_since

    @property
    def as_of(self) -> datetime | None:
        return self.link.as_of

    @property
    def pending_count(self) -> int:
        user = self.current_user
        return self.outbox.count(self.namespace, user.id) if user else 0

    def pending_writes(self, fn: str | None = None) -> list[OutboxEvent]:
        """The signed-in learner's writes still waiting to be sent (of one kind when
        `fn` is given), oldest first: what screens show as done, waiting to sync."""
        user = self.current_user
        if user is None:
            return []
        events = self.outbox.events(self.namespace, user.id, status="queued")
        return [e for e in events if fn is None or e.fn == fn]

    @property
    def refused(self) -> list[OutboxEvent]:
        user = self.current_user
        return self.outbox.refused(self.namespace, user.id) if user else []

    @property
    def status(self) -> SyncStatus:
        user, link = self.current_user, self.link
        return SyncStatus(
            online=link.online,
            offline_since=link.offline_since,
            as_of=link.as_of,
            pending=self.outbox.count(self.namespace, user.id) if user else 0,
            refused=self.outbox.count(self.namespace, user.id, "refused") if user else 0,
            sign_in_needed=link.sign_in_needed,
            last_error=link.last_error,
        )

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """`listener(status)` after every change; returns a function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def notify(self) -> None:
        """Tell the listeners the status, if it changed since they were last told."""
        status = self.status
        if status == self._last_status:
            return
        self._last_status = status
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:  # a listener's failure must not break a call
                log.exception("sync status listener failed")

    def cached(self, fn: str, **args: Any) -> CachedRead | None:
        """The last result of a read for the learner signed in here, without asking the
        backend: what start-up paints while the backend starts (labelled "as of …")."""
        user = self.inner.current_user or self.remembered_user()
        if user is None or fn not in CACHED_READS:
            return None
        return self.cache.get(f"{self.namespace}|{user.id}", fn, args)

    def dismiss_refused(self, event_ids: list[str] | None = None) -> None:
        ids = event_ids if event_ids is not None else [e.event_id for e in self.refused]
        self.outbox.dismiss(ids)
        self.notify()

    def retry_refused(self, event_ids: list[str] | None = None) -> None:
        ids = event_ids if event_ids is not None else [e.event_id for e in self.refused]
        self.outbox.requeue(ids)
        self.notify()
        self.wake()

    # -- what the calls and the replay saw ---------------------------------------

    def note_reached(self, *, notify: bool = True) -> None:
        """The backend answered (listeners told when it was offline until now)."""
        if self.link.reached() or notify:
            self.notify()

    def note_unreachable(self, error: LearnError) -> None:
        """The backend could not answer: offline until a try after the backoff."""
        self.link.lost(error)
        self.notify()
        self.wake()

    def remember_user(self) -> None:
        """Keep who is signed in, to carry on offline as them after a restart."""
        user = self.inner.current_user
        if user is not None:
            self.cache.remember_user(self.namespace, user)

    def remembered_user(self) -> CurrentUser | None:
        return self.cache.remembered_user(self.namespace)

    # -- reads -----------------------------------------------------------------

    def _read_scope(self) -> str:
        user = self.current_user
        return f"{self.namespace}|{user.id if user else 'anon'}"

    def _from_cache(self, fn: str, args: dict[str, Any]) -> CachedRead | None:
        cached = self.cache.get(self._read_scope(), fn, args)
        if cached is not None:
            self.link.as_of = cached.fetched_at
            self.notify()
        return cached

    async def _read(self, fn: str, args: dict[str, Any], *, fallback: bool = True) -> Any:
        if fallback and self.link.waiting_to_retry():
            cached = self._from_cache(fn, args)
            if cached is not None:
                return cached.result
        try:
            result = await self.inner.call(fn, **args)
        except Exception as exc:
            error = errors.from_exception(exc, signed_in=self.current_user is not None)
            if not is_unreachable(error):
                reraise(error, exc)
            self.note_unreachable(error)
            cached = self._from_cache(fn, args) if fallback else None
            if cached is None:
                if not fallback:
                    reraise(error, exc)
                raise Offline(
                    "You're offline, and this was not saved on this machine: open "
                    "it once while online, or make its course available offline "
                    "(a on the course)."
                ) from exc
            return cached.result
        self.cache.put(self._read_scope(), fn, args, result)
        self.remember_user()
        self.note_reached()
        return result

    async def fetch(self, fn: str, **args: Any) -> Any:
        """A read from the server (never the cache) that fills the cache: downloads."""
        return await self._read(fn, args, fallback=False)

    async def _direct(self, fn: str, args: dict[str, Any]) -> Any:
        try:
            result = await self.inner.call(fn, **args)
        except Exception as exc:
            error = errors.from_exception(exc, signed_in=self.current_user is not None)
            if is_unreachable(error):
                self.note_unreachable(error)
            reraise(error, exc)
        self.note_reached()
        return result

    # -- writes ------------------------------------------------------------------

    async def _write(self, user: CurrentUser, fn: str, args: dict[str, Any]) -> Any:
        args = dict(args)
        args["p_event_id"] = str(args.get("p_event_id") or uuid.uuid4())
        occurred = args.get("p_occurred_at") or utcnow()
        args["p_occurred_at"] = iso(occurred) if isinstance(occurred, datetime) else occurred
        event = self.outbox.append(self.namespace, user.id, fn, args)
        link = self.link
        if event.status == "queued" and not link.waiting_to_retry() and not link.sign_in_needed:
            report = await self.flush(until=event.event_id)
            if report.error_for.get(event.event_id) is not None:
                raise report.error_for[event.event_id]
            event = self.outbox.get(event.event_id) or event
        else:
            self.notify()
            self.wake()
        if event.status == "sent":
            return event.result
        if event.status == "refused":
            raise event.error()
        return {"queued": True, "event_id": event.event_id, "achievements": []}

    # -- sending the queue (services.offline.replay) ------------------------------

    async def flush(self, *, until: str | None = None) -> ReplayReport:
        """Send the signed-in learner's queued writes, in order (see Replayer.flush)."""
        return await self.replayer.flush(until=until)

    def wake(self) -> None:
        """Make the background flusher look now (after a write, a sign-in, …)."""
        self.replayer.wake()

    async def probe(self) -> bool:
        """Is the backend back? Sends the queue if there is one, else one small read."""
        return await self.replayer.probe()

    async def sync_forever(self) -> None:
        """The background flusher: run it as a task (the app runs it as a worker)."""
        await self.replayer.sync_forever()

    async def _auth(self, action: Awaitable[T]) -> T:
        result = await action
        self.link.sign_in_needed = False
        self.link.connected_once = True
        self.remember_user()
        self.notify()
        self.wake()
        return result


if TYPE_CHECKING:

    def _is_a_backend(backend: OfflineBackend) -> Backend:
        return backend  # mypy: OfflineBackend has everything the Backend protocol asks
