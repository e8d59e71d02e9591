"""Tamper attempts: what a signed-in learner (or author) could try through the API, and
what the database does about it. Derived numbers are the database's; another
learner's rows and another author's drafts are out of reach; the audit log is final."""

from __future__ import annotations

import psycopg
import pytest

from tests.db.helpers import (
    NO_PRIVILEGE,
    NONE,
    RLS,
    attempt,
    complete_lesson,
    enroll,
    make_assessment,
    make_course,
    outcome,
    result_json,
    run,
    sqlstate,
    submit_attempt,
)

DENIED = "42501"


@pytest.fixture(scope="module")
def w(db):
    author = db.new_user("tamper-author@example.test")
    rival = db.new_user("tamper-rival-author@example.test")
    me = db.new_user("tamper-me@example.test")
    other = db.new_user("tamper-other@example.test")
    course = make_course(db, author, lessons=3, draft_lessons=1)
    draft = make_course(db, author, published=False, lessons=0, draft_lessons=1)
    assessment = make_assessment(db, author, course.id, solution="def solve(): return 1")
    draft_assessment = make_assessment(db, author, course.id, published=False)
    rival_course = make_course(db, rival, lessons=1)
    rival_assessment = make_assessment(db, rival, rival_course.id, solution="secret")
    for learner in (me, other):
        enroll(db, learner, course.id)
        complete_lesson(db, learner, course, course.lessons[0])
    other_chat = run(
        db,
        other,
        "insert into chat_history (user_id, question, answer)"
        " values (auth.uid(), 'My secret question', 'An answer')"
        " returning id",
    )[0]["id"]
    other_attempt = run(
        db,
        other,
        "insert into assessment_attempts (user_id, assessment_id,"
        " submitted_code) values (auth.uid(), %s, 'mine')"
        " returning id",
        (assessment,),
    )[0]["id"]
    return {
        "author": author,
        "rival": rival,
        "me": me,
        "other": other,
        "course": course,
        "draft": draft,
        "assessment": assessment,
        "draft_assessment": draft_assessment,
        "rival_course": rival_course,
        "rival_assessment": rival_assessment,
        "other_chat": str(other_chat),
        "other_attempt": str(other_attempt),
    }


def _my_attempt(db, w, **kw) -> str:
    return str(
        run(
            db,
            w["me"],
            "insert into assessment_attempts (user_id, assessment_id)"
            " values (auth.uid(), %s) returning id",
            (w["assessment"],),
            **kw,
        )[0]["id"]
    )


# -- derived numbers: progress, completion, streaks, achievements, analytics --------------


def test_learner_cannot_raise_own_enrollment_progress(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "update course_enrollments set progress_percentage = 100 where user_id = auth.uid()",
        )
        == DENIED
    )


def test_learner_cannot_set_own_enrollment_status_completed(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "update course_enrollments set status = 'completed' where user_id = auth.uid()",
        )
        == DENIED
    )


def test_learner_cannot_set_own_enrollment_completed_at(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "update course_enrollments set completed_at = now() where user_id = auth.uid()",
        )
        == DENIED
    )


def test_learner_cannot_enroll_with_progress_already_made(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "insert into course_enrollments (user_id, course_id,"
            " progress_percentage) values (auth.uid(), %s, 100)",
            (w["rival_course"].id,),
        )
        == DENIED
    )


def test_learner_cannot_enroll_as_completed(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "insert into course_enrollments (user_id, course_id, status)"
            " values (auth.uid(), %s, 'completed')",
            (w["rival_course"].id,),
        )
        == "22023"
    )


def test_learner_cannot_enroll_in_a_draft_course(db, w):
    assert (
        outcome(
            db,
            w["me"],
            "insert into course_enrollments (user_id, course_id) values (auth.uid(), %s)",
            (w["draft"].id,),
        )
        == RLS
    )


def test_learner_cannot_raise_own_current_streak(db, w):
    assert (
        sqlstate(
            db, w["me"], "update user_streaks set current_streak = 100 where user_id = auth.uid()"
        )
        == DENIED
    )


