"""Issue #15, database side: each finding as a hostile API client would reproduce it
(one PostgREST-style request per `run`/`attempt`), and what the database does now.

§1 control characters, §2 streaks in one sitting, §3 authors and learners' data,
§4 the study-time cap, §5 deleting courses, §6 slugs, §7 smaller holes, §8 quotas."""

from __future__ import annotations

import json
import os
import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from services.data import database
from tests.db.helpers import (
    attempt,
    complete_lesson,
    enroll,
    make_assessment,
    make_course,
    result_json,
    run,
    sqlstate,
    submit_attempt,
)

INVALID = "22023"
LIMIT = "54000"


def _error(db, uid, sql, params=None) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as caught:
        attempt(db, uid, sql, params)
    return caught.value


def _publish(db, uid, course: dict, draft: bool = False) -> dict:
    return run(
        db, uid, "select public.publish_course(%s::jsonb, %s) as r", (json.dumps(course), draft)
    )[0]["r"]


def _course_payload(slug: str, title: str = "A course", lessons: int = 1, **extra) -> dict:
    return {
        "slug": slug,
        "title": title,
        **extra,
        "lessons": [
            {"slug": f"l{i}", "title": f"Lesson {i}", "content": "Text.", "order_index": i}
            for i in range(lessons)
        ],
    }


# -- §1 control characters in author-facing text -------------------------------------------


def test_publishing_a_course_title_with_an_escape_sequence_is_refused(db):
    author = db.new_user(None, {})
    err = _error(
        db,
        author,
        "select public.publish_course(%s::jsonb)",
        (json.dumps(_course_payload("esc-title", "Evil \x1b]2;pwned\x07 course")),),
    )
    assert err.sqlstate == INVALID


def test_the_control_character_error_names_the_column_and_the_character(db):
    author = db.new_user(None, {})
    err = _error(
        db,
        author,
        "select public.publish_course(%s::jsonb)",
        (json.dumps(_course_payload("esc-title-2", "Evil \x1b[31m")),),
    )
    assert "courses.title" in str(err) and "U+001B" in str(err)


def test_lesson_content_with_bel_is_refused(db):
    author = db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    assert (
        sqlstate(
            db,
            author,
            "update lessons set content = 'Ring \x07 ring' where id = %s",
            (course.lessons[0],),
        )
        == INVALID
    )


def test_lesson_key_points_with_a_csi_are_refused(db):
    author = db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    assert (
        sqlstate(
            db,
            author,
            "update lessons set key_points = array['ok', 'bad \x9b2J'] where id = %s",
            (course.lessons[0],),
        )
        == INVALID
    )


def test_assessment_instructions_with_a_c1_csi_are_refused(db):
    author = db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    assessment = make_assessment(db, author, course.id)
    assert (
        sqlstate(
            db,
            author,
            "update assessments set instructions = 'Clear \x9b2J' where id = %s",
            (assessment,),
        )
        == INVALID
    )


def test_profile_name_with_del_is_refused(db):
    learner = db.new_user(None, {})
    assert (
        sqlstate(
            db,
            learner,
            "select public.update_profile(%s::jsonb)",
            (json.dumps({"full_name": "Ada\x7f\x7f\x7fEve"}),),
        )
        == INVALID
    )


def test_notification_text_with_an_escape_is_refused_even_for_the_database(db):
    learner = db.new_user(None, {})
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        db.su("insert into notifications (user_id, title) values (%s, 'Hi \x1b[2J')", (learner,))


def test_feedback_an_author_reads_with_an_escape_is_refused(db):
    author, learner = db.new_user(None, {}), db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    assert (
        sqlstate(
            db,
            learner,
            "select public.submit_feedback(4, %s, 'course_rating', %s)",
            ("Great \x1b]52;c;ZXZpbA==\x07", course.id),
        )
        == INVALID
    )


def test_newline_and_tab_stay_allowed_in_lesson_content(db):
    author = db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    assert (
        sqlstate(
            db,
            author,
            "update lessons set content = E'Line 1\\n\\tindented' where id = %s",
            (course.lessons[0],),
        )
        is None
    )


