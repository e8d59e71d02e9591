"""One error hierarchy for everything the UI shows: `LearnError` and its kinds.

`str(error)` is one line a person can act on: what happened and what to do next.
It never contains a password, key, token or connection string.

The `from_*` functions turn what the backends raise — psycopg errors (SQLSTATE),
PostgREST's JSON errors `{code, message, details, hint}`, GoTrue's errors and
network failures — into these kinds, so both backends fail the same way. They stay in
one module (~460 lines) with the kinds: which kind each backend error becomes, and its
wording, is the point of the module and is checked side by side.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from typing import Any

from services.text import terminal_safe

_MAX_MESSAGE = 300


def one_line(text: Any, limit: int = _MAX_MESSAGE) -> str:
    """Collapse whitespace (newlines included), remove control characters (a server's
    message may echo what someone else wrote) and cap the length."""
    line = " ".join(terminal_safe(str(text or "")).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


class LearnError(Exception):
    """Base of every error the app shows to a person."""

    default = "Something went wrong."

    def __init__(
        self, message: str | None = None, *, code: str | None = None, status: int | None = None
    ):
        self.message = one_line(message or self.default)
        self.code = code  # SQLSTATE, PGRSTxxx or GoTrue error_code, when known
        self.status = status  # HTTP status, when there was one
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class NotSignedIn(LearnError):
    default = "You need to sign in first: run `learn login` (or start `learn`)."


class Offline(LearnError):
    default = "Can't reach the server right now; check your connection and try again."


class PermissionDenied(LearnError):
    default = "You don't have permission to do that."


class NotFound(LearnError):
    default = "That doesn't exist (any more)."


class InvalidInput(LearnError):
    default = "That input was not accepted."


class Conflict(LearnError):
    default = "That conflicts with something that already exists."


class ServerError(LearnError):
    default = "The server failed to do that; try again, and run `learn doctor` if it persists."


class LimitReached(ServerError):
    """The database refused a write over one of its quotas (SQLSTATE 54000, a message
    starting "limit:"). A ServerError, so the offline outbox retries it later: hourly
    allowances refill."""

    default = "That is over one of the server's limits; try again later."


class AuthError(LearnError):
    default = "Your session has expired: sign in again with `learn login`."


class ConfigError(LearnError):
    default = "The configuration is not valid: see `learn config` and `learn doctor`."


class LocalStorageError(LearnError):
    """A file of this machine (the offline queue, the read cache) could not be used."""

    default = "A file on this machine could not be used: run `learn doctor`."


class UnexpectedError(LearnError):
    """A failure nobody planned for (a bug): logged with its traceback under `ref`.

    Not a sign that the server is unreachable: the app stays online."""

    default = "Unexpected error: run `learn doctor` to see where the log is."

    def __init__(self, message: str | None = None, *, ref: str | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.ref = ref


def unexpected(exc: BaseException) -> UnexpectedError:
    """An UnexpectedError for `exc`, its traceback logged once with a short reference
    (services.logs writes the log file; the reference is what the learner quotes)."""
    ref = getattr(exc, "_learn_ref", None)
    if ref is None:
        ref = secrets.token_hex(3)
        try:
            exc._learn_ref = ref  # type: ignore[attr-defined]
        except AttributeError:
            pass
        logging.getLogger("learn.unexpected").error(
            "unexpected error, ref %s: %s",
            ref,
            type(exc).__name__,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
    from services import logs

    where = logs.current_file()
    return UnexpectedError(
        f"Unexpected error ({type(exc).__name__}), ref {ref}: the details "
        f"are in {where or 'the log file (`learn doctor` shows where)'}.",
        ref=ref,
    )


_SESSION_EXPIRED = (
    "Your session has expired or is no longer valid: sign in again with `learn login`."
)


# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------


def _constraint_hint(constraint: str | None) -> str:
    return f" ({constraint})" if constraint else ""


def from_sqlstate(
    sqlstate: str | None,
    message: str | None,
    *,
    signed_in: bool,
    constraint: str | None = None,
    column: str | None = None,
    status: int | None = None,
) -> LearnError:
    """The LearnError for a PostgreSQL error, as PostgREST would classify it.

    `message` is the server's primary message. Our SQL functions raise messages
    written for people (`raise exception '...'`), so those are shown as they are.
    """
    state = (sqlstate or "").upper()
    text = one_line(message)
    kw: dict[str, Any] = {"code": state or None, "status": status}
    if state == "42501":
        if not signed_in:
            return NotSignedIn(**kw)
        return PermissionDenied(
            f"You don't have permission to do that: {text}." if text else None, **kw
        )
    if state == "23505":
        return Conflict(f"That already exists{_constraint_hint(constraint)}.", **kw)
    if state == "23503":
        return Conflict(
            "That refers to something that doesn't exist (any more)"
            f"{_constraint_hint(constraint)}.",
            **kw,
        )
    if state == "23502":
        what = f": {column}" if column else ""
        return InvalidInput(f"A required value is missing{what}.", **kw)
    if state == "23514":
        return InvalidInput(f"A value is not allowed{_constraint_hint(constraint)}.", **kw)
    if state.startswith("54"):
        detail = text[len("limit:") :].strip() if text.lower().startswith("limit:") else text
        return LimitReached(f"Limit reached: {detail}" if detail else None, **kw)
    if state in ("P0001", "P0004") or state.startswith("22"):
        return InvalidInput(text or None, **kw)
    if state == "42883":
        return NotFound(
            f"The server has no such function ({text}): the database may need "
            "the latest migrations — run `learn doctor`.",
            **kw,
        )
    if state in ("P0002", "42P01", "02000"):
        return NotFound(text or None, **kw)
    if state.startswith("08") or state in ("57P01", "57P02", "57P03", "53300"):
        return Offline("The database is unreachable right now; try again in a moment.", **kw)
    if state == "57014":
        return ServerError("The database took too long to answer; try again.", **kw)
    if state in ("40001", "40P01"):
        return ServerError("The database was busy with a conflicting change; try again.", **kw)
    if state.startswith("28"):
        return ConfigError(
            "The database refused the login: check DATABASE_URL (`learn config database_url …`).",
            **kw,
        )
    if state == "3D000":
        return ConfigError("That database does not exist: check DATABASE_URL.", **kw)
    if state.startswith("23"):
        return InvalidInput(text or None, **kw)
    return ServerError(f"The database failed: {text}" if text else None, **kw)


def from_psycopg(exc: BaseException, *, signed_in: bool) -> LearnError:
    """A psycopg exception (or any exception raised while talking to PostgreSQL)."""
    import psycopg

    if isinstance(exc, LearnError):
        return exc
    sqlstate = getattr(exc, "sqlstate", None)
    diag = getattr(exc, "diag", None)
    if sqlstate:
        return from_sqlstate(
            sqlstate,
            getattr(diag, "message_primary", None) or str(exc),
            signed_in=signed_in,
            constraint=getattr(diag, "constraint_name", None),
            column=getattr(diag, "column_name", None),
        )
    if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError, OSError)):
        return Offline("The database is unreachable: is it running? Run `learn doctor`.")
    return unexpected(exc)


# ---------------------------------------------------------------------------
# PostgREST
# ---------------------------------------------------------------------------


def from_postgrest(
    error: Mapping[str, Any], status: int | None = None, *, signed_in: bool
) -> LearnError:
    """A PostgREST error body `{code, message, details, hint}` (+ HTTP status if known)."""
    code = str(error.get("code") or "")
    message = one_line(error.get("message"))
    kw: dict[str, Any] = {"code": code or None, "status": status}
    if code.startswith("PGRST"):
        number = code[5:]
        if number in ("301", "302", "303"):
            return AuthError(_SESSION_EXPIRED, **kw)
        if number == "202":
            return NotFound(
                "The server has no such function: the Supabase project may "
                "need the latest migrations (`supabase db push`).",
                **kw,
            )
        if number == "203":
            return ServerError(
                "The server has several functions by that name; "
                "the project's migrations need fixing.",
                **kw,
            )
        if number in ("000", "001", "002", "003"):
            return Offline(
                "The Supabase project can't reach its database right now; try again in a moment.",
                **kw,
            )
        if number.startswith("1"):
            return InvalidInput(message or None, **kw)
        return ServerError(f"The server failed: {message}" if message else None, **kw)
    if re.fullmatch(r"[0-9A-Z]{5}", code):  # a SQLSTATE
        return from_sqlstate(code, message, signed_in=signed_in, status=status)
    if code.isdigit() and status is None:
        status = int(code)  # supabase-py puts the HTTP status here for non-JSON bodies
    if "api key" in message.lower() or "apikey" in message.lower():
        return ConfigError(
            "The Supabase project rejected the API key: check "
            "supabase_key (`learn config supabase_key sb_publishable_…`).",
            **kw,
        )
    return from_status(status, message)


def from_status(status: int | None, message: str | None = None) -> LearnError:
    """The LearnError for a bare HTTP status."""
    text = one_line(message) or None
    if status is None:
        return ServerError(text)
    if status == 401:
        return NotSignedIn(status=status)
    if status == 403:
        return PermissionDenied(status=status)
    if status == 404:
        return NotFound(status=status)
    if status == 409:
        return Conflict(text, status=status)
    if status in (400, 422):
        return InvalidInput(text, status=status)
    if status == 429:
        return ServerError("Too many requests: wait a minute and try again.", status=status)
    if status in (502, 503, 504, 520, 521, 522, 523, 524, 530):
        return Offline("The server is unavailable right now; try again in a moment.", status=status)
    if status >= 500:
        return ServerError(status=status)
    return ServerError(text, status=status)


# ---------------------------------------------------------------------------
# GoTrue (Supabase Auth)
# ---------------------------------------------------------------------------

_GOTRUE_MESSAGES: dict[str, tuple[type[LearnError], str | None]] = {
    "invalid_credentials": (AuthError, "Wrong email or password."),
    "email_not_confirmed": (
        AuthError,
        "Confirm your email first (open the link you were sent), then sign in again.",
    ),
    "user_already_exists": (
        Conflict,
        "An account with this email already exists: sign in with `learn login`.",
    ),
    "email_exists": (
        Conflict,
        "An account with this email already exists: sign in with `learn login`.",
    ),
    "weak_password": (InvalidInput, None),
    "validation_failed": (InvalidInput, None),
    "email_address_invalid": (InvalidInput, "That email address is not valid."),
    "otp_expired": (AuthError, "That code is wrong or has expired: ask for a new one."),
    "otp_disabled": (
        PermissionDenied,
        "Email codes can't create accounts on this project: sign up first.",
    ),
    "signup_disabled": (PermissionDenied, "Sign-ups are disabled on this Supabase project."),
    "email_provider_disabled": (
        PermissionDenied,
        "Email sign-in is disabled on this Supabase project.",
    ),
    "user_banned": (PermissionDenied, "This account is suspended."),
    "user_not_found": (AuthError, _SESSION_EXPIRED),
    "session_not_found": (AuthError, _SESSION_EXPIRED),
    "session_expired": (AuthError, _SESSION_EXPIRED),
    "refresh_token_not_found": (AuthError, _SESSION_EXPIRED),
    "refresh_token_already_used": (AuthError, _SESSION_EXPIRED),
    "bad_jwt": (AuthError, _SESSION_EXPIRED),
    "no_authorization": (NotSignedIn, None),
    "over_request_rate_limit": (ServerError, "Too many attempts: wait a minute and try again."),
    "over_email_send_rate_limit": (
        ServerError,
        "Too many emails sent: wait a minute and try again.",
    ),
}


def from_gotrue(status: int | None, code: str | None, message: str | None) -> LearnError:
    """A GoTrue error: HTTP status, `error_code` (or `code`) and message."""
    text = one_line(message)
    kw: dict[str, Any] = {"code": code, "status": status}
    if code in _GOTRUE_MESSAGES:
        kind, fixed = _GOTRUE_MESSAGES[code]
        return kind(fixed or text or None, **kw)
    if not status:
        return Offline("Can't reach Supabase Auth; check your connection and try again.", **kw)
    if status == 401 and ("api key" in text.lower() or "apikey" in text.lower()):
        return ConfigError(
            "The Supabase project rejected the API key: check "
            "supabase_key (`learn config supabase_key sb_publishable_…`).",
            **kw,
        )
    if status in (401, 403):
        return AuthError(_SESSION_EXPIRED, **kw)
    if status == 429:
        return ServerError("Too many attempts: wait a minute and try again.", **kw)
    if 400 <= status < 500:
        return InvalidInput(text or None, **kw)
    return from_status(status, text)


# ---------------------------------------------------------------------------
# Anything
# ---------------------------------------------------------------------------


def _host_of(exc: BaseException) -> str:
    request = getattr(exc, "_request", None)
    try:
        return f" ({request.url.host})" if request is not None else ""
    except Exception:
        return ""


def from_exception(exc: BaseException, *, signed_in: bool = False) -> LearnError:
    """Any exception a backend may see, as a LearnError (supabase is never imported here)."""
    if isinstance(exc, LearnError):
        return exc
    module = type(exc).__module__ or ""
    name = type(exc).__name__
    if module.startswith("psycopg"):
        return from_psycopg(exc, signed_in=signed_in)
    if module.startswith("postgrest") and name == "APIError":
        body = exc.json() if hasattr(exc, "json") else {}
        return from_postgrest(body if isinstance(body, Mapping) else {}, signed_in=signed_in)
    if module.startswith(("supabase_auth", "gotrue")):
        if name in ("AuthRetryableError",) and not getattr(exc, "status", 0):
            return Offline("Can't reach Supabase Auth; check your connection and try again.")
        if name == "AuthSessionMissingError":
            return NotSignedIn()
        if name == "AuthWeakPasswordError":
            return InvalidInput(
                getattr(exc, "message", None) or "That password is too weak.",
                code="weak_password",
                status=getattr(exc, "status", None),
            )
        if name == "AuthInvalidCredentialsError":
            return InvalidInput(getattr(exc, "message", None))
        return from_gotrue(
            getattr(exc, "status", None), getattr(exc, "code", None), getattr(exc, "message", None)
        )
    if module.startswith(("httpx", "httpcore")):
        if name in (
            "ConnectError",
            "ConnectTimeout",
            "ReadTimeout",
            "WriteTimeout",
            "PoolTimeout",
            "RemoteProtocolError",
            "ReadError",
            "WriteError",
            "NetworkError",
            "TimeoutException",
            "ProxyError",
        ):
            return Offline(
                f"Can't reach the server{_host_of(exc)}; check your connection and try again."
            )
        return unexpected(exc)
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return Offline()
    if isinstance(exc, OSError) and exc.errno is not None:
        import errno

        if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN):
            return Offline()
    if type(exc).__name__ == "gaierror":  # socket.gaierror: DNS
        return Offline("Can't find the server (DNS); check your connection and try again.")
    return unexpected(exc)


def is_unreachable(error: LearnError) -> bool:
    """The backend could not answer: the network, DNS, a timeout, a lost PostgreSQL
    connection (Offline) or an HTTP 5xx. Not a bug of ours (UnexpectedError), not a
    database error with an answer (ServerError without a 5xx status)."""
    if isinstance(error, Offline):
        return True
    return isinstance(error, ServerError) and (error.status or 0) >= 500