def test_learner_cannot_raise_own_longest_streak(db, w):
    assert (
        sqlstate(
            db, w["me"], "update user_streaks set longest_streak = 100 where user_id = auth.uid()"
        )
        == DENIED
    )


def test_learner_cannot_move_own_last_activity_date(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "update user_streaks set last_activity_date = current_date where user_id = auth.uid()",
        )
        == DENIED
    )


def test_learner_cannot_grant_themselves_an_achievement(db, w):
    assert (
        outcome(
            db,
            w["me"],
            "insert into achievements (user_id, title, type, achievement_key,"
            " points) values (auth.uid(), 'Genius', 'custom', 'genius',"
            " 100000)",
        )
        == NO_PRIVILEGE
    )


def test_learner_cannot_raise_points_of_own_achievement(db, w):
    assert (
        sqlstate(db, w["me"], "update achievements set points = 100000 where user_id = auth.uid()")
        == DENIED
    )


def test_learner_cannot_call_the_grant_achievement_function(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "select private.grant_achievement(auth.uid(), 'genius',"
            " 'custom', 'Genius', null, 100000)",
        )
        == DENIED
    )


def test_learner_cannot_call_the_record_activity_function(db, w):
    assert sqlstate(db, w["me"], "select private.record_activity(auth.uid(), now())") == DENIED


def test_author_finishing_their_own_course_earns_no_points(db, w):
    me = db.new_user("self-made@example.test", {})
    course_id = run(
        db,
        me,
        "insert into courses (title, created_by, is_published)"
        " values ('Easy points', auth.uid(), true) returning id",
    )[0]["id"]
    lesson_id = run(
        db,
        me,
        "insert into lessons (course_id, title, is_published)"
        " values (%s, 'Only lesson', true) returning id",
        (course_id,),
    )[0]["id"]
    run(
        db,
        me,
        "insert into course_enrollments (user_id, course_id) values (auth.uid(), %s)",
        (course_id,),
    )
    run(
        db,
        me,
        "insert into user_progress (user_id, lesson_id, course_id, completed)"
        " values (auth.uid(), %s, %s, true)",
        (lesson_id, course_id),
    )
    assert (
        db.su_one("select status from course_enrollments where user_id = %s", (me,)) == "completed"
    )
    assert (
        db.su_one(
            "select count(*) from achievements where user_id = %s and type = 'course_completed'",
            (me,),
        )
        == 0
    )


def test_learner_cannot_insert_a_notification(db, w):
    assert (
        outcome(
            db, w["me"], "insert into notifications (user_id, title) values (auth.uid(), 'You won')"
        )
        == NO_PRIVILEGE
    )


def test_learner_cannot_notify_another_learner(db, w):
    assert (
        outcome(
            db,
            w["me"],
            "insert into notifications (user_id, title) values (%s, 'Click this')",
            (w["other"],),
        )
        == NO_PRIVILEGE
    )


def test_learner_cannot_rewrite_a_notification_text(db, w):
    assert (
        sqlstate(
            db, w["me"], "update notifications set title = 'Changed' where user_id = auth.uid()"
        )
        == DENIED
    )


def test_learner_cannot_insert_analytics(db, w):
    assert (
        outcome(
            db,
            w["me"],
            "insert into learning_analytics (user_id, session_date,"
            " lessons_completed) values (auth.uid(), current_date, 50)",
        )
        == NO_PRIVILEGE
    )


def test_learner_cannot_raise_own_analytics(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "update learning_analytics set lessons_completed = 50 where user_id = auth.uid()",
        )
        == DENIED
    )


def test_learner_cannot_set_completed_at_of_own_progress(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "update user_progress set completed_at = now() - interval"
            " '30 days' where user_id = auth.uid()",
        )
        == DENIED
    )


def test_learner_cannot_lower_time_spent_on_a_lesson(db, w):
    rows = attempt(
        db,
        w["me"],
        "update user_progress set time_spent = 0 where user_id = auth.uid() returning time_spent",
    )
    assert rows == [{"time_spent": 60}]


