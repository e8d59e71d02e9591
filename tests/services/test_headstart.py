"""The head start (services.data.headstart): psql fetches the dashboard while the TUI loads;
LocalBackend takes its answer, or starts the usual way when there is none.

On a real embedded PostgreSQL in its own data dir, made by a first run and kept running
by another process, as a second `learn` would keep it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import psycopg
import pytest

from services.data import database, headstart, startup
from services.data.backend import LocalBackend
from services.data.session import SessionStore, embedded_namespace

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

# The first run: create, migrate, load the courses, sign up, enroll (and stop).
FIRST_RUN = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    from services.data.backend import LocalBackend
    from services.data.seed import seed_bundled

    async def first_run():
        backend = LocalBackend(pgdata=Path(sys.argv[1]), session_path=Path(sys.argv[2]),
                               seed=seed_bundled)
        await backend.sign_up(None, None, full_name="Head Start")
        course = (await backend.call("catalog"))["courses"][0]
        await backend.call("enroll", p_course_id=course["id"])
        await backend.close()

    asyncio.run(first_run())
""")

# Then hold the server until stdin closes, as another `learn` process would.
HOLDER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from services.data.database import EmbeddedPostgres

    holder = EmbeddedPostgres(Path(sys.argv[1]))
    print(json.dumps({"url": holder.start()}), flush=True)
    sys.stdin.read()
    holder.stop()
