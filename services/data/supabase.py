"""SupabaseBackend: a Supabase project through supabase-py's async client.

`call` is `client.rpc()` (PostgREST); sign-up and sign-in go to GoTrue (passwords, email
codes, OAuth providers with PKCE: services.data.oauth); the session is saved 0600 in
the data dir (services.data.session.file_session_storage) and refreshed before it
expires; live notifications come over Realtime (services.data.live.RealtimeWatch).
supabase-py is imported lazily: `learn --help` must not pay for it.
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
from services.data.live import RealtimeWatch
from services.data.protocol import CurrentUser, check_email, check_identifier, json_default
from services.data.session import SessionStore, file_session_storage
from services.errors import AuthError, ConfigError, InvalidInput, NotSignedIn

if TYPE_CHECKING:
    import httpx
    from supabase_auth.types import SignInWithEmailAndPasswordCredentials, VerifyEmailOtpParams

    from supabase import AsyncClient

log = logging.getLogger("learn.backend")


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
        email = check_email(email)
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
        email = check_email(email)
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
        email = check_email(email)
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
        watch = RealtimeWatch(self, self._user.id, on_event)
        await watch.start()
        return watch

    async def realtime_token(self, force: bool = False) -> None:
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
