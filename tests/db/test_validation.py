"""Input validation in the database: no client can store megabytes in a free-text
column, numbers stay in sane ranges, and enumerated columns take only their values."""

from __future__ import annotations

import psycopg
import pytest

from tests.db.helpers import (
    complete_lesson,
    enroll,
    make_assessment,
    make_course,
    run,
    sqlstate,
)

CHECK = "23514"
BIG = 3_000_000  # characters: a 3 MB value

# Every free-text, array and JSON column a client or the database fills: (table, column).
# The audit log is left out: only a SECURITY DEFINER function writes it.
LIMITED = {
    "profiles": [
        "email",
        "full_name",
        "avatar_url",
        "bio",
        "learning_goals",
        "preferred_language",
        "timezone",
    ],
    "courses": [
        "slug",
        "title",
        "description",
        "short_description",
        "duration",
        "difficulty_level",
        "tags",
        "thumbnail_url",
        "grading",
    ],
    "lessons": [
        "slug",
        "title",
        "content",
        "explanation",
        "code_example",
        "key_points",
        "duration",
        "difficulty",
    ],
    "course_enrollments": ["status"],
    "assessments": [
        "slug",
        "title",
        "description",
        "difficulty",
        "instructions",
        "starter_code",
        "test_cases",
        "expected_output",
        "language",
        "entry",
        "limits",
    ],
    "assessment_solutions": ["solution"],
    "assessment_attempts": ["status", "submitted_code", "execution_result", "grading"],
    "chat_history": ["context", "question", "answer", "message_type"],
    "ai_interactions": ["interaction_type", "input_data", "output_data"],
    "achievements": ["achievement_key", "title", "description", "type", "icon_url", "metadata"],
    "user_streaks": ["streak_type"],
    "notifications": ["title", "message", "type", "action_url"],
    "user_feedback": ["feedback_text", "feedback_type"],
    "applied_events": ["fn", "result"],
    "review_cards": ["prompt"],
    "review_logs": ["source"],
}
UNLIMITED_BY_DESIGN = {"audit_log"}
JSON_OBJECTS = {"limits", "metadata"}
# A bad time zone is refused by the profile trigger before the length check sees it.
FIRST_ERROR = {("profiles", "timezone"): "22023"}


@pytest.fixture(scope="module")
def rows(db) -> dict[str, str]:
    """One row in every table, and for each table a WHERE clause that picks it."""
    author, uid = db.new_user(None, {"full_name": "V"}), db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    assessment = make_assessment(db, author, course.id, solution="pass")
    enroll(db, uid, course.id)
    complete_lesson(db, uid, course, course.lessons[0])
    run(
        db,
        uid,
        "insert into assessment_attempts (user_id, assessment_id) values (auth.uid(), %s)",
        (assessment,),
    )
    run(db, uid, "insert into chat_history (user_id, question) values (auth.uid(), 'q')")
    run(
        db,
        uid,
        "insert into ai_interactions (user_id, interaction_type) values (auth.uid(), 'chat')",
    )
    run(
        db,
        uid,
        "insert into user_feedback (user_id, course_id, rating, feedback_type)"
        " values (auth.uid(), %s, 4, 'course_rating')",
        (course.id,),
    )
    db.su(
        "insert into applied_events (user_id, event_id, fn) values (%s, gen_random_uuid(),"
        " 'enroll')",
        (uid,),
    )
    card = db.su_one(
        "insert into review_cards (user_id, lesson_id, key_point_index, prompt)"
        " values (%s, %s, 0, 'A key point') returning id",
        (uid, course.lessons[0]),
    )
    db.su(
        "insert into review_logs (user_id, card_id, rating, reviewed_at, event_id)"
        " values (%s, %s, 3, now(), gen_random_uuid())",
        (uid, card),
    )
    return {
        "uid": uid,
        "author": author,
        "course": course.id,
        "lesson": course.lessons[0],
        "assessment": assessment,
    }


def _where(table: str) -> str:
    return {
        "profiles": "id = %(uid)s",
        "courses": "id = %(course)s",
        "lessons": "id = %(lesson)s",
        "assessments": "id = %(assessment)s",
        "assessment_solutions": "assessment_id = %(assessment)s",
        "achievements": "user_id = %(uid)s and achievement_key = 'first_lesson'",
    }.get(table, "user_id = %(uid)s")


def _su_update_fails_with(db, rows, table: str, set_clause: str) -> str | None:
    """Runs an UPDATE as superuser (no RLS, no grants) and rolls back; the SQLSTATE."""
    try:
        with db.conn.transaction():
            cur = db.conn.execute(f"update {table} set {set_clause} where {_where(table)}", rows)
            assert cur.rowcount == 1, f"{table}: the test row is missing"
            raise psycopg.Rollback()
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