def test_signup_name_with_control_characters_is_cleaned_not_refused(db):
    learner = db.new_user(None, {"full_name": "Ada\x1b[31m Lovelace"})
    assert (
        db.su_one("select full_name from profiles where id = %s", (learner,)) == "Ada[31m Lovelace"
    )


# -- §2 streaks built in one sitting ------------------------------------------------------------


@pytest.fixture
def quiz(db):
    author = db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    return make_assessment(db, author, course.id)


def _set_tz(db, uid, tz: str) -> None:
    run(db, uid, "select public.update_profile(%s::jsonb)", (json.dumps({"timezone": tz}),))


def _fail_attempt(db, uid, assessment, occurred_at: str | None = None) -> None:
    run(
        db,
        uid,
        "select public.submit_attempt(%s, 'x', %s, null, null, null, %s::timestamptz)",
        (assessment, result_json(0, 1), occurred_at),
    )


def _ago(db, hours: float) -> str:
    return db.su_one("select (now() - make_interval(secs => %s))::text", (hours * 3600,))


def _streak_and_keys(db, uid) -> tuple[int, set[str]]:
    current = db.su_one("select current_streak from user_streaks where user_id = %s", (uid,))
    keys = {
        r["achievement_key"]
        for r in db.su("select achievement_key from achievements where user_id = %s", (uid,))
    }
    return current, keys


def test_a_posix_time_zone_with_a_huge_offset_is_refused(db):
    learner = db.new_user(None, {})
    assert (
        sqlstate(
            db,
            learner,
            "select public.update_profile(%s::jsonb)",
            (json.dumps({"timezone": "XXX+167"}),),
        )
        == INVALID
    )


def test_an_iana_time_zone_is_accepted(db):
    learner = db.new_user(None, {})
    _set_tz(db, learner, "Etc/GMT+12")
    assert db.su_one("select timezone from profiles where id = %s", (learner,)) == "Etc/GMT+12"


def test_alternating_time_zones_in_one_sitting_builds_no_streak(db, quiz):
    learner = db.new_user(None, {})
    for i in range(14):
        _set_tz(db, learner, "Etc/GMT+12" if i % 2 == 0 else "Etc/GMT-14")
        _fail_attempt(db, learner, quiz)
    current, keys = _streak_and_keys(db, learner)
    assert (current, "streak_3" in keys) == (1, False)


def test_back_dating_then_switching_time_zone_yields_at_most_the_windows_three_days(db, quiz):
    learner = db.new_user(None, {})
    _set_tz(db, learner, "Etc/GMT+12")
    _fail_attempt(db, learner, quiz, _ago(db, 48))
    _fail_attempt(db, learner, quiz, _ago(db, 24))
    _fail_attempt(db, learner, quiz)
    for tz in ("Etc/GMT-12", "Etc/GMT+12", "Etc/GMT-14", "Pacific/Kiritimati"):
        _set_tz(db, learner, tz)
        _fail_attempt(db, learner, quiz)
    current, keys = _streak_and_keys(db, learner)
    assert (current, "streak_3" in keys, "streak_7" in keys) == (3, True, False)


def test_moving_midnight_between_back_dated_moments_adds_no_day(db, quiz):
    """The strongest sitting: every hour of the 48-hour window, the time zone is picked
    so that local midnight falls just before the moment claimed."""
    learner = db.new_user(None, {})
    zones = [f"Etc/GMT{'+' if h > 0 else '-'}{abs(h)}" if h else "UTC" for h in range(-14, 13)]
    previous = None
    for hours_ago in range(48, -1, -1):
        at = _ago(db, hours_ago)
        if previous is not None:
            zone = db.su_one(
                "select z from unnest(%s::text[]) z"
                " where (%s::timestamptz at time zone z)::date"
                "     = (%s::timestamptz at time zone z)::date + 1 limit 1",
                (zones, at, previous),
            )
            if zone:
                _set_tz(db, learner, zone)
        _fail_attempt(db, learner, quiz, at)
        previous = at
    current, _keys = _streak_and_keys(db, learner)
    assert current <= 3


