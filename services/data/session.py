"""The session file: one JSON object per backend, mode 0600, written atomically.

Its own module so that `learn` can read the remembered learner before it imports
anything heavy (services.data.headstart). `file_session_storage` is supabase-py's storage
interface over it (SupabaseBackend's session)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from services import paths

log = logging.getLogger("learn.backend")

# Where a local backend keeps its learner: {"id", "email"} as JSON, under this key.
LOCAL_USER_KEY = "user"


def embedded_namespace(pgdata: Path) -> str:
    """The session namespace of the local backend on the embedded database in `pgdata`."""
    return f"local:{pgdata}"


class SessionStore:
    """`{namespace: {key: value}}` in paths.session_file().

    Each backend (the local database, each Supabase project) keeps its own
    namespace, so switching between them never mixes sessions."""

    def __init__(self, path: Path | None = None):
        self._path = path

    @property
    def path(self) -> Path:
        return self._path or paths.session_file()

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning("ignoring an unreadable session file %s", self.path)
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, dict[str, str]]) -> None:
        path = self.path
        if not data:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".session-", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def _locked(self):
        """Hold the file's lock across a read-modify-write: several processes (two app
        windows, `learn login` beside the app) share the file, and each write replaces it
        whole, so without the lock one process's change could undo another's."""
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def get(self, namespace: str, key: str) -> str | None:
        value = self._read().get(namespace, {}).get(key)
        return value if isinstance(value, str) else None

    def set(self, namespace: str, key: str, value: str) -> None:
        with self._locked():
            data = self._read()
            data.setdefault(namespace, {})[key] = value
            self._write(data)

    def remove(self, namespace: str, key: str | None = None, *, only_if: str | None = None) -> bool:
        """Remove a key (or the namespace); with `only_if`, only while the key still
        holds that value (another process may have replaced it). True if removed."""
        with self._locked():
            data = self._read()
            if namespace not in data:
                return False
            if key is None:
                del data[namespace]
            else:
                if only_if is not None and data[namespace].get(key) != only_if:
                    return False
                if data[namespace].pop(key, None) is None:
                    return False
                if not data[namespace]:
                    del data[namespace]
            self._write(data)
            return True

    def local_user(self, namespace: str) -> tuple[str, str | None] | None:
        """(id, email) of the learner a local backend remembers here; None when there
        is none or the record is unreadable."""
        raw = self.get(namespace, LOCAL_USER_KEY)
        try:
            found: Any = json.loads(raw) if raw else None
            return str(uuid.UUID(found["id"])), found.get("email")
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def remember_local_user(self, namespace: str, user_id: str, email: str | None) -> None:
        self.set(namespace, LOCAL_USER_KEY, json.dumps({"id": user_id, "email": email}))


_storage_class: type | None = None


def file_session_storage(store: SessionStore, namespace: str):
    """supabase-py's storage interface over the session file (class made on first use)."""
    global _storage_class
    if _storage_class is None:
        from supabase_auth import AsyncSupportedStorage

        class FileSessionStorage(AsyncSupportedStorage):
            """Reads the file on every get (supabase-py asks before each use, so a
            session another process refreshed is picked up), and removes only a value
            this process has seen: a process that lost a refresh race, or signs out,
            never deletes the newer session another process has just written."""

            def __init__(self, store: SessionStore, namespace: str):
                self.store, self.namespace = store, namespace
                self.seen: dict[str, str | None] = {}

            async def get_item(self, key: str) -> str | None:
                value = self.store.get(self.namespace, key)
                self.seen[key] = value
                return value

            async def set_item(self, key: str, value: str) -> None:
                self.store.set(self.namespace, key, value)
                self.seen[key] = value

            async def remove_item(self, key: str) -> None:
                seen = self.seen.pop(key, None)
                if seen is not None:
                    self.store.remove(self.namespace, key, only_if=seen)

        _storage_class = FileSessionStorage
    return _storage_class(store, namespace)
