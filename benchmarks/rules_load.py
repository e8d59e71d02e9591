"""What the database's rules cost under concurrency, measured with PostgreSQL's pgbench.

    python benchmarks/rules_load.py [--seconds 30] [--clients 1,10,50] [--pgdata DIR]

On the 100k-learner data set of `benchmarks/db_scale.py` (built once; `--pgdata` keeps
it for the next run), pgbench replays a mix of learner requests exactly as PostgREST runs
them: one transaction each, `role` and `request.jwt.claims` set locally for a random
learner, then one screen-shaped RPC:

  reads  70%   dashboard() 25, course_detail(course) 20, lesson_detail(lesson) 25
  writes 30%   record_lesson_progress 15, submit_attempt 8, log_chat 7

Every write goes through RLS, the triggers (progress, streaks, analytics, achievements,
audit), the replay table and whatever quotas the migrations define. The same mix then runs
as the superuser with the same claims but without `set role` (no RLS; the triggers still
run) as the baseline. Prints transactions/s and p50/p95 latency per client count, and the
ratio of the two throughputs. Targets on a 2-core machine: >= 2,000 learner actions/s at
10 clients, p95 <= 20 ms at 50 clients, baseline/rules throughput <= 1.5.
Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import db_scale  # noqa: E402

from services.data import database  # noqa: E402

# One assessment per published course: what submit_attempt needs and db_scale lacks.
ASSESSMENTS = f"""
insert into public.assessments (id, slug, title, description, difficulty, time_limit,
                                instructions, starter_code, test_cases, entry, course_id,
                                is_published, created_by)
  select md5('assessment' || c)::uuid, 'bench-' || c, 'Exercise of course ' || c,
         'Write a function', 'Beginner', 30, 'Return twice x.', 'def solve(x):\n    ...\n',
         '[{{"name": "basic", "args": [2], "expected": 4}}]'::jsonb, 'solve',
         md5('course' || c)::uuid, true, md5('learner' || (1 + c % 100))::uuid
  from generate_series(1, {db_scale.PUBLISHED_COURSES}) c