# -- other learners' rows ------------------------------------------------------------------


def test_learner_cannot_read_another_learners_chat(db, w):
    rows = attempt(db, w["me"], "select * from chat_history where id = %s", (w["other_chat"],))
    assert rows == []


def test_learner_cannot_edit_another_learners_chat(db, w):
    assert (
        sqlstate(
            db, w["me"], "update chat_history set answer = 'x' where id = %s", (w["other_chat"],)
        )
        == DENIED
    )


def test_learner_cannot_delete_another_learners_chat(db, w):
    assert (
        outcome(db, w["me"], "delete from chat_history where id = %s", (w["other_chat"],)) == NONE
    )


def test_learner_cannot_log_a_chat_as_another_learner(db, w):
    assert (
        outcome(
            db,
            w["me"],
            "insert into chat_history (user_id, question) values (%s, 'Impersonated')",
            (w["other"],),
        )
        == RLS
    )


def test_learner_cannot_read_another_learners_attempts(db, w):
    assert (
        attempt(db, w["me"], "select * from assessment_attempts where user_id = %s", (w["other"],))
        == []
    )


def test_learner_cannot_edit_another_learners_attempt(db, w):
    assert (
        outcome(
            db,
            w["me"],
            "update assessment_attempts set submitted_code = 'x' where id = %s",
            (w["other_attempt"],),
        )
        == NONE
    )


def test_learner_cannot_read_another_learners_progress(db, w):
    assert (
        attempt(db, w["me"], "select * from user_progress where user_id = %s", (w["other"],)) == []
    )


def test_learner_cannot_edit_another_learners_progress(db, w):
    assert (
        outcome(
            db,
            w["me"],
            "update user_progress set completed = false where user_id = %s",
            (w["other"],),
        )
        == NONE
    )


def test_learner_cannot_record_progress_for_another_learner(db, w):
    assert (
        outcome(
            db,
            w["me"],
            "insert into user_progress (user_id, lesson_id, course_id,"
            " completed) values (%s, %s, %s, true)",
            (w["other"], w["course"].lessons[1], w["course"].id),
        )
        == RLS
    )


def test_learner_cannot_read_another_learners_profile(db, w):
    assert attempt(db, w["me"], "select * from profiles where id = %s", (w["other"],)) == []


def test_learner_cannot_change_own_profile_email(db, w):
    assert (
        sqlstate(
            db, w["me"], "update profiles set email = 'boss@example.test' where id = auth.uid()"
        )
        == DENIED
    )


def test_learner_cannot_move_an_enrollment_to_another_learner(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "update course_enrollments set user_id = %s where user_id = auth.uid()",
            (w["other"],),
        )
        == DENIED
    )


# -- drafts, solutions and other authors' content -------------------------------------------


def test_learner_cannot_see_someone_elses_draft_course(db, w):
    assert attempt(db, w["me"], "select * from courses where id = %s", (w["draft"].id,)) == []


def test_learner_cannot_see_a_draft_lesson_of_a_published_course(db, w):
    assert (
        attempt(db, w["me"], "select * from lessons where id = %s", (w["course"].draft_lessons[0],))
        == []
    )


def test_anon_cannot_see_a_lesson_of_a_draft_course(db, w):
    db.su("update lessons set is_published = true where id = %s", (w["draft"].draft_lessons[0],))
    assert (
        attempt(db, None, "select * from lessons where id = %s", (w["draft"].draft_lessons[0],))
        == []
    )


def test_learner_cannot_see_someone_elses_draft_assessment(db, w):
    assert (
        attempt(db, w["me"], "select * from assessments where id = %s", (w["draft_assessment"],))
        == []
    )


def test_learner_cannot_edit_someone_elses_draft_course(db, w):
    assert (
        outcome(
            db, w["me"], "update courses set is_published = true where id = %s", (w["draft"].id,)
        )
        == NONE
    )


