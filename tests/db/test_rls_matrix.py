"""The RLS matrix: for each table, anon / the owner / another learner / the author of
the course × select / insert / update / delete, with the outcome each cell must have.

Every statement runs exactly as PostgREST runs a request (one transaction, role and
request.jwt.claims set locally) and is rolled back, so the cells are independent.

Rows belong to the *owner*, a learner enrolled in the author's published course; the
*other* learner has no relation to them; the *author* wrote the course. Content tables
(courses, lessons, assessments, their solutions and stats) are shown twice: a published
row and a draft one. Outcomes:

  row           one row visible / affected / inserted
  none          zero rows: RLS hides the row (select, update and delete)
  no_privilege  42501 "permission denied": the role has no GRANT for it
  rls           42501 "new row violates row-level security policy" (insert)
"""

from __future__ import annotations

import pytest

from tests.db.helpers import (
    NO_PRIVILEGE,
    NONE,
    RLS,
    ROW,
    complete_lesson,
    enroll,
    make_assessment,
    make_course,
    outcome,
    run,
)

ACTORS = ("anon", "owner", "other", "author")
NP = NO_PRIVILEGE


def _all(code: str) -> tuple[str, str, str, str]:
    return (code, code, code, code)


# Learner rows: only the owner reads them; the API roles never write derived tables.
OWN_READ = (NP, ROW, NONE, NONE)
# Tables the API's read functions join for anon too: anon may select, RLS shows nothing.
ANON_HIDDEN_READ = (NONE, ROW, NONE, NONE)
OWN_WRITE = (NP, ROW, NONE, NONE)
OWN_INSERT = (NP, ROW, RLS, RLS)
# Content: the author manages it; published rows are readable by everybody.
PUBLIC_READ = _all(ROW)
DRAFT_READ = (NONE, NONE, NONE, ROW)
AUTHOR_INSERT = (NP, RLS, RLS, ROW)
AUTHOR_WRITE = (NP, NONE, NONE, ROW)
# Content with a learner's history (the owner's enrollment, progress, attempt) is
# archived or unpublished instead of deleted: the author's DELETE affects no row (#15 §5).
AUTHOR_DELETE_KEPT = (NP, NONE, NONE, NONE)

