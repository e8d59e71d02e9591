"""Head start: the home screen's data fetched while the TUI loads.

`learn` spends its first ~300 ms importing Textual and painting the first frame, on one
core; only then would it import the database driver and check the database (another
~150 ms of Python that a second thread could not overlap: the GIL). So when the
embedded database already runs and a learner is remembered, `learn` first starts one
`psql` (PostgreSQL's own client, shipped with the embedded server): a C process that
costs a few milliseconds of CPU and has its answer ready long before the first frame.

Its script (SCRIPT), in one transaction as the database owner, runs the checks the usual
start runs (services.data.startup.CHECKS: every migration and the local compat SQL
recorded, the bundled courses as they are now loaded, the remembered learner still
there) and then becomes that
learner exactly as LocalBackend.call does (postgrest.REQUEST_SETTINGS_SQL: role,
claims, path; so RLS applies as to every call) and selects `public.dashboard()`. It
prints the dashboard's JSON, or nothing when a check fails. Values reach the script as
psql variables (from the environment, not the command line), interpolated as quoted
literals (`:'name'`), never pasted into SQL.

LocalBackend.connect() takes the answer: it does not repeat the checks, and answers the
first `dashboard` call with it; its own connection (and its handle on the server) opens
when first needed, or in the background once the screen is up (`LocalBackend.warm`).
Whatever goes wrong — no server, a pending migration, changed courses, no learner, an
error, psql slower than TIMEOUT — there is no answer and the app starts the usual way,
so the head start can only save time.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from services.data import postgrest, startup
from services.data.session import SessionStore, embedded_namespace

# Past this the usual start is no slower than waiting for a helper that is stuck.
TIMEOUT = 3.0

# The transaction's settings as LocalBackend.call makes them, with psql's variables.
_SETTINGS = postgrest.REQUEST_SETTINGS_SQL % {
    "role": ":'role'",
    "claims": ":'claims'",
    "path": ":'path'",
}

# The values, from the environment (LEARN_HEADSTART_<NAME>): not on psql's command line,
# where any local user could read them.
NAMES = (*startup.value_names(), "role", "claims", "path")

# The start-up checks are services.data.startup.CHECKS, the ones the usual start runs.
SCRIPT = (
    "\\set ON_ERROR_STOP on\n"
    + "".join(f"\\getenv {name} LEARN_HEADSTART_{name.upper()}\n" for name in NAMES)
    + f"""
begin;
{startup.all_pass_sql(psql=True)}
\\gset
\\if :current
{_SETTINGS} \\gset
select to_json(public.dashboard());
\\endif
commit;
"""
)


@dataclass(frozen=True)
class Ready:
    """What the head start found: the server's URL, the learner, fetched answers."""

    url: str
    user: tuple[str, str | None]  # (id, email)
    answers: dict[str, Any]


class HeadStart:
    """The running psql; `await result()` gives Ready, or None to start as usual."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, user: tuple[str, str | None]):
        self._process = process
        self._url = url
        self._user = user

    async def result(self) -> Ready | None:
        if self._process.poll() is not None:  # psql has finished: no trip through a thread
            return self._wait()
        import asyncio  # not at the top: `learn` imports this module before Textual

        return await asyncio.to_thread(self._wait)

    def _wait(self) -> Ready | None:
        try:
            out, _ = self._process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.communicate()
            return None
        if self._process.returncode != 0 or not out.strip():
            return None
        try:
            dashboard = json.loads(out)
        except ValueError:
            return None
        return Ready(self._url, self._user, {"dashboard": dashboard})

    def cancel(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.communicate()


def launch(pgdata: Path, session_path: Path) -> HeadStart | None:
    """Start psql if it can help: only when the embedded server already runs (a cold
    start waits for the server either way) and a learner is remembered."""
    from services.data import database

    url = database.EmbeddedPostgres(pgdata).running_url()
    psql = _psql()
    user = SessionStore(session_path).local_user(embedded_namespace(pgdata))
    if url is None or psql is None or user is None:
        return None
    user_id, email = user
    variables = {
        **startup.values(user_id),
        **postgrest.request_params(postgrest.claims(user_id, email=email), "/rpc/dashboard"),
    }
    env = {
        **os.environ,
        "PGCONNECT_TIMEOUT": "2",
        **{f"LEARN_HEADSTART_{name.upper()}": variables[name] for name in NAMES},
    }
    try:
        process = subprocess.Popen(
            [
                str(psql),
                "--no-psqlrc",
                "--quiet",
                "--no-align",
                "--tuples-only",
                "--dbname",
                url,
                "--file",
                "-",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    except OSError:
        return None
    head = HeadStart(process, url, user)
    stdin, process.stdin = process.stdin, None  # written now; communicate() only reads
    assert stdin is not None  # stdin=PIPE
    try:
        stdin.write(SCRIPT.encode())  # far below a pipe's buffer
        stdin.close()
    except OSError:  # psql is gone already
        head.cancel()
        return None
    return head


def _psql() -> Path | None:
    """The psql that comes with the embedded server (found without importing it)."""
    spec = find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    name = "psql.exe" if os.name == "nt" else "psql"
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name
    return path if path.exists() else None