def test_back_dating_inside_the_window_still_claims_its_days(db, quiz):
    """47 and 23 hours ago fall on the two days before today wherever it is now past
    1 a.m., so the zone is picked to make it early afternoon (any hour of the day the
    test runs)."""
    learner = db.new_user(None, {})
    zones = [f"Etc/GMT{'+' if h > 0 else '-'}{abs(h)}" if h else "UTC" for h in range(-12, 13)]
    zone = db.su_one(
        "select z from unnest(%s::text[]) z"
        " where extract(hour from now() at time zone z) between 12 and 20 limit 1",
        (zones,),
    )
    _set_tz(db, learner, zone)
    _fail_attempt(db, learner, quiz, _ago(db, 47))
    _fail_attempt(db, learner, quiz, _ago(db, 23))
    _fail_attempt(db, learner, quiz)
    assert _streak_and_keys(db, learner)[0] == 3


# -- §3 authors see aggregates, never which learner did what -------------------------------


@pytest.fixture
def taught(db):
    author = db.new_user(None, {})
    course = make_course(db, author, lessons=2)
    quiz = make_assessment(db, author, course.id)
    learners = [db.new_user(None, {}) for _ in range(3)]
    for i, uid in enumerate(learners):
        enroll(db, uid, course.id)
        complete_lesson(db, uid, course, course.lessons[0])
        if i == 0:
            submit_attempt(db, uid, quiz, 1, 4)
            run(
                db, uid, "select public.submit_feedback(2, null, 'course_rating', %s)", (course.id,)
            )
    return {"author": author, "course": course, "quiz": quiz, "learners": learners}


def test_author_cannot_read_learner_ids_and_scores_from_the_audit_log(db, taught):
    rows = run(
        db,
        taught["author"],
        "select actor_id, subject_user_id, action, new_data from public.audit_log"
        " where course_author_id = auth.uid() and subject_user_id is not null",
    )
    assert rows == []


def _analytics(db, taught) -> dict:
    return run(
        db, taught["author"], "select public.course_analytics(%s) as a", (taught["course"].id,)
    )[0]["a"]


def test_analytics_withhold_an_average_score_of_one_learner(db, taught):
    quiz = next(
        a for a in _analytics(db, taught)["assessments"] if a["assessment_id"] == taught["quiz"]
    )
    assert (quiz["learners"], quiz["average_score"], quiz["pass_rate"], quiz["withheld"]) == (
        1,
        None,
        None,
        True,
    )


def test_analytics_withhold_a_rating_average_of_one_learner(db, taught):
    rating = _analytics(db, taught)["rating"]
    assert (rating["count"], rating["average"], rating["distribution"]) == (1, None, None)


def test_analytics_show_figures_that_three_learners_stand_behind(db, taught):
    first = _analytics(db, taught)["funnel"][0]
    assert (first["started"], first["completed"], first["withheld"]) == (3, 3, False)


def test_analytics_show_an_average_score_of_three_learners(db, taught):
    for uid in taught["learners"][1:]:
        submit_attempt(db, uid, taught["quiz"], 4, 4)
    quiz = next(
        a for a in _analytics(db, taught)["assessments"] if a["assessment_id"] == taught["quiz"]
    )
    assert (quiz["learners"], quiz["average_score"]) == (3, 75.0)


def test_the_public_rating_average_shows_from_three_ratings(db):
    author = db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    averages = []
    for rating in (5, 1, 3):
        run(
            db,
            db.new_user(None, {}),
            "select public.submit_feedback(%s, null, 'course_rating', %s)",
            (rating, course.id),
        )
        detail = run(db, None, "select public.course_detail(%s) as d", (course.id,))[0]["d"]
        averages.append(detail["course"]["rating_avg"])
    assert averages == [None, None, 3.0]


# -- §4 the time cap holds on every path ------------------------------------------------------


def test_direct_insert_of_ten_million_seconds_is_refused(db):
    author, learner = db.new_user(None, {}), db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    assert (
        sqlstate(
            db,
            learner,
            "insert into public.user_progress (lesson_id, course_id,"
            " time_spent) values (%s, %s, 10000000)",
            (course.lessons[0], course.id),
        )
        == INVALID
    )


