"""What the database does on its own: profiles on signup, enrollment progress and
completion, streaks on the learner's local date, daily analytics, achievements with
their notifications, updated_at, and the audit trail."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.db.helpers import (
    attempt,
    complete_lesson,
    enroll,
    make_assessment,
    make_course,
    run,
    submit_attempt,
)

# -- signup ----------------------------------------------------------------------------------


def _profile(db, uid):
    rows = db.su("select * from profiles where id = %s", (uid,))
    return rows[0] if rows else None


def _streak(db, uid):
    return db.su(
        "select current_streak, longest_streak, last_activity_date, streak_type"
        " from user_streaks where user_id = %s",
        (uid,),
    )[0]


def test_signup_creates_profile_with_full_name_from_metadata(db):
    uid = db.new_user("ada@example.test", {"full_name": "Ada Lovelace"})
    assert _profile(db, uid)["full_name"] == "Ada Lovelace"


def test_signup_creates_streak_row(db):
    uid = db.new_user("streak-row@example.test", {"full_name": "S"})
    assert _streak(db, uid) == {
        "current_streak": 0,
        "longest_streak": 0,
        "last_activity_date": None,
        "streak_type": "daily",
    }


def test_signup_profile_defaults_to_utc(db):
    uid = db.new_user("utc@example.test", {})
    assert _profile(db, uid)["timezone"] == "UTC"


@pytest.mark.parametrize(
    "raw",
    [None, "null", "[1, 2]", '"a string"', "42", '{"full_name": 5}', '{"full_name": "   "}'],
    ids=["missing", "json-null", "array", "string", "number", "non-string-name", "blank-name"],
)
def test_signup_with_odd_metadata_still_creates_profile_and_streak(db, raw):
    uid = str(uuid.uuid4())
    db.su(
        "insert into auth.users (id, email, raw_user_meta_data) values (%s, %s, %s::jsonb)",
        (uid, f"odd-{uid[:8]}@example.test", raw),
    )
    assert _profile(db, uid)["full_name"] == f"odd-{uid[:8]}"
    assert _streak(db, uid)["current_streak"] == 0


def test_signup_takes_name_from_name_when_full_name_is_missing(db):
    uid = db.new_user("grace@example.test", {"name": "Grace Hopper"})
    assert _profile(db, uid)["full_name"] == "Grace Hopper"


def test_signup_truncates_a_name_that_is_too_long(db):
    uid = db.new_user("long@example.test", {"full_name": "x" * 5000})
    assert _profile(db, uid)["full_name"] == "x" * 200


def test_signup_with_a_bad_timezone_falls_back_to_utc(db):
    uid = db.new_user("badtz@example.test", {"timezone": "Mars/Olympus_Mons"})
    assert _profile(db, uid)["timezone"] == "UTC"


def test_signup_keeps_a_valid_timezone_from_metadata(db):
    uid = db.new_user("nz@example.test", {"timezone": "Pacific/Auckland"})
    assert _profile(db, uid)["timezone"] == "Pacific/Auckland"


def test_signup_of_an_email_less_user_creates_a_nameless_profile(db):
    uid = db.new_user("", None)
    profile = _profile(db, uid)
    assert (profile["email"], profile["full_name"]) == (None, None)
    assert _streak(db, uid)["current_streak"] == 0


def test_email_change_in_auth_is_copied_to_the_profile(db):
    uid = db.new_user("before@example.test", {})
    db.su("update auth.users set email = 'after@example.test' where id = %s", (uid,))
    assert _profile(db, uid)["email"] == "after@example.test"


def test_deleting_an_auth_user_removes_their_rows_but_keeps_their_courses(db):
    author = db.new_user("leaving-author@example.test", {})
    learner = db.new_user("leaving-learner@example.test", {})
    course = make_course(db, author, lessons=1)
    enroll(db, learner, course.id)
    complete_lesson(db, learner, course, course.lessons[0])
    db.su("delete from auth.users where id in (%s, %s)", (author, learner))
    leftovers = db.su_one(
        "select (select count(*) from profiles where id = %(l)s)"
        " + (select count(*) from user_streaks where user_id = %(l)s)"
        " + (select count(*) from course_enrollments where user_id = %(l)s)"
        " + (select count(*) from user_progress where user_id = %(l)s)"
        " + (select count(*) from achievements where user_id = %(l)s)",
        {"l": learner},
    )
    assert leftovers == 0
    assert db.su_one("select created_by from courses where id = %s", (course.id,)) is None


def test_learner_cannot_set_an_unknown_timezone(db):
    uid = db.new_user("tz-edit@example.test", {})
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        run(db, uid, "update profiles set timezone = 'Nowhere/Land' where id = auth.uid()")


# -- the blueprint's usage examples, verbatim ---------------------------------------------------

BLUEPRINT_CREATE_COURSE = """INSERT INTO courses (title, description, difficulty_level, tags, created_by)
VALUES ('Advanced React', 'Learn advanced React patterns', 'Advanced', ARRAY['react', 'advanced'], auth.uid());"""  # noqa: E501
BLUEPRINT_ENROLL = """INSERT INTO course_enrollments (user_id, course_id)
VALUES (auth.uid(), 'course-uuid-here');"""
BLUEPRINT_PROGRESS = """INSERT INTO user_progress (user_id, lesson_id, course_id, completed, time_spent)
VALUES (auth.uid(), 'lesson-uuid', 'course-uuid', true, 1800);"""  # noqa: E501
BLUEPRINT_CHAT = """INSERT INTO chat_history (user_id, course_id, context, question, answer)
VALUES (auth.uid(), 'course-uuid', 'lesson_chat', 'How do hooks work?', 'Hooks are functions that let you use state...');"""  # noqa: E501


@pytest.fixture(scope="module")
def blueprint_course(db):
    author = db.new_user("blueprint-author@example.test", {"full_name": "Author"})
    run(db, author, BLUEPRINT_CREATE_COURSE)
    course_id = str(db.su_one("select id from courses where created_by = %s", (author,)))
    lesson_id = str(
        run(
            db,
            author,
            "insert into lessons (course_id, title, is_published)"
            " values (%s, 'Hooks', true) returning id",
            (course_id,),
        )[0]["id"]
    )
    run(db, author, "update courses set is_published = true where id = %s", (course_id,))
    return {"author": author, "course": course_id, "lesson": lesson_id}


def test_blueprint_example_author_creates_a_course(db, blueprint_course):
    row = db.su(
        "select title, difficulty_level, tags, is_published from courses where created_by = %s",
        (blueprint_course["author"],),
    )
    assert row == [
        {
            "title": "Advanced React",
            "difficulty_level": "Advanced",
            "tags": ["react", "advanced"],
            "is_published": True,
        }
    ]


def test_blueprint_example_learner_enrolls(db, blueprint_course):
    learner = db.new_user("blueprint-enroll@example.test", {})
    run(db, learner, BLUEPRINT_ENROLL.replace("course-uuid-here", blueprint_course["course"]))
    assert (
        db.su_one("select status from course_enrollments where user_id = %s", (learner,))
        == "active"
    )


def test_blueprint_example_learner_records_lesson_progress(db, blueprint_course):
    learner = db.new_user("blueprint-progress@example.test", {})
    run(db, learner, BLUEPRINT_ENROLL.replace("course-uuid-here", blueprint_course["course"]))
    run(
        db,
        learner,
        BLUEPRINT_PROGRESS.replace("lesson-uuid", blueprint_course["lesson"]).replace(
            "course-uuid", blueprint_course["course"]
        ),
    )
    assert (
        float(
            db.su_one(
                "select progress_percentage from course_enrollments where user_id = %s", (learner,)
            )
        )
        == 100.0
    )


def test_blueprint_example_learner_stores_chat_history(db, blueprint_course):
    learner = db.new_user("blueprint-chat@example.test", {})
    run(db, learner, BLUEPRINT_CHAT.replace("course-uuid", blueprint_course["course"]))
    rows = run(db, learner, "select context, question from chat_history")
    assert rows == [{"context": "lesson_chat", "question": "How do hooks work?"}]


def test_blueprint_examples_work_for_the_author_as_a_learner(db, blueprint_course):
    author = blueprint_course["author"]
    run(db, author, BLUEPRINT_ENROLL.replace("course-uuid-here", blueprint_course["course"]))
    run(
        db,
        author,
        BLUEPRINT_PROGRESS.replace("lesson-uuid", blueprint_course["lesson"]).replace(
            "course-uuid", blueprint_course["course"]
        ),
    )
    run(db, author, BLUEPRINT_CHAT.replace("course-uuid", blueprint_course["course"]))
    assert (
        db.su_one("select status from course_enrollments where user_id = %s", (author,))
        == "completed"
    )


# -- enrollment progress and completion ----------------------------------------------------------


def _enrollment(db, uid, course_id):
    row = db.su(
        "select progress_percentage, status, completed_at from course_enrollments"
        " where user_id = %s and course_id = %s",
        (uid, course_id),
    )[0]
    return float(row["progress_percentage"]), row["status"], row["completed_at"]


@pytest.fixture
def enrolled(db):
    """A learner enrolled in a course with four published lessons and one draft."""
    author = db.new_user(None, {})
    learner = db.new_user(None, {})
    course = make_course(db, author, lessons=4, draft_lessons=1)
    enroll(db, learner, course.id)
    return learner, course


def test_completing_a_lesson_recomputes_enrollment_progress(db, enrolled):
    learner, course = enrolled
    complete_lesson(db, learner, course, course.lessons[0])
    assert _enrollment(db, learner, course.id)[:2] == (25.0, "active")


def test_progress_recomputed_when_a_progress_row_is_updated_to_completed(db, enrolled):
    learner, course = enrolled
    run(
        db,
        learner,
        "insert into user_progress (user_id, lesson_id, course_id, time_spent)"
        " values (auth.uid(), %s, %s, 30)",
        (course.lessons[0], course.id),
    )
    assert _enrollment(db, learner, course.id)[0] == 0.0
    run(
        db,
        learner,
        "update user_progress set completed = true where lesson_id = %s",
        (course.lessons[0],),
    )
    assert _enrollment(db, learner, course.id)[0] == 25.0


def test_unpublished_lessons_do_not_count_towards_progress(db, enrolled):
    learner, course = enrolled
    db.su("update lessons set is_published = true where id = %s", (course.draft_lessons[0],))
    complete_lesson(db, learner, course, course.draft_lessons[0])
    db.su("update lessons set is_published = false where id = %s", (course.draft_lessons[0],))
    complete_lesson(db, learner, course, course.lessons[0])
    assert _enrollment(db, learner, course.id)[0] == 25.0


def test_completing_every_published_lesson_completes_the_enrollment(db, enrolled):
    learner, course = enrolled
    for lesson in course.lessons:
        complete_lesson(db, learner, course, lesson)
    pct, status, completed_at = _enrollment(db, learner, course.id)
    assert (pct, status) == (100.0, "completed")
    assert completed_at is not None


def test_uncompleting_a_lesson_reopens_a_completed_enrollment(db, enrolled):
    learner, course = enrolled
    for lesson in course.lessons:
        complete_lesson(db, learner, course, lesson)
    run(
        db,
        learner,
        "update user_progress set completed = false where lesson_id = %s",
        (course.lessons[0],),
    )
    assert _enrollment(db, learner, course.id) == (75.0, "active", None)


def test_course_gaining_a_published_lesson_reopens_a_completed_enrollment(db, enrolled):
    learner, course = enrolled
    for lesson in course.lessons:
        complete_lesson(db, learner, course, lesson)
    run(
        db,
        course.author,
        "insert into lessons (course_id, title, order_index, is_published)"
        " values (%s, 'Bonus', 9, true)",
        (course.id,),
    )
    assert _enrollment(db, learner, course.id) == (80.0, "active", None)


def test_publishing_a_draft_lesson_reopens_a_completed_enrollment(db, enrolled):
    learner, course = enrolled
    for lesson in course.lessons:
        complete_lesson(db, learner, course, lesson)
    run(
        db,
        course.author,
        "update lessons set is_published = true where id = %s",
        (course.draft_lessons[0],),
    )
    assert _enrollment(db, learner, course.id) == (80.0, "active", None)


def test_course_gaining_a_draft_lesson_keeps_the_enrollment_completed(db, enrolled):
    learner, course = enrolled
    for lesson in course.lessons:
        complete_lesson(db, learner, course, lesson)
    run(
        db,
        course.author,
        "insert into lessons (course_id, title, order_index) values (%s, 'Draft', 9)",
        (course.id,),
    )
    assert _enrollment(db, learner, course.id)[:2] == (100.0, "completed")


def test_unpublishing_the_last_unfinished_lesson_does_not_complete_the_enrollment(db, enrolled):
    """Issue #15 §7: an author shrinking a course completes nobody (no points, no
    notification carrying the course's new title)."""
    learner, course = enrolled
    for lesson in course.lessons[:3]:
        complete_lesson(db, learner, course, lesson)
    run(
        db,
        course.author,
        "update lessons set is_published = false where id = %s",
        (course.lessons[3],),
    )
    assert _enrollment(db, learner, course.id)[:2] == (100.0, "active")


