"""One API over two backends: the embedded (or any) PostgreSQL, or a Supabase project.

Every data operation is `await backend.call(fn, **args)`: one call of the SQL
function `public.<fn>` with named arguments, returning its JSON. Both backends run
it as PostgREST does — one transaction, role `anon` or `authenticated`,
`request.jwt.claims` of the signed-in user — so RLS and `auth.uid()` decide the
same things, and failures arrive as the same `LearnError` kinds (services.errors).

    LocalBackend     psycopg (async) to the embedded PostgreSQL or DATABASE_URL;
                     accounts in auth.users (scrypt passwords, email optional).
    SupabaseBackend  supabase-py: client.rpc(); GoTrue sign-up/in, email codes;
                     the session saved 0600 in the data dir and refreshed.

Arguments are sent as JSON and cast to the function's declared argument types, as
PostgREST does (`json_to_record`), so `["a", "b"]` can fill a text[] or uuid[].
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from services import errors
from services.data import postgrest
from services.data.live import LiveEvent
from services.data.session import SessionStore, embedded_namespace
from services.errors import (
    AuthError,
    ConfigError,
    Conflict,
    InvalidInput,
    LearnError,
    NotFound,
    NotSignedIn,
    Offline,
    ServerError,
)
from services.text import terminal_safe

if TYPE_CHECKING:
    import httpx
    from psycopg import AsyncConnection
    from realtime import AsyncRealtimeChannel
    from supabase_auth.types import SignInWithEmailAndPasswordCredentials, VerifyEmailOtpParams

    from services.config import Settings
    from services.data.database import EmbeddedPostgres
    from services.data.headstart import HeadStart
    from supabase import AsyncClient

log = logging.getLogger("learn.backend")

Progress = Callable[[str], None]

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_identifier(name: str, what: str = "name") -> str:
    if not isinstance(name, str) or not _IDENT.match(name):
        raise InvalidInput(f"{what} {name!r} is not a valid SQL identifier.")
    return name


def _check_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 255:
        raise InvalidInput("That email address is not valid.", code="email_address_invalid")
    return email


@dataclass(frozen=True)
class CurrentUser:
    id: str
    email: str | None = None


@runtime_checkable
class Backend(Protocol):
    """What every screen and command talks to (through services.data.api.LearningAPI)."""

    kind: str  # "local" or "supabase"

    @property
    def current_user(self) -> CurrentUser | None: ...

    async def connect(self) -> None:
        """Open connections and restore the saved session (call() does it lazily)."""

    async def call(self, fn: str, **args: Any) -> Any:
        """`public.<fn>(arg := value, …)` as the signed-in user (anon if none) → JSON.

        Raises a LearnError. (A function returning void gives None locally but [] through
        PostgREST's 204; the API's functions all return jsonb.)"""

    async def sign_up(
        self, email: str | None, password: str | None, *, full_name: str | None = None, **meta: Any
    ) -> CurrentUser | None:
        """Create an account (the signup trigger makes the profile) and sign in.

        Returns None when the server wants the email confirmed first."""

    async def sign_in(self, email: str, password: str) -> CurrentUser: ...

    async def sign_in_with_otp(self, email: str) -> None:
        """Email a one-time code (Supabase)."""

    async def verify_otp(self, email: str, token: str) -> CurrentUser: ...

    async def reset_password(self, email: str) -> None: ...

    async def sign_in_with_provider(
        self, provider: str, open_url: Callable[[str], Any], *, timeout: float = 300.0
    ) -> CurrentUser:
        """Sign in with an OAuth provider (Supabase): PKCE through the browser, the code
        received on a loopback redirect (services.data.oauth). `open_url(url)` shows the
        person where to go (opens a browser, prints it); it may be async."""

    async def watch_notifications(self, on_event: Callable[[Any], None]) -> Any:
        """Start the live feed of the signed-in learner's new notifications
        (services.data.live: `on_event(LiveEvent)`); returns a Watch to stop() it."""

    async def sign_out(self, *, everywhere: bool = False) -> None:
        """Forget this machine's session (`everywhere`: revoke all the learner's sessions
        on the server too, where the backend has a server)."""

    async def close(self) -> None: ...


# ---------------------------------------------------------------------------
# How PostgREST calls a function: look it up, cast JSON args to its types.
# ---------------------------------------------------------------------------

FUNCTION_LOOKUP_SQL = """
select p.proname as name,
       p.pronargs as nargs,
       p.pronargdefaults as ndefaults,
       p.proretset as returns_set,
       t.typname = 'void' as returns_void,
       (t.typtype = 'c' or t.oid = 'record'::regtype) as returns_row,
       coalesce(p.proargnames, '{}') as argnames,
       coalesce(p.proargmodes::text[], '{}') as argmodes,
       array(select format_type(a, null) from unnest(p.proargtypes) a) as argtypes
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
join pg_catalog.pg_type t on t.oid = p.prorettype
where n.nspname = %s and p.proname = %s and p.prokind = 'f'
"""


@dataclass(frozen=True)
class Signature:
    schema: str
    name: str
    args: tuple[tuple[str, str], ...]  # (name, type) of the input arguments, in order
    required: frozenset[str]
    returns_set: bool
    returns_void: bool
    returns_row: bool

    @classmethod
    def from_row(cls, schema: str, row: dict[str, Any]) -> Signature:
        names, modes = list(row["argnames"]), list(row["argmodes"])
        if modes:  # OUT/TABLE arguments are listed in argnames but not in argtypes
            names = [n for n, m in zip(names, modes, strict=False) if m in ("i", "b", "v")]
        names = (names + [""] * row["nargs"])[: row["nargs"]]
        args = tuple(zip(names, row["argtypes"], strict=True))
        n_required = row["nargs"] - row["ndefaults"]
        return cls(
            schema,
            row["name"],
            args,
            frozenset(n for n, _ in args[:n_required]),
            row["returns_set"],
            row["returns_void"],
            row["returns_row"],
        )

    def accepts(self, given: set[str]) -> bool:
        names = {n for n, _ in self.args}
        return all(names) and given <= names and self.required <= given


def choose_signature(
    schema: str, fn: str, rows: list[dict[str, Any]], given: set[str]
) -> Signature:
    """The one overload PostgREST would call, or NotFound / ServerError like PGRST202/203."""
    candidates = [s for s in (Signature.from_row(schema, r) for r in rows) if s.accepts(given)]
    if not candidates:
        listed = ", ".join(sorted(given))
        raise NotFound(
            f"The server has no function {schema}.{fn}({listed}): the database may "
            "need the latest migrations — run `learn doctor`.",
            code="PGRST202",
        )
    if len(candidates) > 1:
        raise ServerError(
            f"Several functions {schema}.{fn} match these arguments; the migrations need fixing.",
            code="PGRST203",
        )
    return candidates[0]


def call_statement(sig: Signature, given: list[str]) -> tuple[Any, bool]:
    """(SQL taking one JSON parameter with the arguments, True if it returns nothing)."""
    from psycopg import sql

    types = dict(sig.args)
    named = sql.SQL(", ").join(
        sql.SQL("{} := _a.{}").format(sql.Identifier(n), sql.Identifier(n)) for n in given
    )
    call = sql.SQL("{}.{}({})").format(sql.Identifier(sig.schema), sql.Identifier(sig.name), named)
    if given:
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(types[n])) for n in given
        )
        source: sql.Composable = sql.SQL(" from json_to_record(%s::json) as _a({})").format(columns)
    else:
        source = sql.SQL(" from (select %s::json) as _a")
    if sig.returns_set:
        query = sql.SQL(
            "select coalesce(json_agg(_s._v), '[]'::json) from (select {} as _v{}) as _s"
        ).format(call, source)
    elif sig.returns_void:
        query = sql.SQL("select {}{}").format(call, source)
    else:
        query = sql.SQL("select to_json({}){}").format(call, source)
    return query, sig.returns_void


# ---------------------------------------------------------------------------
# Local: PostgreSQL through psycopg.
# ---------------------------------------------------------------------------


class LocalBackend:
    """The embedded PostgreSQL (default) or any PostgreSQL URL.

    One connection, one call at a time; each call is one transaction run exactly as
    PostgREST runs a request (services.data.postgrest). Accounts live in auth.users and
    are created by this (owner) connection, so the signup trigger runs as on Supabase.

    `url=None` is the embedded server in the data dir, created on first use; then
    (and for any URL unless `migrate=False`) pending migrations are applied, with
    `progress(message)` told what happens. `seed(url, progress)`, if given, runs after
    the migrations on every start (services.data.seed.seed_bundled loads the bundled
    courses only when they changed, so it is cheap when they did not).
    """

    kind = "local"

    def __init__(
        self,
        url: str | None = None,
        *,
        progress: Progress | None = None,
        migrate: bool = True,
        session_path: Path | None = None,
        pgdata: Path | None = None,
        seed: Callable[[str, Progress | None], None] | None = None,
        head_start: HeadStart | None = None,
        in_process_grader: bool | None = None,
    ):
        """`head_start` (services.data.headstart): a psql already checking the database and
        fetching the dashboard, whose answer connect() takes."""
        self._url = url
        self._seed = seed
        self._progress = progress
        self._migrate = migrate
        self._pgdata = pgdata
        self._server: EmbeddedPostgres | None = None
        self._conn: AsyncConnection[Any] | None = None
        self._lock = asyncio.Lock()
        self._connect_lock = asyncio.Lock()
        self._signatures: dict[str, list[dict[str, Any]]] = {}
        self._sessions = SessionStore(session_path)
        self._user: CurrentUser | None = None
        self._connected = False
        self._head_start = head_start
        # Grade verified submissions in this process (the app does): by default only on
        # the embedded database; a DATABASE_URL may be shared, and has `learn grader`.
        self._in_process_grader = url is None if in_process_grader is None else in_process_grader
        self._answers: dict[str, Any] = {}  # fetched by the head start, given once
        # One line each, for the person at start (the app shows them as toasts).
        self.start_warnings: list[str] = []

    # -- connection ----------------------------------------------------------

    @property
    def current_user(self) -> CurrentUser | None:
        return self._user

    @property
    def namespace(self) -> str:
        if self._url is None:
            from services.data.database import EmbeddedPostgres

            return embedded_namespace(EmbeddedPostgres(self._pgdata).pgdata)
        from psycopg.conninfo import conninfo_to_dict

        try:
            info = conninfo_to_dict(self._url)
        except Exception:
            return "local:database-url"
        where = "/".join(str(info.get(k, "")) for k in ("host", "port", "dbname", "user"))
        return f"local:{where}"

    def describe(self) -> str:
        if self._url is None:
            from services.data.database import EmbeddedPostgres

            return f"local (embedded PostgreSQL in {EmbeddedPostgres(self._pgdata).pgdata})"
        from services.config import mask_url

        return f"local ({mask_url(self._url)})"

    def _say(self, message: str) -> None:
        if self._progress:
            self._progress(message)

    def _warn(self, line: str) -> None:
        log.warning("%s", line)
        if line not in self.start_warnings:
            self.start_warnings.append(line)

    def _start_and_migrate(self) -> str:
        # services.data.headstart.SCRIPT checks what this makes sure of (migrations, local
        # compat SQL, bundled courses): a new start-up step belongs in both.
        from services.data.database import EmbeddedPostgres, migrate

        url = self._url
        local = True
        if url is None:
            server = EmbeddedPostgres(self._pgdata)
            if not server.is_initialised:
                self._say(f"Creating the local database in {server.pgdata} …")
            url = server.start()
            self._server = server
        elif self._migrate:
            local = not _looks_like_supabase(url)
        if self._migrate:
            migrate(url, local=local, progress=self._progress, warn=self._warn)
            if self._seed is not None:
                self._seed(url, self._progress)
        return url

    async def connect(self) -> None:
        """Start (first run: create) and migrate the database, connect, restore the session."""
        async with self._connect_lock:
            if self._connected:
                return
            if self._head_start is not None and await self._take_head_start():
                return
            try:
                # psycopg is imported by the thread (off the event loop: the UI stays live).
                url = await asyncio.to_thread(self._start_and_migrate)
                import psycopg

                self._conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
            except LearnError:
                raise
            except Exception as exc:
                from services.data.database import MigrationError

                if isinstance(exc, MigrationError):
                    raise ServerError(f"The local database could not be migrated: {exc}") from exc
                raise errors.from_exception(exc) from exc
            self._live_url = url
            self._connected = True
            await self._restore_session()

    async def _take_head_start(self) -> bool:
        """Use what the head start found, if it found it: the checks are done, the
        learner is known and the first dashboard is fetched. The server handle and the
        driver come later, off the event loop (_connection, or warm())."""
        head, self._head_start = self._head_start, None
        if head is None:
            return False
        ready = await head.result()
        if ready is None:
            return False
        self._live_url = ready.url
        self._user = CurrentUser(*ready.user)
        self._answers = dict(ready.answers)
        self._connected = True
        return True

    @property
    def _attach_pending(self) -> bool:
        """Connected through a head start, with no handle on the embedded server yet."""
        return self._connected and self._url is None and self._server is None

    def _attach(self) -> str:
        """Take a handle on the embedded server (so it runs while we do; it starts it
        if it stopped meanwhile) and import the driver: in a thread."""
        from services.data.database import EmbeddedPostgres

        server = EmbeddedPostgres(self._pgdata)
        url = server.start()
        self._server = server
        import psycopg  # noqa: F401

        return url

    def grading_url(self) -> str | None:
        """The URL for an in-process grader (services.grader), or None when this backend
        does not grade in-process (see `in_process_grader`). Blocking (it takes a handle
        on the embedded server): call from a thread."""
        if not self._in_process_grader:
            return None
        if self._url is not None:
            return self._url
        from services.data.database import EmbeddedPostgres

        server = EmbeddedPostgres(self._pgdata)
        url = server.start()
        self._grading_server = server  # held while the app runs
        return url

    async def warm(self) -> None:
        """Open the connection now, in the background, if a head start left it for
        later; a failure is left for the next call to report."""
        try:
            async with self._lock:
                await self._connection()
        except Exception as exc:
            log.debug("warming the connection failed: %s", type(exc).__name__)

    async def _connection(self):
        """The open connection (reopened if it broke). Call with self._lock held."""
        if not self._connected:
            raise RuntimeError("LocalBackend.connect() first")
        if self._attach_pending:
            self._live_url = await asyncio.to_thread(self._attach)
        elif self._server is not None and self._server.stopped():
            # The embedded server stopped under us (killed, the machine slept): start it
            # again before this call, rather than fail it and go offline.
            log.warning("the embedded database stopped: starting it again")
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    await self._conn.close()
                self._conn = None
            self._live_url = await self._restart_server()
        if self._conn is None or self._conn.closed or self._conn.broken:
            import psycopg

            try:
                self._conn = await psycopg.AsyncConnection.connect(self._live_url, autocommit=True)
            except psycopg.OperationalError:
                if self._server is None:  # not ours to start (a DATABASE_URL)
                    raise
                # The embedded server stopped under us (killed, the machine slept):
                # start it again rather than stay offline until `learn sync`.
                log.warning("the embedded database is not running: starting it again")
                self._live_url = await self._restart_server()
                self._conn = await psycopg.AsyncConnection.connect(self._live_url, autocommit=True)
        return self._conn

    async def _restart_server(self) -> str:
        """Start the embedded server again; Offline (try again later) if it won't."""
        server = self._server
        assert server is not None  # called for the embedded server only
        try:
            return await asyncio.to_thread(server.restart_if_stopped)
        except Exception as exc:
            log.warning("starting the embedded database again failed", exc_info=True)
            raise Offline(
                "The local database stopped and could not be started again yet; "
                f"see {server.pgdata / 'log'}."
            ) from exc

    async def close(self) -> None:
        if self._head_start is not None:
            await asyncio.to_thread(self._head_start.cancel)
            self._head_start = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        self._connected = False
        self._answers.clear()
        if self._server is not None:
            server, self._server = self._server, None
            await asyncio.to_thread(server.stop)

    async def _driver(self):
        """psycopg (for `except psycopg.Error`). After a head start it may not be
        imported yet: then opening the connection imports it, off the event loop."""
        if self._attach_pending:
            await self.warm()
        import psycopg

        return psycopg

    async def _su(self, query: Any, params: Any = None) -> list[tuple]:
        """A statement as the connection's own (owner) role, in its own transaction."""
        psycopg = await self._driver()
        try:
            async with self._lock:
                conn = await self._connection()
                async with conn.transaction():
                    cur = await conn.execute(query, params)
                    return await cur.fetchall() if cur.description else []
        except psycopg.Error as exc:
            raise errors.from_psycopg(exc, signed_in=self._user is not None) from exc

    # -- RPC -----------------------------------------------------------------

    async def _signature(self, fn: str, given: set[str]) -> Signature:
        """The function to call, like PostgREST's schema cache (looked up again on a miss,
        so functions created or changed while the app runs are found)."""
        from psycopg.rows import dict_row

        cached = self._signatures.get(fn)
        if cached is not None:
            try:
                return choose_signature("public", fn, cached, given)
            except NotFound:
                pass
        async with self._lock:
            conn = await self._connection()
            async with conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(FUNCTION_LOOKUP_SQL, ("public", fn))
                rows = await cur.fetchall()
        if rows:
            self._signatures[fn] = rows
        return choose_signature("public", fn, rows, given)

    def _claims(self) -> dict[str, Any]:
        user = self._user
        return postgrest.claims(user.id if user else None, email=user.email if user else None)

    async def call(self, fn: str, **args: Any) -> Any:
        check_identifier(fn, "function")
        for name in args:
            check_identifier(name, "argument")
        await self.connect()
        if not args and fn in self._answers:  # fetched by the head start
            return self._answers.pop(fn)
        psycopg = await self._driver()
        started = time.perf_counter()
        try:
            sig = await self._signature(fn, set(args))
            query, void = call_statement(sig, list(args))
            payload = json.dumps(args, default=json_default)
            settings = postgrest.request_params(self._claims(), f"/rpc/{fn}")
            async with self._lock:
                conn = await self._connection()
                # Pipeline mode: BEGIN, the settings, the call and COMMIT in one round trip.
                async with conn.pipeline(), conn.transaction():
                    cur = conn.cursor()
                    await cur.execute(postgrest.REQUEST_SETTINGS_SQL, settings)
                    await cur.execute(query, (payload,))
                row = await cur.fetchone()
        except psycopg.Error as exc:
            if getattr(exc, "sqlstate", None) == "42883":
                self._signatures.pop(fn, None)
            log.debug("call %s failed: %s", fn, type(exc).__name__)
            raise errors.from_psycopg(exc, signed_in=self._user is not None) from exc
        finally:
            log.debug("call %s took %.1f ms", fn, (time.perf_counter() - started) * 1000)
        return None if void or row is None else row[0]

    async def call_batch(self, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Several calls as the signed-in user in ONE transaction, each in its own
        savepoint: one commit (one WAL flush) for the batch instead of one per call.
        Used to replay the offline outbox, whose writes are idempotent on their event
        ids. Each item of the result is the call's JSON, or the LearnError it raised (its
        savepoint rolled back, the others kept). If the batch itself fails (connection
        lost), it raises and nothing of it is applied."""
        await self.connect()
        psycopg = await self._driver()
        prepared = []
        for fn, args in calls:
            check_identifier(fn, "function")
            for name in args:
                check_identifier(name, "argument")
            sig = await self._signature(fn, set(args))
            query, void = call_statement(sig, list(args))
            prepared.append((fn, query, void, json.dumps(args, default=json_default)))
        settings = postgrest.request_params(self._claims(), "/rpc/batch")
        try:
            async with self._lock:
                conn = await self._connection()
                try:
                    return await self._batch_pipelined(conn, settings, prepared)
                except psycopg.errors.Error:
                    if conn.broken:
                        raise
                # One of them failed, so nothing was applied: again, one savepoint each.
                return await self._batch_savepoints(conn, settings, prepared)
        except psycopg.Error as exc:
            raise errors.from_psycopg(exc, signed_in=self._user is not None) from exc

    @staticmethod
    async def _batch_pipelined(conn, settings, prepared) -> list[Any]:
        """All calls sent at once (pipeline mode), one transaction: one round trip."""
        async with conn.pipeline(), conn.transaction():
            await conn.execute(postgrest.REQUEST_SETTINGS_SQL, settings)
            cursors = [
                await conn.execute(query, (payload,)) for _fn, query, _v, payload in prepared
            ]
        results = []
        for cur, (_fn, _query, void, _payload) in zip(cursors, prepared, strict=True):
            row = await cur.fetchone()
            results.append(None if void or row is None else row[0])
        return results

    async def _batch_savepoints(self, conn, settings, prepared) -> list[Any]:
        import psycopg

        results: list[Any] = []
        async with conn.transaction():
            cur = conn.cursor()
            await cur.execute(postgrest.REQUEST_SETTINGS_SQL, settings)
            for _fn, query, void, payload in prepared:
                try:
                    async with conn.transaction():  # a savepoint
                        await cur.execute(query, (payload,))
                        row = await cur.fetchone()
                except psycopg.errors.Error as exc:
                    if conn.broken:
                        raise
                    results.append(errors.from_psycopg(exc, signed_in=self._user is not None))
                    continue
                results.append(None if void or row is None else row[0])
        return results

    # -- accounts ------------------------------------------------------------

    async def _restore_session(self) -> None:
        remembered = self._sessions.local_user(self.namespace)
        if remembered is None:  # none, or unreadable: forget it
            self._sessions.remove(self.namespace)
            return
        user_id = remembered[0]
        rows = await self._su(
            "select id::text, email from auth.users where id = %s and deleted_at is null",
            (user_id,),
        )
        if rows:
            self._user = CurrentUser(rows[0][0], rows[0][1])
        else:  # the database was reset: the saved user is gone
            self._sessions.remove(self.namespace)

    def _remember(self, user: CurrentUser) -> CurrentUser:
        self._answers.clear()
        self._user = user
        self._sessions.remember_local_user(self.namespace, user.id, user.email)
        return user

    async def sign_up(
        self, email: str | None, password: str | None, *, full_name: str | None = None, **meta: Any
    ) -> CurrentUser:
        """An account in auth.users. `email=None, password=None` makes a local profile
        without a password (single-user mode: the first run only asks for a name)."""
        from psycopg.types.json import Jsonb

        from services.data import local_auth

        await self.connect()
        if email is not None:
            email = _check_email(email)
        if password is not None:
            if email is None:
                raise InvalidInput("An account with a password needs an email to sign in with.")
            local_auth.check_password(password)
        metadata = {**meta}
        if full_name:
            metadata["full_name"] = full_name.strip()
        hashed = await asyncio.to_thread(local_auth.hash_password, password) if password else None
        user_id = str(uuid.uuid4())
        try:
            await self._su(
                "insert into auth.users (instance_id, id, aud, role, email, encrypted_password,"
                " email_confirmed_at, raw_app_meta_data, raw_user_meta_data, last_sign_in_at,"
                " is_anonymous)"
                " values ('00000000-0000-0000-0000-000000000000', %s, 'authenticated',"
                " 'authenticated', %s, %s, case when %s::text is null then null else now() end,"
                " %s, %s, now(), false)",
                (
                    user_id,
                    email,
                    hashed,
                    email,
                    Jsonb(
                        {
                            "provider": "email" if email else "local",
                            "providers": ["email" if email else "local"],
                        }
                    ),
                    Jsonb(metadata),
                ),
            )
        except Conflict:
            raise Conflict(
                "An account with this email already exists: sign in with `learn login`.",
                code="user_already_exists",
            ) from None
        log.info("local account created")
        return self._remember(CurrentUser(user_id, email))

    async def sign_in(self, email: str, password: str) -> CurrentUser:
        from services.data import local_auth

        await self.connect()
        rows = await self._su(
            "select id::text, email, encrypted_password from auth.users"
            " where lower(email) = lower(%s) and deleted_at is null",
            (email.strip(),),
        )
        stored = rows[0][2] if rows else None
        ok = await asyncio.to_thread(local_auth.verify_password, password, stored)
        if not ok:
            raise AuthError("Wrong email or password.", code="invalid_credentials")
        await self._su("update auth.users set last_sign_in_at = now() where id = %s", (rows[0][0],))
        return self._remember(CurrentUser(rows[0][0], rows[0][1]))

    async def local_profiles(self) -> list[dict[str, Any]]:
        """Accounts on this database (for a "who's learning?" picker)."""
        await self.connect()
        rows = await self._su(
            "select u.id::text, u.email, p.full_name, u.encrypted_password is not null"
            " from auth.users u left join public.profiles p on p.id = u.id"
            " where u.deleted_at is null order by u.created_at"
        )
        return [
            {
                "id": r[0],
                "email": r[1] and terminal_safe(r[1]),  # others' text
                "full_name": r[2] and terminal_safe(r[2]),
                "has_password": r[3],
            }
            for r in rows
        ]

    async def sign_in_profile(self, user_id: str) -> CurrentUser:
        """Sign in to a local profile that has no password (single-user mode)."""
        await self.connect()
        rows = await self._su(
            "select id::text, email, encrypted_password is not null"
            " from auth.users where id = %s and deleted_at is null",
            (str(uuid.UUID(user_id)),),
        )
        if not rows:
            raise NotFound("There is no such local profile.")
        if rows[0][2]:
            raise AuthError("That profile has a password: sign in with `learn login`.")
        return self._remember(CurrentUser(rows[0][0], rows[0][1]))

    async def sign_in_with_otp(self, email: str) -> None:
        raise ConfigError(
            "Email codes need a Supabase project: set SUPABASE_URL and "
            "SUPABASE_PUBLISHABLE_KEY (see `learn config`)."
        )

    async def verify_otp(self, email: str, token: str) -> CurrentUser:
        await self.sign_in_with_otp(email)
        raise AssertionError("unreachable")

    async def reset_password(self, email: str) -> None:
        raise ConfigError(
            "Password reset emails need a Supabase project; local accounts "
            "can simply create a new profile."
        )

    async def sign_in_with_provider(
        self, provider: str, open_url: Callable[[str], Any], *, timeout: float = 300.0
    ) -> CurrentUser:
        raise ConfigError(
            "Sign-in with a provider needs a Supabase project: set "
            "SUPABASE_URL and SUPABASE_PUBLISHABLE_KEY (see `learn config`)."
        )

    async def watch_notifications(self, on_event: Callable[[Any], None]) -> Any:
        """LISTEN on a dedicated autocommit connection (services.data.live.listen_postgres)."""
        from services.data import live

        await self.connect()
        if self._user is None:
            raise NotSignedIn("Sign in to receive notifications.")
        connected = asyncio.Event()
        task = asyncio.create_task(
            live.listen_postgres(self._live_url, self._user.id, on_event, connected=connected),
            name="learn-notifications",
        )
        watch = live.Watch(task)
        watch.connected = connected
        return watch

    async def sign_out(self, *, everywhere: bool = False) -> None:
        self._user = None
        self._answers.clear()
        self._sessions.remove(self.namespace)


def _looks_like_supabase(url: str) -> bool:
    """A Supabase database already has auth and its roles: never apply local compat."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            row = conn.execute(
                "select exists (select 1 from pg_roles where rolname = 'supabase_admin')"
            ).fetchone()
            return bool(row and row[0])
    except psycopg.Error:
        return False


