"""The outbox: the learner's writes, stored durably before anything is sent, then sent
in order and marked with what became of each.

    QUEUED_WRITES           the writes that are queued (they take p_event_id and
                            p_occurred_at, and the server is idempotent on the event id)
    EVENT_LABELS            what each write is called for the learner
    MAX_SERVER_ERRORS       server errors on one event before it is refused
    counts_towards_refusal(error)   whether a failure counts towards MAX_SERVER_ERRORS
    Outbox(path)            .append / .queued / .mark_sent / .mark_refused / .note_failure
                            / .count / .events / .refused / .dismiss / .requeue; the
                            replay lock (.try_lock_replay / .unlock_replay)
    OutboxEvent             one stored write (.label, .error())
    salvage_events(fresh, damaged)  copy what is readable from a damaged outbox file

The file is in paths.data_dir(): SQLite shared by every process (services.offline.store),
WAL, mode 0600.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from services import paths
from services.errors import (
    AuthError,
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
from services.offline.basics import canonical_json, iso, utcnow
from services.offline.store import SharedFile

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

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


def counts_towards_refusal(error: LearnError) -> bool:
    """A failure that counts towards refusing an event after MAX_SERVER_ERRORS tries."""
    return isinstance(error, (ServerError, UnexpectedError))


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

    def error(self) -> LearnError:
        """Why it was refused, as the error the server's answer was."""
        return _ERROR_KINDS.get(self.error_kind or "", LearnError)(self.reason)

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
            self.path, schema=self.SCHEMA, what="offline queue", salvage=salvage_events
        )
        self._run(
            "delete from events where status = 'sent' and updated_at < ?",
            (iso(utcnow() - self.KEEP_SENT),),
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
        now = iso(utcnow())
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
            (canonical_json(result), int(replayed), iso(utcnow()), event.event_id),
            durable=False,
        )

    def mark_refused(
        self, event: OutboxEvent, error: LearnError, *, dismissed: bool = False
    ) -> None:
        self._run(
            "update events set status = 'refused', reason = ?, error_kind = ?,"
            " dismissed = ?, updated_at = ? where event_id = ? and status = 'queued'",
            (str(error), type(error).__name__, int(dismissed), iso(utcnow()), event.event_id),
            durable=False,
        )

    def note_failure(self, event: OutboxEvent, error: LearnError) -> int:
        """A try that failed for a passing reason; returns the failures so far that count
        towards MAX_SERVER_ERRORS (server errors and unexpected ones, not the network)."""
        counts = counts_towards_refusal(error)
        self._run(
            "update events set attempts = attempts + ?, reason = ?, updated_at = ?"
            " where event_id = ? and status = 'queued'",
            (int(counts), str(error), iso(utcnow()), event.event_id),
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
        rows = [(iso(utcnow()), e) for e in event_ids]
        self._file.write(
            lambda db: db.executemany(
                "update events set dismissed = 1, updated_at = ? where event_id = ?"
                " and status = 'refused'",
                rows,
            )
        )

    def requeue(self, event_ids: list[str]) -> None:
        """Try refused events again (in their original place in the order)."""
        rows = [(iso(utcnow()), e) for e in event_ids]
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


def salvage_events(fresh: sqlite3.Connection, damaged: Path) -> int:
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