def test_a_shrunk_course_completes_on_the_learners_next_visit(db, enrolled):
    learner, course = enrolled
    for lesson in course.lessons[:3]:
        complete_lesson(db, learner, course, lesson)
    run(
        db,
        course.author,
        "update lessons set is_published = false where id = %s",
        (course.lessons[3],),
    )
    run(db, learner, "select public.record_lesson_progress(%s, 30)", (course.lessons[0],))
    assert _enrollment(db, learner, course.id)[:2] == (100.0, "completed")


def test_enrolling_after_learning_starts_from_existing_progress(db):
    author, learner = db.new_user(None, {}), db.new_user(None, {})
    course = make_course(db, author, lessons=2)
    complete_lesson(db, learner, course, course.lessons[0])
    enroll(db, learner, course.id)
    assert _enrollment(db, learner, course.id)[0] == 50.0


def test_progress_of_one_learner_leaves_another_learners_enrollment_alone(db, enrolled):
    learner, course = enrolled
    other = db.new_user(None, {})
    enroll(db, other, course.id)
    complete_lesson(db, learner, course, course.lessons[0])
    assert _enrollment(db, other, course.id)[0] == 0.0


def test_pausing_and_resuming_an_enrollment_is_the_learners_choice(db, enrolled):
    learner, course = enrolled
    run(
        db,
        learner,
        "update course_enrollments set status = 'paused' where course_id = %s",
        (course.id,),
    )
    complete_lesson(db, learner, course, course.lessons[0])
    assert _enrollment(db, learner, course.id)[:2] == (25.0, "paused")