def json_default(value: Any) -> Any:
    """`json.dumps(default=)` for call arguments: uuids, dates and times, sets, tuples."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# ---------------------------------------------------------------------------
# Supabase: supabase-py (imported lazily: `learn --help` must not pay for it).
# ---------------------------------------------------------------------------

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


class SupabaseBackend:
    """A Supabase project through supabase-py's async client.

    Uses its own HTTP/1.1 httpx client (HTTP/2 keep-alive drops: supabase-py #1064),
    refreshes the access token before a call when it is about to expire, retries a
    call once after a refresh if PostgREST says the JWT expired, and cancels the
    auto-refresh timer on close (it would keep one-shot commands alive: #451/#926).
    """

    kind = "supabase"
    _STORAGE_KEY = "supabase.auth.token"

    def __init__(
        self,
        url: str,
        key: str,
        *,
        session_path: Path | None = None,
        auto_refresh: bool = True,
        timeout: float = 20.0,
    ):
        """`key`: the project's publishable key (or legacy anon key; the admin commands
        pass a secret key). Used only as an opaque string: never parsed as a JWT."""
        if not url or not key:
            raise ConfigError(
                "Supabase needs SUPABASE_URL and SUPABASE_PUBLISHABLE_KEY (see `learn config`)."
            )
        self.url = url.rstrip("/")
        self._key = key
        self._sessions = SessionStore(session_path)
        self._auto_refresh = auto_refresh
        self._timeout = timeout
        self._client: AsyncClient | None = None
        self._http: httpx.AsyncClient | None = None
        self._user: CurrentUser | None = None

    def __repr__(self) -> str:  # never the key
        return f"SupabaseBackend({self.url!r})"

    @property
    def namespace(self) -> str:
        return f"supabase:{self.url}"

    def describe(self) -> str:
        return f"supabase ({self.url})"

    @property
    def current_user(self) -> CurrentUser | None:
        return self._user

    @property
    def client(self) -> AsyncClient | None:
        """The supabase-py AsyncClient (after connect())."""
        return self._client

    @property
    def _sb(self) -> AsyncClient:
        """The client, for the calls that come after connect()."""
        if self._client is None:
            raise RuntimeError("SupabaseBackend: call connect() first")
        return self._client

    async def connect(self) -> None:
        if self._client is not None:
            return
        import httpx

        from supabase import AsyncClientOptions, acreate_client

        http = self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(self._timeout, connect=5.0), http2=False, follow_redirects=True
        )
        self._storage = file_session_storage(self._sessions, self.namespace)
        options = AsyncClientOptions(
            storage=self._storage,
            auto_refresh_token=self._auto_refresh,
            persist_session=True,
            httpx_client=http,
            flow_type="implicit",
        )
        try:
            self._client = await acreate_client(self.url, self._key, options)
        except Exception as exc:
            await http.aclose()
            self._http = None
            if type(exc).__name__ == "SupabaseException":
                raise ConfigError(f"Supabase settings are not valid: {exc}") from None
            raise errors.from_exception(exc) from exc
        await self._restore_session()

    def _stored_user(self) -> CurrentUser | None:
        raw = self._sessions.get(self.namespace, self._STORAGE_KEY)
        try:
            user = json.loads(raw)["user"] if raw else None
            return CurrentUser(str(user["id"]), user.get("email")) if user else None
        except (ValueError, KeyError, TypeError):
            return None

    async def _restore_session(self) -> None:
        from supabase_auth.errors import AuthApiError, AuthRetryableError

        try:
            session = await self._sb.auth.get_session()
        except AuthRetryableError:
            # Offline: keep the saved session; calls will say Offline until it is back.
            self._user = self._stored_user()
            return
        except AuthApiError:
            # The refresh token was revoked or expired: the session is over.
            await self._forget_session()
            return
        except Exception as exc:
            log.debug("restoring the session failed: %s", type(exc).__name__)
            self._user = self._stored_user()
            return
        self._set_user(session.user if session else None)

    def _set_user(self, user: Any) -> CurrentUser | None:
        self._user = CurrentUser(str(user.id), user.email) if user else None
        return self._user

    def _signed_in_as(self, user: Any) -> CurrentUser:
        """The learner a successful sign-in names (GoTrue always names one)."""
        current = self._set_user(user)
        if current is None:
            raise AuthError("The server signed you in without saying who you are; sign in again.")
        return current

    async def _forget_session(self) -> None:
        """This process's session is over: sign out locally (the storage removes the
        saved session only if it is still the one this process saw)."""
        with contextlib.suppress(Exception):
            await self._sb.auth.sign_out({"scope": "local"})
        self._user = None

    @staticmethod
    def _refresh_token_in(raw: str | None) -> str | None:
        try:
            return json.loads(raw)["refresh_token"] if raw else None
        except (ValueError, KeyError, TypeError):
            return None

    async def _fresh_session(self) -> None:
        """Refresh the access token now if it expires within supabase-py's margin.

        A refresh refused because another process (a second window) used the same
        refresh token a moment earlier is not a sign-out: that process saved the new
        session, which is taken instead."""
        if self._user is None:
            return
        try:
            session = await self._sb.auth.get_session()
        except Exception as exc:
            mapped = errors.from_exception(exc, signed_in=True)
            if isinstance(mapped, AuthError):
                used = self._refresh_token_in(self._storage.seen.get(self._STORAGE_KEY))
                now = self._refresh_token_in(self._sessions.get(self.namespace, self._STORAGE_KEY))
                if now is not None and now != used:
                    with contextlib.suppress(Exception):
                        session = await self._sb.auth.get_session()
                        if session is not None:
                            self._set_user(session.user)
                            return
                await self._forget_session()
            raise mapped from exc
        if session is None:
            self._user = None

    async def call(self, fn: str, **args: Any) -> Any:
        from postgrest.exceptions import APIError

        check_identifier(fn, "function")
        for name in args:
            check_identifier(name, "argument")
        await self.connect()
        params = json.loads(json.dumps(args, default=json_default))
        started = time.perf_counter()
        for attempt in (1, 2):
            await self._fresh_session()
            try:
                response = await self._sb.rpc(fn, params).execute()
            except APIError as exc:
                if exc.code == "PGRST303" and self._user is not None and attempt == 1:
                    await self._refresh_now()
                    continue
                log.debug("call %s failed: %s", fn, exc.code)
                raise errors.from_postgrest(exc.json(), signed_in=self._user is not None) from exc
            except Exception as exc:
                log.debug("call %s failed: %s", fn, type(exc).__name__)
                raise errors.from_exception(exc, signed_in=self._user is not None) from exc
            finally:
                log.debug("call %s took %.1f ms", fn, (time.perf_counter() - started) * 1000)
            return response.data
        raise AssertionError("unreachable")

    async def _refresh_now(self) -> None:
        try:
            response = await self._sb.auth.refresh_session()
        except Exception as exc:
            mapped = errors.from_exception(exc, signed_in=True)
            if isinstance(mapped, (AuthError, NotSignedIn)):
                await self._forget_session()
            raise mapped from exc
        self._set_user(response.user)

    async def _auth(self, action: Callable[[], Any]) -> Any:
        await self.connect()
        try:
            return await action()
        except Exception as exc:
            raise errors.from_exception(exc, signed_in=self._user is not None) from exc

    async def sign_up(
        self, email: str | None, password: str | None, *, full_name: str | None = None, **meta: Any
    ) -> CurrentUser | None:
        if not email or not password:
            raise InvalidInput(
                "A Supabase account needs an email and a password (or use `learn login --otp`)."
            )
        email = _check_email(email)
        data = {**meta}
        if full_name:
            data["full_name"] = full_name.strip()
        response = await self._auth(
            lambda: self._sb.auth.sign_up(
                {"email": email, "password": password, "options": {"data": data}}
            )
        )
        if response.session is None:
            return None  # email confirmation pending
        return self._set_user(response.user)

    async def sign_in(self, email: str, password: str) -> CurrentUser:
        # `options` is NotRequired; mypy reads supabase_auth's TypedDict as requiring it
        credentials: SignInWithEmailAndPasswordCredentials = {  # type: ignore[typeddict-item]
            "email": email.strip(),
            "password": password,
        }
        response = await self._auth(lambda: self._sb.auth.sign_in_with_password(credentials))
        return self._signed_in_as(response.user)

    async def sign_in_with_otp(self, email: str) -> None:
        email = _check_email(email)
        await self._auth(
            lambda: self._sb.auth.sign_in_with_otp(
                {"email": email, "options": {"should_create_user": True}}
            )
        )

    async def verify_otp(self, email: str, token: str) -> CurrentUser:
        params: VerifyEmailOtpParams = {  # type: ignore[typeddict-item]  # as in sign_in
            "email": email.strip().lower(),
            "token": token.strip(),
            "type": "email",
        }
        response = await self._auth(lambda: self._sb.auth.verify_otp(params))
        return self._signed_in_as(response.user)

    async def reset_password(self, email: str) -> None:
        email = _check_email(email)
        await self._auth(lambda: self._sb.auth.reset_password_for_email(email))

    async def enabled_providers(self) -> list[str]:
        """The OAuth providers the project enables (GoTrue's /settings)."""
        await self.connect()
        try:
            assert self._http is not None  # made by connect()
            response = await self._http.get(
                f"{self.url}/auth/v1/settings", headers={"apikey": self._key}
            )
        except Exception as exc:
            raise errors.from_exception(exc) from exc
        if response.status_code != 200:
            raise errors.from_status(response.status_code, None)
        try:
            external = response.json().get("external") or {}
        except (ValueError, AttributeError):
            external = {}
        return sorted(
            name
            for name, on in external.items()
            if on is True and name not in ("email", "phone", "anonymous_users")
        )

    async def sign_in_with_provider(
        self, provider: str, open_url: Callable[[str], Any], *, timeout: float = 300.0
    ) -> CurrentUser:
        from urllib.parse import urlencode

        from supabase_auth.helpers import generate_pkce_challenge, generate_pkce_verifier

        from services.data import oauth

        provider = oauth.check_provider(provider)
        enabled = await self.enabled_providers()
        if provider not in enabled:
            offered = ", ".join(enabled) if enabled else "no providers"
            raise InvalidInput(
                f"This Supabase project does not offer sign-in with "
                f"{provider}; it offers {offered} (and email).",
                code="provider_disabled",
            )
        verifier = generate_pkce_verifier()
        async with oauth.LoopbackRedirect() as loopback:
            url = f"{self.url}/auth/v1/authorize?" + urlencode(
                {
                    "provider": provider,
                    "redirect_to": loopback.redirect_uri,
                    "code_challenge": generate_pkce_challenge(verifier),
                    "code_challenge_method": "s256",
                }
            )
            shown = open_url(url)
            if asyncio.iscoroutine(shown):
                await shown
            params = await loopback.wait(timeout)
        failure = oauth.redirect_error(params)
        if failure is not None:
            raise failure
        response = await self._auth(
            lambda: self._sb.auth.exchange_code_for_session(
                {
                    "auth_code": params["code"],
                    "code_verifier": verifier,
                    "redirect_to": loopback.redirect_uri,
                }
            )
        )
        return self._signed_in_as(response.user)

    async def watch_notifications(self, on_event: Callable[[Any], None]) -> Any:
        """Realtime postgres_changes on public.notifications filtered by user_id, on a
        channel per learner. Joins with the current access token and renews it before
        every rejoin (a rejoin with the expired token goes silent: supabase-py #1655);
        a channel the server closes (token expired) is joined again; every SUBSCRIBED
        is a resync (catch-up)."""
        await self.connect()
        if self._user is None:
            raise NotSignedIn("Sign in to receive notifications.")
        watch = _RealtimeWatch(self, self._user.id, on_event)
        await watch.start()
        return watch

    async def _realtime_token(self, force: bool = False) -> None:
        """Give Realtime the current access token (refreshed first if due, or `force`)."""
        if force:
            await self._refresh_now()
        else:
            await self._fresh_session()
        session = await self._sb.auth.get_session()
        if session is not None:
            await self._sb.realtime.set_auth(session.access_token)

    async def sign_out(self, *, everywhere: bool = False) -> None:
        """End this machine's session (`everywhere`: every session of the learner, on
        every machine). Another machine's session, and its file, are left alone."""
        if self._client is None:
            await self.connect()
        try:
            await self._sb.auth.sign_out({"scope": "global" if everywhere else "local"})
        except Exception as exc:
            # The server could not revoke it (offline, say): still forget it here.
            log.debug("sign-out request failed: %s", type(exc).__name__)
            await self._forget_session()
            return
        self._user = None

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.realtime.remove_all_channels()
            timer = getattr(client.auth, "_refresh_token_timer", None)
            if timer is not None:
                timer.cancel()
                client.auth._refresh_token_timer = None
            for task in list(getattr(client, "_background_tasks", ())):
                task.cancel()
        if self._http is not None:
            await self._http.aclose()
            self._http = None


class _RealtimeWatch:
    """One learner's notifications channel on Supabase Realtime (see
    SupabaseBackend.watch_notifications); a services.data.live.Watch to the app."""

    def __init__(self, backend: SupabaseBackend, user_id: str, on_event: Callable[[Any], None]):
        self.backend, self.user_id, self.on_event = backend, user_id, on_event
        self.channel: AsyncRealtimeChannel | None = None
        self.subscribed = asyncio.Event()
        self._stopped = False
        self._tasks: set[asyncio.Task] = set()

    @property
    def running(self) -> bool:
        return not self._stopped

    async def start(self) -> None:
        await self.backend._realtime_token()
        channel = self.backend._sb.channel(f"learn-notifications:{self.user_id}")
        # realtime-py types the event as an enum; its documented form is the string
        channel.on_postgres_changes(
            "INSERT",  # type: ignore[arg-type]
            schema="public",
            table="notifications",
            filter=f"user_id=eq.{self.user_id}",
            callback=self._changed,
        )
        self.channel = channel
        await channel.subscribe(self._state)

    def _changed(self, payload: Any) -> None:
        record = ((payload or {}).get("data") or {}).get("record") or {}
        if record.get("id") and str(record.get("user_id")) == self.user_id:
            self._deliver(LiveEvent((str(record["id"]),)))

    def _deliver(self, event: Any) -> None:
        try:
            self.on_event(event)
        except Exception:
            log.exception("a live notification handler failed")

    def _state(self, status: Any, error: Exception | None) -> None:
        name = getattr(status, "value", str(status))
        if self._stopped:
            return
        if name == "SUBSCRIBED":
            self.subscribed.set()
            self._deliver(LiveEvent(resync=True))
            return
        self.subscribed.clear()
        text = str(error or "").lower()
        expired = any(word in text for word in ("token", "expired", "jwt"))
        if name == "CLOSED":  # the server ended the channel: join a new one
            self._spawn(self._resubscribe())
        elif name in ("CHANNEL_ERROR", "TIMED_OUT"):  # the client rejoins by itself:
            self._spawn(self._renew(force=expired))  # with a valid token

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _renew(self, force: bool) -> None:
        try:
            await self.backend._realtime_token(force=force)
        except Exception as exc:
            log.debug("renewing the Realtime token failed: %s", type(exc).__name__)

    async def _resubscribe(self) -> None:
        delay = 1.0
        while not self._stopped:
            await asyncio.sleep(delay)
            if self.backend.client is None:  # the backend was closed: nothing to do
                self._stopped = True
                return
            try:
                old, self.channel = self.channel, None
                if old is not None:
                    with contextlib.suppress(Exception):
                        await self.backend.client.remove_channel(old)
                await self.backend._realtime_token(force=True)
                await self.start()
                return
            except Exception as exc:
                log.debug("rejoining notifications failed: %s", type(exc).__name__)
                delay = min(delay * 2, 30.0)

    async def stop(self) -> None:
        self._stopped = True
        for task in list(self._tasks):
            task.cancel()
        channel, self.channel = self.channel, None
        client = self.backend.client
        if channel is not None and client is not None:
            with contextlib.suppress(Exception):
                await client.remove_channel(channel)


# ---------------------------------------------------------------------------


def backend_from_settings(
    settings: Settings,
    *,
    progress: Progress | None = None,
    auto_refresh: bool = True,
    session_path: Path | None = None,
    seed: Callable[[str, Progress | None], None] | None = None,
    head_start: HeadStart | None = None,
) -> LocalBackend | SupabaseBackend:
    """The backend the settings select (see services.config); `head_start` is for the
    embedded database (LocalBackend)."""
    if settings.backend_kind == "supabase":
        settings.require_supabase()
        return SupabaseBackend(
            settings.supabase_url or "",
            settings.supabase_key or "",
            auto_refresh=auto_refresh,
            session_path=session_path,
        )
    return LocalBackend(
        settings.database_url,
        progress=progress,
        session_path=session_path,
        seed=seed,
        head_start=head_start,
    )
