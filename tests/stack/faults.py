"""Network faults for the offline tests: a TCP proxy to cut PostgreSQL away, an HTTP
proxy that injects failures in front of the Supabase stand-in, and a Backend wrapper
that fails calls on a script.

None of them is a stand-in for a real service: each sits in front of a real one (the
test PostgreSQL, the PostgREST/GoTrue stand-in) and breaks the path to it the way a
train tunnel, a VPN or an overloaded gateway does.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

from psycopg.conninfo import conninfo_to_dict

from services.errors import Offline, ServerError


class TcpProxy:
    """127.0.0.1:<port> → a PostgreSQL server (TCP, or its Unix socket).

    `stop()` refuses new connections and cuts the open ones (the server is gone, as
    far as the client can tell); `start()` serves again on the same port."""

    def __init__(self, upstream_url: str):
        info = conninfo_to_dict(upstream_url)
        host = info.get("host") or "/tmp"
        port = int(info.get("port") or 5432)
        self._upstream: tuple[int, Any] = (
            (socket.AF_UNIX, f"{host}/.s.PGSQL.{port}")
            if host.startswith("/")
            else (socket.AF_INET, (host, port))
        )
        self._info = {k: v for k, v in info.items() if k not in ("host", "port", "hostaddr")}
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.start()

    def url_for(self, dbname: str | None = None) -> str:
        info = self._info
        user = quote(info.get("user") or "postgres", safe="")
        password = quote(info.get("password") or "", safe="")
        name = quote(dbname or info.get("dbname") or "postgres", safe="")
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{name}?connect_timeout=3"

    @property
    def url(self) -> str:
        return self.url_for()

    @property
    def running(self) -> bool:
        return self._listener is not None

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            except OSError:
                pass
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            family, address = self._upstream
            upstream = socket.socket(family, socket.SOCK_STREAM)
            try:
                upstream.connect(address)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._sockets |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class HttpFaultProxy:
    """http://127.0.0.1:<port> → the Supabase stand-in, breaking RPC requests on demand.

    `faults` is a list consumed one per RPC request (auth requests pass untouched):
        "500"        answer 500 with a PostgREST error body; the request never arrives
        "503"        answer 503 (a gateway with no upstream); never arrives
        "drop"       forward it (the server applies it), then close without answering
        "slow"       forward it, answer after `slow_seconds` (beyond the client's timeout)
        None / "ok"  forward normally
    `down()` refuses connections; `up()` serves again on the same port."""

    def __init__(self, upstream_url: str, *, slow_seconds: float = 3.0):
        self.upstream = upstream_url.split("://", 1)[1].rstrip("/")
        self.slow_seconds = slow_seconds
        self.faults: list[str | None] = []
        self.forwarded_rpcs = 0
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a connection we cut on purpose

        self._server = Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:  # keep-alive connections too: the gateway is gone
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def next_fault(self, path: str) -> str | None:
        if not path.startswith("/rest/v1/rpc/"):
            return None
        with self._lock:
            return self.faults.pop(0) if self.faults else None


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: HttpFaultProxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.owner._lock:
            self.owner._open.add(self.connection)

    def finish(self) -> None:
        with self.owner._lock:
            self.owner._open.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def _forward(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = self.owner.next_fault(self.path)
        if fault in ("500", "503"):
            self._reply(
                int(fault),
                json.dumps(
                    {
                        "code": "XX000" if fault == "500" else "",
                        "message": "injected failure",
                        "details": None,
                        "hint": None,
                    }
                ).encode(),
                {},
            )
            return
        conn = http.client.HTTPConnection(self.owner.upstream, timeout=30)
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in ("host", "connection", "content-length")
        }
        conn.request(method, self.path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if self.path.startswith("/rest/v1/rpc/"):
            with self.owner._lock:
                self.owner.forwarded_rpcs += 1
        if fault == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "slow":
            time.sleep(self.owner.slow_seconds)
        passed = {
            k: v
            for k, v in response.getheaders()
            if k.lower() not in ("content-length", "connection", "transfer-encoding")
        }
        self._reply(response.status, data, passed)

    def _reply(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass

    def do_POST(self) -> None:
        self._forward("POST")

    def do_GET(self) -> None:
        self._forward("GET")

    def do_PUT(self) -> None:
        self._forward("PUT")

    def do_DELETE(self) -> None:
        self._forward("DELETE")


class FlakyBackend:
    """A real Backend whose calls fail on a script, one entry per call():

        "refused"   connection refused: the call never reaches the server
        "timeout"   a timeout before it reaches the server
        "500"       the server failed (ServerError); nothing applied
        "lost"      the server applies it, then the answer is lost (Offline)
        "late"      the server applies it, then a timeout (the answer came too late)
        None        a normal call
    Everything else is the inner backend's."""

    def __init__(self, inner: Any, script: Iterator[str | None] | list[str | None] = ()):
        self.inner = inner
        self.script = iter(script)
        self.calls: list[tuple[str, str | None]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def current_user(self):
        return self.inner.current_user

    async def call(self, fn: str, **args: Any) -> Any:
        fault = next(self.script, None)
        self.calls.append((fn, fault))
        if fault == "refused":
            raise Offline("connection refused (injected)")
        if fault == "timeout":
            raise TimeoutError("timed out (injected)")
        if fault == "500":
            raise ServerError("The server failed (injected).", status=500)
        result = await self.inner.call(fn, **args)
        if fault == "lost":
            raise ConnectionResetError("connection reset (injected)")
        if fault == "late":
            raise TimeoutError("timed out (injected)")
        return result
