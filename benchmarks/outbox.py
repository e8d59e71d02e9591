"""Offline outbox: 1,000 writes queued while offline, then replayed against the local
backend (a throwaway embedded PostgreSQL). Target: the replay in ≤ 2 s.

    python benchmarks/outbox.py [--events 1000]

Phases, each timed:
  queue    the writes stored in the outbox (SQLite, WAL, synchronous=FULL: each append
           is durable when it returns), as OfflineBackend does while offline;
  replay   OfflineBackend.flush(): each event sent in order, one at a time, through
           LocalBackend (one transaction per call, as PostgREST runs it), and marked
           sent in the outbox;
  again    every event marked queued again and replayed (as after a crash between
           "applied" and "marked sent"): the server answers `replayed: true` and
           applies nothing twice;
  direct   the same writes (new event ids) by a second learner straight through
           LocalBackend.call, without the outbox: what the database itself costs, so
           replay − direct is what the outbox adds;
  alone    the same replay against a backend that answers at once (no database):
           the outbox's own cost, per event.
The mix: lesson progress (time and completions), tutor chat logs, AI usage logs.
Checks the server applied each event exactly once. Prints figures; not run by CI.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.data import database  # noqa: E402
from services.data.api import LearningAPI  # noqa: E402
from services.data.backend import LocalBackend  # noqa: E402
from services.data.seed import seed_bundled  # noqa: E402
from services.offline.backend import OfflineBackend  # noqa: E402
from services.offline.cache import ReadCache  # noqa: E402
from services.offline.outbox import Outbox  # noqa: E402


class Echo:
    """A backend that answers every write at once: the outbox's own cost, alone."""

    kind = "local"
    namespace = "echo"

    def __init__(self, user):
        self.current_user = user

    async def connect(self) -> None:
        pass

    async def call(self, fn: str, **args) -> dict:
        return {"replayed": False, "achievements": [], "fn": fn}

    async def close(self) -> None:
        pass


async def outbox_alone(home: Path, user, planned: list[tuple[str, dict]]) -> float:
    backend = OfflineBackend(
        Echo(user),
        cache=ReadCache(home / "echo-reads.sqlite3"),
        outbox=Outbox(home / "echo-outbox.sqlite3"),
    )
    for fn, args in planned:
        backend.outbox.append("echo", user.id, fn, args)
    started = time.perf_counter()
    report = await backend.flush()
    took = time.perf_counter() - started
    await backend.close()
    assert report.sent == len(planned)
    return took


def writes(n: int, lessons: list[str]) -> list[tuple[str, dict]]:
    """n writes as LearningAPI makes them, spread over the last day."""
    start = datetime.now(timezone.utc) - timedelta(hours=20)
    made = []
    for i in range(n):
        args: dict = {
            "p_event_id": str(uuid.uuid4()),
            "p_occurred_at": (start + timedelta(seconds=60 * i)).isoformat(),
        }
        kind = i % 10
        if kind < 5:
            lesson = lessons[i % len(lessons)]
            made.append(
                (
                    "record_lesson_progress",
                    {
                        **args,
                        "p_lesson_id": lesson,
                        "p_time_spent": 30,
                        "p_last_position": i,
                        "p_completed": True if kind == 0 else None,
                    },
                )
            )
        elif kind < 8:
            made.append(
                (
                    "log_chat",
                    {
                        **args,
                        "p_question": f"question {i}",
                        "p_answer": f"answer {i}",
                        "p_context": "general_chat",
                        "p_course_id": None,
                        "p_lesson_id": None,
                        "p_assessment_id": None,
                        "p_message_type": "text",
                    },
                )
            )
        else:
            made.append(
                (
                    "log_ai_interaction",
                    {
                        **args,
                        "p_interaction_type": "chat",
                        "p_input_data": {"q": i},
                        "p_output_data": {"a": i},
                        "p_tokens_used": 42,
                        "p_processing_time": 100,
                    },
                )
            )
    return made


