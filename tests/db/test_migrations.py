from services import database


def test_migrations_record_every_file(db):
    recorded = {r["version"] for r in db.su("select version from learn_meta.schema_migrations")}
    assert recorded == {m.version for m in database.migrations()}


def test_migrating_again_applies_nothing(db_url):
    assert database.migrate(db_url) == []


def test_all_fourteen_blueprint_tables_exist_with_rls(db):
    blueprint = {"profiles", "courses", "lessons", "course_enrollments", "assessments",
                 "assessment_attempts", "user_progress", "learning_analytics", "chat_history",
                 "ai_interactions", "achievements", "user_streaks", "notifications",
                 "user_feedback"}
    rows = db.su("select relname, relrowsecurity from pg_class c join pg_namespace n"
                 " on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r'")
    tables = {r["relname"]: r["relrowsecurity"] for r in rows}
    assert blueprint <= set(tables)
    assert all(tables.values()), [t for t, rls in tables.items() if not rls]
