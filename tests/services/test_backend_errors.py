"""services.errors: every source of failure becomes a LearnError a person can act on."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from services import errors as e


@pytest.mark.parametrize(
    ("state", "signed_in", "kind"),
    [
        ("42501", False, e.NotSignedIn),
        ("42501", True, e.PermissionDenied),
        ("P0001", True, e.InvalidInput),
        ("22023", True, e.InvalidInput),
        ("22P02", True, e.InvalidInput),
        ("23514", True, e.InvalidInput),
        ("23502", True, e.InvalidInput),
        ("23505", True, e.Conflict),
        ("23503", True, e.Conflict),
        ("42883", True, e.NotFound),
        ("P0002", True, e.NotFound),
        ("08006", True, e.Offline),
        ("57P01", True, e.Offline),
        ("57014", True, e.ServerError),
        ("40001", True, e.ServerError),
        ("28P01", True, e.ConfigError),
        ("XX000", True, e.ServerError),
        ("54000", True, e.LimitReached),
    ],
)
def test_sqlstates_map_to_kinds(state, signed_in, kind):
    error = e.from_sqlstate(state, "the message", signed_in=signed_in)
    assert type(error) is kind and error.code == state


def test_a_database_limit_says_which_limit():
    error = e.from_sqlstate(
        "54000",
        "limit: at most 300 chat messages an hour; try again after 20:00 UTC",
        signed_in=True,
    )
    assert str(error) == (
        "Limit reached: at most 300 chat messages an hour; try again after 20:00 UTC"
    )


def test_messages_are_one_line_and_capped():
    error = e.from_sqlstate("P0001", "first line\nsecond line   " + "x" * 1000, signed_in=True)
    assert "\n" not in str(error) and len(str(error)) <= 300
    assert str(error).startswith("first line second line")


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"code": "PGRST303", "message": "JWT expired"}, e.AuthError),
        ({"code": "PGRST301", "message": "JWSError"}, e.AuthError),
        ({"code": "PGRST202", "message": "Could not find the function"}, e.NotFound),
        ({"code": "PGRST000", "message": "could not connect"}, e.Offline),
        ({"code": "PGRST102", "message": "Empty or invalid json"}, e.InvalidInput),
        ({"code": "23505", "message": "duplicate key"}, e.Conflict),
        ({"code": "P0001", "message": "closed"}, e.InvalidInput),
        ({"code": "502", "message": "Bad Gateway"}, e.Offline),
        ({"code": None, "message": "Invalid API key"}, e.ConfigError),
    ],
)
def test_postgrest_errors_map_to_kinds(body, kind):
    assert type(e.from_postgrest(body, signed_in=True)) is kind


def test_postgrest_insufficient_privilege_depends_on_sign_in():
    body = {"code": "42501", "message": "permission denied for table x"}
    assert type(e.from_postgrest(body, 401, signed_in=False)) is e.NotSignedIn
    assert type(e.from_postgrest(body, 403, signed_in=True)) is e.PermissionDenied


@pytest.mark.parametrize(
    ("status", "code", "kind", "text"),
    [
        (400, "invalid_credentials", e.AuthError, "Wrong email or password."),
        (422, "user_already_exists", e.Conflict, "already exists"),
        (422, "weak_password", e.InvalidInput, "Password should be at least 6 characters."),
        (403, "otp_expired", e.AuthError, "code is wrong or has expired"),
        (400, "refresh_token_not_found", e.AuthError, "learn login"),
        (429, "over_email_send_rate_limit", e.ServerError, "wait a minute"),
        (0, None, e.Offline, "connection"),
        (500, None, e.ServerError, "server"),
        (401, None, e.ConfigError, "API key"),
    ],
)
def test_gotrue_errors_map_to_kinds(status, code, kind, text):
    message = "Invalid API key" if status == 401 else "Password should be at least 6 characters."
    error = e.from_gotrue(status, code, message)
    assert type(error) is kind and text in str(error)


def test_supabase_py_exceptions_are_recognised_without_importing_them_here():
    from postgrest.exceptions import APIError
    from supabase_auth.errors import AuthApiError, AuthRetryableError, AuthWeakPasswordError

    assert type(e.from_exception(APIError({"code": "42883", "message": "x"}))) is e.NotFound
    assert (
        type(
            e.from_exception(AuthApiError("Invalid login credentials", 400, "invalid_credentials"))
        )
        is e.AuthError
    )
    assert type(e.from_exception(AuthRetryableError("boom", 0))) is e.Offline
    assert type(e.from_exception(AuthWeakPasswordError("weak", 422, ["length"]))) is e.InvalidInput


def test_network_failures_are_offline_and_name_only_the_host():
    request = httpx.Request("POST", "https://user:pw@abc.supabase.co/rest/v1/rpc/x?apikey=k")
    error = e.from_exception(httpx.ConnectError("refused", request=request))
    assert type(error) is e.Offline
    assert "abc.supabase.co" in str(error)
    assert "pw" not in str(error).replace("supabase", "") and "apikey" not in str(error)
    assert type(e.from_exception(psycopg.OperationalError("no route"), signed_in=True)) is e.Offline


def test_learn_errors_pass_through_and_unknown_ones_are_unexpected_with_a_reference():
    original = e.NotFound("gone")
    assert e.from_exception(original) is original
    error = e.from_exception(RuntimeError("x"))
    assert type(error) is e.UnexpectedError and error.ref and error.ref in str(error)
    assert not e.is_unreachable(error)