def test_direct_update_adds_at_most_a_day(db):
    author, learner = db.new_user(None, {}), db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    complete_lesson(db, learner, course, course.lessons[0], time_spent=60)
    assert (
        sqlstate(
            db, learner, "update user_progress set time_spent = 10000000 where user_id = auth.uid()"
        )
        == INVALID
    )


def test_no_learner_is_credited_more_than_a_day_of_study_on_one_day(db):
    author, learner = db.new_user(None, {}), db.new_user(None, {})
    course = make_course(db, author, lessons=3)
    for lesson in course.lessons:
        run(db, learner, "select public.record_lesson_progress(%s, 86400)", (lesson,))
    assert (
        db.su_one(
            "select max(s) from (select sum(session_duration) as s"
            " from learning_analytics where user_id = %s group by session_date) d",
            (learner,),
        )
        == 86400
    )


# -- §5 deleting a course keeps learners' history ----------------------------------------------


@pytest.fixture
def taken(db):
    author, learner = db.new_user(None, {}), db.new_user(None, {})
    course = make_course(db, author, lessons=2)
    quiz = make_assessment(db, author, course.id, lesson_id=course.lessons[0])
    enroll(db, learner, course.id)
    complete_lesson(db, learner, course, course.lessons[0])
    submit_attempt(db, learner, quiz, 1, 1)
    run(db, learner, "select public.submit_feedback(5, 'Nice', 'course_rating', %s)", (course.id,))
    return {"author": author, "learner": learner, "course": course, "quiz": quiz}


def _history(db, uid) -> tuple:
    return tuple(
        db.su_one(f"select count(*) from {t} where user_id = %s", (uid,))
        for t in (
            "course_enrollments",
            "user_progress",
            "assessment_attempts",
            "user_feedback",
            "learning_analytics",
        )
    )


def test_deleting_a_course_with_learners_archives_it_and_keeps_their_history(db, taken):
    before = _history(db, taken["learner"])
    deleted = run(
        db, taken["author"], "delete from public.courses where id = %s", (taken["course"].id,)
    )
    row = db.su(
        "select is_published, archived_at is not null as archived from courses where id = %s",
        (taken["course"].id,),
    )
    assert (deleted, row, _history(db, taken["learner"])) == (
        0,
        [{"is_published": False, "archived": True}],
        before,
    )
    assert all(before)


def test_an_archived_course_is_hidden_from_the_catalog(db, taken):
    run(db, taken["author"], "delete from courses where id = %s", (taken["course"].id,))
    other = db.new_user(None, {})
    ids = {
        c["id"]
        for uid in (None, other, taken["learner"])
        for c in run(db, uid, "select public.catalog() as c")[0]["c"]["courses"]
    }
    assert taken["course"].id not in ids


def test_an_archived_course_stays_readable_by_its_learners(db, taken):
    run(db, taken["author"], "delete from courses where id = %s", (taken["course"].id,))
    detail = run(
        db, taken["learner"], "select public.course_detail(%s) as d", (taken["course"].id,)
    )[0]["d"]
    lesson = run(
        db, taken["learner"], "select public.lesson_detail(%s) as d", (taken["course"].lessons[0],)
    )[0]["d"]
    assert (
        detail["course"]["archived"],
        len(detail["lessons"]),
        len(detail["assessments"]),
        lesson["progress"]["completed"],
    ) == (True, 2, 1, True)


def test_an_archived_course_is_not_readable_by_anybody_else(db, taken):
    run(db, taken["author"], "delete from courses where id = %s", (taken["course"].id,))
    assert (
        sqlstate(
            db, db.new_user(None, {}), "select public.course_detail(%s)", (taken["course"].id,)
        )
        == "P0002"
    )


def test_deleting_a_course_nobody_took_deletes_it(db):
    author = db.new_user(None, {})
    course = make_course(db, author, lessons=2)
    complete_lesson(db, author, course, course.lessons[0])  # the author's own trial
    assert run(db, author, "delete from courses where id = %s", (course.id,)) == 1


