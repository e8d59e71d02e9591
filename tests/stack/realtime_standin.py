"""A TEST STAND-IN for Supabase Realtime: the subset of its wire protocol `learn` uses.

Not Supabase Realtime. It is served by SupabaseStandIn at `/realtime/v1/websocket`
(the address supabase-py derives from the project URL) and speaks Phoenix channels
(serializer vsn 1.0.0: JSON objects `{topic, event, payload, ref, join_ref}`) over a
minimal RFC 6455 WebSocket written here (text, ping/pong, close; no extensions):

* the socket needs a valid API key (`?apikey=`; else HTTP 403 at the handshake);
* `heartbeat` on topic `phoenix` → `phx_reply` ok;
* `phx_join` on `realtime:<name>` with `config.postgres_changes` and `access_token`:
  the token is verified as the REST API verifies it (the stand-in's JWKS or JWT secret);
  a missing/invalid/expired one is a `phx_reply` error (`{"reason": …}`); else
  `phx_reply` ok with the bindings and their server ids, then a `system` message
  "Subscribed to PostgreSQL";
* `access_token` on a joined topic replaces the channel's token (an invalid one closes
  the channel); `phx_leave` → ok;
* postgres_changes for INSERT on public.notifications with an `eq` filter: each insert
  is read, as the subscriber (role + `request.jwt.claims`, so RLS decides), and sent as
  a `postgres_changes` message with the record. If the channel's token has expired by
  then, the channel gets a `system` error "Token has expired" and `phx_close`, as
  Realtime ends a channel whose token ran out.

How it learns of inserts differs from Realtime, which decodes the WAL of the
`supabase_realtime` publication: it LISTENs on `learn_notifications`, the NOTIFY that
migration 20261205004000 sends for every notification (ids only). Left out: broadcast,
presence, private channels and realtime.messages RLS, other tables/events/filter
operators, UPDATE/DELETE payloads, vsn 2.0.0 (array) serializer, rate limits,
permessage-deflate, fragmented frames from the server, and token expiry checked
between deliveries (it is checked when something is delivered).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import psycopg

from services.data import postgrest

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_ids = itertools.count(10_000)


@dataclass
class _Channel:
    topic: str
    join_ref: str | None
    token: str
    claims: dict[str, Any]
    bindings: list[dict[str, Any]] = field(default_factory=list)  # with "id"


class _Socket:
    """One client connection: frames in and out (writes are locked: the delivery
    thread writes too)."""

    def __init__(self, sock: socket.socket, rfile: Any):
        self.sock, self.rfile = sock, rfile
        self.lock = threading.Lock()
        self.channels: dict[str, _Channel] = {}
        self.open = True

    def read_message(self) -> str | None:
        """The next text message; None when the connection ends."""
        parts: list[bytes] = []
        while True:
            head = self.rfile.read(2)
            if len(head) < 2:
                return None
            fin, opcode = head[0] & 0x80, head[0] & 0x0F
            length = head[1] & 0x7F
            if length == 126:
                length = struct.unpack("!H", self.rfile.read(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self.rfile.read(8))[0]
            mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
            data = bytearray(self.rfile.read(length))
            for i in range(len(data)):
                data[i] ^= mask[i % 4]
            if opcode == 8:  # close: answer and end
                self._frame(8, bytes(data[:2]))
                return None
            if opcode == 9:
                self._frame(10, bytes(data))
                continue
            if opcode == 10:
                continue
            parts.append(bytes(data))
            if fin:
                return b"".join(parts).decode()

    def _frame(self, opcode: int, data: bytes) -> None:
        n = len(data)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        with self.lock:
            if not self.open:
                return
            try:
                self.sock.sendall(head + data)
            except OSError:
                self.open = False

    def send(
        self,
        topic: str,
        event: str,
        payload: Any,
        ref: str | None = None,
        join_ref: str | None = None,
    ) -> None:
        message = {"topic": topic, "event": event, "payload": payload, "ref": ref}
        if join_ref is not None:
            message["join_ref"] = join_ref
        self._frame(1, json.dumps(message, default=str).encode())

    def drop(self) -> None:
        """Cut the connection without a close frame (a network drop)."""
        with self.lock:
            self.open = False
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)


class RealtimeStandIn:
    """Part of SupabaseStandIn (`api.realtime`)."""

    def __init__(self, api: Any):
        self.api = api
        self.sockets: list[_Socket] = []
        self.joins: list[tuple[str, str]] = []  # (topic, "ok" | reason), for tests
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()

    # -- test controls -------------------------------------------------------

    def drop_connections(self) -> None:
        with self._lock:
            sockets, self.sockets = self.sockets, []
        for s in sockets:
            s.drop()

    def subscribed(self, topic_suffix: str = "") -> int:
        with self._lock:
            return sum(
                1 for s in self.sockets if s.open for t in s.channels if t.endswith(topic_suffix)
            )

    def start(self) -> None:
        """LISTEN before anyone can join, so no insert after a join is missed."""
        listening = threading.Event()
        self._listener = threading.Thread(
            target=self._listen, args=(listening,), daemon=True, name="realtime-standin"
        )
        self._listener.start()
        listening.wait(10)

    def stop(self) -> None:
        self._stop.set()
        self.drop_connections()
        if self._listener is not None:
            self._listener.join(5)

    # -- the socket ----------------------------------------------------------

    def serve(self, handler: Any) -> None:
        """Take over an HTTP request that asks for a WebSocket upgrade."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}
        key = handler.headers.get("Sec-WebSocket-Key")
        if not key or self.api._key_role(query.get("apikey", "")) is None:
            handler.send_response(403)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept)
        handler.end_headers()
        handler.wfile.flush()
        handler.close_connection = True
        ws = _Socket(handler.connection, handler.rfile)
        with self._lock:
            self.sockets.append(ws)
        try:
            while ws.open:
                text = ws.read_message()
                if text is None:
                    break
                self._on_message(ws, json.loads(text))
        except (OSError, ValueError, struct.error):
            pass
        finally:
            ws.open = False
            with self._lock:
                if ws in self.sockets:
                    self.sockets.remove(ws)

    def _verify(self, token: str | None) -> dict[str, Any]:
        if not token:
            raise ValueError("No access token")
        if token.startswith("sb_") or self.api._key_role(token):
            role = self.api._key_role(token)
            if role is None:
                raise ValueError("Invalid token")
            return {"role": role, "exp": time.time() + 3600}
        try:
            return self.api.decode(token)
        except jwt.ExpiredSignatureError:
            raise ValueError("Token has expired") from None
        except jwt.InvalidTokenError:
            raise ValueError("Invalid token") from None

    def _on_message(self, ws: _Socket, msg: dict[str, Any]) -> None:
        topic, event = msg.get("topic"), msg.get("event")
        ref, payload = msg.get("ref"), msg.get("payload") or {}
        if topic == "phoenix" and event == "heartbeat":
            ws.send("phoenix", "phx_reply", {"status": "ok", "response": {}}, ref)
            return
        if event == "phx_join":
            try:
                claims = self._verify(payload.get("access_token"))
            except ValueError as exc:
                self.joins.append((topic, str(exc)))
                ws.send(
                    topic,
                    "phx_reply",
                    {"status": "error", "response": {"reason": str(exc)}},
                    ref,
                    msg.get("join_ref"),
                )
                return
            config = payload.get("config") or {}
            bindings = [{**b, "id": next(_ids)} for b in config.get("postgres_changes") or []]
            ws.channels[topic] = _Channel(
                topic, msg.get("join_ref"), payload.get("access_token"), claims, bindings
            )
            self.joins.append((topic, "ok"))
            ws.send(
                topic,
                "phx_reply",
                {"status": "ok", "response": {"postgres_changes": bindings}},
                ref,
                msg.get("join_ref"),
            )
            if bindings:
                ws.send(
                    topic,
                    "system",
                    {
                        "channel": topic.removeprefix("realtime:"),
                        "extension": "postgres_changes",
                        "message": "Subscribed to PostgreSQL",
                        "status": "ok",
                    },
                )
            return
        channel = ws.channels.get(topic)
        if event == "access_token" and channel is not None:
            try:
                channel.claims = self._verify(payload.get("access_token"))
                channel.token = payload.get("access_token")
            except ValueError as exc:
                self._close_channel(ws, channel, str(exc))
            return
        if event == "phx_leave":
            ws.channels.pop(topic, None)
            ws.send(topic, "phx_reply", {"status": "ok", "response": {}}, ref)
            return
        if ref is not None:
            ws.send(
                topic,
                "phx_reply",
                {"status": "error", "response": {"reason": "unmatched topic"}},
                ref,
            )

    def _close_channel(self, ws: _Socket, channel: _Channel, reason: str) -> None:
        ws.channels.pop(channel.topic, None)
        ws.send(
            channel.topic,
            "system",
            {
                "channel": channel.topic.removeprefix("realtime:"),
                "extension": "system",
                "message": reason,
                "status": "error",
            },
        )
        ws.send(channel.topic, "phx_close", {}, channel.join_ref, channel.join_ref)

    # -- deliveries ----------------------------------------------------------

    def _listen(self, listening: threading.Event) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self.api.db_url, autocommit=True, application_name="realtime-standin"
                ) as conn:
                    conn.execute("LISTEN learn_notifications")
                    listening.set()
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=0.2):
                            try:
                                self._deliver(json.loads(notice.payload))
                            except Exception as exc:  # a stand-in bug: keep it for tests
                                self.errors.append(repr(exc))
            except psycopg.Error as exc:
                self.errors.append(repr(exc))
                listening.set()
                time.sleep(0.2)

    def _deliver(self, change: dict[str, Any]) -> None:
        with self._lock:
            sockets = list(self.sockets)
        for ws in sockets:
            for channel in list(ws.channels.values()):
                matching = [b for b in channel.bindings if _matches(b, change)]
                if not matching:
                    continue
                try:
                    self._verify(channel.token)
                except ValueError as exc:
                    self._close_channel(ws, channel, str(exc))
                    continue
                try:
                    record = self._read_as(channel.claims, change["id"])
                except psycopg.Error as exc:
                    self.errors.append(repr(exc))
                    continue
                if record is None:  # RLS: not theirs to see
                    continue
                ws.send(
                    channel.topic,
                    "postgres_changes",
                    {
                        "ids": [b["id"] for b in matching],
                        "data": {
                            "schema": "public",
                            "table": "notifications",
                            "commit_timestamp": datetime.now(UTC).isoformat(),
                            "type": "INSERT",
                            "errors": None,
                            "columns": [{"name": k, "type": "text"} for k in record],
                            "record": record,
                        },
                    },
                )

    def _read_as(self, claims: dict[str, Any], notification_id: str) -> dict[str, Any] | None:
        with psycopg.connect(self.api.db_url) as conn, conn.transaction():
            conn.execute(
                postgrest.REQUEST_SETTINGS_SQL, postgrest.request_params(claims, "/realtime")
            )
            row = conn.execute(
                "select to_jsonb(n) from public.notifications n where id = %s", (notification_id,)
            ).fetchone()
        return row[0] if row else None


def _matches(binding: dict[str, Any], change: dict[str, Any]) -> bool:
    if binding.get("event") not in ("INSERT", "*"):
        return False
    if binding.get("schema") != "public" or binding.get("table") != "notifications":
        return False
    wanted = binding.get("filter")
    if not wanted:
        return True
    column, _, value = wanted.partition("=eq.")
    return column == "user_id" and value == str(change.get("user_id"))
