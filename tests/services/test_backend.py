"""One suite, both backends: LocalBackend on the test PostgreSQL, and SupabaseBackend —
the real supabase-py client — against the PostgREST/GoTrue stand-in on the same
database. Every test that is not marked for one backend must pass on both: that is
the proof that they behave the same."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
import uuid
from pathlib import Path

import pytest

from services import errors
from services.data.api import LearningAPI
from services.data.backend import Backend, CurrentUser, LocalBackend, SupabaseBackend
from tests.stack import SupabaseStandIn

PASSWORD = "correct horse battery staple"

SETUP_SQL = """
create or replace function public.whoami() returns jsonb language sql stable as $$
  select jsonb_build_object('uid', auth.uid(), 'role', auth.role(), 'email', auth.email())
$$;
create or replace function public.test_my_profile() returns jsonb language sql stable as $$
  select to_jsonb(p) from public.profiles p where p.id = auth.uid()
$$;
create or replace function public.test_count_profiles() returns bigint language sql stable as $$
  select count(*) from public.profiles
$$;
create or replace function public.test_notify_myself() returns void language sql as $$
  insert into public.notifications (user_id, title) values (auth.uid(), 'self-made')
$$;
create or replace function public.test_boom(p_message text) returns jsonb
language plpgsql as $$ begin raise exception '%', p_message; end $$;
create or replace function public.test_bad_timezone() returns void language sql as $$
  update public.profiles set timezone = 'Mars/Olympus' where id = auth.uid()
$$;
create or replace function public.test_long_name() returns void language sql as $$
  update public.profiles set full_name = repeat('x', 500) where id = auth.uid()
$$;
create table if not exists public.test_things (name text primary key);
grant select, insert on public.test_things to anon, authenticated;
create or replace function public.test_add_thing(p_name text) returns jsonb language sql as $$
  insert into public.test_things values (p_name) returning jsonb_build_object('name', name)
$$;
create or replace function public.test_echo(p_tags text[] default null,
    p_ids uuid[] default null, p_n integer default 0, p_obj jsonb default null,
    p_at timestamptz default null, p_flag boolean default null)
returns jsonb language sql stable as $$
  select jsonb_build_object('tags', p_tags, 'ids', p_ids, 'n', p_n + 1, 'obj', p_obj,
                            'at', p_at, 'flag', p_flag,
                            'tag_count', coalesce(cardinality(p_tags), 0))
$$;
create or replace function public.test_series(p_n integer) returns setof integer
language sql stable as $$ select generate_series(1, p_n) $$;
create or replace function public.test_text() returns text language sql stable as $$
  select 'plain'
$$;
grant execute on all functions in schema public to anon, authenticated;
"""


def _email() -> str:
    return f"learner-{uuid.uuid4().hex[:10]}@example.test"


@pytest.fixture(scope="module")
def prepared_db(db):
    db.su(SETUP_SQL)
    return db


@pytest.fixture(scope="module")
def api_new(db_url, prepared_db):
    """A project created today: publishable key, ES256 user tokens verified by JWKS."""
    with SupabaseStandIn(db_url, keys="new") as standin:
        yield standin


@pytest.fixture(scope="module")
def api_legacy(db_url, prepared_db):
    """A 2024 project: anon JWT key, HS256 user tokens."""
    with SupabaseStandIn(db_url, keys="legacy") as standin:
        yield standin


@pytest.fixture(params=["local", "supabase", "supabase-legacy"])
def kind(request) -> str:
    return request.param


@pytest.fixture
def api(kind, request, db_url) -> SupabaseStandIn:
    """The stand-in for this test's Supabase mode (new keys for `local` tests that ask)."""
    return request.getfixturevalue("api_legacy" if kind == "supabase-legacy" else "api_new")