on conflict do nothing;
"""

# pgbench variables: a random learner i, one of the courses they are enrolled in (as
# db_scale enrols them), a published lesson of it.
PICK = f"""\\set i random(1, {db_scale.LEARNERS})
\\set j random(0, {db_scale.ENROLLMENTS_PER_LEARNER - 1})
\\set c 1 + (:i * 7 + :j * 53) % {db_scale.PUBLISHED_COURSES}
\\set k random(1, 18)
"""

AS_LEARNER = (
    "select set_config('search_path', 'public, extensions', true),"
    " set_config('role', 'authenticated', true),"
    " set_config('request.jwt.claims', json_build_object('sub',"
    " md5('learner' || :i)::uuid, 'role', 'authenticated')::text, true);"
)
# The baseline: the same claims (the functions read auth.uid()), no role switch: no RLS.
AS_SUPERUSER = (
    "select set_config('search_path', 'public, extensions', true),"
    " set_config('request.jwt.claims', json_build_object('sub',"
    " md5('learner' || :i)::uuid, 'role', 'authenticated')::text, true);"
)

CALLS = {
    "dashboard": (25, "select public.dashboard();"),
    "course": (20, "select public.course_detail(p_course_id => md5('course' || :c)::uuid);"),
    "lesson": (25, "select public.lesson_detail(md5('lesson' || :c || '-' || :k)::uuid);"),
    "progress": (
        15,
        "select public.record_lesson_progress(md5('lesson' || :c || '-' || :k)::uuid,"
        " 60, 100, null, gen_random_uuid());",
    ),
    "attempt": (
        8,
        "select public.submit_attempt(md5('assessment' || :c)::uuid,"
        " 'def solve(x):\n    return 2 * x\n',"
        ' \'{"status": "pass", "tests": [{"name": "basic",'
        ' "status": "pass"}]}\'::jsonb, 100, null,'
        " gen_random_uuid());",
    ),
    "chat": (
        7,
        "select public.log_chat('How do I return a value?',"
        " 'Use the return statement: return 2 * x.', 'general_chat',"
        " md5('course' || :c)::uuid);",
    ),
}


def write_scripts(folder: Path, who: str) -> list[str]:
    """pgbench -f arguments (file@weight), one script per call."""
    args = []
    for name, (weight, call) in CALLS.items():
        path = folder / f"{who}-{name}.sql"
        prefix = AS_LEARNER if who == "rules" else AS_SUPERUSER
        path.write_text(f"{PICK}begin;\n{prefix}\n{call}\ncommit;\n")
        args += ["-f", f"{path}@{weight}"]
    return args


def pgbench_binary() -> str:
    import pgserver

    found = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pgbench"
    return str(found) if found.exists() else (shutil.which("pgbench") or "pgbench")


def run(url: str, scripts: list[str], clients: int, seconds: int, logdir: Path) -> dict:
    for old in logdir.glob("pgbench_log*"):
        old.unlink()
    cmd = [
        pgbench_binary(),
        "-n",
        "-c",
        str(clients),
        "-j",
        str(min(clients, 2)),
        "-T",
        str(seconds),
        "--log",
        f"--log-prefix={logdir / 'pgbench_log'}",
        *scripts,
        url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"pgbench failed:\n{out.stderr[-3000:]}")
    latencies, failed = [], 0
    for log in logdir.glob("pgbench_log*"):
        for line in log.read_text().splitlines():
            parts = line.split()
            if parts[2] == "failed" or parts[2] == "skipped":
                failed += 1
            else:
                latencies.append(int(parts[2]) / 1000)
    tps = len(latencies) / seconds
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"tps": tps, "p50": q[49], "p95": q[94], "n": len(latencies), "failed": failed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--clients", default="1,10,50")
    parser.add_argument("--pgdata", type=Path, help="keep the cluster here for the next run")
    args = parser.parse_args(argv)
    clients = [int(c) for c in args.clients.split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="learn-pgbench-"))
    pg = database.EmbeddedPostgres(args.pgdata or tmp / "pgdata")
    try:
        url = db_scale.build(pg.start())
        database.migrate(url)  # a kept data set gets the migrations added since
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("set session_replication_role = replica")
            conn.execute(ASSESSMENTS)
            conn.execute("set session_replication_role = origin")
            conn.execute("analyze public.assessments")
        results = {}
        for who in ("rules", "baseline"):
            scripts = write_scripts(tmp, who)
            for n in clients:
                r = run(url, scripts, n, args.seconds, tmp)
                results[who, n] = r
                print(
                    f"  {who:<8} {n:>3} clients: {r['tps']:8.0f} tx/s  p50 {r['p50']:6.2f} ms"
                    f"  p95 {r['p95']:6.2f} ms  ({r['n']} tx, {r['failed']} failed)",
                    flush=True,
                )
    finally:
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"\n{args.seconds} s per run; 70% reads / 30% writes; latency per transaction"
        " as pgbench measures it (BEGIN, claims, RPC, COMMIT)"
    )
    print(
        f"{'clients':>7} {'rules tx/s':>11} {'p50 ms':>7} {'p95 ms':>7} {'base tx/s':>10}"
        f" {'p50 ms':>7} {'p95 ms':>7} {'base/rules':>11}"
    )
    for n in clients:
        r, b = results["rules", n], results["baseline", n]
        print(
            f"{n:>7} {r['tps']:>11.0f} {r['p50']:>7.2f} {r['p95']:>7.2f} {b['tps']:>10.0f}"
            f" {b['p50']:>7.2f} {b['p95']:>7.2f} {b['tps'] / r['tps']:>11.2f}"
        )
    print("targets: >= 2,000 tx/s at 10 clients; p95 <= 20 ms at 50 clients; base/rules <= 1.5")
    return 0


if __name__ == "__main__":
    sys.exit(main())
