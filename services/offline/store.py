"""SQLite files that every `learn` process shares: the offline queue and the read cache.

    SharedFile(path, schema=..., what="offline queue")
        .read(fn)               fn(conn) under this process's lock
        .write(fn, durable=)    fn(conn) in BEGIN IMMEDIATE … COMMIT (synchronous FULL, or
                                NORMAL when durable=False)
        .close()

Rules that keep several processes (app windows, `learn sync`, `learn doctor`, …) safe:

- One connection per file per process. SQLite's locks are POSIX advisory locks, and on
  Linux closing ANY descriptor of a file drops every such lock the process holds on it.
  So this module never opens a second handle of a file it has open: every SharedFile
  of one path in a process shares one connection (reference counted), and the file is
  created with os.open only while this process has no connection to it.
- WAL, busy_timeout, BEGIN IMMEDIATE for writes (a writer waits for the lock instead of
  failing on upgrade), synchronous=FULL unless the caller says a write may be lost in
  a power cut.
- Damage is detected at open (`pragma quick_check`) and on any "malformed" / "not a
  database" error later: the file, with its -wal and -shm, is renamed aside as
  `<name>.damaged-<UTC timestamp>` (never deleted), a fresh file takes its place, and
  one line says what happened and where the old file is (take_notices()). A `salvage`
  callback may copy what is still readable from the old file into the new one.
- Before each use the connection checks that the path still names the file it has open
  (another process may have moved a damaged file aside); if not, it reopens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from services.errors import LocalStorageError

try:  # POSIX; elsewhere movers are not serialised between processes
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("learn.storage")

T = TypeVar("T")
Salvage = Callable[[sqlite3.Connection, Path], int]

BUSY_TIMEOUT_MS = 30_000
_DAMAGE = (
    "malformed",
    "not a database",
    "file is encrypted",
    "disk image",
    "database corrupt",
    "out of order",
)

_registry: dict[str, _Handle] = {}
_registry_lock = threading.Lock()
_notices: list[str] = []
_notices_lock = threading.Lock()


def take_notices() -> list[str]:
    """The one-line notices (damaged files moved aside) since the last call."""
    with _notices_lock:
        taken = list(_notices)
        _notices.clear()
    return taken


def _notice(line: str) -> None:
    log.warning("%s", line)
    with _notices_lock:
        _notices.append(line)


def is_damage(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.DatabaseError) and any(
        word in str(exc).lower() for word in _DAMAGE
    )


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


@contextlib.contextmanager
def _movers_lock(path: Path):
    """Only one process at a time decides whether a file is damaged and moves it."""
    if fcntl is None:
        yield
        return
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # a lock file SQLite never opens: closing it drops no SQLite lock


class _Handle:
    """The process's one connection to one file."""

    def __init__(self, path: Path, schema: str, what: str, salvage: Salvage | None):
        self.path = path
        self.schema = schema
        self.what = what
        self.salvage = salvage
        self.lock = threading.RLock()
        self.refs = 0
        self.conn: sqlite3.Connection | None = None
        self.inode: tuple[int, int] | None = None
        self._open()

    # -- opening ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            # Safe: this process has no connection to this file (the registry).
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("pragma journal_mode = wal")
            conn.execute("pragma synchronous = full")
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _healthy(conn: sqlite3.Connection) -> bool:
        try:
            rows = conn.execute("pragma quick_check").fetchall()
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                return False
            raise
        return [tuple(r) for r in rows] == [("ok",)]

    def _open(self) -> None:
        try:
            try:
                conn = self._connect()
                if not self._healthy(conn):
                    conn.close()
                    conn = self._replace_damaged()
            except sqlite3.DatabaseError as exc:
                if not is_damage(exc):
                    raise
                conn = self._replace_damaged()
            self._finish_open(conn)
        except (sqlite3.Error, OSError) as exc:
            raise LocalStorageError(
                f"Could not open the {self.what} ({self.path}): {exc}."
            ) from exc

    def _finish_open(self, conn: sqlite3.Connection) -> None:
        conn.executescript(self.schema)
        self.conn = conn
        self.inode = _inode(self.path)

    def _replace_damaged(self) -> sqlite3.Connection:
        """Move the damaged file aside (unless another process already did) and open a
        fresh one. Called with no connection of ours open on the damaged file."""
        with _movers_lock(self.path):
            # Another process may have moved it and made a fresh file meanwhile.
            conn = None
            try:
                conn = self._connect()
                if self._healthy(conn):
                    return conn
            except sqlite3.DatabaseError:
                pass
            if conn is not None:
                conn.close()
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
            n = 1
            while aside.exists():
                n += 1
                aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{n}")
            for suffix in ("", "-wal", "-shm"):
                source = Path(f"{self.path}{suffix}")
                if source.exists():
                    os.replace(source, f"{aside}{suffix}")
            conn = self._connect()
        conn.executescript(self.schema)
        recovered = 0
        if self.salvage is not None:
            try:
                recovered = self.salvage(conn, aside)
            except Exception as exc:
                log.warning("salvaging %s failed: %s", aside, exc)
        more = f"; {recovered} entries recovered from it" if recovered else ""
        _notice(f"The {self.what} was damaged: moved it to {aside} and started a fresh one{more}.")
        return conn

    # -- using -----------------------------------------------------------------------

    def check_same_file(self) -> None:
        """Reopen if the path no longer names our file (moved aside by another process,
        or deleted). Call with self.lock held."""
        if _inode(self.path) == self.inode and self.conn is not None:
            return
        old, self.conn = self.conn, None
        if old is not None:
            _close_stale(old)
        self._open()

    def recover(self) -> None:
        """Our file turned out damaged while in use: move it aside, open a fresh one."""
        old, self.conn = self.conn, None
        if old is not None:
            with contextlib.suppress(sqlite3.Error):
                old.close()
        self._finish_open(self._replace_damaged())

    def close(self) -> None:
        if self.conn is not None:
            _close_stale(self.conn)
            self.conn = None


