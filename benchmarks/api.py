"""Per-function latency of the screen-shaped API on both backends, and round trips per screen.

    python benchmarks/api.py [--learners 500 --courses 60 --lessons 12 --iterations 200]
    python benchmarks/api.py --scale     # on benchmarks/db_scale.py's dataset (~75 s to build)

Creates a throwaway embedded PostgreSQL, applies the migrations, loads a synthetic
dataset (learners with enrollments and completed lessons, published courses), then
times every LearningAPI read and a few writes as one signed-in learner:

* local     LocalBackend (psycopg) straight to PostgreSQL;
* supabase  the real supabase-py client against tests/stack's PostgREST/GoTrue
            stand-in on the same database. Those figures include loopback HTTP and a
            small Python server, not PostgREST itself: read them as an upper bound for
            the client's own overhead, not as Supabase's latency.

It also checks that each screen costs exactly one Backend.call (and, for Supabase,
exactly one HTTP request to /rest/v1). Prints figures; not run by CI.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.data import database  # noqa: E402
from services.data.api import LearningAPI  # noqa: E402
from services.data.backend import LocalBackend, SupabaseBackend  # noqa: E402

SEED_SQL = """
insert into auth.users (id, email, aud, role, raw_user_meta_data)
select gen_random_uuid(), 'bench-learner-' || g || '@example.test', 'authenticated',
       'authenticated', jsonb_build_object('full_name', 'Learner ' || g)
from generate_series(1, %(learners)s) g;

insert into auth.users (id, email, aud, role, raw_user_meta_data)
values (gen_random_uuid(), 'bench-author@example.test', 'authenticated', 'authenticated',
        '{"full_name": "Bench Author"}');

insert into public.courses (title, slug, description, short_description, difficulty_level,
                            tags, is_published, created_by)
select 'Course ' || g || ': ' || (array['Python loops', 'SQL joins', 'Graph algorithms',
                                        'Data cleaning', 'Recursion'])[1 + g %% 5],
       'bench-course-' || g,
       'A course about ' || (array['iteration and loops', 'joins and indexes',
                                   'breadth-first search', 'pandas and csv files',
                                   'recursive functions'])[1 + g %% 5],
       'Short description ' || g, (array['Beginner', 'Intermediate', 'Advanced'])[1 + g %% 3],
       array['topic' || (g %% 10), 'python'], true,
       (select id from auth.users where email = 'bench-author@example.test')
from generate_series(1, %(courses)s) g;

insert into public.lessons (course_id, slug, title, content, order_index, is_published)
select c.id, 'lesson-' || n, 'Lesson ' || n || ' of ' || c.title,
       repeat('Loops repeat work; functions name it; recursion calls itself. ', 40), n, true
from public.courses c cross join generate_series(1, %(lessons)s) n
where c.slug like 'bench-course-%%';

insert into public.course_enrollments (user_id, course_id)
select u.id, c.id
from auth.users u
cross join lateral (select id from public.courses where slug like 'bench-course-%%'
                    order by md5(u.id::text || id::text) limit %(enrollments)s) c
where u.email like 'bench-learner-%%';

