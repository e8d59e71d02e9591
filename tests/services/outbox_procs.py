"""Real processes sharing one offline queue, killed with SIGKILL: the child programs and the
rounds that tests/services/test_offline_processes.py and benchmarks/outbox_concurrency.py run.

    python -m tests.services.outbox_procs writer URL HOME TAG SEED
        queues tutor chat logs (log_chat) one after another through OfflineBackend, with
        the network "down" for ~30% of the calls (an injected Offline, so some writes are
        queued and sent later, by whichever process gets there first); prints
        `try <event id> <question>` before each write and `ack <event id> <question>`
        once the write returned (queued or sent) — until it is killed.
    python -m tests.services.outbox_procs sync URL HOME
        what `learn sync` (and `learn doctor`) does, again and again: open the queue and the
        cache, count, send what waits, close — until it is killed.

run_rounds() starts two writers and a syncer per round, SIGKILLs all three at a random
moment, and checks on the way that each acknowledged event is visible in the queue from
another process (the parent's) at once. At the end the parent sends what is left and
compares the server's rows with what was acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import random
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Flaky:
    """The real backend, but the network is down for a random ~30% of the calls (the call
    never leaves: an injected Offline)."""

    def __init__(self, inner, rng: random.Random):
        self.inner, self.rng = inner, rng

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def _maybe_down(self) -> None:
        from services.errors import Offline

        if self.rng.random() < 0.3:
            raise Offline("network down (injected)")

    async def call(self, fn, **args):
        self._maybe_down()
        return await self.inner.call(fn, **args)

    async def call_batch(self, calls):
        self._maybe_down()
        return await self.inner.call_batch(calls)


def _backend(url: str, home: Path, wrap=None):
    from services.data.backend import LocalBackend
    from services.offline.backend import OfflineBackend
    from services.offline.cache import ReadCache
    from services.offline.outbox import Outbox

    inner = LocalBackend(url, migrate=False, session_path=home / "session.json")
    return OfflineBackend(
        wrap(inner) if wrap else inner,
        cache=ReadCache(home / "reads.sqlite3"),
        outbox=Outbox(home / "outbox.sqlite3"),
        backoff=(0.02, 0.1),
        idle=0.05,
    )


def _print(line: str) -> None:
    print(line, flush=True)


async def _writer(url: str, home: Path, tag: str, seed: int, say=_print) -> None:
    from services.data.api import LearningAPI

    rng = random.Random(seed)
    backend = _backend(url, home, wrap=lambda inner: Flaky(inner, rng))
    await backend.connect()
    api = LearningAPI(backend)
    say("ready")
    i = 0
    while True:
        event_id = str(uuid.uuid4())
        question = f"{tag}.{i}"
        say(f"try {event_id} {question}")
        await api.log_chat(question, None, event_id=event_id)
        say(f"ack {event_id} {question}")
        i += 1


async def _syncer(url: str, home: Path, say=_print) -> None:
    say("ready")
    while True:
        backend = _backend(url, home)
        try:
            await backend.connect()
            report = await backend.flush()
            say(
                f"sync sent {report.sent} already {report.already_applied} waiting {report.waiting}"
            )
        finally:
            await backend.close()


def main(argv: list[str]) -> None:
    mode, url, home = argv[0], argv[1], Path(argv[2])
    if mode == "writer":
        asyncio.run(_writer(url, home, argv[3], int(argv[4])))
    else:
        asyncio.run(_syncer(url, home))


def _child(conn, mode: str, url: str, home: str, tag: str = "", seed: int = 0) -> None:
    """A child process made by the fork server: says its lines through `conn`."""
    say = conn.send
    if mode == "writer":
        asyncio.run(_writer(url, Path(home), tag, seed, say))
    else:
        asyncio.run(_syncer(url, Path(home), say))


# -- the parent ------------------------------------------------------------------------------


@dataclass
class Rounds:
    rounds: int = 0
    tried: dict[str, str] = field(default_factory=dict)  # event id → question
    acked: dict[str, str] = field(default_factory=dict)
    invisible: list[str] = field(default_factory=list)  # acked, not seen by the parent
    syncs: int = 0
    errors: list[str] = field(default_factory=list)  # a child's stderr, if it failed
    lost: list[str] = field(default_factory=list)  # acked, not on the server
    doubled: list[str] = field(default_factory=list)  # on the server more than once
    stray: list[str] = field(default_factory=list)  # on the server, never tried

    def line(self) -> str:
        return (
            f"rounds {self.rounds} · events {len(self.acked)} acknowledged "
            f"({len(self.tried)} started) · lost {len(self.lost)} · doubled "
            f"{len(self.doubled)} · invisible {len(self.invisible)} · syncs {self.syncs}"
        )


_PRELOAD = [
    "tests.services.outbox_procs",
    "services.offline.backend",
    "services.offline.replay",
    "services.data.backend",
    "services.data.api",
    "psycopg",
]


def _context():
    """Children forked from a server that has imported the app's modules once: each is a
    real process (own SQLite connections, killed with a real SIGKILL), started in
    milliseconds instead of the ~0.5 s an interpreter takes to import them."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