@pytest.fixture
async def make(kind, db_url, api, tmp_path, monkeypatch):
    """make(session_path=None) → a backend of this test's kind (closed afterwards)."""
    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "home"))
    made: list[Backend] = []

    def factory(session_path=None, **kw) -> Backend:
        path = session_path or tmp_path / "session.json"
        if kind == "local":
            backend = LocalBackend(db_url, session_path=path, migrate=False)
        else:
            backend = SupabaseBackend(api.url, api.anon_key, session_path=path, **kw)
        made.append(backend)
        return backend

    yield factory
    for backend in made:
        await backend.close()


@pytest.fixture
def short_tokens(api):
    api.access_token_ttl = 2
    yield api
    api.access_token_ttl = 3600


# -- accounts and profiles -------------------------------------------------------------


async def test_both_backends_satisfy_the_protocol(make):
    assert isinstance(make(), Backend)


async def test_anonymous_caller_runs_as_anon(make):
    backend = make()
    assert await backend.call("whoami") == {"uid": None, "role": "anon", "email": None}
    assert backend.current_user is None


async def test_sign_up_creates_a_profile_through_the_signup_trigger(make, prepared_db):
    backend = make()
    email = _email()
    user = await backend.sign_up(email, PASSWORD, full_name="Ada Lovelace", timezone="Europe/Paris")
    assert isinstance(user, CurrentUser) and user.email == email
    assert backend.current_user == user
    me = await backend.call("whoami")
    assert me == {"uid": user.id, "role": "authenticated", "email": email}
    profile = await backend.call("test_my_profile")
    assert (profile["full_name"], profile["email"], profile["timezone"]) == (
        "Ada Lovelace",
        email,
        "Europe/Paris",
    )
    streaks = prepared_db.su_one(
        "select count(*) from public.user_streaks where user_id = %s", (user.id,)
    )
    assert streaks == 1


async def test_sign_in_with_the_right_password_only(make):
    email = _email()
    await make(session_path=None).sign_up(email, PASSWORD, full_name="B")
    backend = make()
    with pytest.raises(errors.AuthError, match="Wrong email or password"):
        await backend.sign_in(email, "not the password")
    with pytest.raises(errors.AuthError):
        await backend.sign_in(_email(), PASSWORD)
    user = await backend.sign_in(email.upper(), PASSWORD)
    assert (await backend.call("whoami"))["uid"] == user.id


async def test_signing_up_twice_with_one_email_is_a_conflict(make):
    email = _email()
    backend = make()
    await backend.sign_up(email, PASSWORD)
    with pytest.raises(errors.Conflict, match="already exists"):
        await make().sign_up(email, PASSWORD)


async def test_weak_password_and_bad_email_are_invalid_input(make):
    backend = make()
    with pytest.raises(errors.InvalidInput, match="at least 6"):
        await backend.sign_up(_email(), "12345")
    with pytest.raises(errors.InvalidInput, match="email"):
        await backend.sign_up("not-an-email", PASSWORD)
    assert backend.current_user is None


# -- sessions ---------------------------------------------------------------------------


async def test_session_file_is_private_and_reused_on_the_next_start(make, tmp_path):
    path = tmp_path / "s" / "session.json"
    first = make(session_path=path)
    user = await first.sign_up(_email(), PASSWORD, full_name="C")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    await first.close()

    second = make(session_path=path)
    await second.connect()
    assert second.current_user == user
    assert (await second.call("whoami"))["uid"] == user.id


async def test_sign_out_clears_the_saved_session(make, tmp_path):
    path = tmp_path / "session.json"
    backend = make(session_path=path)
    await backend.sign_up(_email(), PASSWORD)
    await backend.sign_out()
    assert backend.current_user is None
    assert (await backend.call("whoami"))["role"] == "anon"
    assert not path.exists() or backend.namespace not in json.loads(path.read_text())

    again = make(session_path=path)
    await again.connect()
    assert again.current_user is None


async def test_sessions_of_other_backends_are_left_alone(make, tmp_path):
    path = tmp_path / "session.json"
    path.write_text(json.dumps({"supabase:https://other.example": {"k": "v"}}))
    backend = make(session_path=path)
    await backend.sign_up(_email(), PASSWORD)
    await backend.sign_out()
    assert json.loads(path.read_text()) == {"supabase:https://other.example": {"k": "v"}}