""")


class Home:
    def __init__(self, root: Path, user_id: str, url: str):
        self.pgdata = root / "pgdata"
        self.session = root / "session.json"
        self.user_id = user_id
        self.url = url


@pytest.fixture(scope="module")
def home():
    # Its own folder (not pytest's): as root, pgserver changes its permissions.
    root = Path(tempfile.mkdtemp(prefix="learn-headstart-"))
    pgdata, session = root / "pgdata", root / "session.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-c", FIRST_RUN, str(pgdata), str(session)],
        check=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(pgdata)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = holder.stdout.readline()
        if not line:
            pytest.fail("the embedded database did not start")
        user_id, _email = SessionStore(session).local_user(embedded_namespace(pgdata))
        yield Home(root, user_id, json.loads(line)["url"])
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
        shutil.rmtree(root, ignore_errors=True)


async def _dashboard_directly(home: Home):
    """The dashboard as the usual start gets it."""
    backend = LocalBackend(pgdata=home.pgdata, session_path=home.session)
    try:
        await backend.connect()
        return await backend.call("dashboard")
    finally:
        await backend.close()


async def test_the_running_servers_url_is_read_from_its_postmaster_pid(home):
    assert database.EmbeddedPostgres(home.pgdata).running_url() == home.url


def test_no_url_when_the_postmaster_pid_names_a_dead_process(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "postmaster.pid").write_text(
        f"{dead.pid}\n{tmp_path}\n0\n5432\n{tmp_path}\nlocalhost\n1 2\nready   \n"
    )
    assert database.EmbeddedPostgres(tmp_path).running_url() is None


def test_no_url_when_the_postmaster_pid_is_garbled(tmp_path):
    (tmp_path / "postmaster.pid").write_text("not a pid\n")
    assert database.EmbeddedPostgres(tmp_path).running_url() is None


async def test_head_start_hands_over_the_signed_in_learners_dashboard(home):
    head = headstart.launch(home.pgdata, home.session)
    assert head is not None
    ready = await head.result()
    assert ready is not None
    assert ready.url == home.url and ready.user[0] == home.user_id
    dashboard = ready.answers["dashboard"]
    assert dashboard["profile"]["full_name"] == "Head Start"
    assert dashboard["enrollments"]
    assert dashboard == await _dashboard_directly(home)


@pytest.fixture
async def backend(home):
    """A LocalBackend given a head start, as `learn` makes it."""
    backend = LocalBackend(
        pgdata=home.pgdata,
        session_path=home.session,
        head_start=headstart.launch(home.pgdata, home.session),
    )
    yield backend
    await backend.close()


async def test_backend_answers_its_first_dashboard_from_the_head_start(home, backend):
    await backend.connect()
    assert backend.current_user.id == home.user_id
    first = await backend.call("dashboard")
    assert backend._conn is None  # answered without a connection of its own
    assert first == await _dashboard_directly(home)


async def test_after_the_head_start_the_backend_opens_its_own_connection(backend):
    await backend.connect()
    first = await backend.call("dashboard")
    catalog = await backend.call("catalog")
    assert backend._conn is not None
    assert backend._server is not None  # holds the server while it runs
    enrolled = {e["course_id"] for e in first["enrollments"]}
    other = next(c for c in catalog["courses"] if c["id"] not in enrolled)
    await backend.call("enroll", p_course_id=other["id"])
    again = await backend.call("dashboard")  # live: the head start answers only once
    assert len(again["enrollments"]) == len(first["enrollments"]) + 1


async def test_warm_opens_the_connection_a_head_start_left_for_later(backend):
    await backend.connect()
    await backend.warm()
    assert backend._conn is not None and not backend._conn.closed


async def test_no_answer_while_a_migration_is_pending(home):
    with psycopg.connect(home.url, autocommit=True) as conn:
        row = conn.execute(
            "delete from learn_meta.schema_migrations"
            " where version = (select max(version)"
            " from learn_meta.schema_migrations) returning *"
        ).fetchone()
        try:
            ready = await headstart.launch(home.pgdata, home.session).result()
        finally:
            conn.execute(
                "insert into learn_meta.schema_migrations"
                " (version, name, checksum, applied_at) values (%s, %s, %s, %s)",
                row,
            )
    assert ready is None


async def test_no_answer_when_an_applied_migration_was_edited(home):
    """The usual start then reports the edited file (services.data.database.changed)."""
    with psycopg.connect(home.url, autocommit=True) as conn:
        version, checksum = conn.execute(
            "select version, checksum from learn_meta.schema_migrations order by version limit 1"
        ).fetchone()
        conn.execute(
            "update learn_meta.schema_migrations set checksum = 'edited' where version = %s",
            (version,),
        )
        try:
            ready = await headstart.launch(home.pgdata, home.session).result()
        finally:
            conn.execute(
                "update learn_meta.schema_migrations set checksum = %s where version = %s",
                (checksum, version),
            )
    assert ready is None


async def test_no_answer_when_the_bundled_courses_changed(home):
    with psycopg.connect(home.url, autocommit=True) as conn:
        rows = conn.execute("delete from learn_meta.bundled_content returning *").fetchall()
        try:
            ready = await headstart.launch(home.pgdata, home.session).result()
        finally:
            for row in rows:
                conn.execute("insert into learn_meta.bundled_content values (%s, %s)", row)
    assert ready is None


async def test_no_answer_for_a_remembered_learner_the_database_no_longer_has(home, tmp_path):
    session = tmp_path / "session.json"
    SessionStore(session).remember_local_user(
        embedded_namespace(home.pgdata), "00000000-0000-4000-8000-000000000001", None
    )
    assert await headstart.launch(home.pgdata, session).result() is None


def test_no_head_start_when_nobody_is_remembered(home, tmp_path):
    empty = tmp_path / "session.json"
    empty.write_text("{}")
    assert headstart.launch(home.pgdata, empty) is None


def test_no_head_start_without_a_running_server(tmp_path):
    session = tmp_path / "session.json"
    session.write_text("{}")
    assert headstart.launch(tmp_path / "pgdata", session) is None


async def test_a_stuck_head_start_is_killed_and_gives_nothing(monkeypatch, home):
    monkeypatch.setattr(headstart, "TIMEOUT", 0.2)
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], stdout=subprocess.PIPE
    )
    head = headstart.HeadStart(process, home.url, (home.user_id, None))
    assert await head.result() is None
    assert process.poll() is not None


async def test_a_head_start_without_an_answer_leaves_the_usual_start(home):
    process = subprocess.Popen([sys.executable, "-c", "pass"], stdout=subprocess.PIPE)
    head = headstart.HeadStart(process, home.url, (home.user_id, None))
    backend = LocalBackend(pgdata=home.pgdata, session_path=home.session, head_start=head)
    try:
        await backend.connect()
        assert backend._conn is not None  # connected the usual way
        assert backend.current_user.id == home.user_id
    finally:
        await backend.close()


async def test_closing_before_connecting_stops_the_head_start(home):
    head = headstart.launch(home.pgdata, home.session)
    backend = LocalBackend(pgdata=home.pgdata, session_path=home.session, head_start=head)
    await backend.close()
    assert head._process.poll() is not None


async def test_the_learner_is_not_on_psqls_command_line(home):
    head = headstart.launch(home.pgdata, home.session)
    try:
        assert not any(home.user_id in arg for arg in head._process.args)
    finally:
        assert await head.result() is not None


# -- one declaration of the start-up checks (services.data.startup) ------------------------

# How to make each declared check fail on the running database, and how to put it back
# (None: the usual start repairs it, which the test checks).
BREAK = {
    "migrations": (
        "update learn_meta.schema_migrations set checksum = 'edited'"
        " where version = %(version)s returning version",
        "update learn_meta.schema_migrations set checksum = %(checksum)s"
        " where version = %(version)s",
    ),
    "compat": ("delete from learn_meta.local_compat returning checksum", None),
    "courses": ("delete from learn_meta.bundled_content returning digest", None),
    "learner": (
        "update auth.users set deleted_at = now() where id = %(user_id)s returning id",
        "update auth.users set deleted_at = null where id = %(user_id)s",
    ),
}


def _failing(home: Home) -> set[str]:
    with psycopg.connect(home.url, autocommit=True) as conn:
        return startup.failing(conn, startup.CHECKS, startup.values(home.user_id))


def test_every_declared_check_has_a_case_here():
    """A new start-up check gets its case in BREAK, so the tests below try it."""
    assert set(BREAK) == {check.name for check in startup.CHECKS}


def test_the_head_start_script_is_made_of_the_declared_checks():
    assert startup.all_pass_sql(psql=True) in headstart.SCRIPT
    assert set(startup.value_names()) <= set(headstart.NAMES)
    assert "%(" not in headstart.SCRIPT  # every value is a psql variable


def test_a_database_the_usual_start_made_passes_every_check(home):
    assert _failing(home) == set()


@pytest.mark.parametrize("name", list(BREAK))
async def test_both_starts_see_the_same_failing_check(home, name):
    """Each declared check, made to fail: the usual start's checks name it (and its step
    repairs it, where a step can), and the head start gives no answer."""
    breaking, restoring = BREAK[name]
    first = database.migrations()[0]
    params = {"user_id": home.user_id, "version": first.version, "checksum": first.checksum}
    with psycopg.connect(home.url, autocommit=True) as conn:
        assert conn.execute(breaking, params).fetchall(), f"nothing to break for {name}"
        try:
            assert _failing(home) == {name}
            assert await headstart.launch(home.pgdata, home.session).result() is None
        finally:
            if restoring is not None:
                conn.execute(restoring, params)
    if restoring is None:
        from services.data.seed import seed_bundled

        backend = LocalBackend(pgdata=home.pgdata, session_path=home.session, seed=seed_bundled)
        try:
            await backend.connect()  # runs the step of the failing check
        finally:
            await backend.close()
    assert _failing(home) == set()
