"""A TEST STAND-IN for an OpenAI-compatible chat server (OpenAI, Ollama, LM Studio, vLLM).

Not a model and not any of those servers: a small HTTP server on 127.0.0.1 that
speaks their wire format for the calls the tutor makes, so the real `openai` client
(and `httpx` for model discovery) talk to it over loopback. What it does as they do:

* `POST /v1/chat/completions` with a JSON body `{model, messages, stream,
  stream_options}`: with `stream: true` a `text/event-stream` response, sent with
  chunked transfer encoding, of `data: {chat.completion.chunk}` lines — a first
  chunk with the assistant role, one chunk per content delta, a chunk with
  `finish_reason: "stop"`, then (when `stream_options.include_usage` is true) a chunk
  with empty `choices` and `usage`, then `data: [DONE]`; without `stream` one
  `chat.completion` object with `usage`;
* `GET /v1/models` (`{"object": "list", "data": [{"id", "object": "model", …}]}`)
  and, when `ollama=True`, Ollama's own `GET /api/tags` (`{"models": [{"name", …}]}`);
* errors in OpenAI's shape `{"error": {"message", "type", "param", "code"}}`: 401
  `invalid_api_key` when `api_key` is set and the bearer differs, 404
  `model_not_found` for a model not in `models`, and any scripted status.

Test controls: `reply(...)` queues a scripted answer (its deltas, a delay before
the response for timeouts, a pause after N deltas until released, a connection
dropped or an `error` event after N deltas), `fail(status)` queues an error (401, 404, 429 with
`retry-after`, 500, …). Every request is recorded (`requests`: path, headers, JSON
body — so tests read the messages the client sent) with `aborted`, set when the
client closed the connection before the response was complete, and `finished`.

What it leaves out: any real model (answers are scripted; tokens are counted as
deltas, prompt tokens as words), tools/function calling, `n > 1`, logprobs,
`response_format`, images and audio, the Responses/Assistants/embeddings APIs,
organisation and project headers, real rate-limit headers (only `retry-after`),
request validation beyond model and key, HTTP/2, TLS and keep-alive tuning.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import select
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ids = itertools.count(1)


def tokens_of(text: str) -> list[str]:
    """Split text into word-sized deltas (whitespace kept with the word that follows)."""
    return re.findall(r"\s*\S+|\s+$", text) or ([text] if text else [])


@dataclass
class Reply:
    """One scripted response, used by the next chat completion request."""

    text: str = "Hello from the stand-in."
    chunks: list[str] | None = None  # the deltas; default: tokens_of(text)
    status: int | None = None  # an HTTP error status instead of an answer
    error: dict[str, Any] | None = None  # the error body's "error" object
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the response starts
    chunk_delay: float = 0.0  # seconds between deltas
    hold_after: int | None = None  # after this many deltas, wait for `release`
    release: threading.Event = field(default_factory=threading.Event)
    drop_after: int | None = None  # close the connection after this many deltas
    error_after: int | None = None  # send an `error` event after this many deltas
    usage: dict[str, int] | None = None  # override the usage figures
    send_usage: bool = True  # False: a server that never reports usage
    finish_reason: str = "stop"

    def deltas(self) -> list[str]:
        return list(self.chunks) if self.chunks is not None else tokens_of(self.text)


@dataclass
class Record:
    """One request as the stand-in saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    sent: int = 0  # content deltas written
    aborted: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages") or [])

    @property
    def prompt(self) -> str:
        """Every message's content, joined: what the model was told."""
        return "\n".join(str(m.get("content") or "") for m in self.messages)


_ERRORS = {
    400: ("invalid_request_error", None, "Bad request."),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    ),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported",
    ),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model `{model}` does not exist or you do not have access to it.",
    ),
    429: (
        "rate_limit_exceeded",
        "rate_limit_exceeded",
        "Rate limit reached for requests. Please try again in 20s.",
    ),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


class _Aborted(Exception):
    """The client went away."""


