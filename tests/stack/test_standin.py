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
    with httpx.Client(
        base_url=standin.url, headers={"apikey": standin.anon_key}, timeout=10
    ) as client:
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
        "uid": None,
        "role": "anon",
        "path": "/rpc/standin_me",
    }
    session = _signup(http)
    me = http.post(
        "/rest/v1/rpc/standin_me",
        json={},
        headers={"Authorization": f"Bearer {session['access_token']}"},
    ).json()
    assert me["uid"] == session["user"]["id"] and me["role"] == "authenticated"


def test_invalid_and_expired_jwts_are_401_with_pgrst_codes(standin, http):
    forged = jwt.encode({"role": "authenticated", "exp": time.time() + 60}, "x" * 32)
    response = http.post(
        "/rest/v1/rpc/standin_me", json={}, headers={"Authorization": f"Bearer {forged}"}
    )
    assert (response.status_code, response.json()["code"]) == (401, "PGRST301")
    expired = jwt.encode({"role": "authenticated", "exp": int(time.time()) - 5}, standin.jwt_secret)
    response = http.post(
        "/rest/v1/rpc/standin_me", json={}, headers={"Authorization": f"Bearer {expired}"}
    )
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
    assert legacy.json() == {
        "code": 400,
        "error_code": "invalid_credentials",
        "msg": "Invalid login credentials",
    }
    current = http.post(
        "/auth/v1/token?grant_type=password",
        json=bad,
        headers={"X-Supabase-Api-Version": "2024-01-01"},
    )
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
    two = http.post(
        "/auth/v1/token?grant_type=password", json={"email": email, "password": "secret-password"}
    ).json()
    response = http.post(
        "/auth/v1/logout?scope=local", headers={"Authorization": f"Bearer {one['access_token']}"}
    )
    assert response.status_code == 204
    grant = "/auth/v1/token?grant_type=refresh_token"
    assert http.post(grant, json={"refresh_token": one["refresh_token"]}).status_code == 400
    assert http.post(grant, json={"refresh_token": two["refresh_token"]}).status_code == 200
    user = http.get("/auth/v1/user", headers={"Authorization": f"Bearer {one['access_token']}"})
    assert (user.status_code, user.json()["error_code"]) == (403, "session_not_found")


# -- a project created today: publishable/secret keys, ES256 tokens verified by the JWKS --


@pytest.fixture(scope="module")
def new_keys(db, db_url):
    from tests.stack import SupabaseStandIn

    db.su(SETUP)
    with SupabaseStandIn(db_url, keys="new") as api:
        yield api


@pytest.fixture
def http_new(new_keys):
    with httpx.Client(
        base_url=new_keys.url, headers={"apikey": new_keys.client_key}, timeout=10
    ) as client:
        yield client


def test_new_keys_are_opaque_and_the_publishable_key_is_anon(new_keys, http_new):
    assert new_keys.client_key.startswith("sb_publishable_")
    assert new_keys.service_role_key.startswith("sb_secret_")
    me = http_new.post(
        "/rest/v1/rpc/standin_me",
        json={},
        headers={"Authorization": f"Bearer {new_keys.client_key}"},
    ).json()
    assert me["role"] == "anon"
    me = http_new.post(
        "/rest/v1/rpc/standin_me",
        json={},
        headers={
            "apikey": new_keys.service_role_key,
            "Authorization": f"Bearer {new_keys.service_role_key}",
        },
    ).json()
    assert me["role"] == "service_role"


def test_a_publishable_key_as_bearer_must_equal_the_apikey(new_keys, http_new):
    response = http_new.post(
        "/rest/v1/rpc/standin_me",
        json={},
        headers={
            "apikey": new_keys.service_role_key,
            "Authorization": f"Bearer {new_keys.client_key}",
        },
    )
    assert (response.status_code, response.json()["message"]) == (401, "Invalid API key")
    response = http_new.get(
        "/auth/v1/user", headers={"Authorization": f"Bearer {new_keys.client_key}"}
    )
    assert response.status_code == 403


def test_legacy_jwt_keys_and_hs256_tokens_are_refused_by_a_new_project(new_keys, http_new):
    legacy_anon = jwt.encode({"role": "anon", "exp": time.time() + 60}, new_keys.jwt_secret)
    response = http_new.post("/rest/v1/rpc/standin_me", json={}, headers={"apikey": legacy_anon})
    assert response.status_code == 401
    hs256 = jwt.encode(
        {"role": "authenticated", "sub": str(uuid.uuid4()), "exp": int(time.time()) + 60},
        new_keys.jwt_secret,
    )
    response = http_new.post(
        "/rest/v1/rpc/standin_me", json={}, headers={"Authorization": f"Bearer {hs256}"}
    )
    assert (response.status_code, response.json()["code"]) == (401, "PGRST301")


def test_user_tokens_are_es256_with_a_kid_that_the_jwks_verifies(new_keys, http_new):
    session = _signup(http_new)
    header = jwt.get_unverified_header(session["access_token"])
    assert header["alg"] == "ES256" and header["kid"]
    jwks = httpx.get(f"{new_keys.url}/auth/v1/.well-known/jwks.json").json()  # no key needed
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    assert key["kty"] == "EC" and key["crv"] == "P-256" and "d" not in key
    claims = jwt.decode(
        session["access_token"],
        jwt.PyJWK.from_dict(key).key,
        algorithms=["ES256"],
        audience="authenticated",
    )
    assert claims["sub"] == session["user"]["id"]


def test_rotating_the_signing_key_keeps_issued_tokens_valid(new_keys, http_new):
    old = _signup(http_new)
    kid = new_keys.rotate_signing_key()
    new = http_new.post(
        "/auth/v1/token?grant_type=refresh_token", json={"refresh_token": old["refresh_token"]}
    ).json()
    assert jwt.get_unverified_header(new["access_token"])["kid"] == kid
    for token in (old["access_token"], new["access_token"]):
        me = http_new.post(
            "/rest/v1/rpc/standin_me", json={}, headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert me["uid"] == old["user"]["id"]


def test_a_token_signed_by_a_key_not_in_the_jwks_is_refused(new_keys, http_new):
    from cryptography.hazmat.primitives.asymmetric import ec

    stranger = ec.generate_private_key(ec.SECP256R1())
    kid = jwt.get_unverified_header(_signup(http_new)["access_token"])["kid"]
    forged = jwt.encode(
        {"role": "authenticated", "sub": str(uuid.uuid4()), "exp": int(time.time()) + 60},
        stranger,
        algorithm="ES256",
        headers={"kid": kid},
    )
    response = http_new.post(
        "/rest/v1/rpc/standin_me", json={}, headers={"Authorization": f"Bearer {forged}"}
    )
    assert (response.status_code, response.json()["code"]) == (401, "PGRST301")