# -- streaks on the learner's local date --------------------------------------------------------


@pytest.fixture
def learner(db):
    """A learner in UTC and a course with plenty of lessons to complete."""
    author = db.new_user(None, {})
    uid = db.new_user(None, {})
    return uid, make_course(db, author, lessons=6)


def _moment(db, hours_ago: float) -> str:
    return db.su_one("select (now() - make_interval(secs => %s))::text", (hours_ago * 3600,))


def _local_date(db, ts: str, tz: str) -> dt.date:
    return db.su_one("select (%s::timestamptz at time zone %s)::date", (ts, tz))


def _set_streak(db, uid, current: int, longest: int, last: dt.date | None) -> None:
    db.su(
        "update user_streaks set current_streak = %s, longest_streak = %s,"
        " last_activity_date = %s where user_id = %s",
        (current, longest, last, uid),
    )


def _act(db, uid, course, n: int, at: str) -> None:
    complete_lesson(db, uid, course, course.lessons[n], occurred_at=at)


def _counts(db, uid) -> tuple[int, int]:
    s = _streak(db, uid)
    return s["current_streak"], s["longest_streak"]


def test_first_activity_starts_a_streak_of_one(db, learner):
    uid, course = learner
    _act(db, uid, course, 0, _moment(db, 1))
    assert _counts(db, uid) == (1, 1)