def _big_value(db, table: str, column: str) -> str:
    data_type = db.su_one(
        "select data_type from information_schema.columns where"
        " table_schema = 'public' and table_name = %s and column_name = %s",
        (table, column),
    )
    big = f"repeat('x', {BIG})"
    if data_type == "ARRAY":
        return f"array[{big}]"
    if data_type == "jsonb":
        return (
            f"jsonb_build_object('x', {big})"
            if column in JSON_OBJECTS
            else f"jsonb_build_array({big})"
        )
    return big


@pytest.mark.parametrize(
    ("table", "column"),
    [(t, c) for t, cols in LIMITED.items() for c in cols],
    ids=[f"{t}.{c}" for t, cols in LIMITED.items() for c in cols],
)
def test_a_3mb_value_is_rejected(db, rows, table, column):
    value = _big_value(db, table, column)
    expected = FIRST_ERROR.get((table, column), CHECK)
    assert _su_update_fails_with(db, rows, table, f"{column} = {value}") == expected


def test_every_text_array_and_json_column_has_a_length_test(db):
    columns = {
        (r["table_name"], r["column_name"])
        for r in db.su(
            "select table_name, column_name from information_schema.columns c"
            " join information_schema.tables t using (table_schema, table_name)"
            " where c.table_schema = 'public' and t.table_type = 'BASE TABLE'"
            " and c.data_type in ('text', 'jsonb', 'json', 'ARRAY', 'character varying')"
        )
    }
    tested = {(t, c) for t, cols in LIMITED.items() for c in cols}
    assert {tc for tc in columns if tc[0] not in UNLIMITED_BY_DESIGN} == tested


def test_learner_asking_a_3mb_question_hits_the_chat_message_limit(db, rows):
    # the 64 kB row limit (issue #15 §8) answers before the column's check
    assert (
        sqlstate(
            db,
            rows["uid"],
            "insert into chat_history (user_id, question) values (auth.uid(), repeat('?', %s))",
            (BIG,),
        )
        == "54000"
    )


def test_learner_submitting_3mb_of_code_gets_a_check_violation(db, rows):
    assert (
        sqlstate(
            db,
            rows["uid"],
            "update assessment_attempts set submitted_code ="
            " repeat('x', %s) where user_id = auth.uid()",
            (BIG,),
        )
        == CHECK
    )


def test_author_writing_a_3mb_lesson_gets_a_check_violation(db, rows):
    assert (
        sqlstate(
            db,
            rows["author"],
            "update lessons set content = repeat('x', %s) where id = %s",
            (BIG, rows["lesson"]),
        )
        == CHECK
    )


def test_an_empty_question_is_rejected(db, rows):
    assert (
        sqlstate(
            db, rows["uid"], "insert into chat_history (user_id, question) values (auth.uid(), '')"
        )
        == CHECK
    )


def test_an_empty_course_title_is_rejected(db, rows):
    assert (
        sqlstate(
            db, rows["author"], "insert into courses (title, created_by) values ('', auth.uid())"
        )
        == CHECK
    )


# -- ranges ------------------------------------------------------------------------------------

# (table, column, values out of range, boundary values that are fine)
RANGES = [
    ("course_enrollments", "progress_percentage", ["-1", "100.01"], ["0", "100"]),
    ("assessment_attempts", "score", ["-0.01", "100.01"], ["0", "100"]),
    ("assessment_attempts", "time_spent", ["-1", "31536001"], ["0", "31536000"]),
    ("user_feedback", "rating", ["0", "6"], ["1", "5"]),
    ("assessments", "time_limit", ["0", "601"], ["1", "600"]),
    ("courses", "estimated_hours", ["-1", "10000.1"], ["0", "10000"]),
    ("lessons", "order_index", ["-1", "10001"], ["0", "10000"]),
    ("user_progress", "time_spent", ["-1", "10000001"], ["0", "10000000"]),
    ("user_progress", "last_position", ["-1", "10000001"], ["0", "10000000"]),
    ("learning_analytics", "session_duration", ["-1"], ["0"]),
    ("learning_analytics", "lessons_completed", ["-1"], ["0"]),
    ("learning_analytics", "assessments_completed", ["-1"], ["0"]),
    ("learning_analytics", "total_score", ["-1"], ["0"]),
    ("ai_interactions", "tokens_used", ["-1", "10000001"], ["0", "10000000"]),
    ("ai_interactions", "processing_time", ["-1", "86400001"], ["0", "86400000"]),
    ("achievements", "points", ["-1", "100001"], ["0", "100000"]),
    ("user_streaks", "current_streak", ["-1"], ["0"]),
]


