"""The model server's failures, as one line a learner can act on.

TutorError                     how it failed (`kind`) and what to do (the message)
map_error(exc, endpoint)       an exception from the openai client as a TutorError
where(base_url)                scheme://host:port of a server, for messages
server_message(exc_or_payload) the server's own error message, one line
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from services.errors import LearnError, from_exception, one_line

if TYPE_CHECKING:
    from services.tutor.endpoint import Endpoint


class TutorError(LearnError):
    """The model server failed; `kind` says how, the message what to do."""

    default = "The AI tutor failed; press enter to ask again."

    def __init__(
        self,
        message: str | None = None,
        *,
        kind: str = "unknown",
        status: int | None = None,
        code: str | None = None,
    ):
        super().__init__(message, code=code, status=status)
        self.kind = kind


def where(base_url: str | None) -> str:
    """scheme://host:port of the server — never a path, query or credentials."""
    if not base_url:
        return "the AI server"
    try:
        parts = urlsplit(base_url)
        return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "the AI server"


def server_message(exc: Any) -> str:
    """The server's own error message, from an openai APIError or an error payload."""
    body = exc if isinstance(exc, Mapping) else getattr(exc, "body", None)
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping) and error.get("message"):
            return one_line(error["message"], 160)
        if isinstance(error, str):
            return one_line(error, 160)
    return one_line(getattr(exc, "message", "") or "", 160)


def map_error(
    exc: BaseException, endpoint: Endpoint | None = None, *, mid_stream: bool = False
) -> LearnError:
    """An exception from the openai client as one line a learner can act on."""
    if isinstance(exc, LearnError):
        return exc
    import openai

    server = where(endpoint.base_url if endpoint else None)
    model = endpoint.model if endpoint else "?"
    # A transport error while reading the body comes from the HTTP library itself.
    transport = (type(exc).__module__ or "").startswith(("httpx", "httpcore"))  # httpx2 too
    timed_out = isinstance(exc, openai.APITimeoutError) or (
        transport and "Timeout" in type(exc).__name__
    )
    if timed_out:
        return TutorError(
            f"{server} took too long to answer: press enter to ask again, or "
            "choose a faster model (`learn config model …`).",
            kind="timeout",
        )
    if isinstance(exc, openai.APIConnectionError) or transport:
        if mid_stream:
            return TutorError(
                "The connection to the AI server dropped mid-answer: press enter to ask again.",
                kind="dropped",
            )
        if endpoint and endpoint.source == "ollama":
            hint = "start it with `ollama serve`"
        elif endpoint and endpoint.origin:
            hint = f"start it, or fix the address ({endpoint.origin}): " + (
                "change or unset OPENAI_BASE_URL"
                if "OPENAI_BASE_URL" in endpoint.origin
                else "`learn config openai_base_url …`"
            )
        else:
            hint = "start it, or fix the address with `learn config openai_base_url …`"
        return TutorError(
            f"Can't reach the AI server at {server}: is it running? "
            f"{hint[0].upper()}{hint[1:]}, then press enter to ask again.",
            kind="network",
        )
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        detail = server_message(exc)
        if status == 401:
            return TutorError(
                f"{server} rejected the API key: set the right one with `learn "
                "config openai_api_key …` (or OPENAI_API_KEY).",
                kind="auth",
                status=status,
            )
        if status == 403:
            return TutorError(
                f"{server} refused the request ({detail}): check that the key "
                f"may use model {model!r}.",
                kind="permission",
                status=status,
            )
        if status == 404:
            return TutorError(
                f"{server} has no model {model!r}: choose one it has with `learn "
                "config model …` (or LEARN_MODEL), and check that "
                "openai_base_url ends in /v1.",
                kind="model",
                status=status,
            )
        if status == 429:
            retry = exc.response.headers.get("retry-after") if exc.response else None
            wait = f"wait {retry} s" if retry and retry.isdigit() else "wait a minute"
            return TutorError(
                f"{server} is rate-limiting requests (or the quota is used up): "
                f"{wait}, then press enter to ask again.",
                kind="rate_limit",
                status=status,
            )
        if status in (400, 413, 422):
            return TutorError(
                f"{server} did not accept the request ({detail}): try a "
                "shorter question or another model.",
                kind="bad_request",
                status=status,
            )
        if status >= 500:
            return TutorError(
                f"{server} failed (HTTP {status}): press enter to ask again in a moment.",
                kind="server",
                status=status,
            )
        return TutorError(
            f"{server} answered HTTP {status} ({detail}).", kind="unknown", status=status
        )
    if isinstance(exc, openai.OpenAIError):
        return TutorError(f"The AI client failed: {one_line(str(exc), 160)}", kind="unknown")
    error = from_exception(exc)
    return TutorError(str(error), kind="unknown")