def test_activity_on_the_same_day_changes_nothing(db, learner):
    uid, course = learner
    at = _moment(db, 1)
    _set_streak(db, uid, 3, 5, _local_date(db, at, "UTC"))
    _act(db, uid, course, 0, at)
    assert _counts(db, uid) == (3, 5)


def test_activity_on_the_next_day_adds_one(db, learner):
    uid, course = learner
    at = _moment(db, 1)
    _set_streak(db, uid, 3, 3, _local_date(db, at, "UTC") - dt.timedelta(days=1))
    _act(db, uid, course, 0, at)
    assert _counts(db, uid) == (4, 4)
    assert _streak(db, uid)["last_activity_date"] == _local_date(db, at, "UTC")


def test_activity_after_a_gap_restarts_at_one(db, learner):
    uid, course = learner
    at = _moment(db, 1)
    _set_streak(db, uid, 5, 5, _local_date(db, at, "UTC") - dt.timedelta(days=2))
    _act(db, uid, course, 0, at)
    assert _counts(db, uid) == (1, 5)


def test_longest_streak_is_kept_when_the_current_one_is_shorter(db, learner):
    uid, course = learner
    at = _moment(db, 1)
    _set_streak(db, uid, 2, 10, _local_date(db, at, "UTC") - dt.timedelta(days=1))
    _act(db, uid, course, 0, at)
    assert _counts(db, uid) == (3, 10)


def test_a_late_replay_of_an_earlier_day_changes_nothing(db, learner):
    uid, course = learner
    today = _local_date(db, _moment(db, 0), "UTC")
    _set_streak(db, uid, 4, 4, today)
    _act(db, uid, course, 0, _moment(db, 47))
    assert _counts(db, uid) == (4, 4)
    assert _streak(db, uid)["last_activity_date"] == today


def test_replaying_yesterdays_activity_then_todays_counts_two_days(db, learner):
    uid, course = learner
    today = _moment(db, 0.5)
    # Noon of the previous UTC day: 12.5 to 36.5 hours ago, inside the 48-hour window.
    yesterday = db.su_one(
        "select (((%s::timestamptz at time zone 'UTC')::date - 1)"
        " + time '12:00') at time zone 'UTC'",
        (today,),
    ).isoformat()
    _act(db, uid, course, 0, yesterday)
    _act(db, uid, course, 1, today)
    assert _counts(db, uid) == (2, 2)


def test_a_completed_assessment_attempt_counts_as_activity(db, learner):
    uid, course = learner
    at = _moment(db, 1)
    assessment = make_assessment(db, course.author, course.id)
    _set_streak(db, uid, 1, 1, _local_date(db, at, "UTC") - dt.timedelta(days=1))
    submit_attempt(db, uid, assessment, 1, 2, occurred_at=at)
    assert _counts(db, uid) == (2, 2)


def test_an_abandoned_attempt_is_not_activity(db, learner):
    uid, course = learner
    assessment = make_assessment(db, course.author, course.id)
    run(
        db,
        uid,
        "insert into assessment_attempts (user_id, assessment_id, status)"
        " values (auth.uid(), %s, 'abandoned')",
        (assessment,),
    )
    assert _counts(db, uid) == (0, 0)


def test_an_unfinished_lesson_is_not_activity(db, learner):
    uid, course = learner
    run(
        db,
        uid,
        "insert into user_progress (user_id, lesson_id, course_id, time_spent)"
        " values (auth.uid(), %s, %s, 300)",
        (course.lessons[0], course.id),
    )
    assert _counts(db, uid) == (0, 0)


def _moment_where_auckland_is_a_day_ahead_of_los_angeles(db) -> str:
    for hours_ago in (1, 7):
        at = _moment(db, hours_ago)
        if _local_date(db, at, "Pacific/Auckland") == _local_date(
            db, at, "America/Los_Angeles"
        ) + dt.timedelta(days=1):
            return at
    raise AssertionError("Auckland is 19-21 hours ahead: one of two moments 6 h apart works")


def test_the_learners_local_date_decides_the_streak(db, learner):
    _, course = learner
    at = _moment_where_auckland_is_a_day_ahead_of_los_angeles(db)
    la_day = _local_date(db, at, "America/Los_Angeles")
    results = {}
    for i, tz in enumerate(("Pacific/Auckland", "America/Los_Angeles")):
        uid = db.new_user(None, {"timezone": tz})
        _set_streak(db, uid, 4, 4, la_day)
        _act(db, uid, course, i, at)
        results[tz] = (_counts(db, uid), _streak(db, uid)["last_activity_date"])
    assert results == {
        "Pacific/Auckland": ((5, 5), la_day + dt.timedelta(days=1)),
        "America/Los_Angeles": ((4, 4), la_day),
    }


