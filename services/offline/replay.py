"""Sending the outbox: the replay of the queued writes, in order, and the background
flusher that starts it whenever the backend is back or a write is waiting.

    Replayer(backend)       one per OfflineBackend (which delegates flush, wake, probe and
                            sync_forever to it)
    ReplayReport            a FlushReport, plus the error of the event the caller waits for
    REPLAY_BATCH            writes per transaction when the backend takes batches
    REPLAY_LOCK_WAIT        seconds to wait for another process's replay of the same queue
    PROBE_CALL              the small read that asks whether the backend is back

Why events leave the queue, and when replay stops: see services.offline.backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from services import errors
from services.data.protocol import can_batch
from services.errors import (
    AuthError,
    ConfigError,
    Conflict,
    InvalidInput,
    LearnError,
    NotFound,
    NotSignedIn,
    PermissionDenied,
)
from services.offline.basics import is_unreachable, reraise
from services.offline.outbox import MAX_SERVER_ERRORS, OutboxEvent, counts_towards_refusal
from services.offline.status import FlushReport

if TYPE_CHECKING:
    from services.offline.backend import OfflineBackend

log = logging.getLogger("learn.offline")

# Writes replayed per transaction when the backend takes batches (LocalBackend).
REPLAY_BATCH = 50
# Seconds a replay waits for another process's replay of the same queue to finish.
REPLAY_LOCK_WAIT = 10.0

# The read the background flusher uses to see whether the backend is back.
PROBE_CALL = ("catalog", {"p_limit": 1})

_REFUSED = (PermissionDenied, InvalidInput, NotFound, Conflict)
_SESSION = (AuthError, NotSignedIn, ConfigError)


@dataclass
class ReplayReport(FlushReport):
    error_for: dict[str, LearnError] = field(default_factory=dict)


class Replayer:
    """Sends one OfflineBackend's queue, and runs its background flusher.

    `idle=` seconds between checks for queued events while online (a safety net: writes
    and sign-ins wake the flusher at once)."""

    def __init__(self, backend: OfflineBackend, *, idle: float = 30.0):
        self.backend = backend
        self.idle = idle
        self._flush_lock: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None

    async def flush(self, *, until: str | None = None) -> ReplayReport:
        """Send the signed-in learner's queued writes, in order, one at a time.

        Stops when the backend is unreachable or the session is gone (events stay
        queued), or once `until` (an event id) has been dealt with."""
        backend = self.backend
        if self._flush_lock is None:
            self._flush_lock = asyncio.Lock()
        report = ReplayReport()
        async with self._flush_lock:
            await self._wait_for_replay_lock()
            try:
                await self._replay(report, until)
            finally:
                backend.outbox.unlock_replay()
        user = backend.current_user
        report.waiting = backend.outbox.count(backend.namespace, user.id) if user else 0
        backend.notify()
        return report

    async def _wait_for_replay_lock(self) -> None:
        """Wait (up to REPLAY_LOCK_WAIT) while another process sends this queue, so each
        event goes once; then go ahead regardless: the server keeps one result per event
        id, so a replay at the same time as another costs time, never a double record."""
        deadline = time.monotonic() + REPLAY_LOCK_WAIT
        while not self.backend.outbox.try_lock_replay():
            if time.monotonic() >= deadline:
                log.info("another process holds the replay lock: sending anyway")
                return
            await asyncio.sleep(0.05)

    async def _replay(self, report: ReplayReport, until: str | None) -> None:
        backend, link = self.backend, self.backend.link
        inner = backend.inner
        try:
            await inner.connect()
        except Exception as exc:
            error = errors.from_exception(exc)
            report.stopped = str(error)
            if is_unreachable(error):
                backend.note_unreachable(error)
            return
        link.connected_once = True
        user = inner.current_user
        if user is None:
            if backend.remembered_user() and backend.outbox.count(backend.namespace):
                link.sign_in_needed = True
                report.stopped = "sign in again to send the waiting changes"
            return
        backend.remember_user()
        link.sign_in_needed = False
        # A backend that can (the local one) takes the queue in batches: one
        # transaction, one commit per batch, each write in its own savepoint.
        batches = inner if can_batch(inner) else None
        size = REPLAY_BATCH if batches is not None else 1
        while True:
            events = backend.outbox.queued(backend.namespace, user.id, size)
            if not events:
                return
            outcomes: list[Any]
            try:
                if len(events) > 1 and batches is not None:
                    outcomes = await batches.call_batch([(e.fn, e.args) for e in events])
                else:
                    outcomes = [await inner.call(events[0].fn, **events[0].args)]
            except Exception as exc:  # nothing of the batch was applied
                events, outcomes = events[:1], [exc]
            for event, outcome in zip(events, outcomes, strict=True):
                if self._settle(report, event, outcome, until):
                    return

    def _settle(
        self, report: ReplayReport, event: OutboxEvent, outcome: Any, until: str | None
    ) -> bool:
        """Record what became of one event; True when the replay must stop here."""
        backend, link, outbox = self.backend, self.backend.link, self.backend.outbox
        if isinstance(outcome, BaseException):
            error = errors.from_exception(outcome, signed_in=True)
            if isinstance(error, _SESSION):
                link.sign_in_needed = True
                link.last_error = str(error)
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
                or (
                    counts_towards_refusal(error)
                    and outbox.note_failure(event, error) >= MAX_SERVER_ERRORS
                )
            ):
                # The caller waiting for this very event is told at once; anything
                # else is listed for the learner.
                outbox.mark_refused(event, error, dismissed=mine)
                log.info("event %s (%s) refused: %s", event.event_id, event.fn, error)
                if mine:
                    report.error_for[event.event_id] = error
                    return True
                report.refused.append(outbox.get(event.event_id) or event)
                return False
            report.stopped = str(error)
            if not unreachable:
                # A database error with an answer, or a bug of ours: the event stays
                # queued (counted towards MAX_SERVER_ERRORS) for the next try; the app
                # stays online.
                link.last_error = str(error)
                return True
            if not counts_towards_refusal(error):
                outbox.note_failure(event, error)
            backend.note_unreachable(error)
            return True
        outbox.mark_sent(event, outcome)
        if isinstance(outcome, dict) and outcome.get("replayed"):
            report.already_applied += 1
        else:
            report.sent += 1
        # The status bar counts down, without a count query after every event.
        backend.note_reached(notify=(report.sent + report.already_applied) % 25 == 0)
        return event.event_id == until

    # -- the background flusher ------------------------------------------------------

    def wake(self) -> None:
        """Make the background flusher look now (after a write, a sign-in, …)."""
        if self._wake is not None:
            self._wake.set()

    async def probe(self) -> bool:
        """Is the backend back? Sends the queue if there is one, else one small read."""
        backend = self.backend
        user = backend.current_user
        if user is not None and backend.outbox.count(backend.namespace, user.id):
            report = await self.flush()
            return backend.link.online and report.stopped is None
        try:
            await backend.inner.connect()
            fn, args = PROBE_CALL
            await backend.inner.call(fn, **args)
        except Exception as exc:
            error = errors.from_exception(exc)
            if is_unreachable(error):
                backend.note_unreachable(error)
                return False
            reraise(error, exc)
        backend.link.connected_once = True
        backend.note_reached()
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
                self.backend.link.last_error = str(error)
                again = False
            if not again:
                await self._sleep(self.idle)

    async def _sync_step(self) -> bool:
        """One look of the flusher; True to look again at once."""
        assert self._wake is not None
        backend, link = self.backend, self.backend.link
        if not link.online:
            await asyncio.sleep(max(0.0, link.retry_at - time.monotonic()))
            self._wake.clear()
            with contextlib.suppress(LearnError):
                await self.probe()
            return True
        if link.sign_in_needed and backend.inner.current_user is None:
            return False
        if backend.pending_count:
            with contextlib.suppress(LearnError):
                report = await self.flush()
                if report.waiting and link.online and report.stopped is None:
                    return True
        return False

    async def _sleep(self, seconds: float) -> None:
        assert self._wake is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()
