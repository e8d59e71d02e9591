"""The stand-in speaks PostgREST's and GoTrue's wire format (checked with raw HTTP)."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt
import pytest

SETUP = """
create or replace function public.standin_void() returns void language sql as $$ select $$;
create or replace function public.standin_me() returns jsonb language sql stable as $$
  select jsonb_build_object('uid', auth.uid(), 'role', current_user,
                            'path', current_setting('request.path', true))
$$;
create or replace function public.standin_over(a integer) returns integer language sql
  as $$ select a $$;
create or replace function public.standin_over(a text) returns text language sql
  as $$ select a $$;
grant execute on function public.standin_void(), public.standin_me(),
  public.standin_over(integer), public.standin_over(text) to anon, authenticated;
"""


@pytest.fixture(scope="module")
def http(standin, db):
    db.su(SETUP)
    with httpx.Client(base_url=standin.url, headers={"apikey": standin.anon_key},
                      timeout=10) as client:
        yield client


def _signup(http, email=None, password="secret-password"):
    email = email or f"s-{uuid.uuid4().hex[:8]}@example.test"
    response = http.post("/auth/v1/signup", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def test_every_request_needs_an_apikey(standin, http):
    response = httpx.post(f"{standin.url}/rest/v1/rpc/standin_me", json={})
    assert response.status_code == 401
    assert response.json()["message"] == "No API key found in request"
    response = http.post("/rest/v1/rpc/standin_me", json={}, headers={"apikey": "nope"})
    assert (response.status_code, response.json()["message"]) == (401, "Invalid API key")


def test_rpc_runs_as_the_jwt_role_with_request_settings(http):
    assert http.post("/rest/v1/rpc/standin_me", json={}).json() == {
        "uid": None, "role": "anon", "path": "/rpc/standin_me"}
    session = _signup(http)
    me = http.post("/rest/v1/rpc/standin_me", json={},
                   headers={"Authorization": f"Bearer {session['access_token']}"}).json()
    assert me["uid"] == session["user"]["id"] and me["role"] == "authenticated"


def test_invalid_and_expired_jwts_are_401_with_pgrst_codes(standin, http):
    forged = jwt.encode({"role": "authenticated", "exp": time.time() + 60}, "x" * 32)
    response = http.post("/rest/v1/rpc/standin_me", json={},
                         headers={"Authorization": f"Bearer {forged}"})
    assert (response.status_code, response.json()["code"]) == (401, "PGRST301")
    expired = jwt.encode({"role": "authenticated", "exp": int(time.time()) - 5},
                         standin.jwt_secret)
    response = http.post("/rest/v1/rpc/standin_me", json={},
                         headers={"Authorization": f"Bearer {expired}"})
    assert (response.status_code, response.json()["code"]) == (401, "PGRST303")
    assert set(response.json()) == {"code", "message", "details", "hint"}


def test_void_is_204_unknown_is_404_ambiguous_is_300(http):
    response = http.post("/rest/v1/rpc/standin_void", json={})
    assert response.status_code == 204 and response.content == b""
    response = http.post("/rest/v1/rpc/nope", json={"x": 1})
    assert (response.status_code, response.json()["code"]) == (404, "PGRST202")
    response = http.post("/rest/v1/rpc/standin_over", json={"a": 1})
    assert (response.status_code, response.json()["code"]) == (300, "PGRST203")


def test_gotrue_error_shape_follows_the_requested_api_version(http):
    bad = {"email": "nobody@example.test", "password": "x"}
    legacy = http.post("/auth/v1/token?grant_type=password", json=bad)
    assert legacy.status_code == 400
    assert legacy.json() == {"code": 400, "error_code": "invalid_credentials",
                             "msg": "Invalid login credentials"}
    current = http.post("/auth/v1/token?grant_type=password", json=bad,
                        headers={"X-Supabase-Api-Version": "2024-01-01"})
    assert current.json() == {"code": "invalid_credentials", "msg": "Invalid login credentials"}
    assert current.headers["X-Supabase-Api-Version"] == "2024-01-01"


def test_refresh_tokens_rotate_and_cannot_be_reused(http):
    session = _signup(http)
    grant = "/auth/v1/token?grant_type=refresh_token"
    renewed = http.post(grant, json={"refresh_token": session["refresh_token"]})
    assert renewed.status_code == 200
    assert renewed.json()["refresh_token"] != session["refresh_token"]
    reused = http.post(grant, json={"refresh_token": session["refresh_token"]})
    assert reused.json()["error_code"] == "refresh_token_already_used"


def test_logout_scopes(http):
    email = f"s-{uuid.uuid4().hex[:8]}@example.test"
    one = _signup(http, email)
    two = http.post("/auth/v1/token?grant_type=password",
                    json={"email": email, "password": "secret-password"}).json()
    response = http.post("/auth/v1/logout?scope=local",
                         headers={"Authorization": f"Bearer {one['access_token']}"})
    assert response.status_code == 204
    grant = "/auth/v1/token?grant_type=refresh_token"
    assert http.post(grant, json={"refresh_token": one["refresh_token"]}).status_code == 400
    assert http.post(grant, json={"refresh_token": two["refresh_token"]}).status_code == 200
    user = http.get("/auth/v1/user", headers={"Authorization": f"Bearer {one['access_token']}"})
    assert (user.status_code, user.json()["error_code"]) == (403, "session_not_found")