def test_changing_timezone_moves_the_day_analytics_count_on(db, learner):
    uid, course = learner
    at = _moment_where_auckland_is_a_day_ahead_of_los_angeles(db)
    run(db, uid, "update profiles set timezone = 'Pacific/Auckland' where id = auth.uid()")
    _act(db, uid, course, 0, at)
    run(db, uid, "update profiles set timezone = 'America/Los_Angeles' where id = auth.uid()")
    _act(db, uid, course, 1, at)
    days = [
        r["session_date"]
        for r in db.su(
            "select session_date from learning_analytics where user_id = %s order by 1", (uid,)
        )
    ]
    assert days == [
        _local_date(db, at, "America/Los_Angeles"),
        _local_date(db, at, "Pacific/Auckland"),
    ]


def _weekly(db, uid, current: int, longest: int, last: dt.date) -> None:
    db.su("update user_streaks set streak_type = 'weekly' where user_id = %s", (uid,))
    _set_streak(db, uid, current, longest, last)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.isoweekday() - 1)


def test_weekly_streak_adds_one_in_the_next_iso_week(db, learner):
    uid, course = learner
    at = _moment(db, 1)
    _weekly(db, uid, 2, 2, _monday(_local_date(db, at, "UTC")) - dt.timedelta(days=7))
    _act(db, uid, course, 0, at)
    assert _counts(db, uid) == (3, 3)


def test_weekly_streak_counts_iso_weeks_not_seven_day_gaps(db, learner):
    uid, course = learner
    at = _moment(db, 1)
    # Sunday of the previous ISO week: fewer than 7 days ago unless today is Sunday.
    _weekly(db, uid, 2, 2, _monday(_local_date(db, at, "UTC")) - dt.timedelta(days=1))
    _act(db, uid, course, 0, at)
    assert _counts(db, uid) == (3, 3)


def test_weekly_streak_is_unchanged_within_the_same_iso_week(db, learner):
    uid, course = learner
    at = _moment(db, 1)
    _weekly(db, uid, 2, 2, _monday(_local_date(db, at, "UTC")))
    _act(db, uid, course, 0, at)
    assert _counts(db, uid) == (2, 2)


def test_weekly_streak_restarts_after_a_week_without_activity(db, learner):
    uid, course = learner
    at = _moment(db, 1)
    _weekly(db, uid, 4, 4, _monday(_local_date(db, at, "UTC")) - dt.timedelta(days=8))
    _act(db, uid, course, 0, at)
    assert _counts(db, uid) == (1, 4)


def test_learner_switching_to_weekly_starts_a_fresh_count(db, learner):
    uid, _ = learner
    _set_streak(db, uid, 6, 6, _local_date(db, _moment(db, 0), "UTC"))
    run(db, uid, "update user_streaks set streak_type = 'weekly' where user_id = auth.uid()")
    assert _counts(db, uid) == (1, 6)


# -- daily analytics -----------------------------------------------------------------------------


def _analytics(db, uid):
    return db.su(
        "select coalesce(sum(lessons_completed), 0)::int as lessons,"
        " coalesce(sum(assessments_completed), 0)::int as assessments,"
        " coalesce(sum(session_duration), 0)::int as seconds,"
        " coalesce(sum(total_score), 0)::float as score"
        " from learning_analytics where user_id = %s",
        (uid,),
    )[0]


def test_a_lesson_completed_uncompleted_and_recompleted_counts_once(db, learner):
    uid, course = learner
    complete_lesson(db, uid, course, course.lessons[0], time_spent=60)
    run(
        db,
        uid,
        "update user_progress set completed = false where lesson_id = %s",
        (course.lessons[0],),
    )
    run(
        db,
        uid,
        "update user_progress set completed = true where lesson_id = %s",
        (course.lessons[0],),
    )
    assert _analytics(db, uid)["lessons"] == 1


def test_each_completed_lesson_counts_in_the_analytics(db, learner):
    uid, course = learner
    for n in range(3):
        complete_lesson(db, uid, course, course.lessons[n])
    assert _analytics(db, uid)["lessons"] == 3


def test_time_spent_deltas_add_up_to_the_session_duration(db, learner):
    uid, course = learner
    run(
        db,
        uid,
        "insert into user_progress (user_id, lesson_id, course_id, time_spent)"
        " values (auth.uid(), %s, %s, 100)",
        (course.lessons[0], course.id),
    )
    for seconds in (250, 400):
        run(
            db,
            uid,
            "update user_progress set time_spent = %s where lesson_id = %s",
            (seconds, course.lessons[0]),
        )
    run(
        db,
        uid,
        "insert into user_progress (user_id, lesson_id, course_id, time_spent)"
        " values (auth.uid(), %s, %s, 50)",
        (course.lessons[1], course.id),
    )
    assert _analytics(db, uid)["seconds"] == 450


