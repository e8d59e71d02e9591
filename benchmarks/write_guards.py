"""What issue #15's database guards cost on the write paths they sit on.

    python benchmarks/write_guards.py [--iterations 200]

Creates two throwaway databases on one embedded PostgreSQL: one with the migrations of
v0.1 only (20261124*), one with every migration. On each, as one signed-in learner (the
way PostgREST runs a request) it times the writes the guards touch — log_chat (row and
hourly limits), log_ai_interaction, record_lesson_progress (time cap, analytics day cap),
submit_attempt (streak by moments), update_profile with a time zone (pg_timezone_names),
set_enrollment_status (rate limit) — and, as the author, publish_course of the bundled
"python-foundations" folder (control characters, course size, per-author slug). Prints
median and p95 per call in milliseconds. Not run by CI.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.authoring.course import load_course  # noqa: E402
from services.data import database, postgrest  # noqa: E402
from services.paths import bundled_courses  # noqa: E402

RESULT = json.dumps(
    {
        "version": 1,
        "status": "fail",
        "message": None,
        "score": {"passed": 1, "total": 2, "percent": 50},
        "tests": [],
    }
)


def _user(conn) -> str:
    uid = str(uuid.uuid4())
    conn.execute(
        "insert into auth.users (id, email, aud, role) values (%s, %s,"
        " 'authenticated', 'authenticated')",
        (uid, f"{uid[:8]}@bench.test"),
    )
    return uid


_POOL: dict[str, psycopg.Connection] = {}


def _as(url: str, uid: str, sql: str, params=()) -> None:
    """One request on a kept connection, as PostgREST's pool runs it."""
    conn = _POOL.get(url) or _POOL.setdefault(url, psycopg.connect(url, autocommit=True))
    claims = postgrest.claims(uid)
    with conn.transaction():
        conn.execute(postgrest.REQUEST_SETTINGS_SQL, postgrest.request_params(claims))
        conn.execute(sql, params)


def _time(fn: Callable[[int], None], n: int) -> tuple[float, float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def measure(url: str, n: int) -> dict[str, tuple[float, float]]:
    folder = next(p for p in bundled_courses() if p.name == "python-foundations")
    payload = json.dumps(load_course(folder).payload())
    with psycopg.connect(url, autocommit=True) as conn:
        author, learner = _user(conn), _user(conn)
    _as(url, author, "select public.publish_course(%s::jsonb)", (payload,))
    with psycopg.connect(url, autocommit=True) as conn:
        course = conn.execute(
            "select id from courses where slug = 'python-foundations' and created_by = %s",
            (author,),
        ).fetchone()[0]
        lessons = [
            r[0]
            for r in conn.execute(
                "select id from lessons where course_id = %s order by order_index", (course,)
            )
        ]
        quiz = conn.execute(
            "select id from assessments where course_id = %s limit 1", (course,)
        ).fetchone()[0]
    _as(url, learner, "select public.enroll(%s)", (course,))
    zones = ("Europe/Berlin", "America/New_York")
    # Each learner-side write counts against that learner's hourly allowance, so the
    # rated ones spread over fresh learners (n // 50 + 1 of them).
    with psycopg.connect(url, autocommit=True) as conn:
        chatters = [_user(conn) for _ in range(n // 50 + 1)]
    for uid in chatters:
        _as(url, uid, "select public.enroll(%s)", (course,))
    return {
        "log_chat (2 kB answer)": _time(
            lambda i: _as(
                url, chatters[i // 50], "select public.log_chat('Why?', repeat('a', 2000))"
            ),
            n,
        ),
        "log_ai_interaction": _time(
            lambda i: _as(
                url,
                chatters[i // 50],
                "select public.log_ai_interaction('chat',"
                " jsonb_build_object('q', repeat('q', 500)), null, 120, 900)",
            ),
            n,
        ),
        "record_lesson_progress": _time(
            lambda i: _as(
                url,
                learner,
                "select public.record_lesson_progress(%s, 30)",
                (lessons[i % len(lessons)],),
            ),
            n,
        ),
        "submit_attempt": _time(
            lambda i: _as(
                url,
                learner,
                "select public.submit_attempt(%s, 'x', %s::jsonb, null)",
                (quiz, RESULT),
            ),
            n,
        ),
        "update_profile timezone": _time(
            lambda i: _as(
                url,
                learner,
                "select public.update_profile(%s::jsonb)",
                (json.dumps({"timezone": zones[i % 2]}),),
            ),
            n,
        ),
        "set_enrollment_status": _time(
            lambda i: _as(
                url,
                chatters[i // 50],
                "select public.set_enrollment_status(%s, %s)",
                (course, "paused" if i % 2 == 0 else "active"),
            ),
            n,
        ),
        "publish_course (bundled, unchanged)": _time(
            lambda i: _as(url, author, "select public.publish_course(%s::jsonb)", (payload,)),
            max(n // 10, 5),
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="learn-bench-guards-"))
    pg = database.EmbeddedPostgres(root / "pgdata")
    try:
        base = pg.start()
        old_dir = root / "v01"
        old_dir.mkdir()
        for m in sorted((ROOT / "supabase" / "migrations").glob("20261124*.sql")):
            shutil.copy(m, old_dir / m.name)
        results = {}
        # "now" first, so a warm-up advantage, if any, goes to v0.1
        for label, directory in (("now", None), ("v0.1", old_dir)):
            name = "bench_" + label.replace(".", "")
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f"create database {name}")
            prefix, _, query = base.partition("?")
            url = f"{prefix.rsplit('/', 1)[0]}/{name}?{query}"
            database.migrate(url, directory=directory)
            results[label] = measure(url, args.iterations)
            _POOL.pop(url).close()
        print(f"{'write':<38} {'v0.1 median':>12} {'p95':>8} {'now median':>12} {'p95':>8}  (ms)")
        for key in results["now"]:
            (om, op), (nm, np_) = results["v0.1"][key], results["now"][key]
            print(f"{key:<38} {om:>12.2f} {op:>8.2f} {nm:>12.2f} {np_:>8.2f}")
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
