"""Small helpers the database tests share: run a statement as a user and roll it back,
classify what happened, and build courses quickly (as superuser, so set-up does not
depend on the policies under test)."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg.types.json import Jsonb

# What a statement run as a user can come to.
ROW = "row"  # one row visible / affected / inserted
NONE = "none"  # zero rows visible / affected (RLS hides the row)
NO_PRIVILEGE = "no_privilege"  # 42501 permission denied: no GRANT for the role/column
RLS = "rls"  # 42501 new row violates row-level security policy


def attempt(db, uid: str | None, sql: str, params=None, *, occurred_at: str | None = None):
    """Runs `sql` as PostgREST would for `uid` (anon when None), then rolls back so the
    database is unchanged. Returns fetched rows or the row count; raises on error."""
    result = None
    with db.as_user(uid) as cur:
        if occurred_at is not None:
            cur.execute("select set_config('learn.occurred_at', %s, true)", (occurred_at,))
        cur.execute(sql, params)
        result = cur.fetchall() if cur.description else cur.rowcount
        raise psycopg.Rollback()
    return result


def run(db, uid: str | None, sql: str, params=None, *, occurred_at: str | None = None):
    """Like `attempt`, but commits."""
    with db.as_user(uid) as cur:
        if occurred_at is not None:
            cur.execute("select set_config('learn.occurred_at', %s, true)", (occurred_at,))
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else cur.rowcount


def outcome(db, uid: str | None, sql: str, params=None) -> str:
    """ROW / NONE / NO_PRIVILEGE / RLS, or 'error:<SQLSTATE>' for anything else.
    `sql` either returns one count (a select) or affects rows (insert/update/delete)."""
    try:
        result = attempt(db, uid, sql, params)
    except psycopg.errors.InsufficientPrivilege as exc:
        if "row-level security" in str(exc):
            return RLS
        return NO_PRIVILEGE
    except psycopg.Error as exc:
        return f"error:{exc.sqlstate}"
    n = result[0]["n"] if isinstance(result, list) else result
    return {0: NONE, 1: ROW}.get(n, f"rows:{n}")


def sqlstate(db, uid: str | None, sql: str, params=None, **kw) -> str | None:
    """The SQLSTATE the statement fails with, or None when it succeeds (rolled back)."""
    try:
        attempt(db, uid, sql, params, **kw)
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


@dataclass
class Course:
    id: str
    author: str
    lessons: list[str] = field(default_factory=list)
    draft_lessons: list[str] = field(default_factory=list)


def make_course(
    db,
    author: str,
    *,
    published: bool = True,
    lessons: int = 2,
    draft_lessons: int = 0,
    title: str = "A course",
) -> Course:
    course_id = db.su_one(
        "insert into courses (title, created_by, is_published) values (%s, %s, %s) returning id",
        (title, author, published),
    )
    course = Course(str(course_id), author)
    for i in range(lessons + draft_lessons):
        is_pub = i < lessons
        lesson_id = db.su_one(
            "insert into lessons (course_id, title, order_index, is_published)"
            " values (%s, %s, %s, %s) returning id",
            (course.id, f"Lesson {i + 1}", i, is_pub),
        )
        (course.lessons if is_pub else course.draft_lessons).append(str(lesson_id))
    return course


def make_assessment(
    db,
    author: str,
    course_id: str | None,
    *,
    published: bool = True,
    lesson_id: str | None = None,
    solution: str | None = None,
) -> str:
    assessment_id = str(
        db.su_one(
            "insert into assessments (title, course_id, lesson_id, created_by, is_published)"
            " values ('Two sum', %s, %s, %s, %s) returning id",
            (course_id, lesson_id, author, published),
        )
    )
    if solution is not None:
        db.su(
            "insert into assessment_solutions (assessment_id, solution) values (%s, %s)",
            (assessment_id, solution),
        )
    return assessment_id


def enroll(db, uid: str, course_id: str) -> str:
    rows = run(
        db,
        uid,
        "insert into course_enrollments (user_id, course_id) values (auth.uid(), %s) returning id",
        (course_id,),
    )
    return str(rows[0]["id"])


def complete_lesson(
    db,
    uid: str,
    course: Course,
    lesson_id: str,
    *,
    time_spent: int = 60,
    occurred_at: str | None = None,
) -> None:
    run(
        db,
        uid,
        "insert into user_progress (user_id, lesson_id, course_id, completed, time_spent)"
        " values (auth.uid(), %s, %s, true, %s)"
        " on conflict (user_id, lesson_id) do update set completed = true,"
        " time_spent = excluded.time_spent",
        (lesson_id, course.id, time_spent),
        occurred_at=occurred_at,
    )


def result_json(passed: int, total: int) -> Jsonb:
    """An execution_result in the `learn check --json` shape."""
    status = "pass" if passed == total else "fail"
    tests = [{"name": f"t{i}", "status": "pass" if i < passed else "fail"} for i in range(total)]
    return Jsonb(
        {
            "version": 1,
            "status": status,
            "message": None,
            "score": {
                "passed": passed,
                "total": total,
                "percent": round(100 * passed / total) if total else 0,
            },
            "tests": tests,
        }
    )


def submit_attempt(
    db, uid: str, assessment_id: str, passed: int, total: int, *, occurred_at: str | None = None
) -> str:
    rows = run(
        db,
        uid,
        "insert into assessment_attempts (user_id, assessment_id, status, submitted_code,"
        " execution_result) values (auth.uid(), %s, 'completed', 'def solve(): ...', %s)"
        " returning id",
        (assessment_id, result_json(passed, total)),
        occurred_at=occurred_at,
    )
    return str(rows[0]["id"])
