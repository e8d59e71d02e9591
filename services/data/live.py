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
  channel per learner (RealtimeWatch, made by SupabaseBackend.watch_notifications).

Both reconnect with backoff (1 s doubling to 30 s) and resync after every reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from realtime import AsyncRealtimeChannel

    from services.data.supabase import SupabaseBackend

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


class RealtimeWatch:
    """One learner's notifications channel on Supabase Realtime (see
    SupabaseBackend.watch_notifications); a services.data.live.Watch to the app."""

    def __init__(self, backend: SupabaseBackend, user_id: str, on_event: Callable[[Any], None]):
        self.backend, self.user_id, self.on_event = backend, user_id, on_event
        self.channel: AsyncRealtimeChannel | None = None
        self.subscribed = asyncio.Event()
        self._stopped = False
        self._tasks: set[asyncio.Task] = set()

    @property
    def running(self) -> bool:
        return not self._stopped

    async def start(self) -> None:
        await self.backend.realtime_token()
        client = self.backend.client
        if client is None:
            raise RuntimeError("RealtimeWatch: the backend is closed")
        channel = client.channel(f"learn-notifications:{self.user_id}")
        # realtime-py types the event as an enum; its documented form is the string
        channel.on_postgres_changes(
            "INSERT",  # type: ignore[arg-type]
            schema="public",
            table="notifications",
            filter=f"user_id=eq.{self.user_id}",
            callback=self._changed,
        )
        self.channel = channel
        await channel.subscribe(self._state)

    def _changed(self, payload: Any) -> None:
        record = ((payload or {}).get("data") or {}).get("record") or {}
        if record.get("id") and str(record.get("user_id")) == self.user_id:
            self._deliver(LiveEvent((str(record["id"]),)))

    def _deliver(self, event: Any) -> None:
        try:
            self.on_event(event)
        except Exception:
            log.exception("a live notification handler failed")

    def _state(self, status: Any, error: Exception | None) -> None:
        name = getattr(status, "value", str(status))
        if self._stopped:
            return
        if name == "SUBSCRIBED":
            self.subscribed.set()
            self._deliver(LiveEvent(resync=True))
            return
        self.subscribed.clear()
        text = str(error or "").lower()
        expired = any(word in text for word in ("token", "expired", "jwt"))
        if name == "CLOSED":  # the server ended the channel: join a new one
            self._spawn(self._resubscribe())
        elif name in ("CHANNEL_ERROR", "TIMED_OUT"):  # the client rejoins by itself:
            self._spawn(self._renew(force=expired))  # with a valid token

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _renew(self, force: bool) -> None:
        try:
            await self.backend.realtime_token(force=force)
        except Exception as exc:
            log.debug("renewing the Realtime token failed: %s", type(exc).__name__)

    async def _resubscribe(self) -> None:
        delay = 1.0
        while not self._stopped:
            await asyncio.sleep(delay)
            if self.backend.client is None:  # the backend was closed: nothing to do
                self._stopped = True
                return
            try:
                old, self.channel = self.channel, None
                if old is not None:
                    with contextlib.suppress(Exception):
                        await self.backend.client.remove_channel(old)
                await self.backend.realtime_token(force=True)
                await self.start()
                return
            except Exception as exc:
                log.debug("rejoining notifications failed: %s", type(exc).__name__)
                delay = min(delay * 2, 30.0)

    async def stop(self) -> None:
        self._stopped = True
        for task in list(self._tasks):
            task.cancel()
        channel, self.channel = self.channel, None
        client = self.backend.client
        if channel is not None and client is not None:
            with contextlib.suppress(Exception):
                await client.remove_channel(channel)