# label: (table, key column, target in the world, insert statement, update SET clause,
#         {operation: outcomes for anon, owner, other, author})
SPECS: dict[str, tuple] = {
    "profiles": (
        "profiles",
        "id",
        "owner",
        "insert into profiles (id) values (gen_random_uuid())",
        "full_name = 'Renamed'",
        {"select": OWN_READ, "insert": _all(NP), "update": OWN_WRITE, "delete": _all(NP)},
    ),
    "course_enrollments": (
        "course_enrollments",
        "id",
        "enrollment",
        "insert into course_enrollments (user_id, course_id) values (%(owner)s, %(course2)s)",
        "status = 'paused'",
        {"select": ANON_HIDDEN_READ, "insert": OWN_INSERT, "update": OWN_WRITE, "delete": _all(NP)},
    ),
    "assessment_attempts": (
        "assessment_attempts",
        "id",
        "attempt",
        "insert into assessment_attempts (user_id, assessment_id)"
        " values (%(owner)s, %(assessment)s)",
        "submitted_code = 'print(1)'",
        {"select": ANON_HIDDEN_READ, "insert": OWN_INSERT, "update": OWN_WRITE, "delete": _all(NP)},
    ),
    "user_progress": (
        "user_progress",
        "id",
        "progress",
        "insert into user_progress (user_id, lesson_id, course_id)"
        " values (%(owner)s, %(lesson2)s, %(course)s)",
        "last_position = 5",
        {"select": ANON_HIDDEN_READ, "insert": OWN_INSERT, "update": OWN_WRITE, "delete": _all(NP)},
    ),
    "learning_analytics": (
        "learning_analytics",
        "id",
        "analytics",
        "insert into learning_analytics (user_id, session_date) values (%(owner)s, current_date)",
        "session_duration = 1",
        {"select": OWN_READ, "insert": _all(NP), "update": _all(NP), "delete": _all(NP)},
    ),
    "chat_history": (
        "chat_history",
        "id",
        "chat",
        "insert into chat_history (user_id, question) values (%(owner)s, 'Why?')",
        "answer = 'Because.'",
        {"select": OWN_READ, "insert": OWN_INSERT, "update": _all(NP), "delete": OWN_WRITE},
    ),
    "ai_interactions": (
        "ai_interactions",
        "id",
        "ai",
        "insert into ai_interactions (user_id, interaction_type) values (%(owner)s, 'chat')",
        "tokens_used = 1",
        {"select": OWN_READ, "insert": OWN_INSERT, "update": _all(NP), "delete": _all(NP)},
    ),
    "achievements": (
        "achievements",
        "id",
        "achievement",
        "insert into achievements (user_id, title, type, achievement_key)"
        " values (%(owner)s, 'Self-made', 'custom', 'custom')",
        "points = 1000",
        {"select": OWN_READ, "insert": _all(NP), "update": _all(NP), "delete": _all(NP)},
    ),
    "user_streaks": (
        "user_streaks",
        "id",
        "streak",
        "insert into user_streaks (user_id) values (%(owner)s)",
        "streak_type = 'weekly'",
        {"select": OWN_READ, "insert": _all(NP), "update": OWN_WRITE, "delete": _all(NP)},
    ),
    "notifications": (
        "notifications",
        "id",
        "notification",
        "insert into notifications (user_id, title) values (%(owner)s, 'Hello')",
        "is_read = true",
        {"select": OWN_READ, "insert": _all(NP), "update": OWN_WRITE, "delete": OWN_WRITE},
    ),
    "user_feedback": (
        "user_feedback",
        "id",
        "feedback",
        "insert into user_feedback (user_id, feedback_text) values (%(owner)s, 'Nice')",
        "feedback_text = 'Changed my mind'",
        {
            "select": ANON_HIDDEN_READ,
            "insert": OWN_INSERT,
            "update": OWN_WRITE,
            "delete": OWN_WRITE,
        },
    ),
    "applied_events": (
        "applied_events",
        "event_id",
        "event",
        "insert into applied_events (user_id, event_id, fn)"
        " values (%(owner)s, gen_random_uuid(), 'enroll')",
        "result = '{}'",
        # written by the write functions only (issue #15 §7)
        {"select": OWN_READ, "insert": _all(NP), "update": _all(NP), "delete": _all(NP)},
    ),
    "review_cards": (
        "review_cards",
        "id",
        "review_card",
        "insert into review_cards (user_id, lesson_id, key_point_index, prompt)"
        " values (%(owner)s, %(lesson2)s, 0, 'Forged')",
        "due = now() + interval '100 years'",
        {"select": OWN_READ, "insert": _all(NP), "update": _all(NP), "delete": _all(NP)},
    ),
    "review_logs": (
        "review_logs",
        "id",
        "review_log",
        "insert into review_logs (user_id, card_id, rating, reviewed_at, event_id)"
        " values (%(owner)s, %(review_card)s, 4, now(), gen_random_uuid())",
        "rating = 4",
        {"select": OWN_READ, "insert": _all(NP), "update": _all(NP), "delete": _all(NP)},
    ),
    "review_sessions": (
        "review_sessions",
        "id",
        "review_session",
        "insert into review_sessions (user_id, started_at, finished_at, reviews, event_id)"
        " values (%(owner)s, now(), now(), 1, gen_random_uuid())",
        "reviews = 100",
        {"select": OWN_READ, "insert": _all(NP), "update": _all(NP), "delete": _all(NP)},
    ),
    "audit_log": (
        "audit_log",
        "id",
        "audit",
        "insert into audit_log (action, table_name) values ('forged', 'courses')",
        "action = 'forged'",
        # an entry about a learner is theirs alone, not their course author's (#15 §3)
        {
            "select": (NP, ROW, NONE, NONE),
            "insert": _all(NP),
            "update": _all(NP),
            "delete": _all(NP),
        },
    ),
    "courses": (
        "courses",
        "id",
        "course",
        "insert into courses (title, created_by) values ('New', %(author)s)",
        "title = 'Renamed'",
        {
            "select": PUBLIC_READ,
            "insert": AUTHOR_INSERT,
            "update": AUTHOR_WRITE,
            "delete": AUTHOR_DELETE_KEPT,
        },
    ),
    "courses_draft": (
        "courses",
        "id",
        "draft_course",
        "insert into courses (title, created_by, is_published) values ('New', %(author)s, false)",
        "title = 'Renamed'",
        {
            "select": DRAFT_READ,
            "insert": AUTHOR_INSERT,
            "update": AUTHOR_WRITE,
            "delete": AUTHOR_WRITE,
        },
    ),
    "lessons": (
        "lessons",
        "id",
        "lesson",
        "insert into lessons (course_id, title, is_published) values (%(course)s, 'New', true)",
        "title = 'Renamed'",
        {
            "select": PUBLIC_READ,
            "insert": AUTHOR_INSERT,
            "update": AUTHOR_WRITE,
            "delete": AUTHOR_DELETE_KEPT,
        },
    ),
    "lessons_draft": (
        "lessons",
        "id",
        "draft_lesson",
        "insert into lessons (course_id, title) values (%(draft_course)s, 'New')",
        "title = 'Renamed'",
        {
            "select": DRAFT_READ,
            "insert": AUTHOR_INSERT,
            "update": AUTHOR_WRITE,
            "delete": AUTHOR_WRITE,
        },
    ),
    "assessments": (
        "assessments",
        "id",
        "assessment",
        "insert into assessments (title, course_id, created_by, is_published)"
        " values ('New', %(course)s, %(author)s, true)",
        "title = 'Renamed'",
        {
            "select": PUBLIC_READ,
            "insert": AUTHOR_INSERT,
            "update": AUTHOR_WRITE,
            "delete": AUTHOR_DELETE_KEPT,
        },
    ),
    "assessments_draft": (
        "assessments",
        "id",
        "draft_assessment",
        "insert into assessments (title, course_id, created_by)"
        " values ('New', %(draft_course)s, %(author)s)",
        "title = 'Renamed'",
        {
            "select": DRAFT_READ,
            "insert": AUTHOR_INSERT,
            "update": AUTHOR_WRITE,
            "delete": AUTHOR_WRITE,
        },
    ),
    "assessment_solutions": (
        "assessment_solutions",
        "assessment_id",
        "assessment",
        "insert into assessment_solutions (assessment_id, solution)"
        " values (%(draft_assessment)s, 'def solve(): ...')",
        "solution = 'def solve(): return 42'",
        {
            "select": (NP, NONE, NONE, ROW),
            "insert": AUTHOR_INSERT,
            "update": AUTHOR_WRITE,
            "delete": AUTHOR_WRITE,
        },
    ),
    "course_stats": (
        "course_stats",
        "course_id",
        "course",
        "insert into course_stats (course_id) values (%(course2)s)",
        "rating_count = 1000",
        {"select": PUBLIC_READ, "insert": _all(NP), "update": _all(NP), "delete": _all(NP)},
    ),
}

