"""`learn grader` as real processes on real PostgreSQL: grading with hidden tests, two
graders sharing the queue, SIGKILL mid-job, a poison submission, and the database
credentials kept away from learner code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.db.helpers import run
from tests.db.test_grading import SECRET, course_payload

ROOT = Path(__file__).resolve().parents[2]
RIGHT = "def double(x):\n    return 2 * x\n"
VISIBLE_ONLY = "def double(x):\n    return 4 if x == 2 else x\n"  # passes the visible test
SLOW_START = "import time\ntime.sleep(2)\n" + RIGHT  # 2 s before any test


@pytest.fixture(scope="module")
def course(db):
    author = db.new_user()
    payload = course_payload("grader-proc")
    payload["assessments"][0]["limits"] = {"time_ms": 8000}
    result = run(
        db, author, "select public.publish_course(%s::jsonb) as r", (json.dumps(payload),)
    )[0]["r"]
    run(db, author, "select public.set_course_grading(%s, 'verified')", (result["course_id"],))
    return str(db.su_one("select id from assessments where course_id = %s", (result["course_id"],)))


def submit(db, assessment: str, code: str, learner: str | None = None) -> str:
    learner = learner or db.new_user()
    r = run(
        db,
        learner,
        "select public.submit_attempt(%s, %s, %s::jsonb, null) as r",
        (assessment, code, json.dumps({"score": {"passed": 1, "total": 1}})),
    )[0]["r"]
    assert r["attempt"]["status"] == "submitted"
    return r["attempt"]["id"]


def clear_queue(db) -> None:
    db.su("update private.grading_jobs set state = 'done' where state in ('pending', 'running')")


def grader(
    url: str, *args: str, env: dict | None = None, url_in_argv: bool = True
) -> subprocess.Popen:
    full_env = dict(os.environ, **(env or {}))
    full_env.pop("DATABASE_URL", None)
    argv = [sys.executable, "-m", "tui.cli", "grader", *args]
    if url_in_argv:
        argv += ["--database-url", url]
    else:
        full_env["DATABASE_URL"] = url
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def graded_lines(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines() if line.strip()]


def wait_until(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def test_grader_once_records_verified_scores_with_hidden_tests(db, course):
    clear_queue(db)
    right, half = submit(db, course, RIGHT), submit(db, course, VISIBLE_ONLY)
    _out, err = grader(db.url, "--once").communicate(timeout=60)
    scores = {
        str(r["id"]): (r["score"], r["grading"])
        for r in db.su(
            "select id, score, grading from assessment_attempts where id in (%s, %s)", (right, half)
        )
    }
    assert scores == {right: (100, "verified"), half: (50, "verified")}, err


def test_verified_result_does_not_show_the_hidden_expectation(db, course):
    clear_queue(db)
    attempt = submit(db, course, VISIBLE_ONLY)
    grader(db.url, "--once").communicate(timeout=60)
    result = db.su_one("select execution_result from assessment_attempts where id = %s", (attempt,))
    assert result["tests"][1]["status"] == "fail" and str(SECRET) not in json.dumps(result)


def test_two_graders_never_grade_one_attempt_twice(db, course):
    for _round in range(3):
        clear_queue(db)
        attempts = [submit(db, course, RIGHT if i % 3 else VISIBLE_ONLY) for i in range(24)]
        procs = [
            grader(db.url, "--once", "--concurrency", "2", "--name", f"g{i}") for i in range(2)
        ]
        outputs = [p.communicate(timeout=120) for p in procs]
        lines = [ln for out, _err in outputs for ln in graded_lines(out)]
        counts = Counter(ln[1] for ln in lines if ln[0] in ("pass", "fail", "error"))
        jobs = db.su(
            "select attempt_id, state, tries, locked_by, last_error from private.grading_jobs"
            " where state <> 'done'"
        )
        assert sorted(counts) == sorted(attempts) and set(counts.values()) == {1}, (outputs, jobs)
        assert len(lines) == len(attempts), outputs  # no job run twice (no lease lost)
        assert db.su_one(
            "select count(*) from assessment_attempts where id = any(%s::uuid[])"
            " and status = 'completed' and grading = 'verified'",
            (attempts,),
        ) == len(attempts)


def _running_job(db, attempt: str, tries: int = 1):
    return db.su_one(
        "select locked_by from private.grading_jobs where attempt_id = %s"
        " and state = 'running' and tries = %s",
        (attempt, tries),
    )


def test_killed_grader_releases_its_attempt_after_the_lease(db, course):
    clear_queue(db)
    attempt = submit(db, course, SLOW_START)
    first = grader(db.url, "--lease", "6", "--name", "doomed")
    wait_until(lambda: _running_job(db, attempt))
    os.killpg(first.pid, signal.SIGKILL)
    first.communicate(timeout=10)
    out_early, _ = grader(db.url, "--once").communicate(timeout=60)
    assert graded_lines(out_early) == []  # still leased to the dead grader
    wait_until(
        lambda: db.su_one(
            "select locked_until < now() from private.grading_jobs where attempt_id = %s",
            (attempt,),
        )
    )
    out, err = grader(db.url, "--once", "--name", "heir").communicate(timeout=60)
    assert [ln[:2] for ln in graded_lines(out)] == [["pass", attempt]], err
    row = db.su(
        "select j.tries, t.score, t.grading from private.grading_jobs j"
        " join assessment_attempts t on t.id = j.attempt_id where j.attempt_id = %s",
        (attempt,),
    )[0]
    assert row == {"tries": 2, "score": 100, "grading": "verified"}


def test_poison_submission_is_an_error_after_three_tries_and_blocks_nothing(db, course):
    clear_queue(db)
    poison = submit(db, course, SLOW_START)  # each grader that takes it dies (SIGKILL)
    for tries in (1, 2, 3):
        proc = grader(db.url, "--lease", "2")
        wait_until(lambda tries=tries: _running_job(db, poison, tries))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
        wait_until(
            lambda: db.su_one(
                "select locked_until < now() from private.grading_jobs where attempt_id = %s",
                (poison,),
            )
        )
    healthy = submit(db, course, RIGHT)
    _out, err = grader(db.url, "--once").communicate(timeout=60)
    rows = {
        str(r["id"]): (r["status"], r["grading"])
        for r in db.su(
            "select id, status, grading from assessment_attempts where id in (%s, %s)",
            (poison, healthy),
        )
    }
    assert rows == {poison: ("completed", "error"), healthy: ("completed", "verified")}, err


PROBE = """import glob, os
def double(x):
    found = []
    readable = 0
    for path in glob.glob("/proc/*/environ") + glob.glob("/proc/*/cmdline"):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        readable += 1
        if b"gradersecret" in data:
            found.append(path)
    if "gradersecret" in repr(dict(os.environ)):
        found.append("environ")
    print("FOUND" if found else "CLEAN", readable, sorted(os.environ), found[:3])
    return 2 * x