class OpenAIStandIn:
    """`with OpenAIStandIn() as ai:` → `ai.base_url` is `http://127.0.0.1:<port>/v1`."""

    def __init__(
        self,
        *,
        models: list[str] | None = None,
        api_key: str | None = None,
        ollama: bool = False,
        default: str = "Hello from the stand-in.",
    ):
        self.models = list(models or ["tutor-model"])
        self.api_key = api_key
        self.ollama = ollama
        self.default = default
        self.requests: list[Record] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def start(self) -> OpenAIStandIn:
        standin = self

        class Handler(_Handler):
            ai = standin

        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="openai-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        for reply in self._queue:
            reply.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OpenAIStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls ---------------------------------------------------------

    def reply(self, text: str = "Hello from the stand-in.", **kw: Any) -> Reply:
        """Queue the answer to the next chat completion request."""
        scripted = Reply(text=text, **kw)
        with self._lock:
            self._queue.append(scripted)
        return scripted

    def fail(self, status: int, message: str | None = None, **kw: Any) -> Reply:
        """Queue an HTTP error (OpenAI's error body) for the next chat completion."""
        kind, code, default = _ERRORS.get(status, ("server_error", None, f"HTTP {status}"))
        headers = {"retry-after": "20"} if status == 429 else {}
        scripted = Reply(
            status=status,
            headers=headers,
            error={"message": message or default, "type": kind, "param": None, "code": code},
            **kw,
        )
        with self._lock:
            self._queue.append(scripted)
        return scripted

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()

    @property
    def completions(self) -> list[Record]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def last(self) -> Record:
        return self.completions[-1]

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._queue.popleft() if self._queue else Reply(text=self.default)

    def _record(self, record: Record) -> None:
        with self._lock:
            self.requests.append(record)


