"""Upgrades keep data, and the schema is what a fresh install gets.

A database made by v0.1's schema (tests/db/snapshots/v0.1: its migration files and local
compat SQL, byte for byte), with a learner's progress in it, is upgraded with every
migration in supabase/migrations/ as it is now; it must keep the learner's rows and end
with the schema a fresh install of the same migrations has (`pg_dump --schema-only`).
Keep this test for every release: it upgrades v0.1 with ALL current migrations.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from services import paths
from services.data import database
from tests.conftest import Db

V0_1 = Path(__file__).parent / "snapshots" / "v0.1"

# The learner's rows, before and after: table → a query for them (ordered).
LEARNER_ROWS = {
    "profiles": "select * from public.profiles where id = %(u)s",
    "course_enrollments": "select * from public.course_enrollments where user_id = %(u)s",
    "user_progress": "select * from public.user_progress where user_id = %(u)s order by lesson_id",
    "assessment_attempts": "select * from public.assessment_attempts where user_id = %(u)s"
    " order by started_at",
    "user_streaks": "select * from public.user_streaks where user_id = %(u)s",
    "achievements": "select * from public.achievements where user_id = %(u)s"
    " order by achievement_key",
    "learning_analytics": "select * from public.learning_analytics where user_id = %(u)s"
    " order by session_date, course_id",
    "chat_history": "select * from public.chat_history where user_id = %(u)s",
}


@pytest.fixture
def new_database(pg_server):
    """Empty databases on the test server, dropped afterwards: new_database(name) → URL."""
    made = []

    def make(tag: str) -> str:
        name = f"upgrade_{tag}_{len(made)}"
        with psycopg.connect(pg_server.url, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")
            conn.execute(f"create database {name}")
        made.append(name)
        return pg_server.url_for(name)

    yield make
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        for name in made:
            conn.execute(f"drop database if exists {name} with (force)")


def install_v0_1(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        database.apply_local_compat(conn, V0_1 / "local")
    database.migrate(url, local=False, directory=V0_1 / "migrations")


def learner_with_progress(db: Db) -> str:
    """A learner of v0.1: enrolled, a lesson complete, an attempt submitted, a chat —
    written as v0.1's client wrote them (its RPCs, as the learner)."""
    author = db.new_user("author@example.test")
    course = db.su_one(
        "insert into public.courses (slug, title, created_by, is_published)"
        " values ('upgrade-course', 'Upgrades', %s, true) returning id",
        (author,),
    )
    lessons = [
        db.su_one(
            "insert into public.lessons (course_id, title, order_index,"
            " is_published) values (%s, %s, %s, true) returning id",
            (course, f"Lesson {i}", i),
        )
        for i in range(2)
    ]
    assessment = db.su_one(
        "insert into public.assessments (title, course_id, time_limit, entry, test_cases,"
        " created_by, is_published) values ('Double it', %s, 1, 'double', %s, %s, true)"
        " returning id",
        (course, Jsonb([{"name": "two", "args": [2], "expected": 4}]), author),
    )
    learner = db.new_user("learner@example.test", meta={"full_name": "Ada"})
    result = {
        "version": 1,
        "status": "pass",
        "message": None,
        "score": {"passed": 1, "total": 1, "percent": 100},
        "tests": [{"name": "two", "status": "pass"}],
    }
    with db.as_user(learner) as cur:
        cur.execute("select public.enroll(p_course_id => %s)", (course,))
        cur.execute(
            "select public.record_lesson_progress(p_lesson_id => %s,"
            " p_time_spent => 120, p_completed => true)",
            (lessons[0],),
        )
        cur.execute("select public.start_attempt(p_assessment_id => %s)", (assessment,))
        attempt = cur.fetchone()["start_attempt"]["attempt"]["id"]
        cur.execute(
            "select public.submit_attempt(p_assessment_id => %s, p_code => %s,"
            " p_execution_result => %s, p_score => 100, p_attempt_id => %s)",
            (assessment, "def double(x):\n    return 2 * x\n", Jsonb(result), attempt),
        )
        cur.execute(
            "select public.log_chat(p_question => 'what is a slug?', p_answer => 'a short name')"
        )
    return learner


def learner_rows(db: Db, learner: str) -> dict[str, list[dict]]:
    return {
        table: json.loads(json.dumps(db.su(sql, {"u": learner}), default=str))
        for table, sql in LEARNER_ROWS.items()
    }


