"""A TEST STAND-IN for a Supabase project's HTTP API: PostgREST RPC and GoTrue.

Not PostgREST, not GoTrue. The real ones ship as Docker images that cannot run
here, so this small server speaks their wire format for the calls the client
makes, over loopback, against the test PostgreSQL — and the real supabase-py
client talks to it. What it does as they do:

* two key modes, as a project has them (`keys=`):
  - `"new"` (a project created today): API keys are opaque strings, a publishable
    key `sb_publishable_…` (role anon) and a secret key `sb_secret_…` (role
    service_role); user tokens are ES256 JWTs with a `kid` in the header, verified
    against the project's JWKS, served at `/auth/v1/.well-known/jwks.json`
    (`rotate_signing_key()` adds a key; tokens signed with the old one still verify);
    legacy JWT keys and HS256 tokens are refused;
  - `"legacy"` (2024): anon and service_role keys are HS256 JWTs signed with the
    project's JWT secret, and so are user tokens; the JWKS is empty;
* the gateway: every request needs an `apikey` header holding one of the project's
  keys (401 `{"message": "No API key found in request"}` or `"Invalid API key"`
  otherwise). An `sb_…` key is accepted as `Authorization: Bearer` only when it
  equals the `apikey` header (as supabase-py sends it signed out), else 401;
* PostgREST `POST /rest/v1/rpc/<fn>`: verifies the bearer JWT (401 PGRST301
  invalid, PGRST303 expired), picks the function by its
  argument names (404 PGRST202, 300 PGRST203), casts the JSON arguments to the
  declared types with json_to_record, and runs it in one transaction after the
  same `set_config` call PostgREST makes (services.data.postgrest), as the JWT's role
  with `request.jwt.claims`. Errors are `{code, message, details, hint}` with
  PostgREST's SQLSTATE → HTTP status mapping; scalar results are the bare JSON
  value, set-returning ones an array, void ones 204 No Content;
* GoTrue `/auth/v1`: `signup`, `token?grant_type=password|refresh_token|pkce`
  (refresh tokens rotate; a used one is rejected), `user`, `logout?scope=`,
  `otp` + `verify` (type email/magiclink/signup/recovery), `recover`, `health`,
  `settings` (which providers are enabled), `.well-known/jwks.json`;
* OAuth with PKCE for one fake provider (`github` by default, `providers=`):
  `GET /auth/v1/authorize?provider=…&redirect_to=…&code_challenge=…` redirects to
  the fake provider's consent page `/fake-oauth/authorize`, which signs in as
  `oauth_identity` (an email the test sets; `oauth_deny=True` makes it refuse) and
  redirects to `/auth/v1/callback`, which finds or creates the user (identity
  provider in raw_app_meta_data) and redirects to `redirect_to` with `?code=…`
  (or `?error=…&error_description=…`); `POST token?grant_type=pkce` with
  `auth_code` + `code_verifier` (S256 checked, one use, 5 minutes) gives a session.
  Users are rows of the test database's auth.users, inserted by the owner
  connection, so the signup trigger runs as on Supabase. Access tokens are HS256
  JWTs with GoTrue's claims (sub, role, aud, exp, iat, email, session_id, …) and a
  configurable lifetime. Errors use GoTrue's shapes: `{"code": "<error_code>",
  "msg": …}` with the `X-Supabase-Api-Version: 2024-01-01` response header when
  the request asks for that API version (supabase-py does), else the legacy
  `{"code": <status>, "error_code": …, "msg": …}`.

Realtime: `/realtime/v1/websocket` is tests/stack/realtime_standin.py (its own top says
what it does and leaves out); `api.realtime` has its test controls.

What it leaves out: table endpoints (/rest/v1/<table>), GET/HEAD RPC, Prefer
headers, schema profiles, the OpenAPI root, embedding, row limits; single-unnamed-
argument functions; PostgREST's schema cache (functions are looked up per request);
GoTrue's phone, SSO, real OAuth providers (no provider tokens are returned), the
redirect URL allow list, PKCE for email flows, MFA, anonymous sign-in, the admin API, user
updates, email templates and sending (the codes are kept on this object for tests
to read, as if from the email), rate limits, captcha, the refresh-token reuse
interval, auth.sessions / auth.refresh_tokens tables (sessions live in memory),
bcrypt (passwords use services.data.local_auth's scrypt format), and real email
confirmation (sign-ups are confirmed at once unless `autoconfirm=False`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import queue
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import jwt
import psycopg
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from services.data import local_auth, postgrest
from services.data.backend import FUNCTION_LOOKUP_SQL, call_statement, choose_signature
from services.errors import LearnError

API_VERSION = "2024-01-01"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def pgrst_status(sqlstate: str, authenticated: bool) -> int:
    """PostgREST's HTTP status for a SQLSTATE (its Error.hs table, abridged)."""
    if sqlstate == "42501":
        return 403 if authenticated else 401
    exact = {
        "23503": 409,
        "23505": 409,
        "25006": 405,
        "42883": 404,
        "42P01": 404,
        "42P17": 500,
        "P0001": 400,
        "57014": 500,
    }
    if sqlstate in exact:
        return exact[sqlstate]
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():
        return int(sqlstate[2:])
    prefix = {
        "08": 503,
        "09": 500,
        "0L": 403,
        "0P": 403,
        "25": 500,
        "28": 403,
        "2D": 500,
        "2F": 500,
        "3D": 500,
        "3F": 500,
        "40": 500,
        "53": 503,
        "54": 500,
        "55": 500,
        "57": 500,
        "58": 500,
        "F0": 500,
        "HV": 500,
        "P0": 500,
        "XX": 500,
    }
    return prefix.get(sqlstate[:2], 400)