def test_learner_cannot_edit_someone_elses_draft_lesson(db, w):
    assert (
        outcome(
            db,
            w["me"],
            "update lessons set content = 'vandalised' where id = %s",
            (w["course"].draft_lessons[0],),
        )
        == NONE
    )


def test_learner_cannot_edit_someone_elses_draft_assessment(db, w):
    assert (
        outcome(
            db,
            w["me"],
            "update assessments set is_published = true where id = %s",
            (w["draft_assessment"],),
        )
        == NONE
    )


def test_author_cannot_edit_another_authors_course(db, w):
    assert (
        outcome(
            db,
            w["author"],
            "update courses set title = 'Mine now' where id = %s",
            (w["rival_course"].id,),
        )
        == NONE
    )


def test_author_cannot_add_a_lesson_to_another_authors_course(db, w):
    assert (
        outcome(
            db,
            w["author"],
            "insert into lessons (course_id, title) values (%s, 'Injected')",
            (w["rival_course"].id,),
        )
        == RLS
    )


def test_author_cannot_add_an_assessment_to_another_authors_course(db, w):
    assert (
        outcome(
            db,
            w["author"],
            "insert into assessments (title, course_id, created_by)"
            " values ('Injected', %s, auth.uid())",
            (w["rival_course"].id,),
        )
        == RLS
    )


def test_author_cannot_hand_a_course_to_someone_else(db, w):
    assert (
        sqlstate(
            db,
            w["author"],
            "update courses set created_by = %s where id = %s",
            (w["rival"], w["course"].id),
        )
        == DENIED
    )


def test_author_cannot_create_a_course_in_someone_elses_name(db, w):
    assert (
        outcome(
            db,
            w["author"],
            "insert into courses (title, created_by) values ('Framed', %s)",
            (w["rival"],),
        )
        == RLS
    )


def test_learner_cannot_read_reference_solution_of_someone_elses_assessment(db, w):
    assert (
        attempt(
            db,
            w["me"],
            "select * from assessment_solutions where assessment_id = %s",
            (w["assessment"],),
        )
        == []
    )


def test_author_cannot_read_reference_solution_of_another_authors_assessment(db, w):
    assert (
        attempt(
            db,
            w["author"],
            "select * from assessment_solutions where assessment_id = %s",
            (w["rival_assessment"],),
        )
        == []
    )


def test_author_cannot_attach_a_solution_to_another_authors_assessment(db, w):
    assert (
        outcome(
            db,
            w["rival"],
            "insert into assessment_solutions (assessment_id, solution) values (%s, 'x')",
            (w["draft_assessment"],),
        )
        == RLS
    )


def test_learner_cannot_record_progress_on_a_draft_lesson(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "insert into user_progress (user_id, lesson_id, course_id,"
            " completed) values (auth.uid(), %s, %s, true)",
            (w["course"].draft_lessons[0], w["course"].id),
        )
        == "23503"
    )


def test_learner_cannot_attempt_a_draft_assessment(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "insert into assessment_attempts (user_id, assessment_id) values (auth.uid(), %s)",
            (w["draft_assessment"],),
        )
        == "23503"
    )


def test_learner_cannot_rate_a_draft_course(db, w):
    assert (
        outcome(
            db,
            w["me"],
            "insert into user_feedback (user_id, course_id, rating,"
            " feedback_type) values (auth.uid(), %s, 1, 'course_rating')",
            (w["draft"].id,),
        )
        == RLS
    )


def test_learner_cannot_attach_feedback_to_a_draft_lesson(db, w):
    assert (
        outcome(
            db,
            w["me"],
            "insert into user_feedback (user_id, lesson_id, feedback_text)"
            " values (auth.uid(), %s, 'Found it')",
            (w["course"].draft_lessons[0],),
        )
        == RLS
    )


def test_learner_cannot_attach_a_chat_to_a_draft_assessment(db, w):
    assert (
        outcome(
            db,
            w["me"],
            "insert into chat_history (user_id, assessment_id, question)"
            " values (auth.uid(), %s, 'What is this?')",
            (w["draft_assessment"],),
        )
        == RLS
    )