CASES = [
    pytest.param(label, op, actor, expected[ACTORS.index(actor)], id=f"{label}-{actor}-{op}")
    for label, (_t, _k, _target, _ins, _upd, expected_by_op) in SPECS.items()
    for op, expected in expected_by_op.items()
    for actor in ACTORS
]


@pytest.fixture(scope="module")
def world(db) -> dict[str, str]:
    author = db.new_user("matrix-author@example.test")
    owner = db.new_user("matrix-owner@example.test")
    other = db.new_user("matrix-other@example.test")
    course = make_course(db, author, lessons=2, draft_lessons=1)
    course2 = make_course(db, author, lessons=1)
    draft_course = make_course(db, author, published=False, lessons=0)
    assessment = make_assessment(db, author, course.id, solution="def solve(): return 1")
    draft_assessment = make_assessment(db, author, course.id, published=False)

    enrollment = enroll(db, owner, course.id)
    complete_lesson(db, owner, course, course.lessons[0])
    w = {
        "author": author,
        "owner": owner,
        "other": other,
        "course": course.id,
        "course2": course2.id,
        "draft_course": draft_course.id,
        "lesson": course.lessons[0],
        "lesson2": course.lessons[1],
        "draft_lesson": course.draft_lessons[0],
        "assessment": assessment,
        "draft_assessment": draft_assessment,
        "enrollment": enrollment,
    }
    w["attempt"] = run(
        db,
        owner,
        "insert into assessment_attempts (user_id, assessment_id)"
        " values (auth.uid(), %s) returning id",
        (assessment,),
    )[0]["id"]
    w["chat"] = run(
        db,
        owner,
        "insert into chat_history (user_id, course_id, question, answer)"
        " values (auth.uid(), %s, 'Why?', 'Because.') returning id",
        (course.id,),
    )[0]["id"]
    w["ai"] = run(
        db,
        owner,
        "insert into ai_interactions (user_id, interaction_type, tokens_used)"
        " values (auth.uid(), 'chat', 10) returning id",
    )[0]["id"]
    w["feedback"] = run(
        db,
        owner,
        "insert into user_feedback (user_id, course_id, rating, feedback_type)"
        " values (auth.uid(), %s, 5, 'course_rating') returning id",
        (course.id,),
    )[0]["id"]
    w["event"] = db.su_one(
        "insert into applied_events (user_id, event_id, fn)"
        " values (%s, gen_random_uuid(), 'enroll') returning event_id",
        (owner,),
    )
    w["review_card"] = db.su_one(
        "insert into review_cards (user_id, lesson_id, key_point_index, prompt)"
        " values (%s, %s, 0, 'A key point') returning id",
        (owner, course.lessons[0]),
    )
    w["review_log"] = db.su_one(
        "insert into review_logs (user_id, card_id, rating, reviewed_at, event_id)"
        " values (%s, %s, 3, now(), gen_random_uuid()) returning id",
        (owner, w["review_card"]),
    )
    w["review_session"] = db.su_one(
        "insert into review_sessions (user_id, started_at, finished_at, reviews, event_id)"
        " values (%s, now(), now(), 1, gen_random_uuid()) returning id",
        (owner,),
    )
    for key, sql in {
        "progress": "select id from user_progress where user_id = %(owner)s",
        "analytics": "select id from learning_analytics where user_id = %(owner)s",
        "achievement": "select id from achievements where user_id = %(owner)s",
        "streak": "select id from user_streaks where user_id = %(owner)s",
        "notification": "select id from notifications where user_id = %(owner)s",
        "audit": "select id from audit_log where subject_user_id = %(owner)s"
        " and action = 'enrollment.created'",
    }.items():
        rows = db.su(sql, w)
        assert len(rows) == 1, (key, rows)
        w[key] = rows[0]["id"]
    return {k: str(v) for k, v in w.items()}


def _statement(label: str, op: str) -> str:
    table, key, _target, insert_sql, update_set, _ = SPECS[label]
    where = f"{key} = %(target)s"
    return {
        "select": f"select count(*) as n from {table} where {where}",
        "insert": insert_sql,
        "update": f"update {table} set {update_set} where {where}",
        "delete": f"delete from {table} where {where}",
    }[op]


@pytest.mark.parametrize(("label", "op", "actor", "expected"), CASES)
def test_rls_matrix(db, world, label, op, actor, expected):
    target = world[SPECS[label][2]]
    uid = None if actor == "anon" else world[actor]
    assert outcome(db, uid, _statement(label, op), {**world, "target": target}) == expected


def test_matrix_covers_every_table_in_public(db):
    tables = {
        r["relname"]
        for r in db.su(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'public' and c.relkind in ('r', 'p')"
        )
    }
    assert tables <= {spec[0] for spec in SPECS.values()}