def test_deleting_a_lesson_with_learner_progress_unpublishes_it(db, taken):
    lesson = taken["course"].lessons[0]
    assert run(db, taken["author"], "delete from lessons where id = %s", (lesson,)) == 0
    assert db.su("select is_published from lessons where id = %s", (lesson,)) == [
        {"is_published": False}
    ]


def test_deleting_an_assessment_with_attempts_unpublishes_it(db, taken):
    assert run(db, taken["author"], "delete from assessments where id = %s", (taken["quiz"],)) == 0
    assert (
        db.su_one(
            "select count(*) from assessment_attempts where assessment_id = %s", (taken["quiz"],)
        )
        == 1
    )


def test_publishing_an_archived_course_again_brings_it_back(db, taken):
    run(db, taken["author"], "delete from courses where id = %s", (taken["course"].id,))
    run(db, taken["author"], "select public.set_course_published(%s, true)", (taken["course"].id,))
    assert db.su_one("select archived_at from courses where id = %s", (taken["course"].id,)) is None


# -- §6 slugs: no squatting, no oracle ---------------------------------------------------------


def test_a_learners_draft_does_not_squat_an_authors_slug(db):
    squatter, author = db.new_user(None, {}), db.new_user(None, {})
    _publish(db, squatter, {"slug": "squat-me", "title": "squat"}, draft=True)
    result = _publish(db, author, _course_payload("squat-me", "The real course"))
    assert result["course_id"] is not None and result["created"] is True


def test_publishing_another_authors_draft_slug_reveals_nothing(db):
    author, rival = db.new_user(None, {}), db.new_user(None, {})
    draft = {"slug": "secret-draft", "title": "Secret", "description": "Hidden plans"}
    mine = _publish(db, author, draft, draft=True)["course_id"]
    guessed = _publish(db, rival, draft, draft=True)
    assert guessed["course_id"] not in (None, mine) and guessed["created"] is True


def test_course_detail_by_slug_opens_the_callers_own_course_first(db):
    author, other = db.new_user(None, {}), db.new_user(None, {})
    _publish(db, other, _course_payload("shared-slug", "Theirs"))
    mine = _publish(db, author, _course_payload("shared-slug", "Mine"), draft=True)["course_id"]
    detail = run(db, author, "select public.course_detail(null, 'shared-slug') as d")[0]["d"]
    assert detail["course"]["id"] == mine


def test_course_detail_by_a_slug_several_authors_publish_asks_for_the_id(db):
    a, b, reader = db.new_user(None, {}), db.new_user(None, {}), db.new_user(None, {})
    _publish(db, a, _course_payload("twin-slug", "One"))
    _publish(db, b, _course_payload("twin-slug", "Two"))
    err = _error(db, reader, "select public.course_detail(null, 'twin-slug')")
    assert err.sqlstate == INVALID and "by its id" in str(err)


# -- §7 smaller holes ---------------------------------------------------------------------------


SUPABASE_DEFAULT_PRIVILEGES = "".join(
    f"alter default privileges in schema public grant all on {kind}"
    " to anon, authenticated, service_role;"
    for kind in ("tables", "functions", "sequences")
)


@pytest.fixture(scope="module")
def supabase_defaults_db(pg_server):
    """A database migrated with Supabase's default privileges in schema public (the
    local compat layer leaves them out)."""
    name = f"t_defaults_{os.getpid()}"
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f"drop database if exists {name}")
        conn.execute(f"create database {name}")
    url = pg_server.url_for(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SUPABASE_DEFAULT_PRIVILEGES)
    database.migrate(url)
    yield url
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f"drop database {name} with (force)")


def test_anon_cannot_move_the_audit_log_sequence(supabase_defaults_db):
    from tests.conftest import Db

    handle = Db(supabase_defaults_db)
    try:
        assert sqlstate(handle, None, "select setval('public.audit_log_id_seq', 1)") == "42501"
    finally:
        handle.close()


