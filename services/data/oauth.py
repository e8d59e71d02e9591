"""Sign-in with an OAuth provider from a terminal, as `gh auth login` does it.

PKCE (RFC 7636) with a loopback redirect (RFC 8252 §7.3): the browser goes to the
project's `/auth/v1/authorize?provider=…&redirect_to=http://127.0.0.1:<port>/callback?state=…`,
the person signs in with the provider, and Supabase Auth redirects the browser to the
loopback address with `?code=…`. `LoopbackRedirect` is that address: a one-shot HTTP
server on 127.0.0.1 that accepts exactly one request — a GET of its path carrying its
random `state` — answers every other request 400 without stopping, and closes after
the right one. The code is then exchanged with the verifier only this process knows
(services.data.supabase.SupabaseBackend.sign_in_with_provider).

Nothing here prints what the browser sent: errors become fixed sentences, with the
provider's error code only when it is a plain identifier.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from services.errors import AuthError, InvalidInput

PROVIDER = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_CODE = re.compile(r"^[a-z_]{1,60}$")

_PAGE = (
    "<!doctype html><meta charset=utf-8><title>learn</title>"
    "<body style='font-family:sans-serif;margin:3em'><h2>{title}</h2><p>{text}</p>"
)


def check_provider(name: str) -> str:
    name = (name or "").strip().lower()
    if not PROVIDER.match(name):
        raise InvalidInput("A provider is a name like github, google or gitlab.")
    return name


class LoopbackRedirect:
    """`async with LoopbackRedirect() as loop:` → `loop.redirect_uri`, then
    `await loop.wait(timeout)` → the query parameters of the one right request."""

    path = "/callback"

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.state = secrets.token_urlsafe(24)
        self.rejected = 0  # requests answered 400 (for tests)
        self._server: asyncio.Server | None = None
        self._result: asyncio.Future[dict[str, str]] | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        assert self._port is not None, "not started"
        return self._port

    @property
    def redirect_uri(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}?" + urlencode({"state": self.state})

    async def start(self) -> LoopbackRedirect:
        self._result = asyncio.get_running_loop().create_future()
        self._server = await asyncio.start_server(self._serve, self.host, 0, limit=16384)
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)
        if self._result is not None and not self._result.done():
            self._result.cancel()

    async def __aenter__(self) -> LoopbackRedirect:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def wait(self, timeout: float) -> dict[str, str]:
        """The right request's parameters; AuthError if none comes in time."""
        assert self._result is not None, "not started"
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), timeout)
        except TimeoutError:
            raise AuthError(
                "No answer from the browser in time: run `learn login --provider …` again.",
                code="oauth_timeout",
            ) from None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            params = self._accept(head)
            if params is None:
                self.rejected += 1
                await self._reply(
                    writer,
                    400,
                    "This page is not part of a sign-in in progress.",
                    "Nothing was done.",
                )
                return
            ok = "code" in params and "error" not in params
            await self._reply(
                writer,
                200,
                "Signed in to learn." if ok else "Sign-in not completed.",
                "You can close this tab and return to the terminal.",
            )
            if self._result is not None and not self._result.done():
                self._result.set_result(params)
            if self._server is not None:  # exactly one: no further connections
                self._server.close()
        except (
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
            ConnectionError,
        ):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def _accept(self, head: bytes) -> dict[str, str] | None:
        """The query of a `GET /callback?state=<ours>…`, or None for anything else."""
        if self._result is None or self._result.done():
            return None
        try:
            method, target, _version = head.split(b"\r\n", 1)[0].decode("ascii").split(" ")
        except (UnicodeDecodeError, ValueError):
            return None
        parts = urlsplit(target)
        if method != "GET" or parts.path != self.path:
            return None
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if not secrets.compare_digest(query.get("state", ""), self.state):
            return None
        return query

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, status: int, title: str, text: str) -> None:
        body = _PAGE.format(title=title, text=text).encode()
        reason = {200: "OK", 400: "Bad Request"}[status]
        writer.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8"
            f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
            "Cache-Control: no-store\r\n\r\n".encode()
            + body
        )
        with contextlib.suppress(ConnectionError):
            await writer.drain()


def redirect_error(params: dict[str, str]) -> AuthError | None:
    """The AuthError for a redirect that carries no code (refused, cancelled, failed)."""
    if params.get("code") and "error" not in params:
        return None
    code = params.get("error_code") or params.get("error") or ""
    code = code if _CODE.match(code) else "oauth_error"
    if params.get("error") == "access_denied":
        return AuthError("The sign-in was cancelled or refused at the provider.", code=code)
    return AuthError(
        f"The provider sign-in did not complete ({code}): try again, or sign in another way.",
        code=code,
    )