async def run(url: str, home: Path, n: int) -> int:
    backend = OfflineBackend(
        LocalBackend(url, migrate=False, session_path=home / "s.json"),
        cache=ReadCache(home / "reads.sqlite3"),
        outbox=Outbox(home / "outbox.sqlite3"),
    )
    try:
        api = LearningAPI(backend)
        user = await backend.sign_up(None, None, full_name="Bench Learner")
        courses = (await api.catalog()).courses
        lessons: list[str] = []
        for course in courses:
            await api.enroll(course.id)
            lessons += [x.id for x in (await api.course_detail(course.id)).lessons]
        planned = writes(n, lessons)

        started = time.perf_counter()
        for fn, args in planned:
            backend.outbox.append(backend.namespace, user.id, fn, args)
        queued = time.perf_counter() - started

        started = time.perf_counter()
        report = await backend.flush()
        replayed = time.perf_counter() - started
        if report.sent != n or report.waiting or report.refused:
            print(f"replay incomplete: {report}", file=sys.stderr)
            return 1

        # As if the process had died before marking any of them sent.
        # (Through the outbox's own connection: a second handle of the file in this
        # process would drop its locks when closed — see services.offline.store.)
        backend.outbox._run(
            "update events set status = 'queued' where status = 'sent' and fn <> 'enroll'"
        )
        started = time.perf_counter()
        again = await backend.flush()
        replayed_again = time.perf_counter() - started
        if again.already_applied != n or again.sent:
            print(f"second replay applied something: {again}", file=sys.stderr)
            return 1

        other = LocalBackend(url, migrate=False, session_path=home / "other.json")
        await other.sign_up(None, None, full_name="Bench Direct")
        for course in courses:
            await other.call("enroll", p_course_id=course.id)
        fresh = [(fn, {**args, "p_event_id": str(uuid.uuid4())}) for fn, args in planned]
        started = time.perf_counter()
        for fn, args in fresh:
            await other.call(fn, **args)
        direct = time.perf_counter() - started
        await other.close()
        alone = await outbox_alone(home, user, planned)

        import psycopg

        with psycopg.connect(url) as conn:
            applied = conn.execute(
                "select count(*) from public.applied_events where user_id = %s and fn <> 'enroll'",
                (user.id,),
            ).fetchone()[0]
            chats = conn.execute(
                "select count(*) from public.chat_history where user_id = %s", (user.id,)
            ).fetchone()[0]
        expected_chats = sum(1 for fn, _ in planned if fn == "log_chat")
        if applied != n or chats != expected_chats:
            print(f"server state wrong: {applied} applied events, {chats} chats", file=sys.stderr)
            return 1
    finally:
        await backend.close()

    print(
        f"{n} events ({len(lessons)} lessons, mix: 50% lesson progress, 30% chat logs, "
        "20% AI usage logs)"
    )
    print(
        f"queue   {queued * 1000:8.1f} ms   {n / queued:8.0f} events/s   "
        "(durable appends, synchronous=FULL)"
    )
    print(
        f"replay  {replayed * 1000:8.1f} ms   {n / replayed:8.0f} events/s   "
        f"target ≤ 2000 ms: {'met' if replayed <= 2 else 'NOT met'}"
    )
    print(
        f"again   {replayed_again * 1000:8.1f} ms   {n / replayed_again:8.0f} events/s   "
        "(all already applied: replayed, nothing applied twice)"
    )
    print(
        f"direct  {direct * 1000:8.1f} ms   {n / direct:8.0f} events/s   "
        "(the same writes without the outbox: the database's share)"
    )
    print(
        f"alone   {alone * 1000:8.1f} ms   {n / alone:8.0f} events/s   "
        f"(the outbox's own cost: {alone / n * 1000:.2f} ms an event)"
    )
    print(f"server: {applied} events applied once each")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="learn-bench-outbox-") as tmp:
        server = database.EmbeddedPostgres(Path(tmp) / "pgdata")
        url = server.start()
        try:
            database.migrate(url)
            seed_bundled(url)
            return asyncio.run(run(url, Path(tmp), args.events))
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