def _close_stale(conn: sqlite3.Connection) -> None:
    """Close a connection whose file was renamed away (or deleted) by another process.
    Closing the last connection of a file normally makes SQLite checkpoint and delete
    `<path>-wal` and `<path>-shm` BY NAME — now the fresh file's. SQLite skips that when
    the database file has moved (pager.c, databaseIsUnmoved); the test
    test_a_queue_moved_aside_by_another_process_is_left_without_harming_the_new_one
    holds it to that."""
    with contextlib.suppress(sqlite3.Error):
        conn.close()


class SharedFile:
    """A SQLite file this process shares with every other `learn` process (see top)."""

    def __init__(self, path: Path, *, schema: str, what: str, salvage: Salvage | None = None):
        self.path = Path(path)
        key = os.path.realpath(self.path)
        with _registry_lock:
            handle = _registry.get(key)
            if handle is None:
                handle = _Handle(self.path, schema, what, salvage)
                _registry[key] = handle
            handle.refs += 1
        self._key = key
        self._handle: _Handle | None = handle
        self.read(lambda db: db.executescript(schema))  # a no-op unless the file is new

    @property
    def _h(self) -> _Handle:
        if self._handle is None:
            raise LocalStorageError(f"The {self.path.name} file is closed.")
        return self._handle

    def _run(self, fn: Callable[[sqlite3.Connection], T], write: bool, durable: bool) -> T:
        handle = self._h
        with handle.lock:
            for attempt in (1, 2):
                try:
                    handle.check_same_file()
                    conn = handle.conn
                    assert conn is not None
                    if not write:
                        return fn(conn)
                    return _transaction(conn, fn, durable)
                except sqlite3.DatabaseError as exc:
                    if is_damage(exc) and attempt == 1:
                        log.warning("%s damaged while in use: %s", handle.path, exc)
                        handle.recover()
                        continue
                    raise LocalStorageError(
                        f"Could not use the {handle.what} ({handle.path}): {exc}."
                    ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return self._run(fn, write=False, durable=True)

    def write(self, fn: Callable[[sqlite3.Connection], T], *, durable: bool = True) -> T:
        return self._run(fn, write=True, durable=durable)

    def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        with _registry_lock:
            handle.refs -= 1
            if handle.refs > 0:
                return
            _registry.pop(self._key, None)
        with handle.lock:
            handle.close()


def _transaction(
    conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T], durable: bool
) -> T:
    if not durable:
        conn.execute("pragma synchronous = normal")
    try:
        conn.execute("begin immediate")
        try:
            result = fn(conn)
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("rollback")
            raise
        conn.execute("commit")
        return result
    finally:
        if not durable:
            conn.execute("pragma synchronous = full")


def open_files() -> int:
    """How many files this process has open here (tests)."""
    with _registry_lock:
        return len(_registry)
