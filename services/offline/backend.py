"""Offline-friendly backend: a read cache of RPC results and a durable outbox of writes.

    OfflineBackend(inner)   wraps any Backend (services.data.backend) with the same protocol,
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

Files: the cache is in paths.cache_dir() (disposable), the outbox in paths.data_dir()
(WAL, one transaction per state change; appends synchronous=FULL, see Outbox). Both are
SQLite, mode 0600.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from services import errors, paths
from services.data.backend import CurrentUser, json_default
from services.errors import (
    AuthError,
    ConfigError,
    Conflict,
    InvalidInput,
    LearnError,
    NotFound,
    NotSignedIn,
    Offline,
    PermissionDenied,
    ServerError,
    UnexpectedError,
)
from services.offline.store import SharedFile

if TYPE_CHECKING:
    from services.data.api import LearningAPI

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("learn.offline")

# Screen-shaped reads whose results are cached per user.
CACHED_READS = frozenset(
    {
        "catalog",
        "course_detail",
        "lesson_detail",
        "assessment_detail",
        "dashboard",
        "my_profile",
        "notifications_list",
        "chat_history_for",
        "search_lessons",
        "navigation",
        "review_queue",
        "review_summary",
        "review_card",
    }
)

# Writes that take p_event_id / p_occurred_at and are idempotent on the event id.
# start_attempt is not here: the screen needs the attempt id the server makes, and a
# replayed start would leave an attempt open that nobody submits.
QUEUED_WRITES = frozenset(
    {
        "enroll",
        "set_enrollment_status",
        "record_lesson_progress",
        "submit_attempt",
        "log_chat",
        "log_ai_interaction",
        "mark_notifications_read",
        "submit_feedback",
        "update_profile",
        "record_review",
        "finish_review_session",
    }
)

EVENT_LABELS = {
    "enroll": "Enrollment",
    "set_enrollment_status": "Course status change",
    "record_lesson_progress": "Lesson progress",
    "submit_attempt": "Assessment submission",
    "log_chat": "Tutor chat log",
    "log_ai_interaction": "Tutor usage log",
    "mark_notifications_read": "Notifications marked read",
    "submit_feedback": "Feedback",
    "update_profile": "Profile change",
    "record_review": "Review",
    "finish_review_session": "Review session",
}

# A ServerError this many times on one event: it is refused (kept, listed), so one
# event the server cannot take does not hold every later one back for ever.
MAX_SERVER_ERRORS = 8
# Writes replayed per transaction when the backend takes batches (LocalBackend).
REPLAY_BATCH = 50
# Seconds a replay waits for another process's replay of the same queue to finish.
REPLAY_LOCK_WAIT = 10.0

# The read the background flusher uses to see whether the backend is back.
PROBE_CALL = ("catalog", {"p_limit": 1})

_REFUSED = (PermissionDenied, InvalidInput, NotFound, Conflict)
_SESSION = (AuthError, NotSignedIn, ConfigError)


def _counts(error: LearnError) -> bool:
    """A failure that counts towards refusing an event after MAX_SERVER_ERRORS tries."""
    return isinstance(error, (ServerError, UnexpectedError))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces (the cache key of a call's arguments)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=json_default
    )


def is_unreachable(error: LearnError) -> bool:
    """The backend could not answer (network, DNS, timeouts, HTTP 5xx, a lost PostgreSQL
    connection): try again later. A bug of ours (UnexpectedError) is not."""
    return errors.is_unreachable(error)


# ---------------------------------------------------------------------------
# The read cache
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CachedRead:
    result: Any
    fetched_at: datetime


class ReadCache:
    """Results of read RPCs by (scope, fn, canonical JSON of the arguments).

    `scope` is the backend's namespace and the user id (or "anon"), so one learner
    never sees another's cached data, and two backends never mix."""

    SCHEMA = """
        create table if not exists reads (
          scope text not null, fn text not null, args text not null,
          result text not null, fetched_at text not null,
          primary key (scope, fn, args)) without rowid;
        create table if not exists meta (key text primary key, value text not null);
    """

    def __init__(self, path: Path | None = None):
        self.path = path or paths.cache_dir() / "reads.sqlite3"
        self._file = SharedFile(self.path, schema=self.SCHEMA, what="read cache")

    def _one(self, sql: str, params: tuple = ()) -> sqlite3.Row | None:
        return self._file.read(lambda db: db.execute(sql, params).fetchone())

    def _run(self, sql: str, params: tuple = ()) -> None:
        # A cache: a write lost in a power cut only means a fetch again.
        self._file.write(lambda db: db.execute(sql, params), durable=False)

    def get(self, scope: str, fn: str, args: dict[str, Any]) -> CachedRead | None:
        row = self._one(
            "select result, fetched_at from reads where scope = ? and fn = ? and args = ?",
            (scope, fn, canonical_json(args)),
        )
        if row is None:
            return None
        return CachedRead(json.loads(row["result"]), datetime.fromisoformat(row["fetched_at"]))

    def put(
        self,
        scope: str,
        fn: str,
        args: dict[str, Any],
        result: Any,
        fetched_at: datetime | None = None,
    ) -> None:
        self._run(
            "insert into reads (scope, fn, args, result, fetched_at) values (?, ?, ?, ?, ?)"
            " on conflict (scope, fn, args) do update set result = excluded.result,"
            " fetched_at = excluded.fetched_at",
            (scope, fn, canonical_json(args), canonical_json(result), _iso(fetched_at or utcnow())),
        )

    def count(self, scope: str | None = None) -> int:
        if scope is None:
            row = self._one("select count(*) from reads")
        else:
            row = self._one("select count(*) from reads where scope = ?", (scope,))
        return row[0] if row else 0

    def clear(self, scope: str | None = None) -> None:
        if scope is None:
            self._run("delete from reads")
        else:
            self._run("delete from reads where scope = ?", (scope,))

    def get_meta(self, key: str) -> str | None:
        row = self._one("select value from meta where key = ?", (key,))
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        if value is None:
            self._run("delete from meta where key = ?", (key,))
        else:
            self._run(
                "insert into meta values (?, ?) on conflict (key) do update"
                " set value = excluded.value",
                (key, value),
            )

    def close(self) -> None:
        self._file.close()


