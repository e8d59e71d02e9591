"""Shared fixtures: real PostgreSQL (never a mock), migrated once per server, with a
fresh database per test module copied from that template."""

from __future__ import annotations

import contextlib
import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from services.data import database, postgrest
from tests.pg.servers import EmbeddedServer, Pg15Server, pg15_available, strict

# Keep every test away from the real config/data dirs.
os.environ.setdefault("LEARN_HOME", str(Path(__file__).parent / ".learn-home-unused"))
# services.data.models.build raises on an answer whose keys do not match its dataclass
# (lenient, logged once, outside the tests). Child processes the tests start inherit it.
os.environ["LEARN_STRICT_SHAPES"] = "1"


def _server_params() -> list[str]:
    wanted = os.environ.get("LEARN_TEST_SERVERS", "embedded,pg15").split(",")
    return [s for s in wanted if s]


@pytest.fixture(scope="session", params=_server_params())
def pg_server(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "pg15":
        if not pg15_available():
            if strict():
                pytest.fail("Debian's PostgreSQL 15 is not installed (apt install postgresql-15)")
            pytest.skip("Debian's PostgreSQL 15 is not installed")
        server = Pg15Server(root)
    else:
        server = EmbeddedServer(root)
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute("drop database if exists learn_template")
        conn.execute("create database learn_template")
    database.migrate(server.url_for("learn_template"))
    yield server
    server.stop()


_counter = itertools.count()


@pytest.fixture(scope="module")
def db_url(pg_server) -> Iterator[str]:
    name = f"t_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f"create database {name} template learn_template")
    yield pg_server.url_for(name)
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f"drop database {name} with (force)")


class Db:
    """A superuser connection plus `as_user`, which runs statements the way PostgREST
    runs a request: one transaction, role and request.jwt.claims set locally."""

    def __init__(self, url: str):
        self.url = url
        self.conn = psycopg.connect(url, autocommit=True, row_factory=dict_row)

    def su(self, sql: str, params=None) -> list[dict]:
        cur = self.conn.execute(sql, params)
        return cur.fetchall() if cur.description else []

    def su_one(self, sql: str, params=None):
        rows = self.su(sql, params)
        return next(iter(rows[0].values())) if rows else None

    def new_user(self, email: str | None = None, meta=None) -> str:
        uid = str(uuid.uuid4())
        email = email if email is not None else f"{uid[:8]}@example.test"
        self.su(
            "insert into auth.users (id, email, raw_user_meta_data, aud, role)"
            " values (%s, %s, %s, 'authenticated', 'authenticated')",
            (uid, email or None, psycopg.types.json.Jsonb(meta) if meta is not None else None),
        )
        return uid

    @contextlib.contextmanager
    def as_user(self, user_id: str | None, role: str | None = None) -> Iterator[psycopg.Cursor]:
        payload = postgrest.claims(user_id, role=role)
        with psycopg.connect(self.url, row_factory=dict_row) as conn, conn.transaction():
            cur = conn.cursor()
            cur.execute(postgrest.REQUEST_SETTINGS_SQL, postgrest.request_params(payload))
            yield cur

    def run_as(self, user_id: str | None, sql: str, params=None, role: str | None = None):
        with self.as_user(user_id, role) as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else cur.rowcount

    def close(self) -> None:
        self.conn.close()


@pytest.fixture(scope="module")
def db(db_url) -> Iterator[Db]:
    handle = Db(db_url)
    yield handle
    handle.close()