class _Child:
    def __init__(self, ctx, *args):
        self.conn, theirs = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_child, args=(theirs, *args), daemon=True)
        self.process.start()
        theirs.close()
        self.ready = threading.Event()

    def read(self, result: Rounds, outbox) -> None:
        while True:
            try:
                line = self.conn.recv()
            except (EOFError, OSError):
                return
            word, *rest = line.split()
            if word == "ready":
                self.ready.set()
            elif word == "try":
                result.tried[rest[0]] = rest[1]
            elif word == "ack":
                result.acked[rest[0]] = rest[1]
                # Visible to another process as soon as it is acknowledged.
                if outbox.get(rest[0]) is None:
                    result.invisible.append(rest[1])
            elif word == "sync":
                result.syncs += 1


def _refill_chat_allowance(url: str, stop: threading.Event | None = None) -> None:
    """The database allows a learner 300 chat messages an hour (migration
    20261205001700_quotas.sql); these rounds send thousands on purpose, a few hundred a
    round on an idle machine. The quota is not what they test, so the parent, as the
    superuser, keeps giving the hour's allowance back: once, or every 20 ms until `stop`."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            conn.execute("delete from private.usage where kind = 'chat_history'")
            if stop is None or stop.wait(0.02):
                return


def run_rounds(
    url: str, home: Path, rounds: int, *, seed: int = 1, window: tuple[float, float] = (0.1, 0.4)
) -> Rounds:
    """`rounds` rounds of two writers and a syncer, all SIGKILLed at a random moment."""
    from services.offline.outbox import Outbox

    rng = random.Random(seed)
    ctx = _context()
    result = Rounds()
    outbox = Outbox(home / "outbox.sqlite3")  # the parent: "another process" that reads
    refilled = threading.Event()
    refiller = threading.Thread(target=_refill_chat_allowance, args=(url, refilled), daemon=True)
    refiller.start()
    try:
        for round_ in range(rounds):
            children = [
                _Child(ctx, "writer", url, str(home), f"r{round_}{side}", rng.randrange(1 << 30))
                for side in "ab"
            ]
            children.append(_Child(ctx, "sync", url, str(home)))
            readers = [
                threading.Thread(target=c.read, args=(result, outbox), daemon=True)
                for c in children
            ]
            for reader in readers:
                reader.start()
            for child in children:
                if not child.ready.wait(60):
                    result.errors.append(f"a {child.process.name} never got ready")
            time.sleep(rng.uniform(*window))
            for child in rng.sample(children, len(children)):
                with contextlib.suppress(ProcessLookupError):  # it died already
                    os.kill(child.process.pid, signal.SIGKILL)
                time.sleep(rng.uniform(0, 0.02))
            for child, reader in zip(children, readers, strict=True):
                child.process.join(30)
                reader.join(10)
                if child.process.exitcode != -signal.SIGKILL:
                    result.errors.append(
                        f"a child exited with {child.process.exitcode}"
                        " before it was killed (its traceback is above)"
                    )
                child.conn.close()
            result.rounds += 1
    finally:
        refilled.set()
        refiller.join(5)
        outbox.close()
    return result


async def drain_and_compare(url: str, home: Path, result: Rounds) -> Rounds:
    """Send what is left (as `learn sync` would), then compare the server with the acks."""
    import psycopg

    backend = _backend(url, home)
    try:
        await backend.connect()
        _refill_chat_allowance(url)
        for _ in range(50):
            if not (await backend.flush()).waiting:
                break
        user = backend.current_user.id
        left = backend.outbox.count(backend.namespace, user)
    finally:
        await backend.close()
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select question, count(*) from public.chat_history"
            " where user_id = %s group by question",
            (user,),
        ).fetchall()
    on_server = dict(rows)
    result.lost = [q for q in result.acked.values() if q not in on_server]
    if left:
        result.lost.append(f"{left} still queued")
    result.doubled = [q for q, n in on_server.items() if n > 1]
    started = set(result.tried.values())
    result.stray = [q for q in on_server if q not in started]
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
