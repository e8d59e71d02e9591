"""The screen-shaped SQL functions, called exactly as PostgREST calls them."""

from __future__ import annotations

import json
import uuid

import pytest


@pytest.fixture(scope="module")
def world(db):
    """An author with one published course (3 published lessons, 1 draft) and an
    assessment; a learner."""
    author = db.new_user("author@example.test", {"full_name": "Ada Author"})
    learner = db.new_user("learner@example.test", {"full_name": "Lee Learner"})
    course = db.run_as(
        author,
        """
        insert into courses (slug, title, short_description, difficulty_level, tags,
                             is_published, created_by)
        values ('py-basics', 'Python basics', 'Start here', 'Beginner',
                array['python', 'basics'], true, auth.uid()) returning id""",
    )[0]["id"]
    lessons = []
    for i, title in enumerate(["Values", "Loops", "Functions", "Draft"]):
        lessons.append(
            db.run_as(
                author,
                """
            insert into lessons (course_id, slug, title, content, order_index, is_published)
            values (%s, %s, %s, %s, %s, %s) returning id""",
                (
                    course,
                    f"l{i}",
                    title,
                    f"All about {title.lower()} in Python",
                    i,
                    title != "Draft",
                ),
            )[0]["id"]
        )
    assessment = db.run_as(
        author,
        """
        insert into assessments (course_id, title, time_limit, test_cases, entry, is_published)
        values (%s, 'Sum', 10, '[{"name": "a", "args": [1, 2], "expected": 3}]', 'solve', true)
        returning id""",
        (course,),
    )[0]["id"]
    return {
        "author": author,
        "learner": learner,
        "course": str(course),
        "lessons": [str(x) for x in lessons],
        "assessment": str(assessment),
    }


def rpc(db, user, fn, **args):
    names = ", ".join(f"{k} := %({k})s" for k in args)
    row = db.run_as(user, f"select public.{fn}({names}) as r", args)
    return row[0]["r"]


def test_catalog_lists_published_courses_to_anon(db, world):
    result = rpc(db, None, "catalog")
    assert [c["slug"] for c in result["courses"]] == ["py-basics"]
    assert result["courses"][0]["lesson_count"] == 3


def test_catalog_search_matches_stemmed_words(db, world):
    assert rpc(db, None, "catalog", p_search="basic")["total"] == 1
    assert rpc(db, None, "catalog", p_search="haskell")["total"] == 0


def test_catalog_filters_by_tag_and_difficulty(db, world):
    assert rpc(db, None, "catalog", p_tags=["python"])["total"] == 1
    assert rpc(db, None, "catalog", p_difficulty="Advanced")["total"] == 0


def test_enroll_is_idempotent_on_event_id(db, world):
    event = str(uuid.uuid4())
    first = rpc(db, world["learner"], "enroll", p_course_id=world["course"], p_event_id=event)
    again = rpc(db, world["learner"], "enroll", p_course_id=world["course"], p_event_id=event)
    assert first["replayed"] is False and again["replayed"] is True
    assert again["enrollment"] == first["enrollment"]
    assert (
        db.su_one(
            "select count(*) from audit_log where action = 'enrollment.created'"
            " and subject_user_id = %s",
            (world["learner"],),
        )
        == 1
    )


def test_completing_a_lesson_returns_progress_streak_and_first_lesson_achievement(db, world):
    learner = db.new_user()
    rpc(db, learner, "enroll", p_course_id=world["course"])
    result = rpc(
        db,
        learner,
        "record_lesson_progress",
        p_lesson_id=world["lessons"][0],
        p_time_spent=120,
        p_completed=True,
        p_event_id=str(uuid.uuid4()),
    )
    assert result["enrollment"]["progress"] == pytest.approx(33.33)
    assert result["streak"]["current"] == 1
    assert [a["type"] for a in result["achievements"]] == ["first_lesson"]