# -- errors -----------------------------------------------------------------------------


async def test_rls_denial_for_anon_means_sign_in(make):
    with pytest.raises(errors.NotSignedIn) as caught:
        await make().call("test_count_profiles")
    assert caught.value.code == "42501"


async def test_rls_denial_for_a_learner_is_permission_denied(make):
    backend = make()
    await backend.sign_up(_email(), PASSWORD)
    with pytest.raises(errors.PermissionDenied) as caught:
        await backend.call("test_notify_myself")
    assert caught.value.code == "42501"
    assert "permission" in str(caught.value)


async def test_unknown_function_or_arguments_are_not_found(make):
    backend = make()
    with pytest.raises(errors.NotFound, match="migrations"):
        await backend.call("no_such_function")
    with pytest.raises(errors.NotFound):
        await backend.call("test_boom", p_wrong="x")
    with pytest.raises(errors.NotFound):
        await backend.call("test_boom")  # a required argument is missing


async def test_a_raise_is_invalid_input_with_its_message(make):
    with pytest.raises(errors.InvalidInput) as caught:
        await make().call("test_boom", p_message="this course is closed for enrolment")
    assert str(caught.value) == "this course is closed for enrolment"
    assert caught.value.code == "P0001"


async def test_constraint_violations_map_the_same_way(make):
    backend = make()
    await backend.sign_up(_email(), PASSWORD)
    with pytest.raises(errors.InvalidInput, match="time zone"):
        await backend.call("test_bad_timezone")
    with pytest.raises(errors.InvalidInput, match="not allowed") as caught:
        await backend.call("test_long_name")
    assert caught.value.code == "23514"
    name = uuid.uuid4().hex
    assert await backend.call("test_add_thing", p_name=name) == {"name": name}
    with pytest.raises(errors.Conflict, match="already exists"):
        await backend.call("test_add_thing", p_name=name)


async def test_invalid_identifiers_never_reach_sql(make):
    backend = make()
    with pytest.raises(errors.InvalidInput):
        await backend.call("whoami(); drop table x; --")
    with pytest.raises(errors.InvalidInput):
        await backend.call("test_echo", **{"p_n) --": 1})


async def test_functions_created_or_changed_while_running_are_found(make, prepared_db):
    backend = make()
    name = f"test_late_{uuid.uuid4().hex[:8]}"
    with pytest.raises(errors.NotFound):
        await backend.call(name, p_a=1)
    prepared_db.su(
        f"create function public.{name}(p_a integer) returns integer"
        " language sql as $$ select p_a $$"
    )
    assert await backend.call(name, p_a=1) == 1
    prepared_db.su(
        f"drop function public.{name}(integer);"
        f" create function public.{name}(p_a integer, p_b integer) returns integer"
        " language sql as $$ select p_a + p_b $$"
    )
    assert await backend.call(name, p_a=1, p_b=2) == 3


# -- arguments and results ---------------------------------------------------------------


async def test_arguments_are_cast_to_the_declared_types(make):
    ident = str(uuid.uuid4())
    result = await make().call(
        "test_echo",
        p_tags=["python", "sql"],
        p_ids=[ident],
        p_n=41,
        p_obj={"nested": [1, {"a": None}]},
        p_at="2026-01-02T03:04:05+00:00",
        p_flag=True,
    )
    assert result["tags"] == ["python", "sql"] and result["tag_count"] == 2
    assert result["ids"] == [ident]
    assert result["n"] == 42
    assert result["obj"] == {"nested": [1, {"a": None}]}
    assert result["at"].startswith("2026-01-02T03:04:05")
    assert result["flag"] is True


async def test_defaults_apply_to_omitted_arguments_and_null_is_null(make):
    backend = make()
    assert (await backend.call("test_echo"))["n"] == 1
    assert (await backend.call("test_echo", p_tags=None))["tag_count"] == 0


