"""What the catalogs must show after the migrations: indexed foreign keys, hygienic
SECURITY DEFINER functions, and policies written the way Supabase's advisor wants."""

from __future__ import annotations

import re

# SECURITY DEFINER functions the API roles may execute. Definer functions are triggers
# and helpers that other definer functions call, except the author studio's aggregates:
# `authenticated` calls them through public.course_analytics, and they check that the
# caller is the course's author (supabase/migrations/20261124000900_studio.sql).
# Each checks auth.uid() and touches the caller's own rows only: the author's aggregates,
# the outbox replay record that only the write functions may write, and the enrollment
# check the courses policy makes (through RLS it would recurse).
DEFINER_EXECUTABLE_BY_API_ROLES: set[str] = {
    "private.course_analytics(uuid)",
    "private.is_enrolled(uuid)",
    "private.begin_write(text,uuid,timestamp with time zone)",
    "private.end_write(uuid,jsonb)",
    # the review writes' cores (migration 20261205003000): the caller's own cards and logs
    "private.apply_review(uuid,uuid,integer,timestamp with time zone,integer,jsonb,"
    "timestamp with time zone,text,uuid)",
    "private.apply_rebuild(uuid,jsonb,integer,timestamp with time zone)",
    "private.apply_review_session(timestamp with time zone,uuid)",
    # verified grading (migration 20261205002000): the state of the caller's own attempt's
    # job, and queue-wide counts with the last grader heartbeat (no learner's data)
    "private.attempt_grading(uuid)",
    "private.grading_overview()",
}

_NOT_FROM_EXTENSION = (
    "not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass"
    " and d.objid = p.oid and d.deptype = 'e')"
)


def test_every_foreign_key_column_has_an_index_leading_with_it(db):
    unindexed = db.su("""
        select c.conrelid::regclass::text as tbl, c.conname
        from pg_constraint c
        join pg_namespace n on n.oid = c.connamespace
        where c.contype = 'f' and n.nspname = 'public'
          and not exists (
            select 1 from pg_index i
            where i.indrelid = c.conrelid
              and (select array_agg(i.indkey[k] order by i.indkey[k])
                   from generate_series(0, cardinality(c.conkey) - 1) k)
                  = (select array_agg(a order by a) from unnest(c.conkey) a))
        order by 1, 2""")
    assert unindexed == []


def test_foreign_key_index_test_sees_the_foreign_keys(db):
    assert (
        db.su_one(
            "select count(*) from pg_constraint c join pg_namespace n"
            " on n.oid = c.connamespace where c.contype = 'f'"
            " and n.nspname = 'public'"
        )
        >= 25
    )


def test_audit_log_policy_columns_are_indexed(db):
    leading = {
        r["col"]
        for r in db.su(
            "select a.attname as col from pg_index i join pg_attribute a"
            " on a.attrelid = i.indrelid and a.attnum = i.indkey[0]"
            " where i.indrelid = 'public.audit_log'::regclass"
        )
    }
    assert {"subject_user_id", "course_author_id"} <= leading


def _definers(db):
    return db.su(f"""
        select p.oid::regprocedure::text as fn, n.nspname as schema, p.proconfig,
               has_function_privilege('anon', p.oid, 'execute') as anon,
               has_function_privilege('authenticated', p.oid, 'execute') as authenticated
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema', 'auth')
          and {_NOT_FROM_EXTENSION}""")


def test_there_are_security_definer_functions_to_check(db):
    assert len(_definers(db)) >= 10


def test_security_definer_functions_live_in_private(db):
    assert [f["fn"] for f in _definers(db) if f["schema"] != "private"] == []


def test_security_definer_functions_pin_an_empty_search_path(db):
    assert [f["fn"] for f in _definers(db) if 'search_path=""' not in (f["proconfig"] or [])] == []


def test_security_definer_functions_are_not_executable_by_anon_or_authenticated(db):
    exposed = {f["fn"] for f in _definers(db) if f["anon"] or f["authenticated"]}
    assert exposed <= DEFINER_EXECUTABLE_BY_API_ROLES


def test_functions_in_public_are_security_invoker(db):
    assert (
        db.su(f"""
        select p.oid::regprocedure::text as fn from pg_proc p
        join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.prosecdef and {_NOT_FROM_EXTENSION}""")
        == []
    )


def test_every_function_in_private_and_public_pins_its_search_path(db):
    assert (
        db.su(f"""
        select p.oid::regprocedure::text as fn from pg_proc p
        join pg_namespace n on n.oid = p.pronamespace
        where n.nspname in ('public', 'private') and {_NOT_FROM_EXTENSION}
          and not exists (select 1 from unnest(p.proconfig) c
                          where c like 'search_path=%%')""")
        == []
    )


def _policies(db):
    return db.su(
        "select tablename, policyname, cmd, roles::text[] as roles, qual, with_check"
        " from pg_policies where schemaname = 'public'"
    )


def test_every_policy_reads_auth_uid_through_a_select(db):
    bare = []
    for p in _policies(db):
        for expr in (p["qual"], p["with_check"]):
            text = expr or ""
            if text.count("auth.uid()") != len(re.findall(r"SELECT auth\.uid\(\) AS uid", text)):
                bare.append(p["policyname"])
    assert bare == []


def test_policies_use_auth_uid(db):
    assert (
        sum(
            "SELECT auth.uid() AS uid" in (p["qual"] or "") + (p["with_check"] or "")
            for p in _policies(db)
        )
        >= 20
    )


def test_every_policy_names_its_roles(db):
    assert [p["policyname"] for p in _policies(db) if "public" in p["roles"]] == []


def test_no_write_policy_is_unconditionally_true(db):
    assert [
        p["policyname"]
        for p in _policies(db)
        if p["cmd"] != "SELECT"
        and (
            (p["qual"] or "").strip("() ") == "true"
            or (p["with_check"] or "").strip("() ") == "true"
        )
    ] == []


def test_one_permissive_policy_per_table_role_and_action(db):
    duplicates = db.su("""
        select tablename, cmd, r.role, count(*) as n
        from pg_policies, unnest(roles) as r(role)
        where schemaname = 'public' and permissive = 'PERMISSIVE'
        group by 1, 2, 3 having count(*) > 1""")
    assert duplicates == []


def test_anon_cannot_write_any_table(db):
    assert (
        db.su("""
        select table_name, privilege_type from information_schema.role_table_grants
        where grantee = 'anon' and table_schema = 'public' and privilege_type <> 'SELECT'
        union
        select table_name, privilege_type from information_schema.column_privileges
        where grantee = 'anon' and table_schema = 'public' and privilege_type <> 'SELECT'
        """)
        == []
    )


def test_only_content_tables_have_policies_that_let_anon_read(db):
    tables = {
        r["tablename"]
        for r in db.su(
            "select tablename from pg_policies where schemaname = 'public'"
            " and cmd in ('SELECT', 'ALL') and roles && array['anon', 'public']::name[]"
        )
    }
    assert tables == {"courses", "lessons", "assessments", "course_stats"}


def test_no_extension_lives_in_public(db):
    assert (
        db.su(
            "select extname from pg_extension e join pg_namespace n"
            " on n.oid = e.extnamespace where n.nspname = 'public'"
        )
        == []
    )
