"""Live notifications: how long from the insert (its call, commit included) to the app's feed.

    python benchmarks/live.py [--count 200]

A throwaway embedded PostgreSQL, one learner, `count` notifications inserted one at a
time (as the database writes them: an owner connection, each its own transaction);
prints the delay from commit to `on_event` for
  local      LocalBackend: LISTEN/NOTIFY on a dedicated connection;
  supabase   SupabaseBackend (supabase-py Realtime) against the test stand-in's
             Realtime (tests/stack): a loopback WebSocket, the row read through RLS
             per delivery — the stand-in's cost, not Supabase's;
and, for local, the extra read the app makes per event (notifications_list through
RLS). Prints figures; not run by CI.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from services.data import database  # noqa: E402
from services.data.api import LearningAPI  # noqa: E402
from services.data.backend import LocalBackend, SupabaseBackend  # noqa: E402


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return (
        f"median {statistics.median(values) * 1000:6.2f} ms   p95 {p95 * 1000:6.2f} ms"
        f"   max {values[-1] * 1000:6.2f} ms"
    )


async def _measure(backend, url: str, count: int) -> tuple[list[float], list[float]]:
    user = await backend.sign_up(
        f"bench-{uuid.uuid4().hex[:8]}@example.test", "correct horse battery staple"
    )
    arrived: dict[str, float] = {}
    ready = asyncio.Event()

    def on_event(event):
        now = time.perf_counter()
        if event.resync:
            ready.set()
        for i in event.ids:
            arrived[i] = now

    watch = await backend.watch_notifications(on_event)
    await asyncio.wait_for(ready.wait(), 20)
    delays, reads = [], []
    api = LearningAPI(backend)
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(count):
            committed = time.perf_counter()
            nid = str(
                conn.execute(
                    "insert into public.notifications (user_id, title)"
                    " values (%s, 'bench') returning id",
                    (user.id,),
                ).fetchone()[0]
            )
            while nid not in arrived:
                await asyncio.sleep(0.0005)
            delays.append(arrived[nid] - committed)
            started = time.perf_counter()
            await api.notifications(limit=50)
            reads.append(time.perf_counter() - started)
    await watch.stop()
    return delays, reads


async def main(count: int) -> None:
    from tests.pg.servers import EmbeddedServer
    from tests.stack import SupabaseStandIn

    server = EmbeddedServer(Path("."))
    try:
        database.migrate(server.url)
        with tempfile.TemporaryDirectory() as tmp:
            local = LocalBackend(server.url, migrate=False, session_path=Path(tmp) / "a.json")
            try:
                delays, reads = await _measure(local, server.url, count)
            finally:
                await local.close()
            print(f"local     insert → feed   {_ms(delays)}   ({count} notifications)")
            print(f"local     + read (RLS)    {_ms(reads)}")
            with SupabaseStandIn(server.url, keys="new") as api:
                remote = SupabaseBackend(api.url, api.client_key, session_path=Path(tmp) / "b.json")
                try:
                    delays, reads = await _measure(remote, server.url, count)
                finally:
                    await remote.close()
            print(f"supabase  insert → feed   {_ms(delays)}   (stand-in Realtime)")
            print(f"supabase  + read (RPC)    {_ms(reads)}   (stand-in PostgREST)")
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    asyncio.run(main(parser.parse_args().count))