def test_analytics_row_is_on_the_learners_local_date(db, learner):
    _, course = learner
    uid = db.new_user(None, {"timezone": "Pacific/Auckland"})
    at = _moment_where_auckland_is_a_day_ahead_of_los_angeles(db)
    _act(db, uid, course, 0, at)
    assert db.su_one(
        "select session_date from learning_analytics where user_id = %s", (uid,)
    ) == _local_date(db, at, "Pacific/Auckland")


def test_one_analytics_row_per_learner_course_and_day(db, learner):
    uid, course = learner
    at = _moment(db, 1)
    for n in range(3):
        complete_lesson(db, uid, course, course.lessons[n], occurred_at=at)
    assert db.su_one("select count(*) from learning_analytics where user_id = %s", (uid,)) == 1


def test_a_completed_attempt_counts_in_the_analytics_with_its_score(db, learner):
    uid, course = learner
    assessment = make_assessment(db, course.author, course.id)
    submit_attempt(db, uid, assessment, 4, 5)
    got = _analytics(db, uid)
    assert (got["assessments"], got["score"]) == (1, 80.0)


# -- achievements and notifications --------------------------------------------------------------


def _achievements(db, uid) -> list[str]:
    return [
        r["achievement_key"]
        for r in db.su(
            "select achievement_key from achievements where user_id = %s order by 1", (uid,)
        )
    ]


def test_first_lesson_achievement_is_granted_once(db, learner):
    uid, course = learner
    for n in range(3):
        complete_lesson(db, uid, course, course.lessons[n])
    assert _achievements(db, uid) == ["first_lesson"]


def test_first_lesson_achievement_carries_its_points(db, learner):
    uid, course = learner
    complete_lesson(db, uid, course, course.lessons[0])
    assert db.su_one("select points from achievements where user_id = %s", (uid,)) == 10


def test_first_passed_assessment_needs_a_score_of_70(db, learner):
    uid, course = learner
    assessment = make_assessment(db, course.author, course.id)
    submit_attempt(db, uid, assessment, 69, 100)
    assert _achievements(db, uid) == []
    submit_attempt(db, uid, assessment, 70, 100)
    assert _achievements(db, uid) == ["first_assessment_passed"]


def test_perfect_score_achievement_is_granted_once(db, learner):
    uid, course = learner
    assessment = make_assessment(db, course.author, course.id)
    submit_attempt(db, uid, assessment, 3, 3)
    submit_attempt(db, uid, assessment, 5, 5)
    assert _achievements(db, uid) == ["first_assessment_passed", "perfect_score"]


def test_submitting_an_in_progress_attempt_grants_achievements(db, learner):
    uid, course = learner
    assessment = make_assessment(db, course.author, course.id)
    attempt_id = run(
        db,
        uid,
        "insert into assessment_attempts (user_id, assessment_id)"
        " values (auth.uid(), %s) returning id",
        (assessment,),
    )[0]["id"]
    run(
        db,
        uid,
        "update assessment_attempts set status = 'completed', execution_result = %s where id = %s",
        (Jsonb({"score": {"passed": 2, "total": 2}}), attempt_id),
    )
    assert _achievements(db, uid) == ["first_assessment_passed", "perfect_score"]


def test_course_completed_achievement_is_granted_per_course(db):
    author, uid = db.new_user(None, {}), db.new_user(None, {})
    courses = [make_course(db, author, lessons=1) for _ in range(2)]
    for course in courses:
        enroll(db, uid, course.id)
        complete_lesson(db, uid, course, course.lessons[0])
    keys = _achievements(db, uid)
    assert sorted(k for k in keys if k.startswith("course_completed")) == sorted(
        f"course_completed:{c.id}" for c in courses
    )


def test_course_completed_achievement_is_not_granted_twice_for_the_same_course(db, enrolled):
    learner, course = enrolled
    for lesson in course.lessons:
        complete_lesson(db, learner, course, lesson)
    run(
        db,
        course.author,
        "insert into lessons (course_id, title, is_published) values (%s, 'Bonus', true)",
        (course.id,),
    )
    bonus = str(
        db.su_one("select id from lessons where course_id = %s and title = 'Bonus'", (course.id,))
    )
    complete_lesson(db, learner, course, bonus)
    assert (
        db.su_one(
            "select count(*) from achievements where user_id = %s and type = 'course_completed'",
            (learner,),
        )
        == 1
    )


@pytest.mark.parametrize(("before", "key"), [(2, "streak_3"), (6, "streak_7"), (29, "streak_30")])
def test_streak_milestone_achievement(db, learner, before, key):
    uid, course = learner
    at = _moment(db, 1)
    _set_streak(db, uid, before, before, _local_date(db, at, "UTC") - dt.timedelta(days=1))
    _act(db, uid, course, 0, at)
    assert key in _achievements(db, uid)


def test_streak_milestones_below_the_streak_are_not_granted(db, learner):
    uid, course = learner
    at = _moment(db, 1)
    _set_streak(db, uid, 1, 1, _local_date(db, at, "UTC") - dt.timedelta(days=1))
    _act(db, uid, course, 0, at)
    assert [k for k in _achievements(db, uid) if k.startswith("streak")] == []


