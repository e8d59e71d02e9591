"""`learn doctor | config | login | logout`: what they print, exit codes, no tracebacks,
no secrets, and no textual/openai imports."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.pg.servers import free_port
from tests.stack import SupabaseStandIn
from tests.stack.openai_standin import OpenAIStandIn
from tui.cli import main

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long enough password"
ENV_KEYS = (
    "SUPABASE_URL",
    "SUPABASE_ANON_KEY",
    "SUPABASE_PUBLISHABLE_KEY",
    "SUPABASE_KEY",
    "DATABASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "LEARN_MODEL",
    "LEARN_BACKEND",
)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "home"))
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    return tmp_path / "home"


@pytest.fixture(scope="module")
def api(db_url):
    with SupabaseStandIn(db_url, keys="new") as standin:
        yield standin


@pytest.fixture(scope="module")
def api_legacy(db_url):
    with SupabaseStandIn(db_url, keys="legacy") as standin:
        yield standin


@pytest.fixture
def on_supabase(home, api, monkeypatch):
    monkeypatch.setenv("SUPABASE_URL", api.url)
    monkeypatch.setenv("SUPABASE_PUBLISHABLE_KEY", api.client_key)
    return api


def run(capsys, *argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    old = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv))
    finally:
        sys.stdin = old
    out, err = capsys.readouterr()
    return code, out, err


def _email() -> str:
    return f"cli-{uuid.uuid4().hex[:10]}@example.test"


# -- import hygiene ----------------------------------------------------------------------

HYGIENE = """
import sys
from tui.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("textual", "openai", "supabase") if m in sys.modules)
print("HEAVY=" + ",".join(heavy))
"""


def _subprocess(
    args: list[str], env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", HYGIENE, *args],
        input=stdin,
        text=True,
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


@pytest.fixture
def clean_env(home):
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env["LEARN_HOME"] = str(home)
    return env


@pytest.mark.parametrize("args", [["doctor"], ["config"], ["config", "model", "m"], ["logout"]])
def test_local_commands_import_neither_textual_openai_nor_supabase(clean_env, args):
    done = _subprocess(args, clean_env)
    assert "Traceback" not in done.stderr
    assert "HEAVY=\n" in done.stdout, done.stdout + done.stderr


def test_supabase_login_imports_neither_textual_nor_openai(clean_env, api):
    env = {**clean_env, "SUPABASE_URL": api.url, "SUPABASE_PUBLISHABLE_KEY": api.client_key}
    done = _subprocess(
        ["login", "--new", "--email", _email(), "--password-stdin"], env, stdin=PASSWORD + "\n"
    )
    assert done.returncode == 0, done.stderr
    assert "HEAVY=supabase\n" in done.stdout


# -- config ------------------------------------------------------------------------------


def test_config_shows_masked_settings_and_their_sources(home, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret-key-0123456789")
    code, out, _ = run(capsys, "config", "model", "qwen2.5-coder")
    assert code == 0 and "model = qwen2.5-coder saved in" in out
    code, out, _ = run(capsys, "config")
    assert code == 0
    assert "sk-very-secret-key-0123456789" not in out
    assert "openai_api_key     = sk-v…6789   [env OPENAI_API_KEY]" in out
    assert "model              = qwen2.5-coder   [file]" in out
    assert "# backend in use: local" in out
    code, out, _ = run(capsys, "config", "LEARN_MODEL")
    assert out == "qwen2.5-coder\n"


def test_config_reads_secrets_from_stdin_and_never_echoes_them(home, capsys):
    code, out, _ = run(capsys, "config", "openai_api_key", "-", stdin="sk-from-stdin-abcdef\n")
    assert code == 0 and "sk-from-stdin" not in out and "(hidden)" in out
    assert "sk-from-stdin-abcdef" in (home / "config" / "config.toml").read_text()
    code, out, _ = run(capsys, "config", "--unset", "openai_api_key")
    assert code == 0
    assert "sk-from" not in (home / "config" / "config.toml").read_text()


def test_config_errors_are_one_line_without_traceback(home, capsys):
    code, _out, err = run(capsys, "config", "colour", "blue")
    assert code == 1 and err.count("\n") == 1 and err.startswith("learn: Unknown setting")
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text("model = [\n")
    code, _out, err = run(capsys, "doctor")
    assert code == 1 and "not valid TOML" in err and "Traceback" not in err


# -- doctor --------------------------------------------------------------------------------


def test_doctor_on_a_fresh_machine_warns_but_passes(home, capsys):
    code, out, _ = run(capsys, "doctor")
    assert code == 0
    assert "warn  database    not created yet" in out
    assert "ok    backend     local, embedded PostgreSQL" in out
    sandbox = next(line for line in out.splitlines() if " sandbox " in line)
    assert sandbox.startswith(("ok    sandbox     strong", "warn  sandbox     basic"))
    assert not (home / "data" / "pgdata" / "PG_VERSION").exists()  # doctor creates nothing


def test_doctor_checks_a_database_url_and_its_migrations(home, capsys, monkeypatch, db_url):
    monkeypatch.setenv("DATABASE_URL", db_url)
    code, out, _ = run(capsys, "doctor")
    assert code == 0, out
    assert "ok    database    PostgreSQL" in out
    assert "ok    migrations  schema current" in out


def test_doctor_names_a_migration_edited_after_it_was_applied(home, capsys, monkeypatch, db_url):
    monkeypatch.setenv("DATABASE_URL", db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        checksum = conn.execute(
            "select checksum from learn_meta.schema_migrations where version = '20261124000300'"
        ).fetchone()[0]
        conn.execute(
            "update learn_meta.schema_migrations set checksum = 'x'"
            " where version = '20261124000300'"
        )
        try:
            code, out, _ = run(capsys, "doctor")
        finally:
            conn.execute(
                "update learn_meta.schema_migrations set checksum = %s"
                " where version = '20261124000300'",
                (checksum,),
            )
    assert code == 0, out
    assert (
        "warn  migrations  Migration 20261124000300_progress.sql was edited after this"
        " database applied it"
    ) in out


def test_doctor_says_no_grader_has_been_seen_on_a_database_url(home, capsys, monkeypatch, db_url):
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("delete from private.grader_heartbeats")
    monkeypatch.setenv("DATABASE_URL", db_url)
    _code, out, _ = run(capsys, "doctor")
    assert "warn  grader      none seen yet — verified courses wait for one" in out


def test_doctor_says_when_a_grader_was_seen(home, capsys, monkeypatch, db_url):
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("set role learn_grader")
        conn.execute("select private.claim_grading_jobs('doctor-test', 1, 60)")
    monkeypatch.setenv("DATABASE_URL", db_url)
    _code, out, _ = run(capsys, "doctor")
    assert "ok    grader      seen " in out


def test_doctor_fails_on_an_unreachable_database(home, capsys, monkeypatch):
    monkeypatch.setenv(
        "DATABASE_URL", f"postgresql://u:hunter2@127.0.0.1:{free_port()}/x?connect_timeout=2"
    )
    code, out, _ = run(capsys, "doctor")
    assert code == 1
    assert "fail  database    can't connect" in out
    assert "hunter2" not in out


def test_doctor_checks_supabase_auth_api_and_session(on_supabase, capsys):
    code, out, _ = run(capsys, "doctor")
    assert code == 0, out
    assert "ok    backend     supabase" in out
    assert "ok    api key     a publishable key\n" in out
    assert "ok    auth        Supabase Auth reachable" in out
    assert "ok    database    API functions answer" in out
    assert " grader      " in out  # asked through grading_status()
    assert "could not be asked" not in out
    assert "warn  session     not signed in — run `learn login`" in out
    assert on_supabase.anon_key not in out


def test_doctor_fails_on_a_rejected_key(on_supabase, capsys, monkeypatch):
    monkeypatch.setenv("SUPABASE_PUBLISHABLE_KEY", "sb_publishable_not-this-projects-key")
    code, out, _ = run(capsys, "doctor")
    assert code == 1 and "fail  auth        the API key was rejected" in out


def test_doctor_warns_about_a_legacy_anon_key(home, api_legacy, capsys, monkeypatch):
    monkeypatch.setenv("SUPABASE_URL", api_legacy.url)
    monkeypatch.setenv("SUPABASE_ANON_KEY", api_legacy.client_key)
    code, out, _ = run(capsys, "doctor")
    assert code == 0, out
    assert "warn  api key     a legacy anon key (JWT): Supabase retires legacy keys" in out
    assert "ok    database    API functions answer" in out  # it still works
    assert api_legacy.client_key not in out


@pytest.mark.parametrize("which", ["secret", "service_role"])
def test_a_secret_key_in_the_settings_is_refused_in_one_line(
    home, api, api_legacy, capsys, monkeypatch, which
):
    key = api.service_role_key if which == "secret" else api_legacy.service_role_key
    monkeypatch.setenv("SUPABASE_URL", api.url)
    monkeypatch.setenv("SUPABASE_KEY", key)
    for command in ("doctor", "login"):
        code, out, err = (
            run(capsys, command, "--email", _email(), "--password-stdin", stdin=PASSWORD + "\n")
            if command == "login"
            else run(capsys, command)
        )
        assert code == 1 and out == ""
        assert err.count("\n") == 1 and "bypasses Row Level Security" in err
        assert key not in err


@pytest.fixture
def model_server():
    with OpenAIStandIn(models=["tiny-model"], api_key="right-key") as ai:
        yield ai.base_url


@pytest.mark.parametrize(
    ("key", "model", "expected", "code"),
    [
        ("right-key", "tiny-model", "ok    ai model    tiny-model at", 0),
        ("right-key", "huge-model", "fail  ai model    ", 1),
        ("wrong-key", "tiny-model", "rejected the API key", 1),
        ("right-key", None, "warn  ai model    ", 0),
    ],
)
def test_doctor_checks_the_ai_model(
    home, capsys, monkeypatch, model_server, key, model, expected, code
):
    monkeypatch.setenv("OPENAI_BASE_URL", model_server)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    if model:
        monkeypatch.setenv("LEARN_MODEL", model)
    got, out, _ = run(capsys, "doctor")
    line = next(x for x in out.splitlines() if "ai model" in x)
    assert expected in line and got == code
    assert key not in out


@pytest.mark.parametrize(
    ("models", "model", "expected"),
    [
        (["qwen2.5-coder", "llama3.2"], None, ("ok", "qwen2.5-coder on Ollama")),
        (["qwen2.5-coder", "llama3.2"], "llama3.2", ("ok", "llama3.2 on Ollama")),
        ([], None, ("warn", "has no models")),
    ],
)
def test_doctor_reports_the_ollama_the_tutor_would_use(models, model, expected):
    from services.config import Settings
    from services.doctor import _ai_check

    with OpenAIStandIn(ollama=True) as ollama:
        ollama.models = models
        check = asyncio.run(_ai_check(Settings(model=model), 2.0, ollama_url=ollama.url))
    assert (check.status, expected[1] in check.detail) == (expected[0], True)


def test_doctor_fails_when_the_model_server_is_down(home, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("LEARN_MODEL", "m")
    code, out, _ = run(capsys, "doctor")
    assert code == 1 and "fail  ai model" in out and "unreachable" in out


# -- login / logout ------------------------------------------------------------------------


def test_login_new_then_logout_on_supabase(on_supabase, capsys, home):
    email = _email()
    code, out, err = run(
        capsys,
        "login",
        "--new",
        "--email",
        email,
        "--name",
        "Cli User",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert code == 0, err
    assert out == f"Signed in as {email} (supabase ({on_supabase.url})).\n"
    session = home / "data" / "session.json"
    assert (session.stat().st_mode & 0o777) == 0o600
    code, out, _ = run(capsys, "doctor")
    assert f"ok    session     signed in as {email}" in out
    code, out, _ = run(capsys, "logout")
    assert (code, out) == (0, "Signed out.\n")
    assert not session.exists()
    code, out, _ = run(capsys, "logout")
    assert (code, out) == (0, "Not signed in.\n")


def test_logout_ends_this_machine_only_unless_everywhere(
    on_supabase, capsys, home, monkeypatch, tmp_path
):
    email = _email()
    run(capsys, "login", "--new", "--email", email, "--password-stdin", stdin=PASSWORD + "\n")
    other_home = tmp_path / "other-machine"
    monkeypatch.setenv("LEARN_HOME", str(other_home))
    assert run(capsys, "login", "--email", email, "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    monkeypatch.setenv("LEARN_HOME", str(home))
    assert run(capsys, "logout")[:2] == (0, "Signed out.\n")
    monkeypatch.setenv("LEARN_HOME", str(other_home))  # the other machine still is
    assert f"ok    session     signed in as {email}" in run(capsys, "doctor")[1]
    assert run(capsys, "logout", "--everywhere")[:2] == (0, "Signed out.\n")
    monkeypatch.setenv("LEARN_HOME", str(home))
    assert run(capsys, "logout")[:2] == (0, "Not signed in.\n")


def test_login_with_a_wrong_password_is_one_line(on_supabase, capsys):
    email = _email()
    run(capsys, "login", "--new", "--email", email, "--password-stdin", stdin=PASSWORD + "\n")
    code, _out, err = run(
        capsys, "login", "--email", email, "--password-stdin", stdin="wrong password\n"
    )
    assert code == 1
    assert err == "learn: Wrong email or password.\n"


def test_login_with_an_emailed_code(on_supabase, capsys, monkeypatch):
    email = _email()
    code_sent = {}

    real = SupabaseStandIn._otp

    def capture(self, address, params):
        reply = real(self, address, params)
        code_sent["code"] = self.sent_otps[address]
        return reply

    monkeypatch.setattr(SupabaseStandIn, "_otp", capture)

    class Stdin(io.StringIO):
        def readline(self, *a):
            return code_sent.get("code", "") + "\n"

    monkeypatch.setattr(sys, "stdin", Stdin())
    code = main(["login", "--otp", "--email", email, "--password-stdin"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"Signed in as {email}" in out


def test_local_accounts_work_with_login_too(home, capsys, monkeypatch, db_url):
    monkeypatch.setenv("DATABASE_URL", db_url)
    email = _email()
    code, out, err = run(
        capsys, "login", "--new", "--email", email, "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 0, err
    assert out.startswith(f"Signed in as {email} (local (postgresql://")
    code, out, _ = run(capsys, "logout")
    assert out == "Signed out.\n"
    code, out, err = run(
        capsys, "login", "--email", email, "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 0, err


def test_plain_learn_gets_what_the_parser_would_give_it():
    from tui.cli import APP_DEFAULTS, build_parser

    assert vars(build_parser().parse_args([])) == vars(APP_DEFAULTS)


def test_learn_runs_its_app_with_the_collector_on_and_textual_frozen(home, monkeypatch):
    import gc

    from tui import app as app_module
    from tui.cli import APP_DEFAULTS, run_app

    seen = {}

    def run(self, **_kwargs):
        seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())

    monkeypatch.setattr(app_module.LearnApp, "run", run)
    monkeypatch.setattr(app_module.LearnApp, "return_code", 0)
    frozen_before = gc.get_freeze_count()
    try:
        assert run_app(APP_DEFAULTS) == 0
    finally:
        gc.unfreeze()  # the rest of the test run collects as usual
    assert seen["enabled"] is True
    assert seen["frozen"] > frozen_before
