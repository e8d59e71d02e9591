"""Verified grading in the database (issue #16): forged scores never stick, hidden tests
stay hidden from anon and learners, and only the grader role records a score, once,
while it holds the job's lease."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tests.db.helpers import result_json, run, sqlstate

SECRET = 982451654  # a hidden test's expected value: must never reach a learner


def course_payload(slug: str, *, secret: int = SECRET) -> dict:
    return {
        "slug": slug,
        "title": "Graded",
        "difficulty_level": "Beginner",
        "lessons": [{"slug": "one", "title": "One", "order_index": 1}],
        "assessments": [
            {
                "slug": "double",
                "title": "Double",
                "language": "python",
                "entry": "double",
                "starter_code": "def double(x):\n    ...\n",
                "test_cases": [
                    {"name": "visible", "args": [2], "expected": 4},
                    {"name": "secret", "args": [secret // 2], "expected": secret, "hidden": True},
                ],
                "solution": "def double(x):\n    return 2 * x\n",
            }
        ],
    }


def publish(db, author: str, slug: str, grading: str = "verified", **kw) -> tuple[str, str]:
    result = run(
        db,
        author,
        "select public.publish_course(%s::jsonb) as r",
        (json.dumps(course_payload(slug, **kw)),),
    )[0]["r"]
    run(db, author, "select public.set_course_grading(%s, %s)", (result["course_id"], grading))
    assessment = db.su_one(
        "select id from assessments where course_id = %s and slug = 'double'",
        (result["course_id"],),
    )
    return result["course_id"], str(assessment)


@pytest.fixture(scope="module")
def author(db) -> str:
    return db.new_user()


@pytest.fixture(scope="module")
def verified(db, author) -> tuple[str, str]:
    return publish(db, author, "graded-verified")


def submit(db, uid: str, assessment: str, score: float = 100) -> dict:
    return run(
        db,
        uid,
        "select public.submit_attempt(%s, %s, %s, %s) as r",
        (assessment, "def double(x):\n    return 2 * x\n", result_json(1, 1), score),
    )[0]["r"]


def as_grader(db, sql: str, params=None):
    with psycopg.connect(db.url, row_factory=dict_row) as conn, conn.transaction():
        conn.execute("set local role learn_grader")
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else cur.rowcount


def claim(db, worker: str = "w1", n: int = 10) -> list[dict]:
    return as_grader(db, "select private.claim_grading_jobs(%s, %s, 60) as j", (worker, n))[0]["j"]


def record(db, job: dict, passed: int, total: int) -> dict:
    return as_grader(
        db,
        "select private.record_grade(%s, %s, %s) as r",
        (job["attempt_id"], job["lease"], result_json(passed, total)),
    )[0]["r"]


def drain(db) -> None:
    """Grade nothing, just empty the queue left by earlier tests (one module, one db)."""
    db.su("update private.grading_jobs set state = 'done' where state <> 'done'")


def test_forged_score_in_a_verified_course_is_not_recorded(db, verified):
    learner = db.new_user()
    result = submit(db, learner, verified[1])
    assert (result["attempt"]["status"], result["attempt"]["score"]) == ("submitted", None)
    row = db.su(
        "select status, score, execution_result, grading from assessment_attempts"
        " where user_id = %s",
        (learner,),
    )[0]
    assert row == {
        "status": "submitted",
        "score": None,
        "execution_result": None,
        "grading": "pending",
    }


def test_forged_score_awards_no_achievement_points_or_analytics(db, verified):
    learner = db.new_user()
    submit(db, learner, verified[1])
    assert db.su_one("select count(*) from achievements where user_id = %s", (learner,)) == 0
    assert db.su_one("select count(*) from learning_analytics where user_id = %s", (learner,)) == 0


def test_learner_cannot_complete_a_submitted_attempt_by_updating_it(db, verified):
    learner = db.new_user()
    attempt = submit(db, learner, verified[1])["attempt"]["id"]
    state = sqlstate(
        db,
        learner,
        "update assessment_attempts set status = 'completed',"
        " score = 100, execution_result = %s where id = %s",
        (result_json(1, 1), attempt),
    )
    assert state == "42501"


def test_learner_cannot_insert_a_completed_attempt_into_a_verified_course(db, verified):
    learner = db.new_user()
    run(
        db,
        learner,
        "insert into assessment_attempts (user_id, assessment_id, status, score,"
        " execution_result) values (auth.uid(), %s, 'completed', 100, %s)",
        (verified[1], result_json(1, 1)),
    )
    assert db.su(
        "select status, score from assessment_attempts where user_id = %s", (learner,)
    ) == [{"status": "submitted", "score": None}]


def test_submission_queues_one_grading_job(db, verified):
    learner = db.new_user()
    attempt = submit(db, learner, verified[1])["attempt"]["id"]
    assert (
        db.su_one("select state from private.grading_jobs where attempt_id = %s", (attempt,))
        == "pending"
    )


def test_self_graded_course_keeps_the_learners_score_marked_self(db, author):
    _, assessment = publish(db, author, "graded-self", grading="self")
    learner = db.new_user()
    result = submit(db, learner, assessment)
    assert result["attempt"]["status"] == "completed"
    assert db.su(
        "select score, grading from assessment_attempts where user_id = %s", (learner,)
    ) == [{"score": 100, "grading": "self"}]


# --- hidden tests ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anon", "learner"])
def test_hidden_expectation_is_not_in_the_assessments_table(db, verified, who):
    uid = None if who == "anon" else db.new_user()
    rows = run(db, uid, "select test_cases from assessments where id = %s", (verified[1],))
    assert rows and str(SECRET) not in json.dumps(rows)
    assert rows[0]["test_cases"][1] == {"name": "secret", "hidden": True, "revision": 1}


@pytest.mark.parametrize("who", ["anon", "learner"])
def test_hidden_expectation_is_not_in_assessment_detail(db, verified, who):
    uid = None if who == "anon" else db.new_user()
    rows = run(db, uid, "select public.assessment_detail(%s) as d", (verified[1],))
    assert str(SECRET) not in json.dumps(rows)


def test_anon_cannot_read_the_hidden_tests_table(db, verified):
    assert sqlstate(db, None, "select * from private.assessment_tests") == "42501"


def test_learner_reads_no_hidden_tests_row(db, verified):
    learner = db.new_user()
    assert run(db, learner, "select * from private.assessment_tests") == []


def test_learner_cannot_export_anothers_course(db, verified):
    learner = db.new_user()
    assert sqlstate(db, learner, "select public.export_course('graded-verified')") == "P0002"


def test_no_public_function_returns_the_hidden_expectation_to_a_learner(db, verified):
    learner = db.new_user()
    course_id, assessment = verified
    attempt = submit(db, learner, assessment)["attempt"]["id"]
    outputs = [
        run(db, learner, "select public.course_detail(%s)", (course_id,)),
        run(db, learner, "select public.assessment_detail(%s)", (assessment,)),
        run(db, learner, "select public.attempt_result(%s)", (attempt,)),
        run(db, learner, "select public.grading_status()"),
        run(db, learner, "select * from assessment_attempts where user_id = auth.uid()"),
    ]
    assert str(SECRET) not in json.dumps(outputs, default=str)


def test_author_exports_the_hidden_tests(db, author, verified):
    exported = run(db, author, "select public.export_course('graded-verified') as e")[0]["e"]
    tests = exported["assessments"][0]["test_cases"]
    assert tests[1]["expected"] == SECRET and exported["grading"] == "verified"


def test_publishing_twice_with_hidden_tests_changes_nothing(db, author, verified):
    again = run(
        db,
        author,
        "select public.publish_course(%s::jsonb) as r",
        (json.dumps(course_payload("graded-verified")),),
    )[0]["r"]
    assert again["changed"] == 0


def test_changing_only_a_hidden_expectation_is_a_change(db, author):
    publish(db, author, "graded-change")
    again = run(
        db,
        author,
        "select public.publish_course(%s::jsonb) as r",
        (json.dumps(course_payload("graded-change", secret=SECRET + 2)),),
    )[0]["r"]
    stored = db.su_one(
        "select h.tests from private.assessment_tests h join assessments a"
        " on a.id = h.assessment_id join courses c on c.id = a.course_id"
        " where c.slug = 'graded-change'"
    )
    assert again["changed"] == 1 and stored[1]["expected"] == SECRET + 2


# --- the grader -----------------------------------------------------------------------


def test_grader_claim_includes_the_hidden_tests(db, verified):
    drain(db)
    submit(db, db.new_user(), verified[1])
    jobs = claim(db)
    assert len(jobs) == 1 and jobs[0]["test_cases"][1]["expected"] == SECRET


def test_verified_grade_completes_the_attempt_and_awards(db, verified):
    drain(db)
    learner = db.new_user()
    submit(db, learner, verified[1], score=0)
    job = claim(db)[0]
    record(db, job, 2, 2)
    assert db.su(
        "select status, score, grading from assessment_attempts where user_id = %s", (learner,)
    ) == [{"status": "completed", "score": 100, "grading": "verified"}]
    kinds = {
        r["type"] for r in db.su("select type from achievements where user_id = %s", (learner,))
    }
    assert {"first_assessment_passed", "perfect_score"} <= kinds


def test_verified_failing_grade_awards_nothing(db, verified):
    drain(db)
    learner = db.new_user()
    submit(db, learner, verified[1])
    record(db, claim(db)[0], 1, 2)
    assert db.su_one("select score from assessment_attempts where user_id = %s", (learner,)) == 50
    assert (
        db.su_one(
            "select count(*) from achievements where user_id = %s"
            " and type in ('first_assessment_passed', 'perfect_score')",
            (learner,),
        )
        == 0
    )


def test_a_claimed_job_is_not_claimed_again_while_leased(db, verified):
    drain(db)
    submit(db, db.new_user(), verified[1])
    assert len(claim(db, "w1")) == 1
    assert claim(db, "w2") == []


def test_record_grade_after_losing_the_lease_is_refused(db, verified):
    drain(db)
    learner = db.new_user()
    submit(db, learner, verified[1])
    first = claim(db, "w1")[0]
    db.su(
        "update private.grading_jobs set locked_until = now() - interval '1 second'"
        " where attempt_id = %s",
        (first["attempt_id"],),
    )
    second = claim(db, "w2")[0]
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
        record(db, first, 2, 2)
    record(db, second, 1, 2)
    assert db.su_one("select score from assessment_attempts where user_id = %s", (learner,)) == 50


def test_a_graded_attempt_cannot_be_graded_again(db, verified):
    drain(db)
    submit(db, db.new_user(), verified[1])
    job = claim(db)[0]
    record(db, job, 2, 2)
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
        record(db, job, 0, 2)


def test_job_whose_grader_died_three_times_is_recorded_as_an_error(db, verified):
    drain(db)
    learner = db.new_user()
    submit(db, learner, verified[1])
    for _ in range(3):
        job = claim(db)[0]
        db.su(
            "update private.grading_jobs set locked_until = now() - interval '1 second'"
            " where attempt_id = %s",
            (job["attempt_id"],),
        )
    assert claim(db) == []
    row = db.su(
        "select status, score, grading, execution_result ->> 'status' as s"
        " from assessment_attempts where user_id = %s",
        (learner,),
    )[0]
    assert row == {"status": "completed", "score": 0, "grading": "error", "s": "error"}


def test_released_job_is_claimed_again(db, verified):
    drain(db)
    submit(db, db.new_user(), verified[1])
    job = claim(db)[0]
    as_grader(
        db, "select private.release_grading_job(%s, %s, 'boom')", (job["attempt_id"], job["lease"])
    )
    assert [j["tries"] for j in claim(db)] == [2]


def test_grader_role_cannot_read_tables(db, verified):
    for table in (
        "public.profiles",
        "public.assessment_attempts",
        "private.assessment_tests",
        "private.grading_jobs",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            as_grader(db, f"select 1 from {table} limit 1")


def test_grader_role_cannot_call_the_learners_api(db, verified):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_grader(db, "select public.dashboard()")


@pytest.mark.parametrize("who", ["anon", "learner"])
def test_api_roles_cannot_record_a_grade(db, verified, who):
    uid = None if who == "anon" else db.new_user()
    state = sqlstate(
        db,
        uid,
        "select private.record_grade(%s, %s, %s)",
        (str(uuid.uuid4()), str(uuid.uuid4()), Jsonb({})),
    )
    assert state == "42501"


@pytest.mark.parametrize("who", ["anon", "learner"])
def test_api_roles_cannot_claim_jobs(db, verified, who):
    uid = None if who == "anon" else db.new_user()
    assert sqlstate(db, uid, "select private.claim_grading_jobs('x', 1, 60)") == "42501"


def test_learner_cannot_set_a_courses_grading(db, verified):
    learner = db.new_user()
    assert (
        sqlstate(db, learner, "select public.set_course_grading(%s, 'self')", (verified[0],))
        == "P0002"
    )


def test_attempt_result_shows_the_verified_score_to_its_learner(db, verified):
    drain(db)
    learner = db.new_user()
    attempt = submit(db, learner, verified[1])["attempt"]["id"]
    record(db, claim(db)[0], 2, 2)
    result = run(db, learner, "select public.attempt_result(%s) as r", (attempt,))[0]["r"]
    assert (result["attempt"]["grading"], result["attempt"]["score"], result["job"]["state"]) == (
        "verified",
        100,
        "done",
    )


def test_attempt_result_of_another_learner_is_not_found(db, verified):
    attempt = submit(db, db.new_user(), verified[1])["attempt"]["id"]
    assert sqlstate(db, db.new_user(), "select public.attempt_result(%s)", (attempt,)) == "P0002"


def test_offline_submission_graded_later_counts_when_it_was_submitted(db, verified):
    drain(db)
    learner = db.new_user()
    run(
        db,
        learner,
        "select public.submit_attempt(%s, 'code', '{}'::jsonb, null, null,"
        " gen_random_uuid(), now() - interval '3 hours')",
        (verified[1],),
    )
    record(db, claim(db)[0], 2, 2)
    hours = db.su_one(
        "select extract(epoch from now() - completed_at) / 3600"
        " from assessment_attempts where user_id = %s",
        (learner,),
    )
    assert 2.9 < float(hours) < 3.1