def test_every_achievement_sends_one_notification(db, learner):
    uid, course = learner
    assessment = make_assessment(db, course.author, course.id)
    complete_lesson(db, uid, course, course.lessons[0])
    complete_lesson(db, uid, course, course.lessons[1])
    submit_attempt(db, uid, assessment, 2, 2)
    notes = db.su("select title, type, action_url from notifications where user_id = %s", (uid,))
    ids = db.su("select id, title from achievements where user_id = %s", (uid,))
    assert len(ids) == 3
    assert sorted(n["action_url"] for n in notes) == sorted(
        f"learn://achievements/{a['id']}" for a in ids
    )
    assert {n["type"] for n in notes} == {"achievement"}


def test_learner_marks_a_notification_read(db, learner):
    uid, course = learner
    complete_lesson(db, uid, course, course.lessons[0])
    rows = run(db, uid, "update notifications set is_read = true returning read_at")
    assert len(rows) == 1 and rows[0]["read_at"] is not None


# -- updated_at ----------------------------------------------------------------------------------

# table: (column to touch, new value, which row)
UPDATED_AT = {
    "profiles": ("bio", "'x'", "id = %(uid)s"),
    "courses": ("title", "'x'", "id = %(course)s"),
    "lessons": ("title", "'x'", "course_id = %(course)s"),
    "course_enrollments": ("last_accessed", "now()", "user_id = %(uid)s"),
    "assessments": ("title", "'x'", "course_id = %(course)s"),
    "assessment_solutions": (
        "solution",
        "'x'",
        "assessment_id in (select id from assessments where course_id = %(course)s)",
    ),
    "assessment_attempts": ("submitted_code", "'x'", "user_id = %(uid)s"),
    "user_progress": ("last_position", "7", "user_id = %(uid)s"),
    "learning_analytics": ("session_duration", "session_duration + 1", "user_id = %(uid)s"),
    "user_streaks": ("current_streak", "current_streak", "user_id = %(uid)s"),
    "user_feedback": ("feedback_text", "'x'", "user_id = %(uid)s"),
    "course_stats": ("rating_count", "rating_count", "course_id = %(course)s"),
    "review_cards": ("prompt", "'x'", "user_id = %(uid)s"),
}


@pytest.fixture(scope="module")
def one_of_each(db):
    author, uid = db.new_user(None, {}), db.new_user(None, {})
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
    run(
        db,
        uid,
        "insert into user_feedback (user_id, course_id, rating, feedback_type)"
        " values (auth.uid(), %s, 4, 'course_rating')",
        (course.id,),
    )
    db.su(
        "insert into review_cards (user_id, lesson_id, key_point_index, prompt)"
        " values (%s, %s, 0, 'A key point')",
        (uid, course.lessons[0]),
    )
    return {"uid": uid, "course": course.id}


@pytest.mark.parametrize("table", sorted(UPDATED_AT))
def test_updated_at_is_maintained(db, one_of_each, table):
    column, value, where = UPDATED_AT[table]
    before = db.su(f"select updated_at from {table} where {where}", one_of_each)
    db.su(f"update {table} set {column} = {value} where {where}", one_of_each)
    after = db.su(f"select updated_at from {table} where {where}", one_of_each)
    assert len(before) == len(after) == 1
    assert after[0]["updated_at"] > before[0]["updated_at"]


def test_updated_at_test_covers_every_table_with_the_column(db):
    tables = {
        r["table_name"]
        for r in db.su(
            "select table_name from information_schema.columns"
            " where table_schema = 'public' and column_name = 'updated_at'"
        )
    }
    assert tables == set(UPDATED_AT)


def test_client_cannot_set_updated_at(db, one_of_each):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run(
            db,
            one_of_each["uid"],
            "update profiles set updated_at = '2000-01-01' where id = auth.uid()",
        )


# -- the audit trail -------------------------------------------------------------------------------


def _audit(db, action, row_id):
    return db.su(
        "select actor_id, subject_user_id, course_author_id, old_data, new_data"
        " from audit_log where action = %s and row_id = %s",
        (action, row_id),
    )


@pytest.mark.parametrize("table", ["courses", "lessons", "assessments"])
def test_publishing_and_unpublishing_are_audited(db, table):
    author = db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    row_id = {
        "courses": course.id,
        "lessons": course.lessons[0],
        "assessments": make_assessment(db, author, course.id),
    }[table]
    kind = table[:-1]
    run(db, author, f"update {table} set is_published = false where id = %s", (row_id,))
    run(db, author, f"update {table} set is_published = true where id = %s", (row_id,))
    unpublished = _audit(db, f"{kind}.unpublished", row_id)
    republished = [e for e in _audit(db, f"{kind}.published", row_id) if e["actor_id"] is not None]
    assert len(unpublished) == len(republished) == 1
    assert unpublished[0]["actor_id"] == uuid.UUID(author)
    assert unpublished[0]["course_author_id"] == uuid.UUID(author)
    assert (unpublished[0]["old_data"], unpublished[0]["new_data"]) == (
        {"is_published": True},
        {"is_published": False},
    )


