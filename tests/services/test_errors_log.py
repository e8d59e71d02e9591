"""Errors say what they are and leave a trace: a bug is not "offline", unexpected errors
carry a reference and go to the log file with their traceback (never a secret), and the
embedded database is started again when it stopped under the app. Real PostgreSQL."""

from __future__ import annotations

import logging
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from services import errors, logs
from services.data.backend import LocalBackend
from services.errors import Offline, ServerError, UnexpectedError
from services.offline.backend import OfflineBackend
from services.offline.cache import ReadCache
from services.offline.outbox import Outbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def log_home(tmp_path, monkeypatch) -> Path:
    """The log file in a scratch LEARN_HOME; returns its path."""
    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "home"))
    logs.shutdown()
    path = logs.setup()
    yield path
    logs.shutdown()


def _raised(exc: BaseException) -> BaseException:
    """`exc` with a traceback, as a backend call would have raised it."""
    try:
        raise exc
    except BaseException as caught:
        return caught


class Buggy:
    """The real backend with a bug in the client: `fn` raises a KeyError before it is
    sent (a programming error, not the network)."""

    def __init__(self, inner, fn: str):
        self.inner, self.fn = inner, fn

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def call(self, fn, **args):
        if fn == self.fn:
            raise KeyError("p_missing")
        return await self.inner.call(fn, **args)


@pytest.fixture
async def buggy(db_url, tmp_path):
    made = []

    async def make(fn: str) -> OfflineBackend:
        inner = LocalBackend(db_url, migrate=False, session_path=tmp_path / "session.json")
        backend = OfflineBackend(
            Buggy(inner, fn),
            cache=ReadCache(tmp_path / "r.sqlite3"),
            outbox=Outbox(tmp_path / "o.sqlite3"),
        )
        made.append(backend)
        await backend.sign_up(None, None, full_name="Ada")
        return backend

    yield make
    for backend in made:
        await backend.close()


async def test_a_bug_in_a_read_is_an_unexpected_error_and_the_app_stays_online(buggy):
    backend = await buggy("catalog")
    with pytest.raises(UnexpectedError) as raised:
        await backend.call("catalog", p_limit=1)
    assert "KeyError" in str(raised.value) and raised.value.ref in str(raised.value)
    assert backend.online and "offline" not in backend.status.describe()


