"""Spaced review on the local backend: the review calls at a realistic size.

    python benchmarks/review.py [--learners 200 --cards 500 --iterations 50]

Creates a throwaway embedded PostgreSQL, applies the migrations and the bundled
courses, then gives LEARNERS learners CARDS review cards each (a third due now) and two
review logs per card, plus one signed-in learner with the same. Times, as that learner
through LocalBackend (one transaction per call, RLS on, as PostgREST runs it):
review_summary (the dashboard's line), review_queue (the review screen, 100 due cards),
record_review (a rating, FSRS state computed in Python included), and the scheduler's
review_card alone. Prints medians and p95; not run by CI.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.data import database  # noqa: E402
from services.data.api import LearningAPI  # noqa: E402
from services.data.backend import LocalBackend  # noqa: E402
from services.data.seed import seed_bundled  # noqa: E402
from services.review.spaced import Rating, Reviews, next_state  # noqa: E402

CARDS_SQL = """
    with lesson as (select id from public.lessons where is_published limit 1),
    users as (select id from auth.users where id = any(%(users)s::uuid[]))
    insert into public.review_cards (user_id, lesson_id, key_point_index, prompt, state,
                                     step, stability, difficulty, due, last_review, reps)
    select u.id, lesson.id, i, 'Key point number ' || i, 2, null, 3.5, 5.0,
           now() + case when i %% 3 = 0 then interval '-1 hour' else interval '3 days' end,
           now() - interval '2 days', 2
    from users u, lesson, generate_series(0, %(cards)s - 1) i
"""
LOGS_SQL = """
    insert into public.review_logs (user_id, card_id, rating, reviewed_at, event_id)
    select c.user_id, c.id, 3, now() - interval '1 day' * k, gen_random_uuid()
    from public.review_cards c, generate_series(2, 3) k
"""


def _stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"median {statistics.median(ordered) * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms"


async def _time(iterations: int, call) -> list[float]:
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def main_async(args: argparse.Namespace) -> int:
    import psycopg

    with tempfile.TemporaryDirectory(prefix="learn-review-bench-") as tmp:
        server = database.EmbeddedPostgres(Path(tmp) / "pgdata")
        url = server.start()
        try:
            database.migrate(url)
            seed_bundled(url)
            backend = LocalBackend(url, migrate=False, session_path=Path(tmp) / "s.json")
            await backend.connect()
            me = await backend.sign_up(None, None, full_name="Bench")
            with psycopg.connect(url, autocommit=True) as conn:
                users = [me.id]
                for _ in range(args.learners):
                    users.append(
                        str(
                            conn.execute(
                                "insert into auth.users (id, aud, role) values (gen_random_uuid(),"
                                " 'authenticated', 'authenticated') returning id"
                            ).fetchone()[0]
                        )
                    )
                started = time.perf_counter()
                conn.execute(CARDS_SQL, {"users": users, "cards": args.cards})
                conn.execute(LOGS_SQL)
                conn.execute("analyze public.review_cards")
                conn.execute("analyze public.review_logs")
                total = conn.execute("select count(*) from public.review_cards").fetchone()[0]
                logs = conn.execute("select count(*) from public.review_logs").fetchone()[0]
            print(
                f"{total:,} cards and {logs:,} logs for {len(users)} learners "
                f"(built in {time.perf_counter() - started:.1f} s); timing as one learner "
                f"with {args.cards} cards, {args.iterations} calls each"
            )
            reviews = Reviews(LearningAPI(backend))
            for _ in range(3):  # warm the connection
                await reviews.summary()
            summary = await _time(args.iterations, reviews.summary)
            print(f"  review_summary        {_stats(summary)}")
            queue = await reviews.queue()
            print(
                f"  review_queue (100)    "
                f"{_stats(await _time(args.iterations, lambda: reviews.queue(100)))}"
            )
            cards = iter(queue.cards)
            rated = await _time(
                min(args.iterations, len(queue.cards)),
                lambda: reviews.rate(next(cards), Rating.GOOD),
            )
            print(f"  record_review         {_stats(rated)}")
            card = queue.cards[-1]
            now = datetime.now(timezone.utc)
            samples = []
            for _ in range(200):
                started = time.perf_counter()
                next_state(card, Rating.GOOD, now)
                samples.append(time.perf_counter() - started)
            print(f"  fsrs review_card      {_stats(samples)}   (in Python, no database)")
            await backend.close()
        finally:
            server.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--cards", type=int, default=500)
    parser.add_argument("--iterations", type=int, default=50)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