@pytest.mark.parametrize("table", ["courses", "lessons", "assessments"])
def test_deleting_content_is_audited(db, table):
    author = db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    row_id = {
        "courses": course.id,
        "lessons": course.lessons[0],
        "assessments": make_assessment(db, author, course.id),
    }[table]
    run(db, author, f"delete from {table} where id = %s", (row_id,))
    entries = _audit(db, f"{table[:-1]}.deleted", row_id)
    assert len(entries) == 1
    assert entries[0]["course_author_id"] == uuid.UUID(author)
    assert entries[0]["old_data"]["title"]


def test_deleting_a_course_records_its_lessons_for_the_author(db):
    author = db.new_user(None, {})
    course = make_course(db, author, lessons=2, draft_lessons=1)
    run(db, author, "delete from courses where id = %s", (course.id,))
    entries = attempt(
        db,
        author,
        "select action, old_data from audit_log"
        " where row_id = any(%s::uuid[]) and action like '%%deleted'",
        ([course.id, *course.lessons, *course.draft_lessons],),
    )
    assert [e["action"] for e in entries] == ["course.deleted"]
    assert sorted(x["id"] for x in entries[0]["old_data"]["lessons"]) == sorted(
        course.lessons + course.draft_lessons
    )


def test_enrollment_status_change_is_audited(db, enrolled):
    learner, course = enrolled
    enrollment = db.su_one("select id from course_enrollments where user_id = %s", (learner,))
    run(
        db, learner, "update course_enrollments set status = 'dropped' where id = %s", (enrollment,)
    )
    entries = _audit(db, "enrollment.status", enrollment)
    assert [(e["old_data"]["status"], e["new_data"]["status"]) for e in entries] == [
        ("active", "dropped")
    ]
    assert entries[0]["subject_user_id"] == uuid.UUID(learner)
    assert entries[0]["course_author_id"] == uuid.UUID(course.author)


def test_database_completing_an_enrollment_is_audited(db, enrolled):
    learner, course = enrolled
    for lesson in course.lessons:
        complete_lesson(db, learner, course, lesson)
    enrollment = db.su_one("select id from course_enrollments where user_id = %s", (learner,))
    entries = _audit(db, "enrollment.status", enrollment)
    assert [e["new_data"]["status"] for e in entries] == ["completed"]


def test_submitted_attempt_is_audited(db, learner):
    uid, course = learner
    assessment = make_assessment(db, course.author, course.id)
    attempt_id = submit_attempt(db, uid, assessment, 1, 2)
    entries = _audit(db, "attempt.submitted", attempt_id)
    assert len(entries) == 1
    assert float(entries[0]["new_data"]["score"]) == 50.0
    assert entries[0]["course_author_id"] == uuid.UUID(course.author)


def test_granted_achievement_is_audited(db, learner):
    uid, course = learner
    complete_lesson(db, uid, course, course.lessons[0])
    achievement = db.su_one("select id from achievements where user_id = %s", (uid,))
    entries = _audit(db, "achievement.granted", achievement)
    assert len(entries) == 1 and entries[0]["subject_user_id"] == uuid.UUID(uid)


def _visible_actions(db, uid, row_id) -> list[str]:
    return [
        r["action"]
        for r in attempt(
            db, uid, "select action from audit_log where row_id = %s order by id", (row_id,)
        )
    ]


def test_learner_reads_audit_entries_about_them(db, learner):
    uid, course = learner
    assessment = make_assessment(db, course.author, course.id)
    attempt_id = submit_attempt(db, uid, assessment, 1, 1)
    assert _visible_actions(db, uid, attempt_id) == ["attempt.submitted"]


def test_author_cannot_read_audit_entries_about_a_learner_in_their_course(db, learner):
    """Issue #15 §3: who did what (ids, scores, times) stays with the learner."""
    uid, course = learner
    assessment = make_assessment(db, course.author, course.id)
    attempt_id = submit_attempt(db, uid, assessment, 1, 1)
    assert _visible_actions(db, course.author, attempt_id) == []


def test_learner_reads_audit_entries_about_themselves(db, learner):
    uid, course = learner
    assessment = make_assessment(db, course.author, course.id)
    attempt_id = submit_attempt(db, uid, assessment, 1, 1)
    assert _visible_actions(db, uid, attempt_id) == ["attempt.submitted"]


def test_author_reads_audit_entries_about_their_content(db, learner):
    _uid, course = learner
    assessment = make_assessment(db, course.author, course.id, published=False)
    run(
        db, course.author, "update assessments set is_published = true where id = %s", (assessment,)
    )
    assert _visible_actions(db, course.author, assessment) == ["assessment.published"]


def test_other_learner_cannot_read_someone_elses_audit_entries(db, learner):
    uid, course = learner
    assessment = make_assessment(db, course.author, course.id)
    attempt_id = submit_attempt(db, uid, assessment, 1, 1)
    assert _visible_actions(db, db.new_user(None, {}), attempt_id) == []


def test_another_author_cannot_read_audit_entries_about_a_course(db):
    author, rival = db.new_user(None, {}), db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    run(db, author, "update courses set is_published = false where id = %s", (course.id,))
    assert _visible_actions(db, rival, course.id) == []
    assert _visible_actions(db, author, course.id) == ["course.published", "course.unpublished"]
