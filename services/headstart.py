"""Head start: the home screen's data fetched by a helper process while the TUI loads.

`learn` spends its first ~300 ms importing Textual and painting the first frame, on one
core. The database driver and the start-up checks cost another ~150 ms of Python, which
a second thread could not overlap (the GIL). So when the embedded database already
runs, `learn` first starts this module's main(PGDATA, SESSION_FILE) in a new interpreter;
on the other core it attaches to the server (taking no handle: it neither starts nor keeps the
server), checks that the schema and the bundled courses are current and that the saved
learner still exists, and fetches that learner's dashboard through LocalBackend's own
call path (same role, claims and RLS as every call). It prints one JSON line:

    {"url": …, "user": {"id": …, "email": …}, "answers": {"dashboard": {…}}}
    {"skip": "why"}

LocalBackend.connect() takes the answer: it does not repeat the checks, and answers the
first `dashboard` call with the fetched data; its own connection (and its handle on the
server) opens when first needed, or in the background once the screen is up
(`LocalBackend.warm`). Whatever goes wrong — no server, a pending migration, no saved
learner, an error, a helper slower than TIMEOUT — the helper says "skip" (or is killed)
and the app starts the usual way, so the head start can only save time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# `learn` imports this before Textual, so asyncio (which comes with Textual anyway) is
# imported where it is used: the helper starts ~30 ms sooner.

# Past this the usual start is no slower than waiting for a helper that is stuck.
TIMEOUT = 3.0

# Not `python -m services.headstart`: that puts the working directory first on the path,
# and a `services` (or `json`…) there would be imported instead. `-c` puts it first too:
# it is replaced by the folder holding our packages.
_MAIN = (f"import sys; sys.path[0] = {str(Path(__file__).resolve().parents[1])!r}; "
         "from services.headstart import main; sys.exit(main(sys.argv[1:]))")


@dataclass(frozen=True)
class Ready:
    """What the helper found: the server's URL, the signed-in learner, fetched answers."""

    url: str
    user: dict[str, Any]
    answers: dict[str, Any]


class HeadStart:
    """The running helper; `await result()` gives Ready, or None to start as usual."""

    def __init__(self, process: subprocess.Popen[bytes]):
        self._process = process

    async def result(self) -> Ready | None:
        import asyncio

        return await asyncio.to_thread(self._wait)

    def _wait(self) -> Ready | None:
        try:
            out, _ = self._process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.communicate()
            return None
        try:
            found = json.loads(out.decode("utf-8").strip().splitlines()[-1])
            return Ready(str(found["url"]), dict(found["user"]), dict(found["answers"]))
        except (ValueError, KeyError, IndexError, TypeError):    # "skip", or it failed
            return None

    def cancel(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.communicate()


def launch(pgdata: Path, session_path: Path) -> HeadStart | None:
    """Start the helper if it can help: only when the embedded server already runs
    (a cold start waits for the server either way), a learner is remembered and there
    is a second core for it."""
    if not (pgdata / "postmaster.pid").exists() or not session_path.exists():
        return None
    if _cores() < 2:        # on one core it would only take time from the first frame
        return None
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", _MAIN, str(pgdata), str(session_path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        return None
    return HeadStart(process)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:          # not on Linux
        return os.cpu_count() or 1


async def fetch(pgdata: Path, session_path: Path) -> dict[str, Any]:
    """The helper's work (see the module docstring)."""
    from services import database, seed
    from services.backend import LocalBackend

    url = database.EmbeddedPostgres(pgdata).running_url()
    if url is None:
        return {"skip": "the local database is not running"}
    with database.connect(url) as conn:
        if not database.is_current(conn) or not seed.is_current(conn):
            return {"skip": "the local database has migrations or courses to load"}
    backend = LocalBackend(pgdata=pgdata, session_path=session_path, attach_only=True)
    try:
        await backend.connect()
        user = backend.current_user
        if user is None:
            return {"skip": "nobody is signed in"}
        dashboard = await backend.call("dashboard")
    finally:
        await backend.close()
    return {"url": url, "user": {"id": user.id, "email": user.email},
            "answers": {"dashboard": dashboard}}


def main(argv: list[str]) -> int:
    import asyncio

    try:
        found = asyncio.run(fetch(Path(argv[0]), Path(argv[1])))
    except Exception as exc:    # the app then starts the usual way, and reports errors
        found = {"skip": type(exc).__name__}
    print(json.dumps(found, separators=(",", ":")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