def test_no_sequence_in_public_is_usable_by_the_api_roles(supabase_defaults_db):
    with psycopg.connect(supabase_defaults_db) as conn:
        granted = conn.execute(
            "select c.relname, r.rolname from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " cross join (values ('anon'), ('authenticated')) r (rolname)"
            " where n.nspname = 'public' and c.relkind = 'S'"
            "   and (has_sequence_privilege(r.rolname, c.oid, 'usage')"
            "        or has_sequence_privilege(r.rolname, c.oid, 'update'))"
        ).fetchall()
    assert granted == []


def test_learner_cannot_rewrite_a_stored_event_result(db):
    author, learner = db.new_user(None, {}), db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    event = str(uuid.uuid4())
    run(db, learner, "select public.enroll(%s, %s)", (course.id, event))
    assert (
        sqlstate(
            db,
            learner,
            "update public.applied_events set result = '{\"forged\": 1}' where event_id = %s",
            (event,),
        )
        == "42501"
    )


def test_learner_cannot_pre_claim_an_event_id(db):
    learner = db.new_user(None, {})
    assert (
        sqlstate(
            db,
            learner,
            "insert into public.applied_events (event_id, fn) values (gen_random_uuid(), 'enroll')",
        )
        == "42501"
    )


def test_republishing_a_smaller_course_completes_nobody(db):
    author, learner = db.new_user(None, {}), db.new_user(None, {})
    payload = _course_payload("shrinking", "Big course", lessons=3)
    course_id = _publish(db, author, payload)["course_id"]
    run(db, learner, "select public.enroll(%s)", (course_id,))
    first = db.su_one("select id from lessons where course_id = %s and slug = 'l0'", (course_id,))
    run(db, learner, "select public.record_lesson_progress(%s, 30, null, true)", (first,))
    _publish(db, author, _course_payload("shrinking", "VISIT evil.example NOW", lessons=1))
    status = db.su_one("select status from course_enrollments where user_id = %s", (learner,))
    completions = db.su_one(
        "select count(*) from achievements where user_id = %s and type = 'course_completed'",
        (learner,),
    )
    assert (status, completions) == ("active", 0)


def _complete_course(db, learner, lessons: int) -> int:
    author = db.new_user(None, {})
    course = make_course(db, author, lessons=lessons)
    enroll(db, learner, course.id)
    for lesson in course.lessons:
        complete_lesson(db, learner, course, lesson)
    return db.su_one(
        "select points from achievements where user_id = %s and achievement_key = %s",
        (learner, f"course_completed:{course.id}"),
    )


def test_completing_a_one_lesson_course_earns_ten_points(db):
    assert _complete_course(db, db.new_user(None, {}), 1) == 10


def test_completing_a_real_course_earns_the_full_fifty_points(db):
    assert _complete_course(db, db.new_user(None, {}), 6) == 50


def test_completion_points_stop_at_a_hundred_a_day(db):
    learner = db.new_user(None, {})
    points = [_complete_course(db, learner, 5) for _ in range(3)]
    assert points == [50, 50, 0]


def test_last_accessed_in_the_year_2999_is_refused(db):
    author, learner = db.new_user(None, {}), db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    enroll(db, learner, course.id)
    assert (
        sqlstate(
            db,
            learner,
            "update course_enrollments set last_accessed = '2999-01-01' where user_id = auth.uid()",
        )
        == INVALID
    )


def test_a_published_assessment_on_an_unpublished_lesson_is_not_public(db):
    author = db.new_user(None, {})
    course = make_course(db, author, lessons=1, draft_lessons=1)
    quiz = make_assessment(db, author, course.id, lesson_id=course.draft_lessons[0])
    assert (
        run(db, None, "select count(*) as n from assessments where id = %s", (quiz,))[0]["n"] == 0
    )


# -- §8 quotas ------------------------------------------------------------------------------------


def test_one_request_storing_200_rows_of_99kb_of_ai_usage_is_refused(db):
    learner = db.new_user(None, {})
    err = _error(
        db,
        learner,
        "insert into ai_interactions (interaction_type, input_data)"
        " select 'chat', jsonb_build_object('x', repeat('x', 99000))"
        " from generate_series(1, 200)",
    )
    assert err.sqlstate == LIMIT and "64 kB" in str(err)