def schema_dump(bin_dir: Path, url: str) -> str:
    """`pg_dump --schema-only` of the schemas the migrations make, with what differs
    between two databases of the same schema taken out: pg_dump's random \\restrict
    key (PostgreSQL 17.6+) and its comment lines, which carry no schema."""
    out = subprocess.run(
        [
            str(bin_dir / "pg_dump"),
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--dbname",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    kept = []
    for line in out.splitlines():
        if re.match(r"^\\(un)?restrict ", line) or line.startswith("--"):
            continue
        kept.append(line)
    return "\n".join(kept)


def grants_dump(url: str) -> list[tuple]:
    """Privileges compared separately (pg_dump --no-privileges above): who may do what."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select n.nspname, c.relname, c.relkind, c.relacl::text from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname in ('public', 'private', 'auth', 'learn_meta')"
            " union all select n.nspname, p.proname || '(' ||"
            " pg_get_function_identity_arguments(p.oid) || ')', 'f', p.proacl::text"
            " from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname in ('public', 'private', 'auth') order by 1, 2, 3"
        ).fetchall()


def test_v0_1_migrations_are_unchanged_in_supabase_migrations():
    """Applied migrations are frozen: v0.1's files are still there, byte for byte."""
    shipped = sorted(V0_1.glob("migrations/*.sql"))
    assert len(shipped) == 9
    edited = [
        p.name for p in shipped if (paths.migrations_dir() / p.name).read_bytes() != p.read_bytes()
    ]
    assert edited == []


APPLIED = Path(__file__).parent / "applied_migrations.sha256"


def _recorded() -> dict[str, str]:
    lines = APPLIED.read_text().splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}


def test_no_migration_was_edited_after_it_was_committed():
    """Every migration ever committed is listed with its checksum (tests/db/
    applied_migrations.sha256): a change to one of them belongs in a new file."""
    recorded = _recorded()
    edited = [
        m.path.name
        for m in database.migrations()
        if recorded.get(m.path.name, m.checksum) != m.checksum
    ]
    assert edited == [], "applied migrations are frozen: put the change in a new migration file"


def test_every_migration_is_listed_with_its_checksum():
    """A new migration is added to the list (`sha256sum` of the file, two spaces, its
    name), and none is removed."""
    listed = set(_recorded())
    present = {m.path.name for m in database.migrations()}
    assert (sorted(present - listed), sorted(listed - present)) == ([], [])


def test_upgrading_a_v0_1_database_keeps_the_learners_progress(new_database):
    url = new_database("keep")
    install_v0_1(url)
    db = Db(url)
    try:
        learner = learner_with_progress(db)
        before = learner_rows(db, learner)
        database.migrate(url)
        after = learner_rows(db, learner)
        for table, rows in before.items():
            assert rows, f"the v0.1 learner has no {table} rows: the test made too little"
            # A later migration may add columns; every value v0.1 had is kept — except
            # updated_at, which a migration that backfills a new column moves (the
            # streaks migration 20261205001100 does): bookkeeping, not the learner's data.
            old_rows = [{k: v for k, v in row.items() if k != "updated_at"} for row in rows]
            kept = [
                {k: row[k] for k in old if k in row}
                for old, row in zip(old_rows, after[table], strict=True)
            ]
            assert (len(after[table]), kept) == (len(rows), old_rows), table
        with db.as_user(learner) as cur:  # and the current API reads it
            cur.execute("select public.dashboard() as d")
            dashboard = cur.fetchone()["d"]
        [enrolled] = dashboard["enrollments"]
        assert float(enrolled["progress"]) == 50
    finally:
        db.close()


def test_an_upgraded_v0_1_database_has_the_schema_of_a_fresh_install(new_database, pg_server):
    upgraded, fresh = new_database("upgraded"), new_database("fresh")
    install_v0_1(upgraded)
    database.migrate(upgraded)
    database.migrate(fresh)
    assert database.applied_versions(
        psycopg.connect(upgraded, autocommit=True)
    ) == database.applied_versions(psycopg.connect(fresh, autocommit=True))
    assert schema_dump(pg_server.bin_dir, upgraded) == schema_dump(pg_server.bin_dir, fresh)
    assert grants_dump(upgraded) == grants_dump(fresh)


def test_a_migration_edited_after_it_was_applied_is_reported_by_name(new_database, tmp_path):
    url = new_database("edited")
    install_v0_1(url)
    edited = tmp_path / "migrations"
    edited.mkdir()
    for path in (V0_1 / "migrations").glob("*.sql"):
        (edited / path.name).write_bytes(path.read_bytes())
    api = edited / "20261124000700_api.sql"
    api.write_text(api.read_text() + "\n-- a later edit\n")
    said: list[str] = []
    database.migrate(url, local=False, directory=edited, warn=said.append)
    assert said == [
        "Migration 20261124000700_api.sql was edited after this database applied it, so the"
        " database keeps the SQL it ran then: put the file back as it was and make the"
        " change a new migration in supabase/migrations/."
    ]
    with psycopg.connect(url, autocommit=True) as conn:
        assert [m.path.name for m in database.changed(conn, edited)] == [api.name]
        assert database.changed(conn, V0_1 / "migrations") == []


def test_the_schema_comparison_sees_a_function_body_the_upgrade_did_not_get(
    new_database, pg_server, tmp_path
):
    """What the comparison above is for: a database that ran an earlier body of an
    edited migration differs from a fresh install, and pg_dump shows it."""
    earlier = tmp_path / "migrations"
    earlier.mkdir()
    for path in (V0_1 / "migrations").glob("*.sql"):
        (earlier / path.name).write_bytes(path.read_bytes())
    api = earlier / "20261124000700_api.sql"
    body = api.read_text()
    assert body.count("'that attempt is already submitted or is not yours'") == 1
    api.write_text(
        body.replace("'that attempt is already submitted or is not yours'", "'an earlier message'")
    )
    old, fresh = new_database("old"), new_database("fresh")
    with psycopg.connect(old, autocommit=True) as conn:
        database.apply_local_compat(conn, V0_1 / "local")
    database.migrate(old, local=False, directory=earlier)
    database.migrate(old)
    database.migrate(fresh)
    upgraded, installed = schema_dump(pg_server.bin_dir, old), schema_dump(pg_server.bin_dir, fresh)
    assert "an earlier message" in upgraded and "an earlier message" not in installed
