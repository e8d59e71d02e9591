"""Verified grading: throughput and latency of `learn grader`, against `learn check`.

    python benchmarks/grader.py [--n 500] [--live 40] [--check-n 150]

Creates a throwaway embedded PostgreSQL with the bundled courses (grading = "verified"),
then, on Python Foundations' "Make a URL slug" (9 tests, 2 hidden):

* baseline   `learn check make-slug.toml SOLUTION --json`, one process per submission,
             one after another (mixed pass/fail submissions);
* backlog    N submissions queued at once, graded by 1, then by 2 `learn grader --once`
             processes (each --concurrency 1): submissions/s, and p50/p95 from submit
             to verified result (that includes the time spent queued behind the others);
* live       submissions sent one at a time to one running `learn grader`, each waiting
             for its verified result (NOTIFY wakes the grader): what a learner waits.

The ratio "grader per submission / learn check per submission" is the grader's overhead
(claim + record + NOTIFY, against interpreter start + TOML parsing). Prints the machine's
load average: the machine may be shared. Not run by CI.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from services.data import database, postgrest  # noqa: E402
from services.data.seed import seed_bundled  # noqa: E402
from services.paths import bundled_courses  # noqa: E402
from services.runner import load_assessment  # noqa: E402

ASSESSMENT = "make-slug"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def submissions(n: int) -> list[str]:
    """Mixed pass/fail: the reference solution, the starter code, one that fails the
    hidden tests only."""
    folder = next(p for p in bundled_courses() if p.name == "python-foundations")
    spec = load_assessment(folder / "assessments" / f"{ASSESSMENT}.toml")
    ascii_only = (spec.solution or "") + (
        "\n_real = make_slug\n\ndef make_slug(title):\n"
        "    return 'x' if any(ord(c) > 127 for c in title) else _real(title)\n"
    )
    kinds = [spec.solution or "", spec.starter_code, ascii_only]
    return [kinds[i % 3] for i in range(n)]


def submit_all(conn, assessment: str, codes: list[str], learners: list[str]) -> list[str]:
    ids = []
    for i, code in enumerate(codes):
        claims = postgrest.claims(learners[i % len(learners)])
        with conn.transaction():
            conn.execute(postgrest.REQUEST_SETTINGS_SQL, postgrest.request_params(claims))
            r = conn.execute(
                "select public.submit_attempt(%s, %s, '{}'::jsonb, null)", (assessment, code)
            ).fetchone()[0]
        ids.append(r["attempt"]["id"])
    return ids


def graders(url: str, count: int, *extra: str) -> list[subprocess.Popen]:
    env = dict(os.environ, DATABASE_URL=url)
    return [
        subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "grader", "--quiet", "--name", f"bench-{i}", *extra],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(count)
    ]


def latencies(conn, ids: list[str]) -> list[float]:
    rows = conn.execute(
        "select extract(epoch from j.finished_at - t.submitted_at) from private.grading_jobs j"
        " join public.assessment_attempts t on t.id = j.attempt_id"
        " where j.attempt_id = any(%s::uuid[]) and j.state = 'done'",
        (ids,),
    ).fetchall()
    return [float(r[0]) for r in rows]


def backlog(
    url: str, conn, assessment: str, learners: list[str], codes: list[str], processes: int
) -> tuple[float, float, float, float]:
    ids = submit_all(conn, assessment, codes, learners)
    started = time.monotonic()
    procs = graders(url, processes, "--once")
    for p in procs:
        _out, err = p.communicate()
        if p.returncode:
            raise SystemExit(f"grader failed: {err}")
    took = time.monotonic() - started
    done = latencies(conn, ids)
    if len(done) != len(ids):
        raise SystemExit(f"only {len(done)} of {len(ids)} graded")
    return len(ids) / took, took / len(ids), statistics.median(done), pct(done, 0.95)


def live(url: str, conn, assessment: str, learners: list[str], codes: list[str]) -> list[float]:
    proc = graders(url, 1)[0]
    time.sleep(1.5)  # started and listening
    waits = []
    try:
        for i, code in enumerate(codes):
            started = time.monotonic()
            attempt = submit_all(conn, assessment, [code], [learners[i % len(learners)]])[0]
            while (
                conn.execute(
                    "select status from public.assessment_attempts where id = %s", (attempt,)
                ).fetchone()[0]
                == "submitted"
            ):
                time.sleep(0.002)
            waits.append(time.monotonic() - started)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    return waits


def check_baseline(codes: list[str], tmp: Path) -> float:
    folder = next(p for p in bundled_courses() if p.name == "python-foundations")
    toml = folder / "assessments" / f"{ASSESSMENT}.toml"
    files = []
    for i, code in enumerate(codes):
        path = tmp / f"s{i}.py"
        path.write_text(code)
        files.append(path)
    started = time.monotonic()
    for path in files:
        subprocess.run(
            [sys.executable, "-m", "tui.cli", "check", str(toml), str(path), "--json"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            check=False,
        )
    return (time.monotonic() - started) / len(files)


def runner_baseline(codes: list[str]) -> float:
    """The sandbox alone, in this process (what the grader does between claim and record)."""
    from services.runner import run

    folder = next(p for p in bundled_courses() if p.name == "python-foundations")
    spec = load_assessment(folder / "assessments" / f"{ASSESSMENT}.toml")
    started = time.monotonic()
    for code in codes:
        run(spec, code)
    return (time.monotonic() - started) / len(codes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="submissions per backlog run")
    parser.add_argument("--live", type=int, default=40, help="submissions in the live run")
    parser.add_argument(
        "--check-n",
        type=int,
        default=150,
        help="submissions `learn check` runs for the baseline (its cost per "
        "submission is flat: fewer keeps the run short)",
    )
    args = parser.parse_args()
    print(
        f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"on {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="learn-bench-grader-") as tmp:
        server = database.EmbeddedPostgres(Path(tmp) / "pgdata")
        url = server.start()
        try:
            database.migrate(url)
            seed_bundled(url)
            with psycopg.connect(url, autocommit=True) as conn:
                assessment = str(
                    conn.execute(
                        "select a.id from public.assessments a join public.courses c"
                        " on c.id = a.course_id where c.slug = 'python-foundations'"
                        " and a.slug = %s",
                        (ASSESSMENT,),
                    ).fetchone()[0]
                )
                learners = []
                for i in range(50):
                    uid = str(uuid.uuid4())
                    conn.execute(
                        "insert into auth.users (id, email, aud, role) values"
                        " (%s, %s, 'authenticated', 'authenticated')",
                        (uid, f"bench{i}@example.test"),
                    )
                    learners.append(uid)
                codes = submissions(args.n)

                per_check = check_baseline(codes[: args.check_n], Path(tmp))
                print(
                    f"learn check, one process per submission: {per_check * 1000:.0f} ms "
                    f"a submission ({1 / per_check:.1f}/s)"
                )
                per_run = runner_baseline(codes[: args.check_n])
                print(
                    f"the sandbox alone (services.runner.run in-process): "
                    f"{per_run * 1000:.0f} ms a submission"
                )
                one = backlog(url, conn, assessment, learners, codes, 1)
                two = backlog(url, conn, assessment, learners, codes, 2)
                for label, (rate, per, p50, p95) in (("1 grader ", one), ("2 graders", two)):
                    print(
                        f"{label}: {args.n} queued: {rate:.1f} submissions/s, "
                        f"{per * 1000:.0f} ms each; submit→verified p50 {p50:.2f} s, "
                        f"p95 {p95:.2f} s (queued behind the others)"
                    )
                print(
                    f"grader per submission / learn check per submission: {one[1] / per_check:.2f}×"
                )
                print(f"2 graders / 1 grader throughput: {two[0] / one[0]:.2f}×")
                print(
                    f"queue overhead per submission (1 grader − sandbox alone): "
                    f"{(one[1] - per_run) * 1000:.0f} ms"
                )
                waits = live(url, conn, assessment, learners, codes[: args.live])
                print(
                    f"live, one at a time, 1 grader: submit→verified p50 "
                    f"{statistics.median(waits) * 1000:.0f} ms, p95 "
                    f"{pct(waits, 0.95) * 1000:.0f} ms ({len(waits)} submissions)"
                )
        finally:
            server.stop()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