async def test_set_returning_and_scalar_results(make):
    backend = make()
    assert await backend.call("test_series", p_n=3) == [1, 2, 3]
    assert await backend.call("test_series", p_n=0) == []
    assert await backend.call("test_text") == "plain"


# -- the API functions: idempotent replays --------------------------------------------------


@pytest.fixture(scope="module")
def published_course(prepared_db) -> str:
    author = prepared_db.new_user()
    return str(
        prepared_db.su_one(
            "insert into public.courses (title, is_published, created_by)"
            " values ('Replays 101', true, %s) returning id",
            (author,),
        )
    )


async def test_enroll_replayed_with_the_same_event_id_applies_once(
    make, published_course, prepared_db
):
    backend = make()
    user = await backend.sign_up(_email(), PASSWORD)
    learning = LearningAPI(backend)
    event = str(uuid.uuid4())
    first = await learning.enroll(published_course, event_id=event)
    again = await learning.enroll(published_course, event_id=event)
    assert first.replayed is False and again.replayed is True
    assert again["enrollment"] == first["enrollment"]
    assert (
        prepared_db.su_one(
            "select count(*) from public.course_enrollments where user_id = %s", (user.id,)
        )
        == 1
    )
    assert (
        prepared_db.su_one(
            "select count(*) from public.applied_events where user_id = %s and event_id = %s",
            (user.id, event),
        )
        == 1
    )


async def test_writes_need_a_signed_in_learner(make, published_course):
    with pytest.raises(errors.NotSignedIn):
        await LearningAPI(make()).enroll(published_course, event_id=str(uuid.uuid4()))


# -- secrets ----------------------------------------------------------------------------------