class _Handler(BaseHTTPRequestHandler):
    ai: OpenAIStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- plumbing --------------------------------------------------------------

    def _body(self) -> Any:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(
        self, status: int, error: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self._json(status, {"error": error}, headers)

    def _client_gone(self) -> bool:
        """True when the client closed its end (a readable socket with nothing to read)."""
        sock: socket.socket = self.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return False
            return sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _wait(self, seconds: float, record: Record, until: threading.Event | None = None) -> None:
        """Sleep (or wait for `until`), noticing a client that goes away meanwhile."""
        deadline = time.monotonic() + seconds
        while True:
            if self._client_gone():
                raise _Aborted
            if self.ai._stopping.is_set():
                raise _Aborted
            if until is not None:
                if until.wait(0.01):
                    return
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                time.sleep(min(left, 0.01))

    def _chunk(self, data: bytes) -> None:
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError) as exc:
            raise _Aborted from exc

    def _authorised(self) -> bool:
        if self.ai.api_key is None:
            return True
        return self.headers.get("authorization", "") == f"Bearer {self.ai.api_key}"

    # -- routes ----------------------------------------------------------------

    def do_GET(self) -> None:
        record = Record("GET", self.path, {k.lower(): v for k, v in self.headers.items()}, None)
        self.ai._record(record)
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/models":
            if not self._authorised():
                kind, code, message = _ERRORS[401]
                self._error(401, {"message": message, "type": kind, "param": None, "code": code})
            else:
                self._json(
                    200,
                    {
                        "object": "list",
                        "data": [
                            {
                                "id": m,
                                "object": "model",
                                "created": 1700000000,
                                "owned_by": "standin",
                            }
                            for m in self.ai.models
                        ],
                    },
                )
        elif path == "/api/tags" and self.ai.ollama:
            self._json(
                200,
                {
                    "models": [
                        {"name": m, "model": m, "size": 1, "digest": "0" * 12}
                        for m in self.ai.models
                    ]
                },
            )
        else:
            self._json(
                404,
                {
                    "error": {
                        "message": "not found",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": None,
                    }
                },
            )
        record.finished.set()

    def do_POST(self) -> None:
        body = self._body()
        record = Record("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        self.ai._record(record)
        try:
            if self.path.split("?", 1)[0].rstrip("/") != "/v1/chat/completions":
                self._json(
                    404,
                    {
                        "error": {
                            "message": "not found",
                            "type": "invalid_request_error",
                            "param": None,
                            "code": None,
                        }
                    },
                )
                return
            self._completion(record, body if isinstance(body, dict) else {})
        except _Aborted:
            record.aborted.set()
            self.close_connection = True
        finally:
            record.finished.set()

    def _completion(self, record: Record, body: dict[str, Any]) -> None:
        reply = self.ai._next_reply()
        model = str(body.get("model") or "")
        if reply.delay:
            self._wait(reply.delay, record)
        if not self._authorised():
            kind, code, message = _ERRORS[401]
            self._error(401, {"message": message, "type": kind, "param": None, "code": code})
            return
        if reply.status is not None:
            error = dict(reply.error or {})
            error["message"] = str(error.get("message", "")).replace("{model}", model)
            self._error(reply.status, error, reply.headers)
            return
        if model not in self.ai.models:
            kind, code, message = _ERRORS[404]
            self._error(
                404,
                {
                    "message": message.replace("{model}", model),
                    "type": kind,
                    "param": None,
                    "code": code,
                },
            )
            return
        deltas = reply.deltas()
        prompt_tokens = sum(
            len(str(m.get("content") or "").split())
            for m in body.get("messages") or []
            if isinstance(m, dict)
        )
        usage = reply.usage or {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(deltas),
            "total_tokens": prompt_tokens + len(deltas),
        }
        ident = f"chatcmpl-standin-{next(_ids)}"
        created = int(time.time())
        if not body.get("stream"):
            self._json(
                200,
                {
                    "id": ident,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": reply.finish_reason,
                            "message": {"role": "assistant", "content": "".join(deltas)},
                        }
                    ],
                    **({"usage": usage} if reply.send_usage else {}),
                },
            )
            return
        include_usage = reply.send_usage and bool(
            (body.get("stream_options") or {}).get("include_usage")
        )
        self._stream(record, reply, deltas, usage if include_usage else None, ident, created, model)

    def _stream(
        self,
        record: Record,
        reply: Reply,
        deltas: list[str],
        usage: dict[str, int] | None,
        ident: str,
        created: int,
        model: str,
    ) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

        def event(
            delta: dict[str, Any],
            finish: str | None = None,
            with_usage: dict[str, int] | None = None,
            no_choices: bool = False,
        ) -> bytes:
            chunk: dict[str, Any] = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": []
                if no_choices
                else [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if usage is not None:
                chunk["usage"] = with_usage
            return b"data: " + json.dumps(chunk).encode() + b"\n\n"

        self._chunk(event({"role": "assistant", "content": ""}))
        paced = (
            reply.chunk_delay
            or reply.hold_after is not None
            or reply.drop_after is not None
            or reply.error_after is not None
        )
        if not paced:
            # As fast as it can: every delta in one write.
            self._chunk(b"".join(event({"content": d}) for d in deltas))
            record.sent = len(deltas)
        else:
            for index, delta in enumerate(deltas):
                if reply.drop_after is not None and index >= reply.drop_after:
                    # The connection drops mid-answer: no terminating chunk, no [DONE].
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if reply.error_after is not None and index >= reply.error_after:
                    # A failure reported inside the stream, as OpenAI does.
                    self._chunk(
                        b"data: "
                        + json.dumps(
                            {
                                "error": {
                                    "message": "The server had an error while processing "
                                    "your request.",
                                    "type": "server_error",
                                    "param": None,
                                    "code": None,
                                }
                            }
                        ).encode()
                        + b"\n\n"
                    )
                    self._chunk(b"")
                    return
                if reply.hold_after is not None and index == reply.hold_after:
                    self._wait(0, record, until=reply.release)
                elif reply.chunk_delay:
                    self._wait(reply.chunk_delay, record)
                self._chunk(event({"content": delta}))
                record.sent = index + 1
        tail = event({}, finish=reply.finish_reason)
        if usage is not None:
            tail += event({}, with_usage=usage, no_choices=True)
        tail += b"data: [DONE]\n\n"
        self._chunk(tail)
        self._chunk(b"")  # the terminating zero-length chunk
