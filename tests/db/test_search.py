"""search_lessons, the tutor's course passages: ranking kept, whatever the number of matches."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def course(db):
    author = db.new_user("search-author@example.test")
    course = db.run_as(
        author,
        """
        insert into courses (slug, title, is_published, created_by)
        values ('loops-everywhere', 'Loops everywhere', true, auth.uid()) returning id""",
    )[0]["id"]
    # 80 lessons mention loops once; lesson 79 has it in its title; lesson 40 says it
    # many times; lesson 81 is a draft about loops.
    for i in range(82):
        title = "While loops in depth" if i == 79 else f"Lesson {i}"
        content = (
            "Loops, loops and more loops: a loop repeats. " * 6
            if i == 40
            else f"Lesson {i} shows a loop once, among other things."
        )
        db.run_as(
            author,
            """
            insert into lessons (course_id, slug, title, content, order_index, is_published)
            values (%s, %s, %s, %s, %s, %s)""",
            (course, f"lesson-{i}", title, content, i, i != 81),
        )
    return {"author": author, "id": str(course)}


def search(db, user, query, **args):
    row = db.run_as(
        user,
        "select public.search_lessons(%s, %s, %s) as r",
        (query, args.get("course"), args.get("limit", 3)),
    )
    return row[0]["r"]


def test_a_title_match_ranks_first_among_many_matches(db, course):
    hits = search(db, None, "loops")
    assert hits[0]["title"] == "While loops in depth"


def test_a_lesson_saying_the_words_often_outranks_one_saying_them_once(db, course):
    titles = [h["title"] for h in search(db, None, "loops", limit=2)]
    assert titles == ["While loops in depth", "Lesson 40"]


def test_search_never_returns_a_draft_lesson_to_a_learner(db, course):
    learner = db.new_user()
    titles = {h["title"] for h in search(db, learner, "loops", limit=20)}
    assert "Lesson 81" not in titles and len(titles) == 20


def test_search_excerpts_come_only_for_the_lessons_returned(db, course):
    hits = search(db, None, "repeats", course=course["id"], limit=1)
    assert [h["title"] for h in hits] == ["Lesson 40"] and "**repeats**" in hits[0]["excerpt"]


@pytest.mark.parametrize("query", ["it's", "back\\slash loops", "'loops' | !", '"loops', "", "the"])
def test_search_takes_any_text_a_learner_types(db, course, query):
    assert isinstance(search(db, None, query), list)
