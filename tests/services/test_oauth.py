"""Sign-in with an OAuth provider: PKCE through a (scripted) browser, the code received
on the loopback redirect, against the stand-in's fake provider; and `learn login
--provider` end to end in a subprocess whose browser is a script (BROWSER)."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from services import errors
from services.data import oauth
from services.data.api import LearningAPI
from services.data.backend import SupabaseBackend
from tests.stack import SupabaseStandIn

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["new", "legacy"])
def api(request, db_url):
    with SupabaseStandIn(db_url, keys=request.param) as standin:
        yield standin


@pytest.fixture
async def backend(api, tmp_path):
    made = SupabaseBackend(api.url, api.client_key, session_path=tmp_path / "session.json")
    yield made
    await made.close()


def _email() -> str:
    return f"oauth-{uuid.uuid4().hex[:10]}@example.test"


class Browser:
    """Follows the redirects as a browser would, to the loopback address."""

    def __init__(self):
        self.visited: list[str] = []
        self.final: httpx.Response | None = None

    async def open(self, url: str) -> None:
        async def go():
            async with httpx.AsyncClient(follow_redirects=True, timeout=10) as http:
                self.final = await http.get(url)
                self.visited = [str(r.url) for r in self.final.history] + [str(self.final.url)]

        asyncio.get_running_loop().create_task(go())


async def test_provider_sign_in_saves_a_private_session_and_makes_the_profile(
    api, backend, tmp_path
):
    api.oauth_identity = email = _email()
    browser = Browser()
    user = await backend.sign_in_with_provider("github", browser.open, timeout=20)
    assert user.email == email
    dashboard = await LearningAPI(backend).dashboard()  # the token works
    assert dashboard.profile.id == user.id
    assert browser.final.status_code == 200 and "Signed in" in browser.final.text
    assert browser.visited[-1].startswith("http://127.0.0.1:")
    assert "/callback?state=" in browser.visited[-1] and "code=" in browser.visited[-1]
    path = tmp_path / "session.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(json.loads(path.read_text())[backend.namespace]["supabase.auth.token"])
    assert saved["user"]["id"] == user.id
    again = SupabaseBackend(api.url, api.client_key, session_path=path)
    try:  # a restart keeps it
        await again.connect()
        assert again.current_user == user
    finally:
        await again.close()


async def test_signing_in_with_the_provider_again_is_the_same_learner(api, backend):
    api.oauth_identity = _email()
    first = await backend.sign_in_with_provider("github", Browser().open, timeout=20)
    await backend.sign_out()
    second = await backend.sign_in_with_provider("github", Browser().open, timeout=20)
    assert second == first


async def test_a_provider_the_project_does_not_enable_is_refused(backend):
    opened = []
    with pytest.raises(
        errors.InvalidInput, match="does not offer sign-in with gitlab; it offers github"
    ):
        await backend.sign_in_with_provider("gitlab", opened.append)
    assert opened == []


async def test_a_provider_name_that_is_not_a_name_is_invalid(backend):
    with pytest.raises(errors.InvalidInput, match="provider"):
        await backend.sign_in_with_provider("git hub&x=1", print)


async def test_consent_refused_at_the_provider_is_a_clear_auth_error(api, backend):
    api.oauth_deny = True
    try:
        with pytest.raises(errors.AuthError, match="cancelled or refused"):
            await backend.sign_in_with_provider("github", Browser().open, timeout=20)
    finally:
        api.oauth_deny = False
    assert backend.current_user is None


async def test_the_code_is_useless_without_this_processs_verifier(api, backend):
    """An app that intercepts the redirect gets the code but not the verifier."""
    api.oauth_identity = _email()
    stolen = {}

    async def intercept(url):
        async with httpx.AsyncClient(follow_redirects=False, timeout=10) as http:
            response = await http.get(url)
            while httpx.URL(response.headers["location"]).path != "/callback":
                response = await http.get(response.headers["location"])
            location = response.headers["location"]
        stolen["code"] = httpx.URL(location).params["code"]
        token = await asyncio.to_thread(
            httpx.post,
            f"{api.url}/auth/v1/token?grant_type=pkce",
            json={"auth_code": stolen["code"], "code_verifier": "x" * 64},
            headers={"apikey": api.client_key},
        )
        stolen["status"] = token.status_code
        async with httpx.AsyncClient(timeout=10) as http:  # let the real flow finish
            await http.get(location)

    user = await backend.sign_in_with_provider("github", intercept, timeout=20)
    assert stolen["status"] == 403 and user.email == api.oauth_identity


async def test_the_loopback_accepts_exactly_one_request_with_the_right_state():
    async with oauth.LoopbackRedirect() as loopback:
        base = f"http://127.0.0.1:{loopback.port}"
        async with httpx.AsyncClient(timeout=5) as http:
            assert (await http.get(f"{base}/callback?state=wrong&code=1")).status_code == 400
            assert (await http.get(f"{base}/callback?code=1")).status_code == 400
            assert (
                await http.get(f"{base}/other?state={loopback.state}&code=1")
            ).status_code == 400
            assert (await http.post(loopback.redirect_uri + "&code=1")).status_code == 400
            assert (await http.get(loopback.redirect_uri + "&code=right")).status_code == 200
            assert await loopback.wait(1) == {"state": loopback.state, "code": "right"}
            with pytest.raises(httpx.HTTPError):
                await http.get(loopback.redirect_uri + "&code=second")
        assert loopback.rejected == 4


async def test_no_answer_from_the_browser_times_out_with_a_clear_error():
    async with oauth.LoopbackRedirect() as loopback:
        with pytest.raises(errors.AuthError, match="No answer from the browser"):
            await loopback.wait(0.2)


async def test_the_redirect_listens_on_loopback_only():
    async with oauth.LoopbackRedirect() as loopback:
        assert loopback.redirect_uri.startswith(f"http://127.0.0.1:{loopback.port}/callback?")
        assert loopback._server.sockets[0].getsockname()[0] == "127.0.0.1"


BROWSER_SCRIPT = """
import sys, httpx
r = httpx.get(sys.argv[1], follow_redirects=True, timeout=10)
open(sys.argv[2], "w").write(str(r.status_code))
"""


def test_learn_login_with_a_provider_end_to_end(api, tmp_path):
    """`learn login --provider github` as a person runs it: the browser (a script here,
    through BROWSER as webbrowser reads it) follows the sign-in to the loopback."""
    if api.keys != "new":
        pytest.skip("once is enough")
    script = tmp_path / "browser.py"
    script.write_text(BROWSER_SCRIPT)
    seen = tmp_path / "browser-status"
    api.oauth_identity = email = _email()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPABASE", "LEARN_"))}
    env.update(
        {
            "LEARN_HOME": str(tmp_path / "home"),
            "SUPABASE_URL": api.url,
            "SUPABASE_PUBLISHABLE_KEY": api.client_key,
            "BROWSER": f"{sys.executable} {script} %s {seen}",
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "login", "--provider", "github"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"Signed in as {email}" in done.stdout
    assert "Sign in with github in your browser" in done.stderr
    assert seen.read_text() == "200"
    sessions = list((tmp_path / "home").rglob("session*.json"))
    assert len(sessions) == 1 and stat.S_IMODE(sessions[0].stat().st_mode) == 0o600