class Reply(Exception):
    """An HTTP response raised from deep inside a handler."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


@dataclass
class _Session:
    id: str
    user_id: str
    refresh_tokens: set[str] = field(default_factory=set)


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(type(value).__name__)


KEY_MODES = ("new", "legacy")


@dataclass
class _FlowState:
    """A PKCE sign-in between /authorize and the token exchange."""

    provider: str
    redirect_to: str
    challenge: str
    method: str
    created: float
    user_id: str | None = None
    auth_code: str | None = None


class SupabaseStandIn:
    """Start with `with SupabaseStandIn(db_url, keys="new") as api:`; then `api.url`,
    `api.client_key` (publishable, or legacy anon), `api.service_role_key` (secret)."""

    def __init__(
        self,
        db_url: str,
        *,
        keys: str = "legacy",
        access_token_ttl: int = 3600,
        autoconfirm: bool = True,
        providers: tuple[str, ...] = ("github",),
    ):
        if keys not in KEY_MODES:
            raise ValueError(f"keys must be one of {KEY_MODES}")
        self._lock = threading.Lock()
        self.db_url = db_url
        self.keys = keys
        self.jwt_secret = secrets.token_urlsafe(32)
        self.access_token_ttl = access_token_ttl
        self.autoconfirm = autoconfirm
        self.providers = tuple(providers)
        self._signing_keys: list[tuple[str, ec.EllipticCurvePrivateKey]] = []
        now = int(time.time())
        if keys == "new":
            self.rotate_signing_key()
            self.client_key = f"sb_publishable_{secrets.token_urlsafe(22)}"
            self.service_role_key = f"sb_secret_{secrets.token_urlsafe(22)}"
        else:
            self.client_key = self._sign(
                {"iss": "supabase", "role": "anon", "iat": now, "exp": now + 10 * 365 * 86400}
            )
            self.service_role_key = self._sign(
                {
                    "iss": "supabase",
                    "role": "service_role",
                    "iat": now,
                    "exp": now + 10 * 365 * 86400,
                }
            )
        self.anon_key = self.client_key  # the name older tests use
        # The fake provider's signed-in person (email), or None: it asks for nothing.
        self.oauth_identity: str | None = None
        self.oauth_deny = False
        self._flows: dict[str, _FlowState] = {}
        self._provider_codes: dict[str, str] = {}
        # What the learner would read in their inbox: email → code / recovery token.
        self.sent_otps: dict[str, str] = {}
        self.sent_recoveries: dict[str, str] = {}
        # Every request as (method, path, grant_type or None), for tests to count.
        self.requests: list[tuple[str, str, str | None]] = []
        self._sessions: dict[str, _Session] = {}
        self._refresh: dict[str, tuple[str, bool]] = {}  # token → (session id, used)
        self._expired_tokens: set[str] = set()
        self._issued_tokens: set[str] = set()
        self._pool: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        from tests.stack.realtime_standin import RealtimeStandIn

        self.realtime = RealtimeStandIn(self)

    # -- lifecycle -----------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SupabaseStandIn:
        standin = self

        class Handler(_Handler):
            api = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="supabase-standin", daemon=True
        )
        self._thread.start()
        self.realtime.start()
        return self

    def stop(self) -> None:
        self.realtime.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        while not self._pool.empty():
            self._pool.get_nowait().close()

    def __enter__(self) -> SupabaseStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls -------------------------------------------------------

    def rotate_signing_key(self) -> str:
        """A new ES256 signing key (new mode); the old ones stay in the JWKS so the
        tokens they signed verify until they expire. Returns the new kid."""
        kid = uuid.uuid4().hex[:16]
        with self._lock:
            self._signing_keys.append((kid, ec.generate_private_key(ec.SECP256R1())))
        return kid

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, private in self._signing_keys:
            jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "alg": "ES256", "use": "sig", "key_ops": ["verify"]})
        return {"keys": keys}

    def expire_access_tokens(self) -> None:
        """Every access token issued so far now counts as expired (server-side)."""
        with self._lock:
            self._expired_tokens |= self._issued_tokens

    def count_prefix(self, prefix: str) -> int:
        with self._lock:
            return sum(1 for _m, p, _g in self.requests if p.startswith(prefix))

    def count(self, path: str, grant_type: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for _m, p, g in self.requests
                if p == path and (grant_type is None or g == grant_type)
            )

    # -- database ------------------------------------------------------------

    def _conn(self) -> psycopg.Connection:
        try:
            conn = self._pool.get_nowait()
            if not conn.closed and not conn.broken:
                return conn
        except queue.Empty:
            pass
        return psycopg.connect(self.db_url, row_factory=dict_row)

    def _release(self, conn: psycopg.Connection) -> None:
        if conn.closed or conn.broken:
            return
        conn.rollback()
        self._pool.put(conn)

    def _owner(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        """A statement as the database owner (GoTrue's own connection)."""
        conn = self._conn()
        try:
            with conn.transaction():
                cur = conn.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            self._release(conn)

    # -- JWTs ----------------------------------------------------------------

    def _sign(self, claims: dict[str, Any]) -> str:
        """A token as this project signs it: ES256 with the newest key's kid (new mode),
        HS256 with the JWT secret (legacy)."""
        if self.keys == "new" and claims.get("role") == "authenticated":
            kid, private = self._signing_keys[-1]
            return jwt.encode(claims, private, algorithm="ES256", headers={"kid": kid})
        return jwt.encode(claims, self.jwt_secret, algorithm="HS256")

    def decode(self, token: str) -> dict[str, Any]:
        """A user token's claims, verified as this project verifies them (new mode: by
        the JWKS, ES256 only). Raises jwt.ExpiredSignatureError / jwt.InvalidTokenError."""
        options = {"verify_aud": False, "require": ["exp", "role"]}
        if self.keys == "new":
            header = jwt.get_unverified_header(token)
            found = {k["kid"]: k for k in self.jwks()["keys"]}.get(header.get("kid"))
            if found is None or header.get("alg") != "ES256":
                raise jwt.InvalidTokenError("no matching key in the JWKS")
            key = jwt.PyJWK.from_dict(found).key
            claims = jwt.decode(token, key, algorithms=["ES256"], options=options)
        else:
            claims = jwt.decode(token, self.jwt_secret, algorithms=["HS256"], options=options)
        with self._lock:
            if token in self._expired_tokens:
                raise jwt.ExpiredSignatureError("JWT expired")
        return claims

    def _key_role(self, key: str) -> str | None:
        """The role an API key stands for, or None if it is not one of this project's."""
        if self.keys == "new":
            return {self.client_key: "anon", self.service_role_key: "service_role"}.get(key)
        try:
            role = jwt.decode(
                key,
                self.jwt_secret,
                algorithms=["HS256"],
                options={"verify_aud": False, "require": ["role"]},
            ).get("role")
        except jwt.InvalidTokenError:
            return None
        return role if role in ("anon", "service_role") else None

    def check_apikey(self, headers: Any) -> str:
        key = headers.get("apikey")
        if not key:
            raise Reply(
                401,
                {
                    "message": "No API key found in request",
                    "hint": "No `apikey` request header or url param was found.",
                },
            )
        role = self._key_role(key)
        if role is None:
            raise Reply(
                401,
                {
                    "message": "Invalid API key",
                    "hint": "Double check your Supabase `anon` or `service_role` API key.",
                },
            )
        return role

    def request_claims(self, headers: Any) -> dict[str, Any]:
        """The claims a request runs with: the bearer token's, or the API key's role.
        An `sb_` key as bearer must equal the apikey header (Supabase's rule)."""
        role = self.check_apikey(headers)
        token = _bearer(headers)
        if token is None or (self.keys == "legacy" and token == headers.get("apikey")):
            return {"role": role}
        if token.startswith("sb_"):
            if token != headers.get("apikey"):
                raise Reply(
                    401,
                    {
                        "message": "Invalid API key",
                        "hint": "An API key in the Authorization header must "
                        "match the apikey header.",
                    },
                )
            return {"role": role}
        return self.decode(token)

    # -- PostgREST -----------------------------------------------------------

    def rpc(self, fn: str, headers: Any, body: bytes) -> Reply:
        try:
            claims = self.request_claims(headers)
        except jwt.ExpiredSignatureError:
            raise Reply(
                401,
                {"code": "PGRST303", "details": None, "hint": None, "message": "JWT expired"},
                {
                    "WWW-Authenticate": 'Bearer error="invalid_token", '
                    'error_description="JWT expired"'
                },
            ) from None
        except jwt.InvalidTokenError:
            raise Reply(
                401,
                {
                    "code": "PGRST301",
                    "details": None,
                    "hint": None,
                    "message": "JWSError JWSInvalidSignature",
                },
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None
        if claims.get("role") not in postgrest.API_ROLES:
            raise Reply(
                401,
                {
                    "code": "PGRST301",
                    "details": None,
                    "hint": None,
                    "message": "JWT role is not an API role",
                },
            )
        try:
            args = json.loads(body or b"{}")
        except ValueError:
            raise Reply(
                400,
                {
                    "code": "PGRST102",
                    "details": None,
                    "hint": None,
                    "message": "Empty or invalid json",
                },
            ) from None
        if not isinstance(args, dict):
            raise Reply(
                400,
                {
                    "code": "PGRST102",
                    "details": None,
                    "hint": None,
                    "message": "A JSON object of named arguments is required",
                },
            )
        authenticated = claims.get("role") != "anon"
        conn = self._conn()
        try:
            with conn.transaction():
                rows = conn.execute(FUNCTION_LOOKUP_SQL, ("public", fn)).fetchall()
                try:
                    sig = choose_signature("public", fn, rows, set(args))
                except LearnError as exc:
                    listed = ", ".join(sorted(args))
                    if exc.code == "PGRST203":
                        raise Reply(
                            300,
                            {
                                "code": "PGRST203",
                                "details": None,
                                "hint": None,
                                "message": f"Could not choose the best candidate "
                                f"function between: public.{fn}",
                            },
                        ) from None
                    raise Reply(
                        404,
                        {
                            "code": "PGRST202",
                            "hint": None,
                            "details": f"Searched for the function public.{fn} with parameters "
                            f"{listed or 'none'} or with a single unnamed json/jsonb "
                            "parameter, but no matches were found in the schema cache.",
                            "message": f"Could not find the function public.{fn}({listed}) in "
                            "the schema cache",
                        },
                    ) from None
                query, void = call_statement(sig, list(args))
                conn.execute(
                    postgrest.REQUEST_SETTINGS_SQL, postgrest.request_params(claims, f"/rpc/{fn}")
                )
                row = conn.execute(query, (json.dumps(args),)).fetchone()
        except psycopg.Error as exc:
            state = exc.sqlstate or "XX000"
            diag = exc.diag
            raise Reply(
                pgrst_status(state, authenticated),
                {
                    "code": state,
                    "message": diag.message_primary or str(exc),
                    "details": diag.message_detail,
                    "hint": diag.message_hint,
                },
            ) from None
        finally:
            self._release(conn)
        if void:
            return Reply(204)
        return Reply(200, next(iter(row.values())) if row else None)

    # -- GoTrue --------------------------------------------------------------

    def _user_json(self, user_id: str) -> dict[str, Any]:
        rows = self._owner(
            "select id::text, aud, role, email, phone, email_confirmed_at, confirmation_sent_at,"
            " recovery_sent_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data,"
            " created_at, updated_at, is_anonymous from auth.users where id = %s",
            (user_id,),
        )
        if not rows:
            raise _gotrue_error(404, "user_not_found", "User not found")
        u = rows[0]
        return {
            "id": u["id"],
            "aud": u["aud"] or "authenticated",
            "role": u["role"] or "authenticated",
            "email": u["email"] or "",
            "phone": u["phone"] or "",
            "email_confirmed_at": u["email_confirmed_at"],
            "confirmed_at": u["email_confirmed_at"],
            "confirmation_sent_at": u["confirmation_sent_at"],
            "recovery_sent_at": u["recovery_sent_at"],
            "last_sign_in_at": u["last_sign_in_at"],
            "app_metadata": u["raw_app_meta_data"] or {},
            "user_metadata": u["raw_user_meta_data"] or {},
            "identities": [],
            "created_at": u["created_at"],
            "updated_at": u["updated_at"],
            "is_anonymous": bool(u["is_anonymous"]),
        }

    def _issue(
        self, user_id: str, session_id: str | None = None, method: str = "password"
    ) -> dict[str, Any]:
        user = self._user_json(user_id)
        now = int(time.time())
        with self._lock:
            if session_id is None:
                session_id = str(uuid.uuid4())
                self._sessions[session_id] = _Session(session_id, user_id)
            refresh = secrets.token_urlsafe(12)
            self._sessions[session_id].refresh_tokens.add(refresh)
            self._refresh[refresh] = (session_id, False)
        claims = {
            "iss": f"{self.url}/auth/v1",
            "sub": user_id,
            "aud": "authenticated",
            "exp": now + self.access_token_ttl,
            "iat": now,
            "email": user["email"],
            "phone": "",
            "app_metadata": user["app_metadata"],
            "user_metadata": user["user_metadata"],
            "role": "authenticated",
            "aal": "aal1",
            "amr": [{"method": method, "timestamp": now}],
            "session_id": session_id,
            "is_anonymous": False,
        }
        access = self._sign(claims)
        with self._lock:
            self._issued_tokens.add(access)
        self._owner("update auth.users set last_sign_in_at = now() where id = %s", (user_id,))
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.access_token_ttl,
            "expires_at": now + self.access_token_ttl,
            "refresh_token": refresh,
            "user": self._user_json(user_id),
        }

    def _find_user(self, email: str) -> dict[str, Any] | None:
        rows = self._owner(
            "select id::text, email, encrypted_password, email_confirmed_at"
            " from auth.users where lower(email) = lower(%s)",
            (email,),
        )
        return rows[0] if rows else None

    def _create_user(
        self, email: str, password: str | None, data: Any, confirmed: bool, provider: str = "email"
    ) -> str:
        user_id = str(uuid.uuid4())
        self._owner(
            "insert into auth.users (instance_id, id, aud, role, email, encrypted_password,"
            " email_confirmed_at, confirmation_sent_at, raw_app_meta_data, raw_user_meta_data,"
            " is_anonymous)"
            " values ('00000000-0000-0000-0000-000000000000', %s, 'authenticated',"
            " 'authenticated', %s, %s, case when %s then now() end,"
            " case when not %s then now() end, %s, %s, false)",
            (
                user_id,
                email,
                local_auth.hash_password(password) if password else None,
                confirmed,
                confirmed,
                Jsonb({"provider": provider, "providers": [provider]}),
                Jsonb(data if isinstance(data, dict) else {}),
            ),
        )
        return user_id

    def _session_claims(self, headers: Any) -> dict[str, Any]:
        token = _bearer(headers)
        if not token:
            raise _gotrue_error(401, "no_authorization", "This endpoint requires a Bearer token")
        if token.startswith("sb_"):
            raise _gotrue_error(
                403,
                "bad_jwt",
                "invalid JWT: unable to parse or verify signature, token is malformed",
            )
        try:
            claims = self.decode(token)
        except jwt.ExpiredSignatureError:
            raise _gotrue_error(
                403,
                "bad_jwt",
                "invalid JWT: unable to parse or verify "
                "signature, token has invalid claims: token is expired",
            ) from None
        except jwt.InvalidTokenError:
            raise _gotrue_error(
                403,
                "bad_jwt",
                "invalid JWT: unable to parse or verify signature, signature is invalid",
            ) from None
        session_id = claims.get("session_id")
        with self._lock:
            if session_id and session_id not in self._sessions:
                raise _gotrue_error(
                    403, "session_not_found", "Session from session_id claim in JWT does not exist"
                )
        if not claims.get("sub"):
            raise _gotrue_error(403, "bad_jwt", "invalid claim: missing sub claim")
        return claims

    def auth(
        self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes
    ) -> Reply:
        if method == "GET" and path == ".well-known/jwks.json":  # public, no key needed
            return Reply(
                200,
                self.jwks() if self.keys == "new" else {"keys": []},
                {"Cache-Control": "public, max-age=600"},
            )
        if method == "GET" and path in ("authorize", "callback"):  # a browser: no apikey
            return self._authorize(query) if path == "authorize" else self._callback(query)
        self.check_apikey(headers)
        if method == "GET" and path == "settings":
            external = {p: p in self.providers for p in ("github", "google", "gitlab")}
            return Reply(
                200,
                {
                    "external": {**external, "email": True, "phone": False},
                    "disable_signup": False,
                    "mailer_autoconfirm": self.autoconfirm,
                },
            )
        if method == "GET" and path == "health":
            return Reply(
                200,
                {
                    "version": "stand-in",
                    "name": "GoTrue",
                    "description": "GoTrue stand-in for tests",
                },
            )
        if method == "GET" and path == "user":
            claims = self._session_claims(headers)
            return Reply(200, self._user_json(claims["sub"]))
        if method != "POST":
            raise _gotrue_error(405, "validation_failed", "Method not allowed")
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            raise _gotrue_error(400, "bad_json", "Could not parse request body as JSON") from None
        if not isinstance(params, dict):
            raise _gotrue_error(400, "bad_json", "Request body must be a JSON object")
        email = str(params.get("email") or "").strip().lower()
        if path == "signup":
            return self._signup(email, params)
        if path == "token":
            return self._token(query.get("grant_type"), email, params)
        if path == "logout":
            claims = self._session_claims(headers)
            scope = query.get("scope", "global")
            with self._lock:
                sessions = [s for s in self._sessions.values() if s.user_id == claims["sub"]]
                for s in sessions:
                    if (scope == "local" and s.id != claims.get("session_id")) or (
                        scope == "others" and s.id == claims.get("session_id")
                    ):
                        continue
                    for token in s.refresh_tokens:
                        self._refresh.pop(token, None)
                    del self._sessions[s.id]
            return Reply(204)
        if path == "otp":
            return self._otp(email, params)
        if path == "verify":
            return self._verify(email, params)
        if path == "recover":
            if not _EMAIL.match(email):
                raise _gotrue_error(
                    400, "validation_failed", "Unable to validate email address: invalid format"
                )
            if self._find_user(email):
                with self._lock:
                    self.sent_recoveries[email] = f"{secrets.randbelow(10**6):06d}"
                self._owner(
                    "update auth.users set recovery_sent_at = now() where lower(email) = %s",
                    (email,),
                )
            return Reply(200, {})
        raise _gotrue_error(404, "not_found", "Not found")

    def _signup(self, email: str, params: dict[str, Any]) -> Reply:
        password = params.get("password")
        if not _EMAIL.match(email):
            raise _gotrue_error(
                400, "validation_failed", "Unable to validate email address: invalid format"
            )
        if not isinstance(password, str) or not password:
            raise _gotrue_error(422, "validation_failed", "Signup requires a valid password")
        if len(password) < local_auth.MIN_PASSWORD_LENGTH:
            raise _gotrue_error(
                422,
                "weak_password",
                f"Password should be at least {local_auth.MIN_PASSWORD_LENGTH} characters.",
                weak_password={"reasons": ["length"]},
            )
        if self._find_user(email):
            raise _gotrue_error(422, "user_already_exists", "User already registered")
        user_id = self._create_user(email, password, params.get("data"), self.autoconfirm)
        if not self.autoconfirm:
            return Reply(200, self._user_json(user_id))
        return Reply(200, self._issue(user_id))

    def _token(self, grant_type: str | None, email: str, params: dict[str, Any]) -> Reply:
        if grant_type == "password":
            user = self._find_user(email) if email else None
            ok = local_auth.verify_password(
                str(params.get("password") or ""), user["encrypted_password"] if user else None
            )
            if not ok:
                raise _gotrue_error(400, "invalid_credentials", "Invalid login credentials")
            if user["email_confirmed_at"] is None:
                raise _gotrue_error(400, "email_not_confirmed", "Email not confirmed")
            return Reply(200, self._issue(user["id"]))
        if grant_type == "refresh_token":
            token = str(params.get("refresh_token") or "")
            with self._lock:
                found = self._refresh.get(token)
                if found is None:
                    raise _gotrue_error(
                        400,
                        "refresh_token_not_found",
                        "Invalid Refresh Token: Refresh Token Not Found",
                    )
                session_id, used = found
                if used:
                    raise _gotrue_error(
                        400, "refresh_token_already_used", "Invalid Refresh Token: Already Used"
                    )
                self._refresh[token] = (session_id, True)
                user_id = self._sessions[session_id].user_id
            return Reply(200, self._issue(user_id, session_id))
        if grant_type == "pkce":
            return self._pkce_token(params)
        raise _gotrue_error(400, "validation_failed", "unsupported_grant_type")

    # -- OAuth with PKCE (one fake provider) ---------------------------------

    def _authorize(self, query: dict[str, str]) -> Reply:
        provider = query.get("provider", "")
        if provider not in self.providers:
            raise _gotrue_error(
                400, "validation_failed", "Unsupported provider: provider is not enabled"
            )
        challenge = query.get("code_challenge", "")
        method = query.get("code_challenge_method", "").lower()
        if not challenge or method not in ("s256", "plain"):
            raise _gotrue_error(
                400,
                "validation_failed",
                "PKCE flow requires code_challenge and code_challenge_method",
            )
        state = secrets.token_urlsafe(16)
        with self._lock:
            self._flows[state] = _FlowState(
                provider, query.get("redirect_to") or self.url, challenge, method, time.time()
            )
        return _redirect(
            f"{self.url}/fake-oauth/authorize?" + urlencode({"state": state, "provider": provider})
        )

    def fake_provider(self, query: dict[str, str]) -> Reply:
        """The provider's consent page: the person is `oauth_identity`, and agrees."""
        back = f"{self.url}/auth/v1/callback?"
        state = query.get("state", "")
        if self.oauth_deny or not self.oauth_identity:
            return _redirect(
                back
                + urlencode(
                    {
                        "state": state,
                        "error": "access_denied",
                        "error_description": "The user denied access",
                    }
                )
            )
        code = secrets.token_urlsafe(12)
        with self._lock:
            self._provider_codes[code] = self.oauth_identity
        return _redirect(back + urlencode({"state": state, "code": code}))

    def _callback(self, query: dict[str, str]) -> Reply:
        with self._lock:
            flow = self._flows.get(query.get("state", ""))
            email = self._provider_codes.pop(query.get("code", ""), None)
        if flow is None:
            raise _gotrue_error(400, "bad_oauth_state", "OAuth state is missing or invalid")
        if email is None:
            with self._lock:
                self._flows.pop(query.get("state", ""), None)
            return _redirect(
                _with_query(
                    flow.redirect_to,
                    {
                        "error": query.get("error") or "server_error",
                        "error_code": "provider_error",
                        "error_description": query.get("error_description")
                        or "Unable to exchange external code",
                    },
                )
            )
        user = self._find_user(email)
        user_id = (
            user["id"]
            if user
            else self._create_user(
                email, None, {"full_name": email.split("@")[0]}, True, provider=flow.provider
            )
        )
        flow.user_id = user_id
        flow.auth_code = str(uuid.uuid4())
        return _redirect(_with_query(flow.redirect_to, {"code": flow.auth_code}))

    def _pkce_token(self, params: dict[str, Any]) -> Reply:
        code = str(params.get("auth_code") or "")
        verifier = str(params.get("code_verifier") or "")
        if not code or not verifier:
            raise _gotrue_error(
                400,
                "validation_failed",
                "invalid request: both auth code and code verifier should be non-empty",
            )
        with self._lock:
            state = next((k for k, f in self._flows.items() if f.auth_code == code), None)
            flow = self._flows.get(state) if state else None
        if flow is None or time.time() - flow.created > 300:
            raise _gotrue_error(
                404, "flow_state_not_found", "invalid flow state, no valid flow state found"
            )
        if flow.method == "s256":
            digest = hashlib.sha256(verifier.encode()).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        else:
            expected = verifier
        if not secrets.compare_digest(expected, flow.challenge):
            raise _gotrue_error(
                403,
                "bad_code_verifier",
                "code challenge does not match previously saved code verifier",
            )
        with self._lock:  # one use
            if self._flows.pop(state, None) is None:
                raise _gotrue_error(
                    404, "flow_state_not_found", "invalid flow state, no valid flow state found"
                )
        return Reply(200, self._issue(flow.user_id, method="oauth"))

    def _otp(self, email: str, params: dict[str, Any]) -> Reply:
        if not _EMAIL.match(email):
            raise _gotrue_error(
                400, "validation_failed", "Unable to validate email address: invalid format"
            )
        if self._find_user(email) is None:
            if params.get("create_user") is False:
                raise _gotrue_error(422, "otp_disabled", "Signups not allowed for otp")
            self._create_user(email, None, params.get("data"), confirmed=False)
        with self._lock:
            self.sent_otps[email] = f"{secrets.randbelow(10**6):06d}"
        return Reply(200, {})

    def _verify(self, email: str, params: dict[str, Any]) -> Reply:
        kind = params.get("type")
        token = str(params.get("token") or "")
        sent = self.sent_recoveries if kind == "recovery" else self.sent_otps
        if kind not in ("email", "magiclink", "signup", "recovery"):
            raise _gotrue_error(400, "validation_failed", "Verify requires a verification type")
        with self._lock:
            ok = bool(token) and secrets.compare_digest(sent.get(email, ""), token)
            if ok:
                del sent[email]
        user = self._find_user(email) if ok else None
        if user is None:
            raise _gotrue_error(403, "otp_expired", "Token has expired or is invalid")
        self._owner(
            "update auth.users set email_confirmed_at = coalesce(email_confirmed_at,"
            " now()) where id = %s",
            (user["id"],),
        )
        return Reply(200, self._issue(user["id"], method="otp"))


def _gotrue_error(status: int, code: str, message: str, **extra: Any) -> Reply:
    return Reply(status, {"_gotrue": True, "status": status, "code": code, "msg": message, **extra})


def _redirect(location: str) -> Reply:
    return Reply(302, None, {"Location": location})


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parts.query + ("&" if parts.query else "") + urlencode(extra)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _bearer(headers: Any) -> str | None:
    value = headers.get("Authorization") or ""
    return value[7:].strip() if value.lower().startswith("bearer ") else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    api: SupabaseStandIn

    def log_message(self, format: str, *args: Any) -> None:  # quiet, and no tokens
        pass

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        new_api = (self.headers.get("X-Supabase-Api-Version") or "") >= API_VERSION
        with self.api._lock:
            self.api.requests.append((method, parts.path, query.get("grant_type")))
        if parts.path == "/realtime/v1/websocket" and method == "GET":
            self.api.realtime.serve(self)
            return
        try:
            if parts.path.startswith("/rest/v1/rpc/"):
                if method != "POST":
                    raise Reply(
                        405,
                        {
                            "code": "PGRST117",
                            "details": None,
                            "hint": None,
                            "message": "Unsupported HTTP method (stand-in: POST only)",
                        },
                    )
                reply = self.api.rpc(parts.path.removeprefix("/rest/v1/rpc/"), self.headers, body)
            elif parts.path == "/fake-oauth/authorize":
                reply = self.api.fake_provider(query)
            elif parts.path.startswith("/auth/v1/"):
                reply = self.api.auth(
                    method, parts.path.removeprefix("/auth/v1/"), query, self.headers, body
                )
            else:
                raise Reply(404, {"message": "no Route matched with those values"})
        except Reply as raised:
            reply = raised
        except Exception as exc:  # a bug in the stand-in: say so, like a 500 would
            reply = Reply(
                500,
                {
                    "code": "XX000",
                    "message": f"stand-in failure: {exc!r}",
                    "details": None,
                    "hint": None,
                },
            )
        self._send(reply, new_api)

    def _send(self, reply: Reply, new_api: bool) -> None:
        headers = dict(reply.headers)
        body = reply.body
        if isinstance(body, dict) and body.pop("_gotrue", False):
            status = body.pop("status")
            if new_api:
                headers["X-Supabase-Api-Version"] = API_VERSION
            else:
                body = {"code": status, "error_code": body.pop("code"), **body}
        if self.path.startswith("/auth/v1/") and new_api:
            headers["X-Supabase-Api-Version"] = API_VERSION
        self.send_response(reply.status)
        for name, value in headers.items():
            self.send_header(name, value)
        if reply.status in (204, 302) and body is None:
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = json.dumps(body, default=_json_default).encode()
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self._handle("POST")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")