def test_progress_for_a_lesson_with_a_mismatched_course_id_is_rejected(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "insert into user_progress (user_id, lesson_id, course_id,"
            " completed) values (auth.uid(), %s, %s, true)",
            (w["course"].lessons[1], w["rival_course"].id),
        )
        == "23514"
    )


# -- attempts: the clock and the score are the database's -----------------------------------


def test_learner_cannot_forge_an_attempts_started_at(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "insert into assessment_attempts (user_id, assessment_id,"
            " started_at) values (auth.uid(), %s, now() - interval '1 day')",
            (w["assessment"],),
        )
        == DENIED
    )


def test_learner_cannot_forge_an_attempts_time_spent_on_insert(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "insert into assessment_attempts (user_id, assessment_id,"
            " time_spent) values (auth.uid(), %s, 5)",
            (w["assessment"],),
        )
        == DENIED
    )


def test_learner_cannot_forge_an_attempts_time_spent_on_update(db, w):
    attempt_id = _my_attempt(db, w)
    assert (
        sqlstate(
            db,
            w["me"],
            "update assessment_attempts set time_spent = 5 where id = %s",
            (attempt_id,),
        )
        == DENIED
    )


def test_learner_cannot_forge_an_attempts_completed_at(db, w):
    attempt_id = _my_attempt(db, w)
    assert (
        sqlstate(
            db,
            w["me"],
            "update assessment_attempts set completed_at = started_at where id = %s",
            (attempt_id,),
        )
        == DENIED
    )


def test_submitted_attempt_time_spent_is_measured_by_the_database(db, w):
    attempt_id = _my_attempt(db, w)
    db.su(
        "update assessment_attempts set started_at = now() - interval '10 minutes' where id = %s",
        (attempt_id,),
    )
    rows = attempt(
        db,
        w["me"],
        "update assessment_attempts set status = 'completed',"
        " execution_result = %s where id = %s returning time_spent",
        (result_json(1, 1), attempt_id),
    )
    assert 600 <= rows[0]["time_spent"] < 660


def test_score_inconsistent_with_execution_result_is_rejected(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "insert into assessment_attempts (user_id, assessment_id,"
            " status, score, execution_result)"
            " values (auth.uid(), %s, 'completed', 100, %s)",
            (w["assessment"], result_json(3, 10)),
        )
        == "22023"
    )


def test_score_is_derived_from_the_execution_result(db, w):
    rows = attempt(
        db,
        w["me"],
        "insert into assessment_attempts (user_id, assessment_id,"
        " status, execution_result) values (auth.uid(), %s, 'completed',"
        " %s) returning score",
        (w["assessment"], result_json(7, 10)),
    )
    assert float(rows[0]["score"]) == 70.0


def test_whole_percent_score_is_accepted_and_the_exact_score_kept(db, w):
    rows = attempt(
        db,
        w["me"],
        "insert into assessment_attempts (user_id, assessment_id,"
        " status, score, execution_result) values (auth.uid(), %s,"
        " 'completed', 66, %s) returning score",
        (w["assessment"], result_json(2, 3)),
    )
    assert float(rows[0]["score"]) == 66.67


def test_score_without_an_execution_result_is_rejected(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "insert into assessment_attempts (user_id, assessment_id,"
            " status, score) values (auth.uid(), %s, 'completed', 100)",
            (w["assessment"],),
        )
        == "23502"
    )


def test_score_inconsistent_with_the_test_list_is_rejected(db, w):
    result = psycopg.types.json.Jsonb(
        {
            "status": "fail",
            "tests": [{"name": "a", "status": "pass"}, {"name": "b", "status": "fail"}],
        }
    )
    assert (
        sqlstate(
            db,
            w["me"],
            "insert into assessment_attempts (user_id, assessment_id,"
            " status, score, execution_result)"
            " values (auth.uid(), %s, 'completed', 100, %s)",
            (w["assessment"], result),
        )
        == "22023"
    )


