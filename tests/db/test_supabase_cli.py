"""The real Supabase CLI deploys and lints the migrations: `supabase db push --db-url`
and `supabase db lint --db-url` against Debian's PostgreSQL 15 (Supabase's major
version) with only supabase/local loaded, as a fresh Supabase project would look.

Runs on the pg15 server only. The CLI is installed by `dev.py test` into .tools/; without
it these tests skip, unless LEARN_STRICT=1 (CI), where a missing CLI is a failure."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from services.data import database
from tests.pg.servers import strict

ROOT = Path(__file__).resolve().parents[2]
CLI_CANDIDATES = [
    ROOT / ".tools" / "node_modules" / ".bin" / "supabase",
    Path("/tmp/sbcli/node_modules/.bin/supabase"),
]


def _cli() -> Path:
    for path in CLI_CANDIDATES:
        if path.exists():
            return path
    if strict():
        pytest.fail("the Supabase CLI is not installed (python3 dev.py test installs it)")
    pytest.skip("the Supabase CLI is not installed (python3 dev.py test installs it)")


def _run(cli: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SUPABASE_TELEMETRY_DISABLED": "1", "DO_NOT_TRACK": "1"}
    return subprocess.run(
        [str(cli), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env
    )


@pytest.fixture(scope="module")
def pushed(pg_server):
    """A fresh database on PostgreSQL 15 with supabase/local, then `supabase db push`."""
    if pg_server.name != "pg15":
        pytest.skip("the Supabase CLI runs against Debian's PostgreSQL 15 only")
    cli = _cli()
    name = f"sbcli_{os.getpid()}"
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f"drop database if exists {name}")
        conn.execute(f"create database {name}")
    url = pg_server.url_for(name)
    with psycopg.connect(url, autocommit=True) as conn:
        database.apply_local_compat(conn)
    db_url = f"{url}?sslmode=disable"
    push = _run(cli, "db", "push", "--db-url", db_url, "--yes")
    yield {"cli": cli, "url": url, "db_url": db_url, "push": push}
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f"drop database {name} with (force)")


def _output(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


def test_supabase_db_push_applies_every_migration(pushed):
    assert pushed["push"].returncode == 0, _output(pushed["push"])
    with psycopg.connect(pushed["url"]) as conn:
        versions = {
            r[0] for r in conn.execute("select version from supabase_migrations.schema_migrations")
        }
    assert versions == {m.version for m in database.migrations()}


def test_supabase_db_push_again_has_nothing_to_push(pushed):
    assert pushed["push"].returncode == 0, _output(pushed["push"])
    again = _run(pushed["cli"], "db", "push", "--db-url", pushed["db_url"], "--yes")
    assert again.returncode == 0, _output(again)
    assert "up to date" in (again.stdout + again.stderr).lower(), _output(again)


def _lint(pushed, *schemas: str) -> subprocess.CompletedProcess:
    args = [
        "db",
        "lint",
        "--db-url",
        pushed["db_url"],
        "--level",
        "warning",
        "--fail-on",
        "warning",
    ]
    if schemas:
        args += ["-s", ",".join(schemas)]
    return _run(pushed["cli"], *args)


def test_supabase_db_lint_finds_no_warning(pushed):
    assert pushed["push"].returncode == 0, _output(pushed["push"])
    lint = _lint(pushed)
    assert lint.returncode == 0 and "No schema errors found" in lint.stderr + lint.stdout, _output(
        lint
    )


def test_supabase_db_lint_of_public_and_private_finds_no_warning(pushed):
    assert pushed["push"].returncode == 0, _output(pushed["push"])
    lint = _lint(pushed, "public", "private")
    assert lint.returncode == 0 and "No schema errors found" in lint.stderr + lint.stdout, _output(
        lint
    )


def test_supabase_db_lint_reports_a_broken_function(pushed):
    """The lint really checks function bodies (plpgsql_check is loaded)."""
    with psycopg.connect(pushed["url"], autocommit=True) as conn:
        conn.execute("create schema lint_probe")
        conn.execute(
            "create function lint_probe.broken() returns int language plpgsql"
            " as $$ begin return (select missing_column from public.courses); end $$"
        )
    try:
        lint = _lint(pushed, "lint_probe")
    finally:
        with psycopg.connect(pushed["url"], autocommit=True) as conn:
            conn.execute("drop schema lint_probe cascade")
    assert lint.returncode != 0 and "missing_column" in lint.stdout + lint.stderr, _output(lint)