# ---------------------------------------------------------------------------
# The outbox
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxEvent:
    seq: int
    event_id: str
    scope: str
    user_id: str
    fn: str
    args: dict[str, Any]
    occurred_at: datetime
    status: str  # queued | sent | refused
    attempts: int = 0  # ServerErrors so far
    reason: str | None = None  # why it was refused (or the last failure)
    error_kind: str | None = None
    result: Any = None
    replayed: bool = False  # the server had applied it before (a replay)
    dismissed: bool = False

    @property
    def label(self) -> str:
        return EVENT_LABELS.get(self.fn, self.fn.replace("_", " ").capitalize())

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> OutboxEvent:
        return cls(
            seq=row["seq"],
            event_id=row["event_id"],
            scope=row["scope"],
            user_id=row["user_id"],
            fn=row["fn"],
            args=json.loads(row["args"]),
            occurred_at=datetime.fromisoformat(row["occurred_at"]),
            status=row["status"],
            attempts=row["attempts"],
            reason=row["reason"],
            error_kind=row["error_kind"],
            result=json.loads(row["result"]) if row["result"] else None,
            replayed=bool(row["replayed"]),
            dismissed=bool(row["dismissed"]),
        )


class Outbox:
    """Writes waiting for the server, in the order the learner made them.

    Every state change is one SQLite transaction (BEGIN IMMEDIATE) in WAL mode, on the
    one connection this process has to the file (services.offline.store): any number of
    `learn` processes share the queue, and an event queued by one is seen by the others
    at once. `append` commits with synchronous=FULL: once it returns, the learner's
    write survives a crash or a power cut. The marks after a reply (sent, refused, a
    failed try) commit with synchronous=NORMAL: they survive a killed process, and a
    power cut can at worst lose the last few of them — which only means those events
    are sent again, and the server answers `replayed: true` (or refuses again) without
    applying anything twice. That halves the fsyncs of a replay.

    A damaged file is moved aside (services.offline.store); the events still readable in
    it are copied into the fresh one."""

    SCHEMA = """
        create table if not exists events (
          seq integer primary key autoincrement,
          event_id text not null unique,
          scope text not null,
          user_id text not null,
          fn text not null,
          args text not null,
          occurred_at text not null,
          status text not null default 'queued'
            check (status in ('queued', 'sent', 'refused')),
          attempts integer not null default 0,
          reason text,
          error_kind text,
          result text,
          replayed integer not null default 0,
          dismissed integer not null default 0,
          created_at text not null,
          updated_at text not null
        );
        create index if not exists events_by_status on events (scope, user_id, status, seq);
    """
    KEEP_SENT = timedelta(days=30)

    def __init__(self, path: Path | None = None):
        self.path = path or paths.data_dir() / "outbox.sqlite3"
        self._file = SharedFile(
            self.path, schema=self.SCHEMA, what="offline queue", salvage=_salvage_events
        )
        self._run(
            "delete from events where status = 'sent' and updated_at < ?",
            (_iso(utcnow() - self.KEEP_SENT),),
            durable=False,
        )
        self._replay_lock_fd: int | None = None

    def _one(self, sql: str, params: tuple = ()) -> sqlite3.Row | None:
        return self._file.read(lambda db: db.execute(sql, params).fetchone())

    def _all(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        return self._file.read(lambda db: db.execute(sql, params).fetchall())

    def _run(self, sql: str, params: tuple = (), *, durable: bool = True) -> None:
        self._file.write(lambda db: db.execute(sql, params), durable=durable)

    # -- one replay at a time, across processes ---------------------------------------

    def try_lock_replay(self) -> bool:
        """Take the replay lock (an flock on `<outbox>.replay`) if no other process holds
        it. Two replays at once would be safe (the server keeps one result per event
        id) but send everything twice; one at a time sends each event once."""
        if fcntl is None:
            return True
        if self._replay_lock_fd is not None:
            return True
        fd = os.open(f"{self.path}.replay", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._replay_lock_fd = fd
        return True

    def unlock_replay(self) -> None:
        fd, self._replay_lock_fd = self._replay_lock_fd, None
        if fd is not None:
            os.close(fd)  # closing releases the flock

    def append(self, scope: str, user_id: str, fn: str, args: dict[str, Any]) -> OutboxEvent:
        """Store a write (args must hold p_event_id and p_occurred_at). Appending an
        event id that is already stored changes nothing and returns the stored one."""
        event_id = str(args["p_event_id"])
        now = _iso(utcnow())
        self._run(
            "insert into events (event_id, scope, user_id, fn, args, occurred_at,"
            " created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)"
            " on conflict (event_id) do nothing",
            (
                event_id,
                scope,
                user_id,
                fn,
                canonical_json(args),
                str(args["p_occurred_at"]),
                now,
                now,
            ),
        )
        event = self.get(event_id)
        assert event is not None  # inserted now, or there already
        return event

    def get(self, event_id: str) -> OutboxEvent | None:
        row = self._one("select * from events where event_id = ?", (event_id,))
        return OutboxEvent.from_row(row) if row else None

    def next_queued(self, scope: str, user_id: str) -> OutboxEvent | None:
        row = self._one(
            "select * from events where scope = ? and user_id = ?"
            " and status = 'queued' order by seq limit 1",
            (scope, user_id),
        )
        return OutboxEvent.from_row(row) if row else None

    def queued(self, scope: str, user_id: str, limit: int) -> list[OutboxEvent]:
        """The next `limit` queued events, oldest first."""
        rows = self._all(
            "select * from events where scope = ? and user_id = ? and status = 'queued'"
            " order by seq limit ?",
            (scope, user_id, limit),
        )
        return [OutboxEvent.from_row(row) for row in rows]

    def mark_sent(self, event: OutboxEvent, result: Any) -> None:
        replayed = isinstance(result, dict) and bool(result.get("replayed"))
        self._run(
            "update events set status = 'sent', result = ?, replayed = ?, reason = null,"
            " updated_at = ? where event_id = ? and status = 'queued'",
            (canonical_json(result), int(replayed), _iso(utcnow()), event.event_id),
            durable=False,
        )

    def mark_refused(
        self, event: OutboxEvent, error: LearnError, *, dismissed: bool = False
    ) -> None:
        self._run(
            "update events set status = 'refused', reason = ?, error_kind = ?,"
            " dismissed = ?, updated_at = ? where event_id = ? and status = 'queued'",
            (str(error), type(error).__name__, int(dismissed), _iso(utcnow()), event.event_id),
            durable=False,
        )

    def note_failure(self, event: OutboxEvent, error: LearnError) -> int:
        """A try that failed for a passing reason; returns the failures so far that count
        towards MAX_SERVER_ERRORS (server errors and unexpected ones, not the network)."""
        counts = _counts(error)
        self._run(
            "update events set attempts = attempts + ?, reason = ?, updated_at = ?"
            " where event_id = ? and status = 'queued'",
            (int(counts), str(error), _iso(utcnow()), event.event_id),
            durable=False,
        )
        return event.attempts + int(counts)

    def count(self, scope: str, user_id: str | None = None, status: str = "queued") -> int:
        sql = "select count(*) from events where scope = ? and status = ?"
        params: tuple = (scope, status)
        if user_id is not None:
            sql += " and user_id = ?"
            params += (user_id,)
        if status == "refused":
            sql += " and not dismissed"
        row = self._one(sql, params)
        return row[0] if row else 0

    def count_by_status(self) -> dict[str, int]:
        """Events of every learner and backend by status (refused: not dismissed)."""
        rows = self._all(
            "select status, count(*) from events"
            " where status != 'refused' or not dismissed group by status"
        )
        return {row[0]: row[1] for row in rows}

    def events(
        self,
        scope: str,
        user_id: str | None = None,
        *,
        status: str | None = None,
        include_dismissed: bool = False,
    ) -> list[OutboxEvent]:
        sql, params = "select * from events where scope = ?", [scope]
        if user_id is not None:
            sql += " and user_id = ?"
            params.append(user_id)
        if status is not None:
            sql += " and status = ?"
            params.append(status)
        if not include_dismissed:
            sql += " and not dismissed"
        return [OutboxEvent.from_row(r) for r in self._all(sql + " order by seq", params)]

    def refused(self, scope: str, user_id: str | None = None) -> list[OutboxEvent]:
        return self.events(scope, user_id, status="refused")

    def dismiss(self, event_ids: list[str]) -> None:
        """The learner has read why these were refused: stop listing them (they stay)."""
        rows = [(_iso(utcnow()), e) for e in event_ids]
        self._file.write(
            lambda db: db.executemany(
                "update events set dismissed = 1, updated_at = ? where event_id = ?"
                " and status = 'refused'",
                rows,
            )
        )

    def requeue(self, event_ids: list[str]) -> None:
        """Try refused events again (in their original place in the order)."""
        rows = [(_iso(utcnow()), e) for e in event_ids]
        self._file.write(
            lambda db: db.executemany(
                "update events set status = 'queued', attempts = 0, dismissed = 0,"
                " updated_at = ? where event_id = ? and status = 'refused'",
                rows,
            )
        )

    def close(self) -> None:
        self.unlock_replay()
        self._file.close()


def _salvage_events(fresh: sqlite3.Connection, damaged: Path) -> int:
    """Copy the events still readable in a damaged outbox into the fresh one (row by row,
    skipping what cannot be read); returns how many were copied."""
    old = sqlite3.connect(f"file:{damaged}?mode=ro", uri=True)
    copied = 0
    try:
        old.row_factory = sqlite3.Row
        cursor = old.execute("select * from events order by seq")
        columns = [c[0] for c in cursor.description]
        marks = ", ".join("?" * len(columns))
        fresh.execute("begin immediate")
        try:
            while True:
                try:
                    row = cursor.fetchone()
                except sqlite3.DatabaseError:
                    break
                if row is None:
                    break
                copied += fresh.execute(
                    f"insert into events ({', '.join(columns)}) values ({marks})"
                    " on conflict do nothing",
                    tuple(row),
                ).rowcount
            fresh.execute("commit")
        except BaseException:
            fresh.execute("rollback")
            raise
    finally:
        old.close()
    return copied


# ---------------------------------------------------------------------------
# Status the UI shows
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncStatus:
    online: bool = True
    offline_since: datetime | None = None
    as_of: datetime | None = None  # when the cached data on show was fetched
    pending: int = 0  # writes waiting to be sent
    refused: int = 0  # refused writes not yet dismissed
    sign_in_needed: bool = False  # replay stopped: the session is gone
    last_error: str | None = None

    def describe(self) -> str:
        """One short line for a status bar, or "" when there is nothing to say."""
        parts = []
        if not self.online:
            parts.append(f"offline — as of {_clock(self.as_of)}" if self.as_of else "offline")
        if self.sign_in_needed:
            parts.append("sign in again to sync")
        if self.pending:
            parts.append(f"{self.pending} waiting")
        if self.refused:
            parts.append(f"{self.refused} refused")
        return " · ".join(parts)


def _clock(moment: datetime) -> str:
    local = moment.astimezone()
    if local.date() == datetime.now().astimezone().date():
        return local.strftime("%H:%M")
    return local.strftime("%d %b %H:%M")


@dataclass
class FlushReport:
    """What one replay did (`learn sync` prints it)."""

    sent: int = 0  # applied by the server now
    already_applied: int = 0  # the server had applied them before (replayed)
    refused: list[OutboxEvent] = field(default_factory=list)
    waiting: int = 0  # still queued for this user
    stopped: str | None = None  # why replay stopped early, if it did

    @property
    def clean(self) -> bool:
        return not self.refused and not self.waiting


Listener = Callable[[SyncStatus], None]


# ---------------------------------------------------------------------------
# The wrapper
# ---------------------------------------------------------------------------


class OfflineBackend:
    """Any Backend, made to keep working without the server (see the module's top).

    `backoff=(first, longest)` seconds between tries while the backend is unreachable
    (doubling, with jitter); `idle=` seconds between checks for queued events while
    online (a safety net: writes and sign-ins wake the flusher at once)."""

    def __init__(
        self,
        inner: Any,
        *,
        cache: ReadCache | None = None,
        outbox: Outbox | None = None,
        backoff: tuple[float, float] = (1.0, 30.0),
        idle: float = 30.0,
    ):
        self.inner = inner
        self.cache = cache if cache is not None else ReadCache()
        self.outbox = outbox if outbox is not None else Outbox()
        self._backoff = backoff
        self._idle = idle
        self._online = True
        self._offline_since: datetime | None = None
        self._as_of: datetime | None = None
        self._failures = 0
        self._retry_at = 0.0
        self._sign_in_needed = False
        self._last_error: str | None = None
        self._listeners: list[Listener] = []
        self._last_status: SyncStatus | None = None
        self._flush_lock: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None
        self._connected_once = False
        self._namespace: tuple[Any, str] | None = None

    # -- the Backend protocol ------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        # Backend-specific extras (describe, local_profiles, sign_in_profile, client, …).
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"OfflineBackend({self.inner!r})"

    @property
    def kind(self) -> str:
        return self.inner.kind

    @property
    def namespace(self) -> str:
        inner = self.inner
        if self._namespace is None or self._namespace[0] is not inner:
            self._namespace = (inner, str(getattr(inner, "namespace", inner.kind)))
        return self._namespace[1]

    @property
    def current_user(self) -> CurrentUser | None:
        user = self.inner.current_user
        if user is None and not self._connected_once and not self._online:
            return self._remembered_user()
        return user

    async def connect(self) -> None:
        """Connect the inner backend. Unreachable, but a learner was signed in here
        before: carry on offline as them (reads from the cache, writes queued)."""
        try:
            await self.inner.connect()
        except Exception as exc:
            error = errors.from_exception(exc)
            if not is_unreachable(error) or self._remembered_user() is None:
                _reraise(error, exc)
            self._went_offline(error)
            return
        self._connected_once = True
        self._remember_user()
        self._notify()

    async def call(self, fn: str, **args: Any) -> Any:
        user = self.current_user
        if fn in QUEUED_WRITES and user is not None:
            return await self._write(user, fn, args)
        if fn in CACHED_READS:
            return await self._read(fn, args)
        return await self._direct(fn, args)

    async def sign_up(self, *args: Any, **kw: Any) -> Any:
        return await self._auth(self.inner.sign_up(*args, **kw))

    async def sign_in(self, email: str, password: str) -> Any:
        return await self._auth(self.inner.sign_in(email, password))

    async def verify_otp(self, email: str, token: str) -> Any:
        return await self._auth(self.inner.verify_otp(email, token))

    async def sign_in_with_otp(self, email: str) -> None:
        await self.inner.sign_in_with_otp(email)

    async def reset_password(self, email: str) -> None:
        await self.inner.reset_password(email)

    async def sign_out(self) -> None:
        await self.inner.sign_out()
        self.cache.set_meta(self._user_key, None)
        self._sign_in_needed = False
        self._notify()

    async def close(self) -> None:
        try:
            await self.inner.close()
        finally:
            self.cache.close()
            self.outbox.close()

    # -- status --------------------------------------------------------------

    @property
    def online(self) -> bool:
        return self._online

    @property
    def offline_since(self) -> datetime | None:
        return self._offline_since

    @property
    def as_of(self) -> datetime | None:
        return self._as_of

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
        user = self.current_user
        return SyncStatus(
            online=self._online,
            offline_since=self._offline_since,
            as_of=self._as_of,
            pending=self.outbox.count(self.namespace, user.id) if user else 0,
            refused=self.outbox.count(self.namespace, user.id, "refused") if user else 0,
            sign_in_needed=self._sign_in_needed,
            last_error=self._last_error,
        )

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """`listener(status)` after every change; returns a function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self) -> None:
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
        user = self.inner.current_user or self._remembered_user()
        if user is None or fn not in CACHED_READS:
            return None
        return self.cache.get(f"{self.namespace}|{user.id}", fn, args)

    def dismiss_refused(self, event_ids: list[str] | None = None) -> None:
        ids = event_ids if event_ids is not None else [e.event_id for e in self.refused]
        self.outbox.dismiss(ids)
        self._notify()

    def retry_refused(self, event_ids: list[str] | None = None) -> None:
        ids = event_ids if event_ids is not None else [e.event_id for e in self.refused]
        self.outbox.requeue(ids)
        self._notify()
        self.wake()

    # -- online / offline ------------------------------------------------------

    def _went_online(self, *, notify: bool = True) -> None:
        self._failures = 0
        self._retry_at = 0.0
        self._last_error = None
        if not self._online:
            self._online = True
            self._offline_since = None
            self._as_of = None
            log.info("backend reachable again")
            notify = True
        if notify:
            self._notify()

    def _went_offline(self, error: LearnError) -> None:
        self._failures += 1
        first, longest = self._backoff
        delay = min(longest, first * 2 ** min(self._failures - 1, 20))
        delay *= random.uniform(0.8, 1.2)
        self._retry_at = time.monotonic() + delay
        self._last_error = str(error)
        if self._online:
            self._online = False
            self._offline_since = utcnow()
            log.info("backend unreachable: %s", error)
        self._notify()
        self.wake()

    def _waiting_to_retry(self) -> bool:
        return not self._online and time.monotonic() < self._retry_at

    # -- reads -----------------------------------------------------------------

    @property
    def _user_key(self) -> str:
        return f"user:{self.namespace}"

    def _remember_user(self) -> None:
        user = self.inner.current_user
        if user is not None:
            value = json.dumps({"id": user.id, "email": user.email})
            if self.cache.get_meta(self._user_key) != value:
                self.cache.set_meta(self._user_key, value)

    def _remembered_user(self) -> CurrentUser | None:
        raw = self.cache.get_meta(self._user_key)
        try:
            data = json.loads(raw) if raw else None
            return CurrentUser(data["id"], data.get("email")) if data else None
        except (ValueError, KeyError, TypeError):
            return None

    def _read_scope(self) -> str:
        user = self.current_user
        return f"{self.namespace}|{user.id if user else 'anon'}"

    def _from_cache(self, fn: str, args: dict[str, Any]) -> CachedRead | None:
        cached = self.cache.get(self._read_scope(), fn, args)
        if cached is not None:
            self._as_of = cached.fetched_at
            self._notify()
        return cached

    async def _read(self, fn: str, args: dict[str, Any], *, fallback: bool = True) -> Any:
        if fallback and self._waiting_to_retry():
            cached = self._from_cache(fn, args)
            if cached is not None:
                return cached.result
        try:
            result = await self.inner.call(fn, **args)
        except Exception as exc:
            error = errors.from_exception(exc, signed_in=self.current_user is not None)
            if not is_unreachable(error):
                _reraise(error, exc)
            self._went_offline(error)
            cached = self._from_cache(fn, args) if fallback else None
            if cached is None:
                if not fallback:
                    _reraise(error, exc)
                raise Offline(
                    "You're offline, and this was not saved on this machine: open "
                    "it once while online, or make its course available offline "
                    "(a on the course)."
                ) from exc
            return cached.result
        self.cache.put(self._read_scope(), fn, args, result)
        self._remember_user()
        self._went_online()
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
                self._went_offline(error)
            _reraise(error, exc)
        self._went_online()
        return result

    # -- writes ------------------------------------------------------------------

    async def _write(self, user: CurrentUser, fn: str, args: dict[str, Any]) -> Any:
        args = dict(args)
        args["p_event_id"] = str(args.get("p_event_id") or uuid.uuid4())
        occurred = args.get("p_occurred_at") or utcnow()
        args["p_occurred_at"] = _iso(occurred) if isinstance(occurred, datetime) else occurred
        event = self.outbox.append(self.namespace, user.id, fn, args)
        if event.status == "queued" and not self._waiting_to_retry() and not self._sign_in_needed:
            report = await self.flush(until=event.event_id)
            if report.error_for.get(event.event_id) is not None:
                raise report.error_for[event.event_id]
            event = self.outbox.get(event.event_id) or event
        else:
            self._notify()
            self.wake()
        if event.status == "sent":
            return event.result
        if event.status == "refused":
            raise _error_of(event)
        return {"queued": True, "event_id": event.event_id, "achievements": []}

    async def flush(self, *, until: str | None = None) -> _Flush:
        """Send the signed-in learner's queued writes, in order, one at a time.

        Stops when the backend is unreachable or the session is gone (events stay
        queued), or once `until` (an event id) has been dealt with."""
        if self._flush_lock is None:
            self._flush_lock = asyncio.Lock()
        report = _Flush()
        async with self._flush_lock:
            await self._wait_for_replay_lock()
            try:
                await self._replay(report, until)
            finally:
                self.outbox.unlock_replay()
        user = self.current_user
        report.waiting = self.outbox.count(self.namespace, user.id) if user else 0
        self._notify()
        return report

    async def _wait_for_replay_lock(self) -> None:
        """Wait (up to REPLAY_LOCK_WAIT) while another process sends this queue, so each
        event goes once; then go ahead regardless: the server keeps one result per event
        id, so a replay at the same time as another costs time, never a double record."""
        deadline = time.monotonic() + REPLAY_LOCK_WAIT
        while not self.outbox.try_lock_replay():
            if time.monotonic() >= deadline:
                log.info("another process holds the replay lock: sending anyway")
                return
            await asyncio.sleep(0.05)

    async def _replay(self, report: _Flush, until: str | None) -> None:
        try:
            await self.inner.connect()
        except Exception as exc:
            error = errors.from_exception(exc)
            report.stopped = str(error)
            if is_unreachable(error):
                self._went_offline(error)
            return
        self._connected_once = True
        user = self.inner.current_user
        if user is None:
            if self._remembered_user() and self.outbox.count(self.namespace):
                self._sign_in_needed = True
                report.stopped = "sign in again to send the waiting changes"
            return
        self._remember_user()
        self._sign_in_needed = False
        # A backend that can (the local one) takes the queue in batches: one
        # transaction, one commit per batch, each write in its own savepoint.
        # (Looked up on the class: a wrapper that delegates attributes does not count.)
        size = REPLAY_BATCH if callable(getattr(type(self.inner), "call_batch", None)) else 1
        while True:
            events = self.outbox.queued(self.namespace, user.id, size)
            if not events:
                return
            outcomes: list[Any]
            try:
                if len(events) > 1:
                    outcomes = await self.inner.call_batch([(e.fn, e.args) for e in events])
                else:
                    outcomes = [await self.inner.call(events[0].fn, **events[0].args)]
            except Exception as exc:  # nothing of the batch was applied
                events, outcomes = events[:1], [exc]
            for event, outcome in zip(events, outcomes, strict=True):
                if self._settle(report, event, outcome, until):
                    return

    def _settle(self, report: _Flush, event: OutboxEvent, outcome: Any, until: str | None) -> bool:
        """Record what became of one event; True when the replay must stop here."""
        if isinstance(outcome, BaseException):
            error = errors.from_exception(outcome, signed_in=True)
            if isinstance(error, _SESSION):
                self._sign_in_needed = True
                self._last_error = str(error)
                report.stopped = str(error)
                return True
            unreachable = is_unreachable(error)
            mine = event.event_id == until
            # A failure the server answered (not a sign that it is unreachable) refuses
            # the caller's own event at once: "not saved" is then true, and nothing of it
            # is sent behind the learner's back later.
            if (
                isinstance(error, _REFUSED)
                or (mine and not unreachable)
                or (_counts(error) and self.outbox.note_failure(event, error) >= MAX_SERVER_ERRORS)
            ):
                # The caller waiting for this very event is told at once; anything
                # else is listed for the learner.
                self.outbox.mark_refused(event, error, dismissed=mine)
                log.info("event %s (%s) refused: %s", event.event_id, event.fn, error)
                if mine:
                    report.error_for[event.event_id] = error
                    return True
                report.refused.append(self.outbox.get(event.event_id) or event)
                return False
            report.stopped = str(error)
            if not unreachable:
                # A database error with an answer, or a bug of ours: the event stays
                # queued (counted towards MAX_SERVER_ERRORS) for the next try; the app
                # stays online.
                self._last_error = str(error)
                return True
            if not _counts(error):
                self.outbox.note_failure(event, error)
            self._went_offline(error)
            return True
        self.outbox.mark_sent(event, outcome)
        if isinstance(outcome, dict) and outcome.get("replayed"):
            report.already_applied += 1
        else:
            report.sent += 1
        # The status bar counts down, without a count query after every event.
        self._went_online(notify=(report.sent + report.already_applied) % 25 == 0)
        return event.event_id == until

    # -- the background flusher ------------------------------------------------------

    def wake(self) -> None:
        """Make the background flusher look now (after a write, a sign-in, …)."""
        if self._wake is not None:
            self._wake.set()

    async def probe(self) -> bool:
        """Is the backend back? Sends the queue if there is one, else one small read."""
        user = self.current_user
        if user is not None and self.outbox.count(self.namespace, user.id):
            report = await self.flush()
            return self._online and report.stopped is None
        try:
            await self.inner.connect()
            fn, args = PROBE_CALL
            await self.inner.call(fn, **args)
        except Exception as exc:
            error = errors.from_exception(exc)
            if is_unreachable(error):
                self._went_offline(error)
                return False
            _reraise(error, exc)
        self._connected_once = True
        self._went_online()
        return True

    async def sync_forever(self) -> None:
        """The background flusher: run it as a task (the app runs it as a worker).

        Offline: try again after the backoff (waking it does not shorten that: it would
        hammer a server that is down). Online: send whatever is queued."""
        self._wake = asyncio.Event()
        while True:
            try:
                again = await self._sync_step()
            except Exception as exc:  # the flusher must outlive any one failure
                error = errors.from_exception(exc)  # an unexpected one is logged
                self._last_error = str(error)
                again = False
            if not again:
                await self._sleep(self._idle)

    async def _sync_step(self) -> bool:
        """One look of the flusher; True to look again at once."""
        assert self._wake is not None
        if not self._online:
            await asyncio.sleep(max(0.0, self._retry_at - time.monotonic()))
            self._wake.clear()
            with contextlib.suppress(LearnError):
                await self.probe()
            return True
        if self._sign_in_needed and self.inner.current_user is None:
            return False
        if self.pending_count:
            with contextlib.suppress(LearnError):
                report = await self.flush()
                if report.waiting and self._online and report.stopped is None:
                    return True
        return False

    async def _sleep(self, seconds: float) -> None:
        assert self._wake is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()

    async def _auth(self, action: Any) -> Any:
        result = await action
        self._sign_in_needed = False
        self._connected_once = True
        self._remember_user()
        self._notify()
        self.wake()
        return result


def _reraise(error: LearnError, exc: BaseException) -> NoReturn:
    """Raise the mapped error, chained to the original unless it is the original."""
    if error is exc:
        raise error
    raise error from exc


@dataclass
class _Flush(FlushReport):
    error_for: dict[str, LearnError] = field(default_factory=dict)


_ERROR_KINDS: dict[str, type[LearnError]] = {
    cls.__name__: cls
    for cls in (
        PermissionDenied,
        InvalidInput,
        NotFound,
        Conflict,
        ServerError,
        AuthError,
        NotSignedIn,
        Offline,
        UnexpectedError,
    )
}


def _error_of(event: OutboxEvent) -> LearnError:
    return _ERROR_KINDS.get(event.error_kind or "", LearnError)(event.reason)


# ---------------------------------------------------------------------------
# "Make available offline"
# ---------------------------------------------------------------------------

DownloadProgress = Callable[[int, int, str], None]


@dataclass
class DownloadReport:
    course_id: str
    title: str
    lessons: int
    assessments: int


class _Fresh:
    """A Caller that reads from the server only (and fills the cache)."""

    def __init__(self, backend: OfflineBackend):
        self.backend = backend

    async def call(self, fn: str, **args: Any) -> Any:
        return await self.backend.fetch(fn, **args)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


async def download_course(
    backend: OfflineBackend, course: str, progress: DownloadProgress | None = None
) -> DownloadReport:
    """Fetch a course (by id or slug), all its lessons and assessments into the cache,
    with the arguments the screens use, so they open offline. `progress(done, total,
    what)` after each step. Raises Offline (nothing half-claimed) if the server is
    unreachable."""
    from services.data.api import LearningAPI

    api: LearningAPI = LearningAPI(_Fresh(backend))
    say = progress or (lambda _done, _total, _what: None)
    if _is_uuid(course):
        detail = await api.course_detail(str(course))
    else:
        detail = await api.course_detail(slug=course)
        detail = await api.course_detail(detail.course.id)  # the key the screen reads
    items = [("lesson", x.id, x.title) for x in detail.lessons]
    items += [("assessment", x.id, x.title) for x in detail.assessments]
    total = len(items) + 1
    say(1, total, detail.course.title)
    for done, (kind, ident, title) in enumerate(items, 2):
        if kind == "lesson":
            await api.lesson_detail(ident)
        else:
            await api.assessment_detail(ident)
        say(done, total, f"{kind}: {title}")
    return DownloadReport(
        detail.course.id, detail.course.title, len(detail.lessons), len(detail.assessments)
    )


def events_summary(events: list[OutboxEvent]) -> Iterator[str]:
    """One line per event: what, when (local time), why it was refused."""
    for event in events:
        when = event.occurred_at.astimezone().strftime("%Y-%m-%d %H:%M")
        yield f"{event.label} at {when}: {event.reason or event.status}"
