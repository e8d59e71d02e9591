"""The start-up checks, declared once: what a local database must be before the app uses it.

    CHECKS         each Check: a name, a boolean SQL expression over named values
                   (`%(name)s`), and the step of the usual start that makes it true
    values()       the values the checks compare with (migrations, compat SQL and
                   bundled courses as the files are now; the learner)
    select_sql()   one `select` of the checks, for psycopg or (psql=True) for psql
    all_pass_sql() one `select … as current`: true when every check passes
    failing()      the checks a database does not pass (psycopg; all of them on an error)

Both starts derive from CHECKS: the usual start (LocalBackend, through failing()) runs
only the steps whose checks fail, and the head start's psql script
(services.data.headstart.SCRIPT) selects the same expressions and gives up unless all
pass. A new start-up step is a new Check here, and its step in LocalBackend.
tests/services/test_headstart.py fails if the two drift apart.

Imports nothing heavy: `learn` reads it, through the head start, before Textual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    """One start-up check: `sql` is true when the step `made_by` has nothing to do."""

    name: str
    sql: str
    made_by: str


CHECKS: tuple[Check, ...] = (
    Check(
        "migrations",
        # version:checksum: an edited migration is not "current" (the usual start says so)
        "(select count(*) from learn_meta.schema_migrations"
        " where version || ':' || checksum = any (%(versions)s::text[])) = %(migrations)s::int",
        "services.data.database.migrate",
    ),
    Check(
        "compat",
        "exists (select 1 from learn_meta.local_compat where checksum = %(compat)s)",
        "services.data.database.migrate (local=True: apply_local_compat)",
    ),
    Check(
        "courses",
        "exists (select 1 from learn_meta.bundled_content where digest = %(courses)s)",
        "services.data.seed.seed_bundled",
    ),
    Check(
        "learner",
        "exists (select 1 from auth.users where id = %(user_id)s::uuid and deleted_at is null)",
        "LocalBackend._restore_session (forgets a learner the database no longer has)",
    ),
)

BY_NAME = {check.name: check for check in CHECKS}

Checks = tuple[Check, ...] | list[Check]

_VALUE = re.compile(r"%\((\w+)\)s")


def value_names(checks: Checks = CHECKS) -> list[str]:
    """The values the checks use, in order of first use."""
    names: list[str] = []
    for check in checks:
        names += [n for n in _VALUE.findall(check.sql) if n not in names]
    return names


def values(user_id: str | None = None, *, checks: Checks = CHECKS) -> dict[str, str]:
    """What `checks` compare with, as the files are now (`user_id`: the learner)."""
    from services import paths
    from services.data import database
    from services.data.seed import content_digest

    wanted = set(value_names(checks))
    found: dict[str, str] = {}
    if wanted & {"versions", "migrations"}:
        versions = [f"{m.version}:{m.checksum}" for m in database.migrations()]
        found["versions"] = "{" + ",".join(versions) + "}"
        found["migrations"] = str(len(versions))
    if "compat" in wanted:
        found["compat"] = database.local_compat_checksum()
    if "courses" in wanted:
        found["courses"] = content_digest(paths.bundled_courses())
    if "user_id" in wanted and user_id is not None:
        found["user_id"] = user_id
    return found


def _render(check: Check, psql: bool) -> str:
    return _VALUE.sub(r":'\1'", check.sql) if psql else check.sql


def all_pass_sql(checks: Checks = CHECKS, *, psql: bool = False) -> str:
    """`select (<check>) and (<check>) … as current`."""
    joined = "\n   and ".join(f"({_render(c, psql)})" for c in checks)
    return f"select {joined}\n    as current"


def select_sql(checks: Checks = CHECKS, *, psql: bool = False) -> str:
    """`select (<check>) as <name>, …` — with psql's quoted variables (`:'name'`) when
    `psql`, else psycopg's named parameters."""
    return "select " + ",\n       ".join(f"({_render(c, psql)}) as {c.name}" for c in checks)


def failing(conn: Any, checks: Checks, found: dict[str, str]) -> set[str]:
    """The names of the checks `conn` (psycopg, autocommit) does not pass; all of them
    when the query fails (a new database has no learn_meta tables yet)."""
    import psycopg

    if not checks:
        return set()
    try:
        with conn.transaction():
            cur = conn.execute(select_sql(checks), found)
            row = cur.fetchone()
    except psycopg.Error:
        return {check.name for check in checks}
    return {check.name for check, ok in zip(checks, row, strict=True) if not ok}