def test_log_ai_interaction_refuses_a_99kb_record(db):
    learner = db.new_user(None, {})
    assert (
        sqlstate(
            db,
            learner,
            "select public.log_ai_interaction('chat', %s)",
            (Jsonb({"x": "x" * 99_000}),),
        )
        == LIMIT
    )


def test_a_chat_message_over_64kb_is_refused(db):
    learner = db.new_user(None, {})
    assert sqlstate(db, learner, "select public.log_chat('Why?', repeat('a', 70000))") == LIMIT


def test_ai_usage_beyond_8mb_an_hour_is_refused(db):
    learner = db.new_user(None, {})
    err = _error(
        db,
        learner,
        "insert into ai_interactions (interaction_type, input_data)"
        " select 'chat', jsonb_build_object('x', repeat('x', 60000))"
        " from generate_series(1, 200)",
    )
    assert err.sqlstate == LIMIT and "8 MB" in str(err) and "an hour" in str(err)


def test_deleting_chat_history_does_not_refill_the_hourly_allowance(db):
    learner = db.new_user(None, {})
    run(
        db,
        learner,
        "insert into chat_history (question, answer)"
        " select 'q', repeat('a', 60000) from generate_series(1, 60)",
    )
    run(db, learner, "delete from chat_history where user_id = auth.uid()")
    assert (
        sqlstate(
            db,
            learner,
            "insert into chat_history (question, answer)"
            " select 'q', repeat('a', 60000) from generate_series(1, 20)",
        )
        == LIMIT
    )


def test_a_tutor_conversation_of_a_real_learner_fits(db):
    learner = db.new_user(None, {})
    assert (
        sqlstate(
            db,
            learner,
            "insert into chat_history (question, answer)"
            " select 'How do lists work?', repeat('a', 8000)"
            " from generate_series(1, 100)",
        )
        is None
    )


def test_toggling_enrollment_status_is_rate_limited(db):
    author, learner = db.new_user(None, {}), db.new_user(None, {})
    course = make_course(db, author, lessons=1)
    enroll(db, learner, course.id)
    for i in range(60):
        run(
            db,
            learner,
            "select public.set_enrollment_status(%s, %s)",
            (course.id, "paused" if i % 2 == 0 else "active"),
        )
    err = _error(db, learner, "select public.set_enrollment_status(%s, 'dropped')", (course.id,))
    assert err.sqlstate == LIMIT and "enrollment status changes" in str(err)


def test_publishing_a_course_of_501_lessons_is_refused(db):
    author = db.new_user(None, {})
    err = _error(
        db,
        author,
        "select public.publish_course(%s::jsonb)",
        (json.dumps(_course_payload("too-long", lessons=501)),),
    )
    assert err.sqlstate == LIMIT and "500 lessons" in str(err)


def test_publishing_a_course_of_more_than_10mb_is_refused(db):
    author = db.new_user(None, {})
    course = _course_payload("too-big", lessons=0)
    course["lessons"] = [
        {"slug": f"l{i}", "title": "Big", "content": "x" * 190_000, "order_index": i}
        for i in range(60)
    ]
    err = _error(db, author, "select public.publish_course(%s::jsonb)", (json.dumps(course),))
    assert err.sqlstate == LIMIT and "10 MB" in str(err)


def test_inserting_lessons_directly_beyond_500_is_refused(db):
    author = db.new_user(None, {})
    course = make_course(db, author, lessons=0)
    assert (
        sqlstate(
            db,
            author,
            "insert into lessons (course_id, title, order_index)"
            " select %s, 'L' || g, g from generate_series(1, 501) g",
            (course.id,),
        )
        == LIMIT
    )


def test_an_enrolled_learner_can_resume_an_archived_course(db, taken):
    run(db, taken["author"], "delete from courses where id = %s", (taken["course"].id,))
    run(
        db,
        taken["learner"],
        "select public.set_enrollment_status(%s, 'paused')",
        (taken["course"].id,),
    )
    result = run(db, taken["learner"], "select public.enroll(%s) as r", (taken["course"].id,))[0][
        "r"
    ]
    assert result["enrollment"]["status"] == "active"