@pytest.mark.parametrize(
    ("table", "column", "bad"),
    [(t, c, v) for t, c, bad, _ in RANGES for v in bad],
    ids=[f"{t}.{c}={v}" for t, c, bad, _ in RANGES for v in bad],
)
def test_out_of_range_number_is_rejected(db, rows, table, column, bad):
    assert _su_update_fails_with(db, rows, table, f"{column} = {bad}") == CHECK


@pytest.mark.parametrize(
    ("table", "column", "good"),
    [(t, c, v) for t, c, _, good in RANGES for v in good],
    ids=[f"{t}.{c}={v}" for t, c, _, good in RANGES for v in good],
)
def test_boundary_number_is_accepted(db, rows, table, column, good):
    assert _su_update_fails_with(db, rows, table, f"{column} = {good}") is None


def test_current_streak_above_longest_is_rejected(db, rows):
    assert (
        _su_update_fails_with(db, rows, "user_streaks", "current_streak = 5, longest_streak = 4")
        == CHECK
    )


def test_learner_rating_a_course_six_stars_gets_a_check_violation(db, rows):
    assert (
        sqlstate(db, rows["uid"], "update user_feedback set rating = 6 where user_id = auth.uid()")
        == CHECK
    )


def test_author_setting_a_zero_minute_time_limit_gets_a_check_violation(db, rows):
    assert (
        sqlstate(
            db,
            rows["author"],
            "update assessments set time_limit = 0 where id = %s",
            (rows["assessment"],),
        )
        == CHECK
    )


# -- value sets ---------------------------------------------------------------------------------

# (table, column, the blueprint's values, a value outside them)
VALUE_SETS = [
    ("course_enrollments", "status", ["active", "completed", "paused", "dropped"], "finished"),
    (
        "assessment_attempts",
        "status",
        ["not-started", "in-progress", "submitted", "completed", "abandoned"],
        "done",
    ),
    ("assessment_attempts", "grading", ["self", "pending", "verified", "error"], "trusted"),
    ("courses", "grading", ["verified", "self"], "honour"),
    ("courses", "difficulty_level", ["Beginner", "Intermediate", "Advanced"], "Expert"),
    ("lessons", "difficulty", ["Beginner", "Intermediate", "Advanced"], "beginner"),
    ("assessments", "difficulty", ["Beginner", "Intermediate", "Advanced"], "Hard"),
    ("assessments", "language", ["python", "javascript", "bash"], "cobol"),
    (
        "chat_history",
        "context",
        ["general_chat", "lesson_chat", "assessment_help", "course_guidance"],
        "small_talk",
    ),
    ("chat_history", "message_type", ["text", "code", "explanation"], "image"),
    ("user_streaks", "streak_type", ["daily", "weekly"], "monthly"),
    (
        "user_feedback",
        "feedback_type",
        ["general", "course_rating", "lesson", "assessment", "bug", "suggestion", "tutor"],
        "spam",
    ),
]
# A completed attempt needs a score (the superuser gives one; learners need a result).
EXTRA = {("assessment_attempts", "completed"): ", score = 50"}


@pytest.mark.parametrize(
    ("table", "column", "bad"),
    [(t, c, b) for t, c, _, b in VALUE_SETS],
    ids=[f"{t}.{c}" for t, c, _, _ in VALUE_SETS],
)
def test_value_outside_the_set_is_rejected(db, rows, table, column, bad):
    assert _su_update_fails_with(db, rows, table, f"{column} = '{bad}'") == CHECK


@pytest.mark.parametrize(
    ("table", "column", "good"),
    [(t, c, v) for t, c, good, _ in VALUE_SETS for v in good],
    ids=[f"{t}.{c}={v}" for t, c, good, _ in VALUE_SETS for v in good],
)
def test_value_in_the_set_is_accepted(db, rows, table, column, good):
    extra = EXTRA.get((table, good), "")
    assert _su_update_fails_with(db, rows, table, f"{column} = '{good}'{extra}") is None


def test_learner_sending_an_unknown_message_type_gets_a_check_violation(db, rows):
    assert (
        sqlstate(
            db,
            rows["uid"],
            "insert into chat_history (user_id, question, message_type)"
            " values (auth.uid(), 'q', 'image')",
        )
        == CHECK
    )


def test_learner_choosing_a_monthly_streak_gets_a_check_violation(db, rows):
    assert (
        sqlstate(
            db,
            rows["uid"],
            "update user_streaks set streak_type = 'monthly' where user_id = auth.uid()",
        )
        == CHECK
    )


def test_learner_pausing_with_an_unknown_status_gets_a_check_violation(db, rows):
    assert (
        sqlstate(
            db,
            rows["uid"],
            "update course_enrollments set status = 'on-hold' where user_id = auth.uid()",
        )
        == CHECK
    )