async def test_a_bug_in_a_write_says_not_saved_and_is_never_sent_behind_the_learners_back(
    buggy, db
):
    backend = await buggy("log_chat")
    with pytest.raises(UnexpectedError):
        await backend.call("log_chat", p_question="buggy", p_answer=None)
    assert backend.online and backend.pending_count == 0
    await backend.flush()
    assert (
        db.su_one(
            "select count(*) from public.chat_history where user_id = %s",
            (backend.current_user.id,),
        )
        == 0
    )


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "refused"),
        socket.gaierror(-2, "Name or service not known"),
        TimeoutError("timed out"),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        psycopg.OperationalError("server closed the connection unexpectedly"),
        ServerError(status=500),
        ServerError(status=503),
        Offline(),
    ],
    ids=lambda e: type(e).__name__ + str(getattr(e, "status", "") or ""),
)
def test_real_unreachability_switches_to_offline(exc):
    assert errors.is_unreachable(errors.from_exception(_raised(exc)))


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError("bug"),
        KeyError("x"),
        TypeError("bad call"),
        ValueError("bad value"),
        psycopg.ProgrammingError("client misuse"),
        httpx.DecodingError("garbled"),
        ServerError("The database was busy with a conflicting change; try again.", code="40001"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_bugs_and_answered_errors_do_not_switch_to_offline(exc):
    assert not errors.is_unreachable(errors.from_exception(_raised(exc)))


def test_an_unexpected_error_is_logged_with_its_traceback_under_its_reference(log_home):
    def deep_in_the_client():
        raise ZeroDivisionError("division by zero")

    try:
        deep_in_the_client()
    except ZeroDivisionError as exc:
        error = errors.from_exception(exc)
        again = errors.from_exception(exc)  # mapped twice: logged once
    assert error.ref == again.ref and len(error.ref) == 6
    assert str(log_home) in str(error) and "\n" not in str(error)
    text = log_home.read_text()
    assert f"ref {error.ref}" in text and "Traceback" in text
    assert "deep_in_the_client" in text and text.count(f"ref {error.ref}") == 1


def test_secrets_never_reach_the_log_file(log_home, monkeypatch):
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    secrets = {
        "SUPABASE_ANON_KEY": "anon-key-4f9a1c2e7b",
        "OPENAI_API_KEY": "sk-proj-abcdef0123456789",
        "DATABASE_URL": "postgresql://learner:Hunter2Secret@db.example:5432/learn",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    message = (
        f"failed: {secrets['DATABASE_URL']} Authorization: Bearer {jwt} "
        f"apikey={secrets['SUPABASE_ANON_KEY']} {secrets['OPENAI_API_KEY']} "
        "password=opensesame-77 postgres://u:pw-in-url-99@h/db sk-other0123456789"
    )
    error = errors.from_exception(_raised(RuntimeError(message)))
    logging.getLogger("learn.backend").warning("retrying with %s", secrets["OPENAI_API_KEY"])
    text = log_home.read_text()
    assert error.ref in text
    for leaked in [
        jwt,
        "Hunter2Secret",
        "anon-key-4f9a1c2e7b",
        "sk-proj-abcdef0123456789",
        "opensesame-77",
        "pw-in-url-99",
        "sk-other0123456789",
    ]:
        assert leaked not in text, leaked


def test_the_log_file_is_private_and_rotates(log_home):
    log = logging.getLogger("learn.test")
    for i in range(2500):
        log.error("line %d %s", i, "x" * 500)
    rotated = log_home.with_name("learn.log.1")
    assert rotated.exists() and log_home.stat().st_size <= logs.MAX_BYTES
    for path in (log_home, rotated):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not log_home.with_name(f"learn.log.{logs.BACKUPS + 1}").exists()


def test_a_command_that_hits_a_bug_prints_one_line_with_a_reference(tmp_path, capsys, monkeypatch):
    from tui import cli

    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LEARN_DEBUG", raising=False)
    logs.shutdown()

    def broken(_args):
        return {}["missing"]

    try:
        assert cli._guarded(broken, None) == 1
    finally:
        path = logs.current_file()
        logs.shutdown()
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Unexpected error (KeyError), ref " in err
    ref = err.split("ref ")[1][:6]
    assert f"ref {ref}" in path.read_text() and "Traceback" in path.read_text()


def test_learn_doctor_names_the_log_file(db_url, tmp_path):
    env = {
        **os.environ,
        "LEARN_HOME": str(tmp_path / "home"),
        "DATABASE_URL": db_url,
        "PYTHONPATH": str(ROOT),
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
    }
    run = subprocess.run(
        [sys.executable, "-m", "tui.cli", "doctor"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    [line] = [x for x in run.stdout.splitlines() if x.split()[1:2] == ["log"]]
    assert str(tmp_path / "home" / "log" / "learn.log") in line
    assert any(x.split()[1:2] == ["offline"] for x in run.stdout.splitlines())


# -- the embedded database stopping under the app ----------------------------------------


@pytest.mark.slow
async def test_the_embedded_database_killed_under_the_app_is_started_again_by_the_next_call(
    tmp_path,
):
    from services.data.database import EmbeddedPostgres, apply_local_compat

    folder = Path(tempfile.mkdtemp(prefix="learn-restart-"))  # see tests/pg/servers.py
    pgdata = folder / "pgdata"
    inner = LocalBackend(None, migrate=False, pgdata=pgdata, session_path=tmp_path / "session.json")
    backend = OfflineBackend(
        inner,
        cache=ReadCache(tmp_path / "r.sqlite3"),
        outbox=Outbox(tmp_path / "o.sqlite3"),
        backoff=(0.05, 0.1),
    )
    try:
        await backend.connect()
        with psycopg.connect(EmbeddedPostgres(pgdata).running_url(), autocommit=True) as conn:
            apply_local_compat(conn)  # the roles a call switches to
            conn.execute("create function public.ping() returns int language sql as 'select 42'")
        assert await backend.call("ping") == 42
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            if EmbeddedPostgres(pgdata).running_url() is None:
                break
            time.sleep(0.05)
        assert await backend.call("ping") == 42
        assert backend.online
        assert EmbeddedPostgres(pgdata).running_url() is not None
    finally:
        await backend.close()
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