def test_dashboard_shows_next_lesson_activity_and_unread(db, world):
    learner = db.new_user()
    rpc(db, learner, "enroll", p_course_id=world["course"])
    rpc(
        db,
        learner,
        "record_lesson_progress",
        p_lesson_id=world["lessons"][0],
        p_time_spent=60,
        p_completed=True,
    )
    dash = rpc(db, learner, "dashboard")
    assert dash["enrollments"][0]["next_lesson"]["title"] == "Loops"
    assert dash["activity"][-1]["lessons"] == 1
    assert dash["unread_notifications"] == 1
    assert dash["points"] == 10


def test_lesson_detail_links_previous_and_next_published_lessons(db, world):
    detail = rpc(db, world["learner"], "lesson_detail", p_lesson_id=world["lessons"][2])
    assert detail["previous"]["title"] == "Loops"
    assert detail["next"] is None


def test_submit_attempt_sets_time_and_best_score(db, world):
    learner = db.new_user()
    started = rpc(db, learner, "start_attempt", p_assessment_id=world["assessment"])
    result = rpc(
        db,
        learner,
        "submit_attempt",
        p_assessment_id=world["assessment"],
        p_attempt_id=started["attempt"]["id"],
        p_code="def solve(a, b): return a + b",
        p_execution_result=json.dumps({"status": "pass", "score": {"passed": 1, "total": 1}}),
        p_score=100,
    )
    assert result["best_score"] == 100
    assert result["attempt"]["time_spent"] >= 0
    assert {a["type"] for a in result["achievements"]} == {
        "first_assessment_passed",
        "perfect_score",
    }


def test_rating_a_course_twice_keeps_one_rating(db, world):
    learner = db.new_user()
    for stars in (2, 5):
        result = rpc(
            db,
            learner,
            "submit_feedback",
            p_rating=stars,
            p_feedback_type="course_rating",
            p_course_id=world["course"],
        )
    assert result["course_rating"]["rating_count"] == 1


def test_update_profile_rejects_unknown_fields(db, world):
    with pytest.raises(Exception, match="cannot be changed: email"):
        rpc(db, world["learner"], "update_profile", p_changes=json.dumps({"email": "x@y.z"}))


def test_mark_notifications_read_clears_unread(db, world):
    learner = db.new_user()
    rpc(db, learner, "enroll", p_course_id=world["course"])
    rpc(db, learner, "record_lesson_progress", p_lesson_id=world["lessons"][0], p_completed=True)
    assert rpc(db, learner, "mark_notifications_read")["unread"] == 0


def test_writes_need_a_signed_in_learner(db, world):
    with pytest.raises(Exception, match="permission denied"):
        rpc(db, None, "enroll", p_course_id=world["course"])


def test_search_lessons_finds_matching_passages(db, world):
    hits = rpc(db, None, "search_lessons", p_query="loops")
    assert hits[0]["title"] == "Loops" and "**" in hits[0]["excerpt"]


def test_resume_point_is_the_learners_own_open_attempt_until_submitted(db, world):
    learner, other = db.new_user(), db.new_user()
    assert rpc(db, learner, "resume_point") == {"assessment": None}
    started = rpc(db, learner, "start_attempt", p_assessment_id=world["assessment"])
    open_ = rpc(db, learner, "resume_point")["assessment"]
    assert (open_["id"], open_["title"], open_["course_title"]) == (
        world["assessment"],
        "Sum",
        "Python basics",
    )
    assert rpc(db, other, "resume_point") == {"assessment": None}
    rpc(
        db,
        learner,
        "submit_attempt",
        p_assessment_id=world["assessment"],
        p_attempt_id=started["attempt"]["id"],
        p_code="x = 1",
        p_execution_result=json.dumps({"status": "fail", "score": {"passed": 0, "total": 1}}),
        p_score=0,
    )
    assert rpc(db, learner, "resume_point") == {"assessment": None}


def test_resume_point_needs_a_signed_in_learner(db, world):
    with pytest.raises(Exception, match="permission denied"):
        rpc(db, None, "resume_point")