async def test_secrets_never_reach_the_logs(make, kind, api, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "session.json"
    backend = make(session_path=path)
    email = _email()
    await backend.sign_up(email, PASSWORD, full_name="Quiet")
    await backend.sign_out()
    await backend.sign_in(email, PASSWORD)
    await backend.call("whoami")
    with pytest.raises(errors.InvalidInput):
        await backend.call("test_boom", p_message="boom")
    with pytest.raises(errors.AuthError):
        await backend.sign_in(email, PASSWORD + "!")
    saved = json.loads(path.read_text())[backend.namespace]
    secrets = [PASSWORD, PASSWORD + "!"]
    if kind != "local":
        session = json.loads(saved["supabase.auth.token"])
        secrets += [api.anon_key, session["access_token"], session["refresh_token"]]
    await backend.sign_out()
    assert caplog.records, "nothing was logged: the test would prove nothing"
    text = caplog.text + " ".join(repr(r.args) for r in caplog.records)
    for secret in secrets:
        assert secret not in text
    assert api.anon_key not in repr(backend)


# -- local only ------------------------------------------------------------------------------


@pytest.fixture
def local_only(kind):
    if kind != "local":
        pytest.skip("local backend only")


@pytest.fixture
def supabase_only(kind):
    if kind == "local":
        pytest.skip("Supabase backend only")


async def test_local_profile_without_password_is_remembered(local_only, make, tmp_path):
    path = tmp_path / "session.json"
    backend = make(session_path=path)
    user = await backend.sign_up(None, None, full_name="Sam")
    assert user.email is None
    profile = await backend.call("test_my_profile")
    assert profile["full_name"] == "Sam"
    again = make(session_path=path)
    await again.connect()
    assert again.current_user == user
    profiles = await again.local_profiles()
    assert {"id": user.id, "email": None, "full_name": "Sam", "has_password": False} in profiles
    await again.sign_out()
    assert (await again.sign_in_profile(user.id)) == user


async def test_local_passwords_are_stored_as_scrypt(local_only, make, prepared_db):
    user = await make().sign_up(_email(), PASSWORD)
    stored = prepared_db.su_one(
        "select encrypted_password from auth.users where id = %s", (user.id,)
    )
    assert stored.startswith("scrypt$") and PASSWORD not in stored


async def test_local_backend_has_no_email_codes(local_only, make):
    with pytest.raises(errors.ConfigError, match="Supabase"):
        await make().sign_in_with_otp(_email())


async def test_unreachable_database_is_offline(local_only, tmp_path):
    backend = LocalBackend(
        "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
        session_path=tmp_path / "s.json",
        migrate=False,
    )
    with pytest.raises(errors.Offline):
        await backend.call("whoami")


# -- Supabase only -----------------------------------------------------------------------------


async def test_short_lived_tokens_are_refreshed_before_calls(
    supabase_only, make, short_tokens, tmp_path
):
    api = short_tokens
    path = tmp_path / "session.json"
    backend = make(session_path=path, auto_refresh=False)
    user = await backend.sign_up(_email(), PASSWORD)
    token = json.loads(json.loads(path.read_text())[backend.namespace]["supabase.auth.token"])
    before = api.count("/auth/v1/token", "refresh_token")
    await asyncio.sleep(2.2)  # the access token has now expired
    assert (await backend.call("whoami"))["uid"] == user.id
    assert api.count("/auth/v1/token", "refresh_token") > before
    renewed = json.loads(json.loads(path.read_text())[backend.namespace]["supabase.auth.token"])
    assert renewed["access_token"] != token["access_token"]
    assert renewed["refresh_token"] != token["refresh_token"]  # rotated


async def test_an_expired_saved_session_is_refreshed_on_the_next_start(
    supabase_only, make, short_tokens, tmp_path
):
    path = tmp_path / "session.json"
    first = make(session_path=path, auto_refresh=False)
    user = await first.sign_up(_email(), PASSWORD)
    await first.close()
    await asyncio.sleep(2.2)
    second = make(session_path=path, auto_refresh=False)
    assert (await second.call("whoami"))["uid"] == user.id
    assert second.current_user == user


async def test_a_token_the_server_says_expired_is_refreshed_and_the_call_retried(
    supabase_only, make, api
):
    backend = make()
    user = await backend.sign_up(_email(), PASSWORD)
    before = api.count("/auth/v1/token", "refresh_token")
    await asyncio.sleep(1.1)  # so the refreshed token differs (JWT times are in seconds)
    api.expire_access_tokens()
    assert (await backend.call("whoami"))["uid"] == user.id
    assert api.count("/auth/v1/token", "refresh_token") == before + 1


async def test_a_revoked_session_means_signing_in_again(supabase_only, make, api, tmp_path):
    email = _email()
    backend = make(session_path=tmp_path / "a.json")
    await backend.sign_up(email, PASSWORD)
    elsewhere = make(session_path=tmp_path / "b.json")
    await elsewhere.sign_in(email, PASSWORD)
    await elsewhere.sign_out(everywhere=True)  # every session of this user ends
    api.expire_access_tokens()
    with pytest.raises(errors.AuthError, match="learn login"):
        await backend.call("whoami")
    assert backend.current_user is None
    assert (await backend.call("whoami"))["role"] == "anon"


async def test_email_one_time_code_signs_in_and_creates_the_profile(supabase_only, make, api):
    backend = make()
    email = _email()
    await backend.sign_in_with_otp(email)
    with pytest.raises(errors.AuthError, match="code"):
        await backend.verify_otp(email, "000000" if api.sent_otps[email] != "000000" else "1")
    await backend.sign_in_with_otp(email)
    user = await backend.verify_otp(email, api.sent_otps[email])
    assert user.email == email
    assert (await backend.call("test_my_profile"))["id"] == user.id


async def test_password_reset_sends_an_email(supabase_only, make, api):
    backend = make()
    email = _email()
    await backend.sign_up(email, PASSWORD)
    await backend.reset_password(email)
    assert email in api.sent_recoveries


async def test_bad_api_key_is_a_config_error(supabase_only, api, tmp_path):
    backend = SupabaseBackend(api.url, "not-a-key", session_path=tmp_path / "s.json")
    try:
        with pytest.raises(errors.ConfigError, match="API key"):
            await backend.call("whoami")
        with pytest.raises(errors.ConfigError, match="API key"):
            await backend.sign_in(_email(), PASSWORD)
    finally:
        await backend.close()


async def test_unreachable_supabase_is_offline(supabase_only, tmp_path):
    from tests.pg.servers import free_port

    backend = SupabaseBackend(
        f"http://127.0.0.1:{free_port()}", "key", session_path=tmp_path / "s.json"
    )
    try:
        with pytest.raises(errors.Offline):
            await backend.call("whoami")
        with pytest.raises(errors.Offline):
            await backend.sign_in(_email(), PASSWORD)
    finally:
        await backend.close()


@pytest.mark.slow
async def test_first_run_creates_migrates_and_seeds_the_embedded_database(tmp_path):
    said: list[str] = []
    seeded: list[str] = []
    pgdata = tmp_path / "pgdata"

    def seed(url, progress):  # like services.data.seed.seed_bundled: work only when needed
        if not seeded:
            progress("loading the bundled courses")
        seeded.append(url)

    backend = LocalBackend(
        pgdata=pgdata, progress=said.append, seed=seed, session_path=tmp_path / "session.json"
    )
    try:
        user = await backend.sign_up(None, None, full_name="First Run")
        dashboard = await LearningAPI(backend).dashboard()
        assert (dashboard.profile.id, dashboard.profile.full_name) == (user.id, "First Run")
    finally:
        await backend.close()
    assert said[0].startswith("Creating the local database")
    assert any("applying migration" in line for line in said)
    assert said[-1] == "loading the bundled courses" and len(seeded) == 1

    said.clear()
    again = LocalBackend(
        pgdata=pgdata, progress=said.append, seed=seed, session_path=tmp_path / "session.json"
    )
    try:
        await again.connect()
        assert again.current_user == user
    finally:
        await again.close()
    assert said == [] and len(seeded) == 2  # nothing to create or migrate; seed checked


async def test_closing_leaves_no_refresh_timer_running(supabase_only, make):
    backend = make(auto_refresh=True)
    await backend.sign_up(_email(), PASSWORD)
    auth = backend.client.auth
    assert auth._refresh_token_timer is not None  # the auto-refresh timer was started
    await backend.close()
    assert auth._refresh_token_timer is None
    current = asyncio.current_task()
    assert not [
        t
        for t in asyncio.all_tasks()
        if t is not current and not t.done() and "refresh" in repr(t.get_coro())
    ]


async def test_sign_up_waiting_for_email_confirmation(supabase_only, make, api):
    api.autoconfirm = False
    try:
        backend = make()
        email = _email()
        assert await backend.sign_up(email, PASSWORD) is None
        assert backend.current_user is None
        with pytest.raises(errors.AuthError, match="Confirm your email"):
            await backend.sign_in(email, PASSWORD)
    finally:
        api.autoconfirm = True


# -- sessions that last (supabase-py #1646), several machines and processes ------------------


def _saved(path, backend) -> dict:
    return json.loads(json.loads(path.read_text())[backend.namespace]["supabase.auth.token"])


async def test_a_session_survives_restart_after_restart_once_its_token_expired(
    supabase_only, make, short_tokens, tmp_path
):
    """#1646: a session refreshed while starting must stay saved for the next start."""
    path = tmp_path / "session.json"
    first = make(session_path=path, auto_refresh=False)
    user = await first.sign_up(_email(), PASSWORD)
    await first.close()
    for _restart in range(3):
        await asyncio.sleep(2.2)  # the saved access token has expired
        again = make(session_path=path, auto_refresh=False)
        await again.connect()
        assert again.current_user == user
        assert (await again.call("whoami"))["uid"] == user.id
        await again.close()
        assert _saved(path, again)["user"]["id"] == user.id


async def test_supabase_pys_initialize_from_storage_keeps_a_session_it_refreshed(
    supabase_only, make, short_tokens, tmp_path
):
    """The path #1646 is about (supabase-py's own start-up), checked on the version we
    install: refreshing an expired saved session keeps it saved."""
    path = tmp_path / "session.json"
    first = make(session_path=path, auto_refresh=False)
    user = await first.sign_up(_email(), PASSWORD)
    await first.close()
    await asyncio.sleep(2.2)
    again = make(session_path=path, auto_refresh=True)
    await again.connect()
    auth = again.client.auth
    auth._refresh_token_timer.cancel()  # so that only initialize_from_storage refreshes
    auth._refresh_token_timer = None
    before = _saved(path, again)["refresh_token"]
    refreshes = short_tokens.count("/auth/v1/token", "refresh_token")
    await asyncio.sleep(2.2)
    await auth.initialize_from_storage()
    assert short_tokens.count("/auth/v1/token", "refresh_token") == refreshes + 1
    saved = _saved(path, again)
    assert saved["user"]["id"] == user.id and saved["refresh_token"] != before


async def test_signing_out_on_one_machine_leaves_the_other_signed_in(
    supabase_only, make, api, tmp_path
):
    email = _email()
    laptop = make(session_path=tmp_path / "laptop.json")
    user = await laptop.sign_up(email, PASSWORD)
    desktop = make(session_path=tmp_path / "desktop.json")
    await desktop.sign_in(email, PASSWORD)
    desktop_file = (tmp_path / "desktop.json").read_text()
    await laptop.sign_out()
    assert not (tmp_path / "laptop.json").exists()
    assert (tmp_path / "desktop.json").read_text() == desktop_file
    await asyncio.sleep(1.1)  # so a refreshed token differs (HS256 JWT times are seconds)
    api.expire_access_tokens()  # the desktop must refresh: its session lives
    assert (await desktop.call("whoami"))["uid"] == user.id


async def test_a_refresh_lost_to_another_process_takes_that_process_session(
    supabase_only, make, short_tokens, tmp_path
):
    """Two windows share the session file; both find the token expired; the other one
    refreshes first, so ours is told its refresh token was already used."""
    api = short_tokens
    path = tmp_path / "session.json"
    window = make(session_path=path, auto_refresh=False)
    user = await window.sign_up(_email(), PASSWORD)
    other = make(session_path=path, auto_refresh=False)
    await other.connect()
    stale = path.read_text()
    await asyncio.sleep(2.2)  # both windows' token has expired
    assert (await other.call("whoami"))["uid"] == user.id  # it refreshed (rotated)
    fresh = path.read_text()
    # Our window read the file just before the other window wrote it: its storage gets
    # the stale session on this read, and the file is the other window's again after.
    storage = window.client.auth._storage
    real_get = storage.get_item
    reads = []

    async def racing_get(key):
        reads.append(key)
        if len(reads) == 1:
            path.write_text(stale)
            value = await real_get(key)
            path.write_text(fresh)
            return value
        return await real_get(key)

    storage.get_item = racing_get
    refused = api.count("/auth/v1/token", "refresh_token")
    assert (await window.call("whoami"))["uid"] == user.id
    assert window.current_user == user
    assert api.count("/auth/v1/token", "refresh_token") > refused  # it did lose a race
    assert _saved(path, window)["user"]["id"] == user.id


def _write_namespaces(path: str, prefix: str, n: int) -> None:
    from services.data.session import SessionStore

    store = SessionStore(Path(path))
    for i in range(n):
        store.set(f"{prefix}-{i}", "k", "v" * 200)


def test_processes_writing_the_session_file_at_once_lose_nothing(tmp_path):
    import multiprocessing

    path = tmp_path / "session.json"
    ctx = multiprocessing.get_context("spawn")
    workers = [
        ctx.Process(target=_write_namespaces, args=(str(path), f"p{w}", 40)) for w in range(4)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    saved = json.loads(path.read_text())
    assert len(saved) == 160
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_an_operators_secret_key_runs_as_service_role(supabase_only, api, tmp_path):
    """`learn admin report` passes the secret (or service_role) key straight to the
    backend: an opaque string, whatever its format."""
    backend = SupabaseBackend(
        api.url, api.service_role_key, session_path=tmp_path / "s.json", auto_refresh=False
    )
    try:
        assert (await backend.call("whoami"))["role"] == "service_role"
    finally:
        await backend.close()