"""


@pytest.mark.parametrize("url_in_argv", [True, False], ids=["argv", "environment"])
def test_learner_code_cannot_read_the_graders_database_url(db, course, url_in_argv):
    clear_queue(db)
    attempt = submit(db, course, PROBE)
    url = db.url + ("&" if "?" in db.url else "?") + "application_name=gradersecret"
    _out, err = grader(url, "--once", url_in_argv=url_in_argv).communicate(timeout=60)
    result = db.su_one("select execution_result from assessment_attempts where id = %s", (attempt,))
    output = result["tests"][0]["output"] or ""
    assert output.startswith("CLEAN") and int(output.split()[1]) > 0, (output, err)


@pytest.mark.skipif(os.geteuid() != 0, reason="the refusal is for root")
def test_grader_as_root_without_the_namespace_sandbox_refuses_to_start(db, course, tmp_path):
    """No `unshare` on PATH: learner code would share /proc with a root grader."""
    clear_queue(db)
    attempt = submit(db, course, PROBE)
    proc = grader(db.url, "--once", env={"PATH": str(tmp_path)})
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "non-root user" in err
    assert (
        db.su_one("select status from assessment_attempts where id = %s", (attempt,)) == "submitted"
    )


def test_grader_works_through_its_dedicated_login_role(db, course):
    from psycopg.conninfo import make_conninfo

    clear_queue(db)
    attempt = submit(db, course, RIGHT)
    url = make_conninfo(db.url, user="learn_grader_login")
    proc = grader(url, "--once")
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert (
        db.su_one("select grading from assessment_attempts where id = %s", (attempt,)) == "verified"
    )


def test_running_grader_grades_new_submissions_and_stops_on_sigterm(db, course):
    clear_queue(db)
    proc = grader(db.url, "--name", "resident")
    try:
        wait_until(
            lambda: db.su_one(
                "select 1 from private.grader_heartbeats where worker like 'resident:%%'"
            )
        )
        attempt = submit(db, course, RIGHT)
        wait_until(
            lambda: (
                db.su_one("select grading from assessment_attempts where id = %s", (attempt,))
                == "verified"
            )
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert [ln[:2] for ln in graded_lines(out)] == [["pass", attempt]]