insert into public.user_progress (user_id, lesson_id, course_id, completed, time_spent)
select e.user_id, l.id, l.course_id, true, 300
from public.course_enrollments e
join public.lessons l on l.course_id = e.course_id and l.order_index <= %(completed)s;
"""


def seed(url: str, args: argparse.Namespace) -> float:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in SEED_SQL.split(";\n\n"):
            if statement.strip():
                conn.execute(statement, vars(args))
        conn.execute("analyze")
    return time.perf_counter() - started


class Counting:
    """A Backend wrapper counting call() — one per screen is the contract."""

    def __init__(self, backend: Any):
        self.backend, self.calls = backend, 0

    async def call(self, fn: str, **args: Any) -> Any:
        self.calls += 1
        return await self.backend.call(fn, **args)


async def timed(fn: Callable[[], Awaitable[Any]], n: int) -> list[float]:
    for _ in range(min(5, n)):
        await fn()
    out = []
    for _ in range(n):
        started = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_backend(
    name: str, backend: Any, n: int, rest_requests: Callable[[], int] | None
) -> dict[str, tuple[float, float, int, int | None]]:
    counting = Counting(backend)
    api = LearningAPI(counting)
    anon_catalog = await api.catalog(limit=20)
    email = f"bench-{name}-{uuid.uuid4().hex[:6]}@example.test"
    await backend.sign_up(email, "bench-password-123", full_name=f"Bench {name}")
    courses = anon_catalog.courses
    for course in courses[:3]:
        await api.enroll(course.id)
    detail = await api.course_detail(courses[0].id)
    for lesson in detail.lessons[:5]:
        await api.record_lesson_progress(lesson.id, time_spent=120, completed=True)
    lesson_id = detail.lessons[6].id
    replay = str(uuid.uuid4())
    await api.enroll(courses[0].id, event_id=replay)

    screens: dict[str, Callable[[], Awaitable[Any]]] = {
        "catalog": lambda: api.catalog(limit=20),
        "catalog search": lambda: api.catalog(search="recursion", limit=20),
        "catalog filter": lambda: api.catalog(tags=["topic3"], difficulty="Advanced"),
        "course_detail": lambda: api.course_detail(courses[0].id),
        "lesson_detail": lambda: api.lesson_detail(lesson_id),
        "dashboard": lambda: api.dashboard(),
        "my_profile": lambda: api.my_profile(),
        "notifications": lambda: api.notifications(),
        "search_lessons": lambda: api.search_lessons("loops recursion"),
        "record_lesson_progress": lambda: api.record_lesson_progress(lesson_id, time_spent=5),
        "enroll (replayed)": lambda: api.enroll(courses[0].id, event_id=replay),
    }
    results = {}
    for label, screen in screens.items():
        before_calls = counting.calls
        before_http = rest_requests() if rest_requests else None
        await screen()
        calls = counting.calls - before_calls
        http = rest_requests() - before_http if rest_requests else None
        times = await timed(screen, n)
        results[label] = (statistics.median(times), pct(times, 0.95), calls, http)
    return results


async def main_async(args: argparse.Namespace) -> int:
    from tests.stack import SupabaseStandIn

    with tempfile.TemporaryDirectory(prefix="learn-bench-") as tmp:
        server = database.EmbeddedPostgres(Path(tmp) / "pgdata")
        url = server.start()
        try:
            if args.scale:
                # The database issue's dataset (benchmarks/db_scale.py): 100k learners,
                # 200 courses, 4k lessons, 1M progress rows, 2M analytics rows.
                sys.path.insert(0, str(ROOT / "benchmarks"))
                import db_scale

                url = db_scale.build(url)
                print("dataset: benchmarks/db_scale.py's scale dataset\n")
            else:
                database.migrate(url)
                took = seed(url, args)
                print(
                    f"dataset: {args.learners} learners, {args.courses} courses × "
                    f"{args.lessons} lessons, {args.enrollments} enrollments and "
                    f"{args.completed} completed lessons each (seeded in {took:.1f} s)\n"
                )
            local = LocalBackend(url, migrate=False, session_path=Path(tmp) / "s1.json")
            try:
                local_results = await run_backend("local", local, args.iterations, None)
            finally:
                await local.close()
            with SupabaseStandIn(url) as standin:
                remote = SupabaseBackend(
                    standin.url, standin.anon_key, session_path=Path(tmp) / "s2.json"
                )
                try:
                    remote_results = await run_backend(
                        "supabase",
                        remote,
                        max(20, args.iterations // 2),
                        lambda: standin.count_prefix("/rest/v1/"),
                    )
                finally:
                    await remote.close()
        finally:
            server.stop()
    header = (
        f"{'screen / write':<24}{'local p50':>10}{'p95':>8}   "
        f"{'stand-in p50':>12}{'p95':>8}   round trips (calls / HTTP)"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for label, (p50, p95, calls, _) in local_results.items():
        r50, r95, rcalls, http = remote_results[label]
        one = calls == 1 and rcalls == 1 and http == 1
        ok &= one
        print(
            f"{label:<24}{p50:>8.2f}ms{p95:>6.2f}ms   {r50:>10.2f}ms{r95:>6.2f}ms   "
            f"{calls} / {http}{'' if one else '  <-- not one round trip'}"
        )
    print(
        "\nms per call; local = psycopg to the embedded PostgreSQL, stand-in = supabase-py "
        "over loopback HTTP to tests/stack (not real PostgREST)."
    )
    print("one round trip per screen:", "yes" if ok else "NO")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--courses", type=int, default=60)
    parser.add_argument("--lessons", type=int, default=12)
    parser.add_argument("--enrollments", type=int, default=3)
    parser.add_argument("--completed", type=int, default=4)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument(
        "--scale",
        action="store_true",
        help="use benchmarks/db_scale.py's dataset (100k learners) instead",
    )
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