def test_score_with_an_empty_score_object_is_rejected(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "insert into assessment_attempts (user_id, assessment_id,"
            " status, score, execution_result)"
            " values (auth.uid(), %s, 'completed', 100, %s)",
            (w["assessment"], psycopg.types.json.Jsonb({"score": {}})),
        )
        == "22023"
    )


def test_learner_cannot_update_a_completed_attempt(db, w):
    attempt_id = submit_attempt(db, w["me"], w["assessment"], 5, 10)
    assert (
        outcome(
            db,
            w["me"],
            "update assessment_attempts set score = 100, execution_result = %s where id = %s",
            (result_json(10, 10), attempt_id),
        )
        == NONE
    )


def test_learner_cannot_reopen_an_abandoned_attempt(db, w):
    attempt_id = _my_attempt(db, w)
    run(
        db,
        w["me"],
        "update assessment_attempts set status = 'abandoned' where id = %s",
        (attempt_id,),
    )
    assert (
        outcome(
            db,
            w["me"],
            "update assessment_attempts set status = 'in-progress' where id = %s",
            (attempt_id,),
        )
        == NONE
    )


# -- the activity clock: learn.occurred_at is trusted only within the last 48 hours ---------


def _started_at_offset(db, w, occurred_at: str) -> float:
    attempt_id = _my_attempt(db, w, occurred_at=occurred_at)
    return float(
        db.su_one(
            "select extract(epoch from now() - started_at) from assessment_attempts where id = %s",
            (attempt_id,),
        )
    )


def test_occurred_at_far_in_the_past_is_clamped_to_48_hours_ago(db, w):
    offset = _started_at_offset(db, w, "2001-01-01T00:00:00Z")
    assert 48 * 3600 - 60 <= offset <= 48 * 3600 + 60


def test_occurred_at_in_the_future_is_clamped_to_now(db, w):
    offset = _started_at_offset(db, w, "2999-01-01T00:00:00Z")
    assert 0 <= offset < 60


def test_occurred_at_within_48_hours_is_trusted(db, w):
    ts = db.su_one("select (now() - interval '5 hours')::text")
    offset = _started_at_offset(db, w, ts)
    assert 5 * 3600 - 60 <= offset <= 5 * 3600 + 60


def test_occurred_at_that_is_not_a_time_is_ignored(db, w):
    offset = _started_at_offset(db, w, "yesterday-ish")
    assert 0 <= offset < 60


# -- the audit log is append-only -------------------------------------------------------------


def _my_audit_entry(db, w) -> int:
    return db.su_one(
        "select id from audit_log where subject_user_id = %s order by id limit 1", (w["me"],)
    )


def test_learner_cannot_update_own_audit_entries(db, w):
    assert (
        sqlstate(
            db,
            w["me"],
            "update audit_log set action = 'nothing happened' where id = %s",
            (_my_audit_entry(db, w),),
        )
        == DENIED
    )


def test_learner_cannot_delete_own_audit_entries(db, w):
    assert (
        sqlstate(db, w["me"], "delete from audit_log where id = %s", (_my_audit_entry(db, w),))
        == DENIED
    )


def test_author_cannot_delete_audit_entries_about_their_course(db, w):
    assert (
        sqlstate(db, w["author"], "delete from audit_log where course_author_id = auth.uid()")
        == DENIED
    )


def test_superuser_cannot_update_the_audit_log(db, w):
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        db.su("update audit_log set action = 'rewritten' where id = %s", (_my_audit_entry(db, w),))


def test_superuser_cannot_delete_from_the_audit_log(db, w):
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        db.su("delete from audit_log where id = %s", (_my_audit_entry(db, w),))


def test_superuser_cannot_truncate_the_audit_log(db, w):
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        db.su("truncate audit_log")


def test_service_role_cannot_delete_from_the_audit_log(db, w):
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
        db.as_user(None, role="service_role") as cur,
    ):
        cur.execute("delete from audit_log where id = %s", (_my_audit_entry(db, w),))
