"""The read cache: results of screen-shaped reads, kept per backend and learner, so
screens open offline ("as of <when it was fetched>").

    CACHED_READS            the reads that are cached (every other call is not)
    ReadCache(path)         .get / .put / .count / .clear by (scope, fn, arguments);
                            .remember_user / .remembered_user / .forget_user: the learner
                            last signed in on a backend, to carry on offline as them
    CachedRead              a result and when it was fetched

The file is disposable (paths.cache_dir()), SQLite shared by every process
(services.offline.store), mode 0600.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from services import paths
from services.data.backend import CurrentUser
from services.offline.basics import canonical_json, iso, utcnow
from services.offline.store import SharedFile

# Screen-shaped reads whose results are cached per user.
CACHED_READS = frozenset(
    {
        "catalog",
        "course_detail",
        "lesson_detail",
        "assessment_detail",
        "dashboard",
        "my_profile",
        "notifications_list",
        "chat_history_for",
        "search_lessons",
        "navigation",
        "review_queue",
        "review_summary",
        "review_card",
    }
)


@dataclass(frozen=True)
class CachedRead:
    result: Any
    fetched_at: datetime


class ReadCache:
    """Results of read RPCs by (scope, fn, canonical JSON of the arguments).

    `scope` is the backend's namespace and the user id (or "anon"), so one learner
    never sees another's cached data, and two backends never mix."""

    SCHEMA = """
        create table if not exists reads (
          scope text not null, fn text not null, args text not null,
          result text not null, fetched_at text not null,
          primary key (scope, fn, args)) without rowid;
        create table if not exists meta (key text primary key, value text not null);
    """

    def __init__(self, path: Path | None = None):
        self.path = path or paths.cache_dir() / "reads.sqlite3"
        self._file = SharedFile(self.path, schema=self.SCHEMA, what="read cache")

    def _one(self, sql: str, params: tuple = ()) -> sqlite3.Row | None:
        return self._file.read(lambda db: db.execute(sql, params).fetchone())

    def _run(self, sql: str, params: tuple = ()) -> None:
        # A cache: a write lost in a power cut only means a fetch again.
        self._file.write(lambda db: db.execute(sql, params), durable=False)

    def get(self, scope: str, fn: str, args: dict[str, Any]) -> CachedRead | None:
        row = self._one(
            "select result, fetched_at from reads where scope = ? and fn = ? and args = ?",
            (scope, fn, canonical_json(args)),
        )
        if row is None:
            return None
        return CachedRead(json.loads(row["result"]), datetime.fromisoformat(row["fetched_at"]))

    def put(
        self,
        scope: str,
        fn: str,
        args: dict[str, Any],
        result: Any,
        fetched_at: datetime | None = None,
    ) -> None:
        self._run(
            "insert into reads (scope, fn, args, result, fetched_at) values (?, ?, ?, ?, ?)"
            " on conflict (scope, fn, args) do update set result = excluded.result,"
            " fetched_at = excluded.fetched_at",
            (scope, fn, canonical_json(args), canonical_json(result), iso(fetched_at or utcnow())),
        )

    def count(self, scope: str | None = None) -> int:
        if scope is None:
            row = self._one("select count(*) from reads")
        else:
            row = self._one("select count(*) from reads where scope = ?", (scope,))
        return row[0] if row else 0

    def clear(self, scope: str | None = None) -> None:
        if scope is None:
            self._run("delete from reads")
        else:
            self._run("delete from reads where scope = ?", (scope,))

    def get_meta(self, key: str) -> str | None:
        row = self._one("select value from meta where key = ?", (key,))
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        if value is None:
            self._run("delete from meta where key = ?", (key,))
        else:
            self._run(
                "insert into meta values (?, ?) on conflict (key) do update"
                " set value = excluded.value",
                (key, value),
            )

    # -- the learner last signed in on a backend ----------------------------------

    @staticmethod
    def _user_key(namespace: str) -> str:
        return f"user:{namespace}"

    def remember_user(self, namespace: str, user: CurrentUser) -> None:
        """Note who is signed in on `namespace` (written only when it changed)."""
        value = json.dumps({"id": user.id, "email": user.email})
        if self.get_meta(self._user_key(namespace)) != value:
            self.set_meta(self._user_key(namespace), value)

    def remembered_user(self, namespace: str) -> CurrentUser | None:
        raw = self.get_meta(self._user_key(namespace))
        try:
            data = json.loads(raw) if raw else None
            return CurrentUser(data["id"], data.get("email")) if data else None
        except (ValueError, KeyError, TypeError):
            return None

    def forget_user(self, namespace: str) -> None:
        self.set_meta(self._user_key(namespace), None)

    def close(self) -> None:
        self._file.close()
