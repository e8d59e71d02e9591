"""services.grader.local: the in-process grader the app and `learn practice` start on the
embedded database, on real PostgreSQL."""

from __future__ import annotations

import json
import time

import pytest

from services.data.backend import LocalBackend
from services.grader.local import local_grader, start_local_grader
from tests.db.helpers import run
from tests.db.test_grading import course_payload

RIGHT = "def double(x):\n    return 2 * x\n"


@pytest.fixture(scope="module")
def assessment(db):
    author = db.new_user()
    payload = course_payload("local-grader")
    result = run(
        db, author, "select public.publish_course(%s::jsonb) as r", (json.dumps(payload),)
    )[0]["r"]
    run(db, author, "select public.set_course_grading(%s, 'verified')", (result["course_id"],))
    return str(db.su_one("select id from assessments where course_id = %s", (result["course_id"],)))


def submit(db, assessment: str) -> str:
    db.su("update private.grading_jobs set state = 'done' where state in ('pending', 'running')")
    r = run(
        db,
        db.new_user(),
        "select public.submit_attempt(%s, %s, %s::jsonb, null) as r",
        (assessment, RIGHT, json.dumps({"score": {"passed": 1, "total": 1}})),
    )[0]["r"]
    return r["attempt"]["id"]


def status(db, attempt: str) -> tuple[str, str | None]:
    row = db.su("select status, grading from assessment_attempts where id = %s", (attempt,))[0]
    return row["status"], row["grading"]


def test_a_backend_that_does_not_grade_in_process_gives_no_grader(db):
    assert local_grader(LocalBackend(db.url, in_process_grader=False), "practice") is None


def test_an_object_without_grading_url_gives_no_grader():
    assert local_grader(object(), "practice") is None


def test_the_local_grader_grades_a_submission_once(db, assessment):
    attempt = submit(db, assessment)
    grader = local_grader(LocalBackend(db.url, in_process_grader=True), "practice")
    assert grader is not None and grader.name.startswith("practice:")
    grader.run(once=True)
    assert status(db, attempt) == ("completed", "verified")


def test_the_started_grader_grades_until_stopped(db, assessment):
    handle = start_local_grader(LocalBackend(db.url, in_process_grader=True))
    try:
        attempt = submit(db, assessment)
        deadline = time.monotonic() + 30
        while status(db, attempt)[0] == "submitted" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert status(db, attempt) == ("completed", "verified")
    finally:
        handle.stop()
    handle.thread.join(10)
    assert not handle.thread.is_alive()


def test_a_grader_stopped_before_it_found_its_url_never_claims(db, assessment):
    class SlowToAnswer:
        def grading_url(self) -> str:
            time.sleep(0.5)
            return db.url

    handle = start_local_grader(SlowToAnswer())
    handle.stop()
    attempt = submit(db, assessment)
    handle.thread.join(10)
    assert not handle.thread.is_alive() and status(db, attempt)[0] == "submitted"
