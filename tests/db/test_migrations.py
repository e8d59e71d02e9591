import psycopg

from services.data import database


def test_migrations_record_every_file(db):
    recorded = {r["version"] for r in db.su("select version from learn_meta.schema_migrations")}
    assert recorded == {m.version for m in database.migrations()}


def test_migrating_again_applies_nothing(db_url):
    assert database.migrate(db_url) == []


def test_all_fourteen_blueprint_tables_exist_with_rls(db):
    blueprint = {
        "profiles",
        "courses",
        "lessons",
        "course_enrollments",
        "assessments",
        "assessment_attempts",
        "user_progress",
        "learning_analytics",
        "chat_history",
        "ai_interactions",
        "achievements",
        "user_streaks",
        "notifications",
        "user_feedback",
    }
    rows = db.su(
        "select relname, relrowsecurity from pg_class c join pg_namespace n"
        " on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r'"
    )
    tables = {r["relname"]: r["relrowsecurity"] for r in rows}
    assert blueprint <= set(tables)
    assert all(tables.values()), [t for t, rls in tables.items() if not rls]


def test_the_local_compat_sql_runs_again_only_when_it_changed(db_url, db):
    db.su("delete from learn_meta.local_compat")
    database.migrate(db_url)
    assert db.su_one("select count(*) from learn_meta.local_compat") == 1
    db.su(
        "create or replace function auth.uid() returns uuid language sql stable"
        " as $$ select null::uuid $$"
    )  # drift the recorded set would not notice
    database.migrate(db_url)
    assert "request.jwt.claim" not in db.su_one(
        "select prosrc from pg_proc where oid = 'auth.uid'::regproc"
    )
    with psycopg.connect(db_url, autocommit=True) as conn:  # put it back for others
        database.apply_local_compat(conn)
