"""What the offline backend tells the app and `learn sync`: its status, what a replay did,
and the link state behind them.

    SyncStatus          online or offline (as of when), writes waiting and refused, sign in
                        again; .describe() is the status bar's line
    FlushReport         what one replay did (sent, already applied, refused, waiting, why
                        it stopped)
    Listener            listener(status), called by OfflineBackend after every change
    Link                the mutable state: reachable or not since when, the backoff before
                        the next try, the last error, whether the session is gone
    events_summary(events)  one line per event, for `learn sync`
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from services.errors import LearnError
from services.offline.basics import utcnow
from services.offline.outbox import OutboxEvent

log = logging.getLogger("learn.offline")


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


class Link:
    """What the offline backend knows of the backend behind it. OfflineBackend owns one
    and its replay (services.offline.replay) updates it; SyncStatus is read from it.

    `backoff=(first, longest)`: seconds before the next try while unreachable, doubling
    with each failure, with jitter."""

    def __init__(self, backoff: tuple[float, float] = (1.0, 30.0)):
        self.backoff = backoff
        self.online = True
        self.offline_since: datetime | None = None
        self.as_of: datetime | None = None  # when the cached data on show was fetched
        self.failures = 0
        self.retry_at = 0.0  # time.monotonic() of the next try while offline
        self.sign_in_needed = False
        self.last_error: str | None = None
        self.connected_once = False  # the backend was reached in this process

    def reached(self) -> bool:
        """The backend answered; True when it was unreachable until now."""
        self.failures = 0
        self.retry_at = 0.0
        self.last_error = None
        if self.online:
            return False
        self.online = True
        self.offline_since = None
        self.as_of = None
        log.info("backend reachable again")
        return True

    def lost(self, error: LearnError) -> None:
        """The backend could not answer: offline, next try after the backoff."""
        self.failures += 1
        first, longest = self.backoff
        delay = min(longest, first * 2 ** min(self.failures - 1, 20))
        delay *= random.uniform(0.8, 1.2)
        self.retry_at = time.monotonic() + delay
        self.last_error = str(error)
        if self.online:
            self.online = False
            self.offline_since = utcnow()
            log.info("backend unreachable: %s", error)

    def waiting_to_retry(self) -> bool:
        return not self.online and time.monotonic() < self.retry_at


def events_summary(events: list[OutboxEvent]) -> Iterator[str]:
    """One line per event: what, when (local time), why it was refused."""
    for event in events:
        when = event.occurred_at.astimezone().strftime("%Y-%m-%d %H:%M")
        yield f"{event.label} at {when}: {event.reason or event.status}"
