"""The claim → grade → record loop, N threads, woken by NOTIFY.

Each thread has its own connection, switched to the role learn_grader (`SET ROLE`), so
a superuser URL (the embedded database) and a dedicated login role (Supabase) grade
with exactly the same privileges: three functions and nothing else. A thread claims one
job at a time (a short transaction), runs it in the sandbox, and records the result
under the job's lease; if anything of its own goes wrong it gives the job back
(release_grading_job), and after the third try the database records an error. A grader
that dies holds its job until the lease ends; another grader then takes it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from .jobs import grade_job

GRADER_ROLE = "learn_grader"
CHANNEL = "learn_grading"
log = logging.getLogger("learn.grader")


class GradeEvent(NamedTuple):
    """One job the grader finished (or gave back): what `learn grader` prints."""

    attempt_id: str
    outcome: str  # pass | fail | error | released | lease-lost
    passed: int
    total: int
    tries: int
    seconds: float
    worker: str

    def line(self) -> str:
        return (
            f"{self.outcome:<10} {self.attempt_id} {self.passed}/{self.total} "
            f"try {self.tries} {self.seconds * 1000:.0f} ms {self.worker}"
        )


class Grader:
    """`run(once=True)` grades everything claimable and returns; `run()` works until
    `stop()` (or SIGTERM/SIGINT in `learn grader`)."""

    def __init__(
        self,
        url: str,
        *,
        concurrency: int = 1,
        lease_s: int = 60,
        poll_s: float = 2.0,
        name: str | None = None,
        on_event: Callable[[GradeEvent], None] | None = None,
        grade: Callable[[dict[str, Any]], dict[str, Any]] = grade_job,
    ):
        self._url = url
        self.concurrency = max(1, concurrency)
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self._on_event = on_event or (lambda _e: None)
        self._grade = grade
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._woken = False  # a wake-up no thread has taken yet (set under _wake)
        self.graded = 0
        self.problem: str | None = None  # why a `run(once=True)` could not claim
        self._count_lock = threading.Lock()

    def stop(self) -> None:
        self._stop.set()
        self.wake()

    def wake(self) -> None:
        """A job may be waiting (NOTIFY on the channel calls this). Kept until a thread
        takes it, so a NOTIFY between an empty claim and the wait is not lost."""
        with self._wake:
            self._woken = True
            self._wake.notify_all()

    def connect(self):
        import psycopg

        conn = psycopg.connect(self._url, autocommit=True)
        conn.execute(f"set role {GRADER_ROLE}")
        return conn

    def check(self) -> None:
        """Connect once as the grader: raises psycopg errors a person can read."""
        with self.connect() as conn:
            allowed = conn.execute(
                "select has_function_privilege('private.record_grade(uuid, uuid, jsonb)',"
                " 'execute')"
            ).fetchone()[0]
        if not allowed:
            raise PermissionError(
                f"the role {GRADER_ROLE} may not record grades here: "
                "apply the migrations (learn doctor)"
            )

    def run(self, *, once: bool = False) -> int:
        threads = [
            threading.Thread(target=self._work, args=(i, once), daemon=True, name=f"grader-{i}")
            for i in range(self.concurrency)
        ]
        listener = None
        if not once:
            listener = threading.Thread(target=self._listen, daemon=True, name="grader-listen")
            listener.start()
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.5)
        self._stop.set()
        return self.graded

    # -- the loop ------------------------------------------------------------------

    def _work(self, index: int, once: bool) -> None:
        worker = f"{self.name}:{index}"
        conn = None
        while not self._stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = self.connect()
                jobs = conn.execute(
                    "select private.claim_grading_jobs(%s, 1, %s)", (worker, self.lease_s)
                ).fetchone()[0]
            except Exception as e:  # the database went away: retry after a pause
                log.warning("grader %s cannot claim jobs: %s", worker, e)
                _close(conn)
                conn = None
                if once:
                    self.problem = (
                        str(e).strip().splitlines()[0][:200] if str(e) else type(e).__name__
                    )
                    return
                self._stop.wait(self.poll_s)
                continue
            if not jobs:
                if once:
                    break
                with self._wake:
                    if not self._woken:
                        self._wake.wait(self.poll_s)
                    self._woken = False
                continue
            for job in jobs:
                conn = self._finish(conn, job, worker)
        _close(conn)

    def _finish(self, conn, job: dict[str, Any], worker: str):
        started = time.monotonic()
        attempt, lease, tries = job["attempt_id"], job["lease"], job.get("tries", 1)
        try:
            result = self._grade(job)
        except Exception as e:  # our bug, not the learner's code: give the job back
            log.exception("grading %s failed", attempt)
            self._release(conn, attempt, lease, f"{type(e).__name__}: {e}")
            self._on_event(
                GradeEvent(attempt, "released", 0, 0, tries, time.monotonic() - started, worker)
            )
            return conn
        score = result.get("score") or {}
        try:
            conn.execute(
                "select private.record_grade(%s, %s, %s::jsonb)",
                (attempt, lease, json.dumps(result)),
            )
            outcome = result.get("status", "error")
            with self._count_lock:
                self.graded += 1
        except Exception as e:
            import psycopg

            if isinstance(e, psycopg.errors.ObjectNotInPrerequisiteState):
                outcome = "lease-lost"  # another grader holds it now; theirs counts
            else:
                log.warning("recording %s failed: %s", attempt, e)
                _close(conn)
                conn = None
                try:
                    conn = self.connect()
                    self._release(conn, attempt, lease, f"record_grade: {e}")
                except Exception:
                    _close(conn)
                    conn = None
                outcome = "released"
        self._on_event(
            GradeEvent(
                attempt,
                outcome,
                int(score.get("passed", 0)),
                int(score.get("total", 0)),
                tries,
                time.monotonic() - started,
                worker,
            )
        )
        return conn

    def _release(self, conn, attempt: str, lease: str, error: str) -> None:
        try:
            conn.execute(
                "select private.release_grading_job(%s, %s, %s)", (attempt, lease, error[:2000])
            )
        except Exception as e:
            log.warning("releasing %s failed (its lease will end): %s", attempt, e)

    def _listen(self) -> None:
        """LISTEN for new submissions; a lost connection is retried (the poll covers
        the gap)."""
        while not self._stop.is_set():
            conn = None
            try:
                conn = self.connect()
                conn.execute(f"listen {CHANNEL}")
                while not self._stop.is_set():
                    for _n in conn.notifies(timeout=1.0, stop_after=1):
                        self.wake()
            except Exception as e:
                log.info("grader LISTEN connection lost: %s", e)
                self._stop.wait(self.poll_s)
            finally:
                _close(conn)


def _close(conn) -> None:
    if conn is not None:
        try:
            conn.close()
        except Exception:
            pass
    return None
