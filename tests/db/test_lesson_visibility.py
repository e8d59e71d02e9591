"""The lessons policy reads the course's state kept on each lesson (migration
20261205001910): that copy follows the course, and nobody but the database writes it."""

from __future__ import annotations

import pytest


@pytest.fixture
def course(db):
    author = db.new_user()
    course = db.run_as(
        author,
        """
        insert into courses (title, is_published, created_by)
        values ('Visible', true, auth.uid()) returning id""",
    )[0]["id"]
    lesson = db.run_as(
        author,
        """
        insert into lessons (course_id, title, content, order_index, is_published)
        values (%s, 'One', 'Text', 1, true) returning id""",
        (course,),
    )[0]["id"]
    return {"author": author, "id": course, "lesson": lesson}


def visible(db, user, lesson) -> bool:
    return bool(db.run_as(user, "select 1 from lessons where id = %s", (lesson,)))


def test_unpublishing_a_course_hides_its_lessons_from_anon(db, course):
    assert visible(db, None, course["lesson"])
    db.run_as(
        course["author"], "update courses set is_published = false where id = %s", (course["id"],)
    )
    assert not visible(db, None, course["lesson"])
    assert visible(db, course["author"], course["lesson"])


def test_publishing_a_course_shows_its_published_lessons_to_anon(db, course):
    db.run_as(
        course["author"], "update courses set is_published = false where id = %s", (course["id"],)
    )
    db.run_as(
        course["author"], "update courses set is_published = true where id = %s", (course["id"],)
    )
    assert visible(db, None, course["lesson"])


def test_an_author_cannot_mark_a_draft_courses_lesson_as_published_course(db):
    author = db.new_user()
    draft = db.run_as(
        author, "insert into courses (title, created_by) values ('D', auth.uid()) returning id"
    )[0]["id"]
    with pytest.raises(Exception, match="permission denied"):
        db.run_as(
            author,
            """
            insert into lessons (course_id, title, order_index, is_published, course_published)
            values (%s, 'L', 1, true, true)""",
            (draft,),
        )


def test_an_author_cannot_update_a_lessons_copy_of_the_course_state(db, course):
    with pytest.raises(Exception, match="permission denied"):
        db.run_as(
            course["author"],
            "update lessons set course_created_by = null where id = %s",
            (course["lesson"],),
        )


def test_the_database_recomputes_the_course_state_whatever_a_superuser_writes(db, course):
    db.su(
        "update public.lessons set course_published = false, course_created_by = null"
        " where id = %s",
        (course["lesson"],),
    )
    assert visible(db, None, course["lesson"])


def test_publishing_a_course_leaves_its_lessons_updated_at_alone(db, course):
    before = db.su_one("select updated_at from public.lessons where id = %s", (course["lesson"],))
    db.run_as(
        course["author"], "update courses set is_published = false where id = %s", (course["id"],)
    )
    after = db.su_one("select updated_at from public.lessons where id = %s", (course["lesson"],))
    assert after == before


def test_editing_a_lesson_still_stamps_its_updated_at(db, course):
    before = db.su_one("select updated_at from public.lessons where id = %s", (course["lesson"],))
    db.run_as(
        course["author"], "update lessons set title = 'Renamed' where id = %s", (course["lesson"],)
    )
    after = db.su_one("select updated_at from public.lessons where id = %s", (course["lesson"],))
    assert after > before
