"""LocalBackend: the embedded PostgreSQL (default) or any PostgreSQL URL, through psycopg.

Every call runs as PostgREST runs a request (services.data.postgrest: one transaction,
role and `request.jwt.claims` of the signed-in learner), the function found and its
arguments cast as PostgREST does (services.data.signatures). Accounts live in
auth.users (services.data.local_accounts). It also takes a head start's answers
(services.data.headstart) and runs the offline outbox's batches (call_batch).

Over 400 lines (~550), one class: its connection, its lock and the head start's
hand-over are shared by every part (start, calls, batches, accounts — the account SQL is
already in local_accounts), so splitting it further would spread one state over files.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services import errors
from services.data import local_accounts, postgrest
from services.data.protocol import CurrentUser, Progress, check_identifier, json_default
from services.data.session import SessionStore, embedded_namespace
from services.data.signatures import (
    FUNCTION_LOOKUP_SQL,
    Signature,
    call_statement,
    choose_signature,
)
from services.errors import ConfigError, LearnError, NotFound, NotSignedIn, Offline, ServerError

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from services.data.database import EmbeddedPostgres
    from services.data.headstart import HeadStart

log = logging.getLogger("learn.backend")


class LocalBackend:
    """The embedded PostgreSQL (default) or any PostgreSQL URL.

    One connection, one call at a time; each call is one transaction run exactly as
    PostgREST runs a request (services.data.postgrest). Accounts live in auth.users and
    are created by this (owner) connection, so the signup trigger runs as on Supabase.

    `url=None` is the embedded server in the data dir, created on first use; then
    (and for any URL unless `migrate=False`) pending migrations are applied, with
    `progress(message)` told what happens. `seed(url, progress)`
    (services.data.seed.seed_bundled), if given, runs after the migrations when the
    bundled courses are not loaded as they are now (the "courses" start-up check).
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
        """Start the server (the embedded one), then run the start-up steps whose checks
        (services.data.startup.CHECKS, which the head start runs too) fail: migrate for
        the migrations and the local compat SQL, `seed` for the bundled courses."""
        from services.data import startup
        from services.data.database import EmbeddedPostgres, connect, migrate

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
            wanted = [
                "migrations",
                *(["compat"] if local else []),
                *(["courses"] if self._seed else []),
            ]
            checks = [startup.BY_NAME[name] for name in wanted]
            with connect(url) as conn:
                todo = startup.failing(conn, checks, startup.values(checks=checks))
            if todo & {"migrations", "compat"}:
                migrate(url, local=local, progress=self._progress, warn=self._warn)
            if "courses" in todo and self._seed is not None:
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
        user = await local_accounts.still_there(self._su, remembered[0])
        if user is not None:
            self._user = user
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
        await self.connect()
        user = await local_accounts.create(
            self._su, email, password, full_name=full_name, meta=meta
        )
        return self._remember(user)

    async def sign_in(self, email: str, password: str) -> CurrentUser:
        await self.connect()
        return self._remember(await local_accounts.check_password(self._su, email, password))

    async def local_profiles(self) -> list[dict[str, Any]]:
        """Accounts on this database (for a "who's learning?" picker)."""
        await self.connect()
        return await local_accounts.profiles(self._su)

    async def sign_in_profile(self, user_id: str) -> CurrentUser:
        """Sign in to a local profile that has no password (single-user mode)."""
        await self.connect()
        return self._remember(await local_accounts.passwordless(self._su, user_id))

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
