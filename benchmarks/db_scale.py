"""How the screens' queries scale, with RLS, on a realistic dataset.

    python benchmarks/db_scale.py [--runs 200] [--pgdata DIR] [--explain]

Builds, in a fresh database on the embedded PostgreSQL, about 100k learners, 200
courses, 4k lessons, 400k enrollments, 1M user_progress rows and 2M learning_analytics
rows (set-based, as superuser, triggers off via session_replication_role = replica,
then VACUUM ANALYZE). Then, for random learners, times three queries the screens make:

  enrollments  a learner's enrollments with progress and the course titles
  lessons      a course's lessons with the learner's completion
  activity     a learner's last 365 days of activity

each run as an authenticated learner exactly as PostgREST runs a request (one
transaction; role, search_path and request.jwt.claims set locally by one set_config
select; the query; commit), and the same query as superuser (no RLS). Prints p50/p95
of the query and the RLS/superuser ratio. Targets: p95 <= 5 ms, ratio <= 1.3.
Each run is the fastest of --repeat (3) back-to-back requests for that learner.
Prints figures only; asserts nothing.

--pgdata keeps the cluster (and the built dataset) for the next run.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.data import database, postgrest  # noqa: E402

DBNAME = "learn_bench"
LEARNERS = 100_000
COURSES = 200
PUBLISHED_COURSES = 190  # the last 10 are drafts
LESSONS_PER_COURSE = 20  # 18 published, 2 drafts
ENROLLMENTS_PER_LEARNER = 4
ANALYTICS_DAYS_PER_LEARNER = 20

BUILD = [
    (
        "learners (auth.users, profiles, user_streaks)",
        f"""
    create temp table bench_learners as
      select i, md5('learner' || i)::uuid as id from generate_series(1, {LEARNERS}) i;
    insert into auth.users (id, email, aud, role, raw_user_meta_data, created_at)
      select id, 'learner' || i || '@bench.test', 'authenticated', 'authenticated', '{{}}',
             now() - interval '400 days'
      from bench_learners;
    insert into public.profiles (id, email, full_name, timezone)
      select id, 'learner' || i || '@bench.test', 'Learner ' || i,
             (array['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'])[1 + i % 4]
      from bench_learners;
    insert into public.user_streaks (user_id, current_streak, longest_streak, last_activity_date)
      select id, i % 10, i % 10 + 5, current_date - (i % 3) from bench_learners;
    """,
    ),
    (
        "courses and lessons",
        f"""
    insert into public.courses (id, title, short_description, description, difficulty_level,
                                tags, is_published, published_at, created_by)
      select md5('course' || c)::uuid, 'Course ' || c, 'What course ' || c || ' teaches',
             repeat('A paragraph about course ' || c || '. ', 20),
             (array['Beginner', 'Intermediate', 'Advanced'])[1 + c % 3],
             array['tag' || c % 10, 'topic' || c % 7], c <= {PUBLISHED_COURSES}, now(),
             md5('learner' || (1 + c % 100))::uuid
      from generate_series(1, {COURSES}) c;
    insert into public.lessons (id, course_id, title, content, duration, difficulty,
                                order_index, is_published, course_published,
                                course_created_by)   -- what the lessons trigger would set
      select md5('lesson' || c || '-' || k)::uuid, md5('course' || c)::uuid,
             'Lesson ' || k || ' of course ' || c,
             repeat('Lesson text. ', 200), '15 min', 'Beginner', k, k <= 18,
             c <= {PUBLISHED_COURSES}, md5('learner' || (1 + c % 100))::uuid
      from generate_series(1, {COURSES}) c, generate_series(1, {LESSONS_PER_COURSE}) k;
    """,
    ),
    (
        "enrollments",
        f"""
    create temp table bench_enrollments as
      select l.i, l.id as user_id, j, 1 + (l.i * 7 + j * 53) % {PUBLISHED_COURSES} as c,
             (l.i + j) % 6 as done
      from bench_learners l, generate_series(0, {ENROLLMENTS_PER_LEARNER - 1}) j;
    insert into public.course_enrollments (user_id, course_id, enrollment_date,
                                           progress_percentage, status, last_accessed)
      select user_id, md5('course' || c)::uuid, now() - (i % 300) * interval '1 day',
             round(100.0 * done / 18, 2), case when j = 3 and i % 5 = 0 then 'paused'
                                               else 'active' end,
             now() - (i % 30) * interval '1 day'
      from bench_enrollments order by user_id;
    """,
    ),
    (
        "user_progress (1M)",
        """
    insert into public.user_progress (user_id, lesson_id, course_id, completed, time_spent,
                                      last_position, completed_at, first_completed_at)
      select e.user_id, md5('lesson' || e.c || '-' || k)::uuid, md5('course' || e.c)::uuid,
             true, 600 + k * 10, 100, now() - k * interval '1 day',
             now() - k * interval '1 day'
      from bench_enrollments e, generate_series(1, e.done) k
      order by e.user_id;
    """,
    ),
    (
        "learning_analytics (2M)",
        f"""
    insert into public.learning_analytics (user_id, course_id, session_date, session_duration,
                                           lessons_completed, assessments_completed, total_score)
      select l.id, md5('course' || (1 + (l.i * 7 + (d % {ENROLLMENTS_PER_LEARNER}) * 53)
                                    % {PUBLISHED_COURSES}))::uuid,
             current_date - (l.i * 7 + d * 17) % 365, 300 + d * 60, d % 3, d % 2, (d % 2) * 80
      from bench_learners l, generate_series(1, {ANALYTICS_DAYS_PER_LEARNER}) d
      order by l.id;
    """,
    ),
]

QUERIES = {
    "enrollments": """
        select e.course_id, c.title, c.short_description, e.progress_percentage, e.status,
               e.last_accessed
        from public.course_enrollments e
        join public.courses c on c.id = e.course_id
        where e.user_id = %(uid)s
        order by e.last_accessed desc nulls last, e.enrollment_date desc""",
    "lessons": """
        select l.id, l.title, l.order_index, l.duration, coalesce(p.completed, false) as completed
        from public.lessons l
        left join public.user_progress p on p.lesson_id = l.id and p.user_id = %(uid)s
        where l.course_id = %(course)s
        order by l.order_index""",
    "activity": """
        select session_date, sum(session_duration) as seconds,
               sum(lessons_completed) as lessons, sum(assessments_completed) as assessments
        from public.learning_analytics
        where user_id = %(uid)s and session_date > current_date - 365
        group by session_date
        order by session_date""",
}


def _url_for(url: str, dbname: str) -> str:
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{dbname}?{query}"


def build(server_url: str) -> str:
    url = _url_for(server_url, DBNAME)
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (DBNAME,)).fetchone()
    if exists:
        with psycopg.connect(url) as conn:
            n = conn.execute("select count(*) from public.learning_analytics").fetchone()[0]
        if n >= LEARNERS * ANALYTICS_DAYS_PER_LEARNER:
            print(f"reusing the dataset in {DBNAME}")
            return url
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f"drop database {DBNAME} with (force)")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"create database {DBNAME}")
    started = time.perf_counter()
    database.migrate(url)
    print(f"migrated in {time.perf_counter() - started:.1f} s")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set session_replication_role = replica")
        conn.execute("set synchronous_commit = off")
        conn.execute("set maintenance_work_mem = '256MB'")
        conn.execute("set work_mem = '64MB'")
        for label, sql in BUILD:
            t = time.perf_counter()
            with conn.transaction():
                conn.execute(sql)
            print(f"  {label}: {time.perf_counter() - t:.1f} s", flush=True)
        conn.execute("set session_replication_role = origin")
        t = time.perf_counter()
        conn.execute("vacuum (analyze)")
        print(f"  vacuum analyze: {time.perf_counter() - t:.1f} s")
        counts = conn.execute(
            "select (select count(*) from auth.users), (select count(*) from public.courses),"
            " (select count(*) from public.lessons),"
            " (select count(*) from public.course_enrollments),"
            " (select count(*) from public.user_progress),"
            " (select count(*) from public.learning_analytics)"
        ).fetchone()
    print(
        f"built in {time.perf_counter() - started:.0f} s: {counts[0]:,} learners,"
        f" {counts[1]} courses, {counts[2]:,} lessons, {counts[3]:,} enrollments,"
        f" {counts[4]:,} user_progress, {counts[5]:,} learning_analytics rows"
    )
    return url


def samples(url: str, runs: int, seed: int) -> list[dict[str, str]]:
    """Random learners, each with one of the courses they are enrolled in."""
    rng = random.Random(seed)
    picks = []
    with psycopg.connect(url) as conn:
        for _ in range(runs):
            i = rng.randint(1, LEARNERS)
            uid, course = conn.execute(
                "select user_id::text, course_id::text from public.course_enrollments"
                " where user_id = md5('learner' || %s)::uuid order by course_id limit 1 offset %s",
                (i, rng.randrange(ENROLLMENTS_PER_LEARNER)),
            ).fetchone()
            picks.append({"uid": uid, "course": course})
    return picks


def _timed(cur, sql: str, params) -> float:
    t = time.perf_counter()
    cur.execute(sql, params)
    cur.fetchall()
    return (time.perf_counter() - t) * 1000


def measure(url: str, picks: list[dict[str, str]], repeat: int, warmup: int = 20):
    """Per query: (rls query ms, rls whole request ms, superuser query ms) lists.

    Each learner's pages are read once, untimed, before the timed runs, and the two
    timed runs alternate which goes first: otherwise whichever ran first would pay for
    reading the pages into shared buffers and the ratio would measure the cache. Each
    run is the fastest of `repeat` requests, so other processes on a busy machine
    disturb the figures less."""
    results = {name: ([], [], []) for name in QUERIES}
    with psycopg.connect(url) as learner, psycopg.connect(url) as su:

        def learner_request(sql, params):
            # As PostgREST: one transaction, settings local to it, then the query.
            started = time.perf_counter()
            with learner.transaction():
                cur = learner.cursor()
                cur.execute(
                    postgrest.REQUEST_SETTINGS_SQL,
                    postgrest.request_params(postgrest.claims(params["uid"])),
                )
                query_ms = _timed(cur, sql, params)
            return query_ms, (time.perf_counter() - started) * 1000

        def as_learner(sql, params):
            runs = [learner_request(sql, params) for _ in range(repeat)]
            return min(r[0] for r in runs), min(r[1] for r in runs)

        def as_superuser(sql, params):
            best = float("inf")
            for _ in range(repeat):
                with su.transaction():
                    best = min(best, _timed(su.cursor(), sql, params))
            return best

        for n, params in enumerate(picks[:warmup] + picks):
            for name, sql in QUERIES.items():
                with su.transaction():  # read the pages in, untimed
                    _timed(su.cursor(), sql, params)
                if n % 2:
                    su_ms = as_superuser(sql, params)
                    rls_ms, request_ms = as_learner(sql, params)
                else:
                    rls_ms, request_ms = as_learner(sql, params)
                    su_ms = as_superuser(sql, params)
                if n >= warmup:
                    results[name][0].append(rls_ms)
                    results[name][1].append(request_ms)
                    results[name][2].append(su_ms)
    return results


def explain(url: str, params: dict[str, str]) -> None:
    with psycopg.connect(url) as conn:
        for name, sql in QUERIES.items():
            for as_learner in (True, False):
                with conn.transaction():
                    cur = conn.cursor()
                    if as_learner:
                        cur.execute(
                            postgrest.REQUEST_SETTINGS_SQL,
                            postgrest.request_params(postgrest.claims(params["uid"])),
                        )
                    cur.execute("explain (analyze, buffers, costs off) " + sql, params)
                    who = "authenticated" if as_learner else "superuser"
                    print(f"\n-- {name} as {who}")
                    print("\n".join(r[0] for r in cur.fetchall()))


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(results, runs: int, repeat: int) -> None:
    print(
        f"\n{runs} runs each (random learners; each run the fastest of {repeat} requests);"
        " milliseconds at the client\n(query = execute + fetch;"
        " request = BEGIN + set_config + query + COMMIT)"
    )
    print(
        f"{'query':<12} {'RLS p50':>8} {'RLS p95':>8} {'req p95':>8} {'su p50':>8}"
        f" {'su p95':>8} {'ratio p50':>10} {'ratio p95':>10}  targets p95<=5 ratio<=1.3"
    )
    for name, (rls, request, su) in results.items():
        r50, r95, q95 = pct(rls, 50), pct(rls, 95), pct(request, 95)
        s50, s95 = pct(su, 50), pct(su, 95)
        ok = "ok" if r95 <= 5 and r50 / s50 <= 1.3 and r95 / s95 <= 1.3 else "MISSED"
        print(
            f"{name:<12} {r50:8.3f} {r95:8.3f} {q95:8.3f} {s50:8.3f} {s95:8.3f}"
            f" {r50 / s50:10.2f} {r95 / s95:10.2f}  {ok}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="each run is the fastest of this many requests (default 3)",
    )
    parser.add_argument("--pgdata", type=Path, help="keep the cluster here for the next run")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print EXPLAIN ANALYZE of each query, as learner and superuser",
    )
    args = parser.parse_args(argv)

    tmp = None
    pgdata = args.pgdata
    if pgdata is None:
        tmp = Path(tempfile.mkdtemp(prefix="learn-bench-"))
        pgdata = tmp / "pgdata"
    pg = database.EmbeddedPostgres(pgdata)
    try:
        url = build(pg.start())
        picks = samples(url, args.runs, args.seed)
        if args.explain:
            explain(url, picks[0])
        report(measure(url, picks, args.repeat), args.runs, args.repeat)
    finally:
        pg.stop()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
