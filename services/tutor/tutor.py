"""The tutor: finds the model, asks it, keeps the hint ladder, logs every exchange.

tutor = Tutor(api)                                  # settings from `learn config` / env
answer = tutor.ask("Why does my test fail?", TutorContext.for_assessment(...))
async for delta in answer:                          # Markdown, as it arrives
    ...

Tutor          ask, prepare, endpoint, hint_level, course_passages, aclose; and the
               calls an Answer makes: next_rung, open_stream, forget_endpoint_after,
               record
SUMMARY_CHARS  of the question/answer kept in ai_interactions
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from services.errors import LearnError, from_exception
from services.tutor import fallback
from services.tutor.answer import Answer
from services.tutor.context import TutorContext
from services.tutor.endpoint import (
    OLLAMA_URL,
    OPENAI_DEFAULT_MODEL,
    OPENAI_URL,
    Endpoint,
    load_openai,
    make_client,
    origin_of,
    probe_ollama,
)
from services.tutor.errors import TutorError, map_error, server_message, where
from services.tutor.fallback import SETUP_HELP
from services.tutor.policy import HintLadder

if TYPE_CHECKING:
    from services.config import Settings
    from services.data.api import LearningAPI

log = logging.getLogger("learn.tutor")

SUMMARY_CHARS = 500  # of the question/answer kept in ai_interactions


class Tutor:
    """Asks the model, keeps the hint ladder, logs every exchange through the API.

    `api` may be None (nothing is logged, no course excerpts). `settings` defaults to
    `services.config.load()`; `endpoint` skips discovery (tests, benchmarks)."""

    def __init__(
        self,
        api: LearningAPI | Any | None = None,
        settings: Settings | None = None,
        *,
        endpoint: Endpoint | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        max_retries: int = 0,
        ollama_url: str = OLLAMA_URL,
        probe_timeout: float = 0.5,
    ):
        self.api = api
        self._settings = settings
        self._endpoint = endpoint
        self._fixed = endpoint is not None
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_retries = max_retries
        self.ollama_url = ollama_url
        self.probe_timeout = probe_timeout
        self.unavailable = SETUP_HELP
        self._clients: dict[tuple[str, str], Any] = {}
        self._ladder = HintLadder()

    # -- the model ---------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from services import config

            self._settings = config.load()
        return self._settings

    async def endpoint(self) -> Endpoint | None:
        """The server and model to use, or None (then `unavailable` says why)."""
        if self._endpoint is not None:
            return self._endpoint
        settings = self.settings
        if settings.openai_base_url or settings.openai_api_key:
            base = (settings.openai_base_url or OPENAI_URL).rstrip("/")
            key = settings.openai_api_key or "not-needed"
            model = settings.model or (
                OPENAI_DEFAULT_MODEL if base == OPENAI_URL else await self._first_model(base, key)
            )
            self._endpoint = Endpoint(base, key, model, "config", origin_of(settings))
            return self._endpoint
        names = await probe_ollama(self.ollama_url, timeout=self.probe_timeout)
        if names is None:
            self.unavailable = "No model is configured and Ollama is not running. " + SETUP_HELP
            return None
        if not names:
            self.unavailable = (
                "Ollama is running but has no models: `ollama pull "
                "qwen2.5-coder` (or any chat model), then ask again."
            )
            return None
        model = settings.model if settings.model in names else names[0]
        self._endpoint = Endpoint(f"{self.ollama_url.rstrip('/')}/v1", "ollama", model, "ollama")
        return self._endpoint

    async def prepare(self) -> Endpoint | None:
        """Find the model and load the openai client off the event loop (its import
        takes most of a second, and making one its SSL context), so the first answer
        starts at once."""
        endpoint = await self.endpoint()
        if endpoint is not None:
            await load_openai()
            await asyncio.to_thread(self._client_for, endpoint)
        return endpoint

    async def _first_model(self, base: str, key: str) -> str:
        await load_openai()
        client = self._client_for(Endpoint(base, key, "?", "config"))
        try:
            page = await client.models.list()
        except Exception as exc:
            raise map_error(exc, Endpoint(base, key, "?", "config")) from exc
        ids = [m.id for m in page.data]
        if not ids:
            raise TutorError(
                f"{where(base)} offers no models: load one there, or set `learn config model …`.",
                kind="model",
            )
        return ids[0]

    def _client_for(self, endpoint: Endpoint) -> Any:
        key = (endpoint.base_url, endpoint.api_key)
        if key not in self._clients:
            self._clients[key] = make_client(
                endpoint.base_url,
                endpoint.api_key,
                timeout=self.timeout,
                connect_timeout=self.connect_timeout,
                max_retries=self.max_retries,
            )
        return self._clients[key]

    def forget_endpoint_after(self, exc: BaseException) -> None:
        """A request failed with `exc`: when it says an auto-discovered server went
        away, find the model again next time."""
        import openai

        if (
            not self._fixed
            and self._endpoint is not None
            and self._endpoint.source == "ollama"
            and isinstance(exc, openai.APIConnectionError)
        ):
            self._endpoint = None

    async def open_stream(
        self, endpoint: Endpoint, messages: list[dict[str, str]], stack: contextlib.AsyncExitStack
    ) -> Any:
        """POST /chat/completions with stream=True; the open response (closed by `stack`).

        The SSE body is decoded here rather than through the client's typed chunk
        objects: building those costs ~0.2 ms a token, most of the client's time."""
        openai = await load_openai()
        client = self._client_for(endpoint)
        kwargs: dict[str, Any] = {
            "model": endpoint.model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        completions = client.chat.completions.with_streaming_response
        try:
            try:
                return await stack.enter_async_context(completions.create(**kwargs))
            except openai.BadRequestError as exc:
                if "stream_options" not in server_message(exc):
                    raise
                del kwargs["stream_options"]  # an older server: no usage, then
                return await stack.enter_async_context(completions.create(**kwargs))
        except Exception as exc:
            self.forget_endpoint_after(exc)
            raise map_error(exc, endpoint) from exc

    # -- asking ------------------------------------------------------------------------

    def ask(
        self, question: str, context: TutorContext | None = None, history: Sequence[Any] = ()
    ) -> Answer:
        """Stream the answer to `question`. `history`: earlier exchanges of this
        conversation (ChatEntry objects or (question, answer) pairs), oldest first."""
        question = question.strip()
        if not question:
            raise ValueError("empty question")
        return Answer(self, question, context or TutorContext(), history)

    def hint_level(self, context: TutorContext) -> int:
        """The rung the last help request in this assessment reached (0: none yet)."""
        return self._ladder.level(context)

    def next_rung(self, context: TutorContext, history: Sequence[Any]) -> int:
        """The hint ladder's rung for the next request in `context` (0: no ladder)."""
        return self._ladder.next_rung(context, history)

    # -- the course as a fallback --------------------------------------------------------

    async def course_passages(self, question: str, context: TutorContext) -> list[Any]:
        """The lesson passages matching `question`: this course first, then every course;
        every word may match when the whole question matches nothing."""
        return await fallback.course_passages(self.api, question, context)

    # -- logging -----------------------------------------------------------------------

    async def record(self, answer: Answer, messages: list[dict[str, str]]) -> None:
        """`answer` arrived in full: a model's answer climbs the hint ladder, and the
        exchange is logged through the API (its failure noted on the answer)."""
        if answer.source == "ai":
            self._ladder.climb(answer.context, answer.history)
        if self.api is None:
            return
        context = answer.context
        try:
            await self.api.log_chat(
                answer.question[:20000],
                answer.text[:100000],
                message_type=answer.message_type,
                **context.history_args(),
            )
            if answer.source == "ai":
                await self.api.log_ai_interaction(
                    context.kind,
                    {
                        "question": answer.question[:SUMMARY_CHARS],
                        "context": context.kind,
                        "course_id": context.course_id,
                        "lesson_id": context.lesson_id,
                        "assessment_id": context.assessment_id,
                        "model": answer.model,
                        "server": answer.endpoint.source if answer.endpoint else None,
                        "mode": answer.guidance.mode,
                        "hint_level": answer.guidance.level,
                        "failing_tests": len(context.failing),
                        "timer_running": context.timer_running,
                        "messages": len(messages),
                        "prompt_chars": sum(len(m["content"]) for m in messages),
                    },
                    {
                        "answer": answer.text[:SUMMARY_CHARS],
                        "chars": len(answer.text),
                        "message_type": answer.message_type,
                        "finish_reason": answer.finish_reason,
                        "prompt_tokens": answer.prompt_tokens,
                        "completion_tokens": answer.completion_tokens,
                        "usage_estimated": answer.usage_estimated,
                    },
                    tokens_used=answer.tokens_used,
                    processing_time_ms=answer.processing_ms,
                )
            answer.logged = True
        except Exception as exc:  # the answer stands even if the history can't be saved
            error = exc if isinstance(exc, LearnError) else from_exception(exc)
            answer.log_error = str(error)
            log.warning("chat not logged: %s", error)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
