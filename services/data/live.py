"""Live notifications: tell the app the moment a notification for its learner commits.

    watch = await backend.watch_notifications(on_event)   # LocalBackend / SupabaseBackend
    ...
    await watch.stop()

`on_event(LiveEvent)` is called on the event loop with the ids of new notifications,
or with `resync=True` whenever the feed (re)connects: something may have arrived while
it was down, so the app reads the notifications again (catch-up). The event carries
ids only; the app reads the rows through RLS (LearningAPI.notifications), so what it
shows is what the learner may read, whatever the feed said.

- Plain PostgreSQL: LISTEN learn_notifications on a dedicated autocommit connection
  (migration 20261205004000: the insert trigger NOTIFYs {"user_id", "id"}; NOTIFY has
  no RLS, hence ids only, and other learners' ids are dropped here).
- Supabase: Realtime postgres_changes on public.notifications filtered by user_id, on a
  channel per learner (SupabaseBackend.watch_notifications).

Both reconnect with backoff (1 s doubling to 30 s) and resync after every reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("learn.live")

CHANNEL = "learn_notifications"
APPLICATION_NAME = "learn-notifications"  # the listening connection, in pg_stat_activity
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class LiveEvent:
    ids: tuple[str, ...] = ()
    resync: bool = False  # (re)connected: read everything again


OnEvent = Callable[[LiveEvent], None]


class Watch:
    """A running feed; `stop()` ends it (idempotent)."""

    def __init__(self, task: asyncio.Task | None = None, stopper=None):
        self._task = task
        self._stopper = stopper
        self.connected: asyncio.Event | None = None  # set once the feed listens

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        stopper, self._stopper = self._stopper, None
        if stopper is not None:
            with contextlib.suppress(Exception):
                await stopper()


def _deliver(on_event: OnEvent, event: LiveEvent) -> None:
    try:
        on_event(event)
    except Exception:  # the app's handler must not end the feed
        log.exception("a live notification handler failed")


def parse_payload(payload: str, user_id: str) -> str | None:
    """The notification id in a NOTIFY payload if it is for `user_id`."""
    try:
        data = json.loads(payload)
        if str(data["user_id"]) == user_id:
            return str(data["id"])
    except (ValueError, KeyError, TypeError):
        log.debug("ignoring a malformed notification payload")
    return None


async def listen_postgres(
    url: str, user_id: str, on_event: OnEvent, *, connected: asyncio.Event | None = None
) -> None:
    """Run forever: LISTEN, resync on each (re)connect, pass on this learner's ids."""
    import psycopg

    delay = 1.0
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                url, autocommit=True, application_name=APPLICATION_NAME
            ) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                delay = 1.0
                _deliver(on_event, LiveEvent(resync=True))
                if connected is not None:
                    connected.set()
                async for notice in conn.notifies():
                    found = parse_payload(notice.payload, user_id)
                    if found:
                        _deliver(on_event, LiveEvent((found,)))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.debug("notification feed lost: %s", type(exc).__name__)
        if connected is not None:
            connected.clear()
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_BACKOFF)
