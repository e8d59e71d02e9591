"""One answer being streamed: `async for delta in answer`, then read its figures.

    Answer   the deltas as they arrive (Markdown, cleaned of control sequences), then
             text, source ("ai" | "course"), guidance, tokens, processing time,
             message_type, and whether the exchange was logged

An Answer drives one request through its Tutor's public API (`endpoint`,
`next_rung`, `open_stream`, `forget_endpoint_after`, `course_passages`, `record`):
it holds the request's state, the Tutor what outlives it (clients, the hint ladder,
the log).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from services.errors import LearnError
from services.text import terminal_safe
from services.tutor.context import TutorContext
from services.tutor.errors import TutorError, map_error, server_message, where
from services.tutor.fallback import NO_MODEL_LEAD, excerpts_markdown
from services.tutor.policy import Guidance, guidance_for
from services.tutor.prompts import build_messages, message_type_of
from services.tutor.stream import as_int, json_object, sse_data

if TYPE_CHECKING:
    from services.tutor.endpoint import Endpoint
    from services.tutor.tutor import Tutor


class Answer:
    """An answer being streamed: `async for delta in answer`, then read its figures.

    `aclose()` (or cancelling the task iterating it) closes the HTTP response at once."""

    def __init__(self, tutor: Tutor, question: str, context: TutorContext, history: Sequence[Any]):
        self.tutor = tutor
        self.question = question
        self.context = context
        self.history = history
        self._parts: list[str] = []
        self.source = "ai"  # "ai" | "course" (the offline fallback)
        self.endpoint: Endpoint | None = None
        self.guidance = Guidance()
        self.message_type = "text"
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.tokens_used = 0
        self.usage_estimated = False
        self.processing_ms = 0
        self.finish_reason: str | None = None
        self.done = False
        self.logged = False
        self.log_error: str | None = None
        self._gen = self._run()

    def __aiter__(self) -> Answer:
        return self

    async def __anext__(self) -> str:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        await self._gen.aclose()

    @property
    def model(self) -> str | None:
        return self.endpoint.model if self.endpoint else None

    @property
    def text(self) -> str:
        """Everything streamed so far."""
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def _emit(self, piece: str) -> str:
        self._parts.append(piece)
        return piece

    async def _run(self) -> AsyncGenerator[str, None]:
        tutor = self.tutor
        endpoint = await tutor.endpoint()
        if endpoint is None:
            async for piece in self._from_course():
                yield piece
            return
        self.endpoint = endpoint
        self.guidance = guidance_for(
            self.context, self.question, tutor.next_rung(self.context, self.history)
        )
        # the ladder climbs only when this answer arrives in full (tutor.record, at the end)
        messages = build_messages(self.question, self.context, self.guidance, self.history)
        if self.guidance.refusal:
            yield self._emit(self.guidance.refusal + "\n\n")
        started = time.perf_counter()
        usage: Mapping[str, Any] | None = None
        completed = False
        async with contextlib.AsyncExitStack() as stack:
            response = await tutor.open_stream(endpoint, messages, stack)
            try:
                async for data in sse_data(response.iter_lines()):
                    if data == "[DONE]":
                        completed = True
                        break
                    chunk = json_object(data)
                    if chunk.get("error"):
                        raise TutorError(
                            f"{where(endpoint.base_url)} failed mid-answer: "
                            f"{server_message(chunk)} — press enter to ask "
                            "again.",
                            kind="server",
                        )
                    if chunk.get("usage"):
                        usage = chunk["usage"]
                    for choice in chunk.get("choices") or ():
                        delta = (choice.get("delta") or {}).get("content")
                        if delta and isinstance(delta, str):
                            # the model's words, cleaned as they arrive (and so logged)
                            delta = terminal_safe(delta)
                            if delta:
                                yield self._emit(delta)
                        if choice.get("finish_reason"):
                            self.finish_reason = choice["finish_reason"]
            except LearnError:
                raise
            except Exception as exc:
                tutor.forget_endpoint_after(exc)
                raise map_error(exc, endpoint, mid_stream=bool(self._parts)) from exc
        if not completed and self.finish_reason is None:
            raise TutorError(
                "The connection to the AI server dropped mid-answer: press enter to ask again.",
                kind="dropped",
            )
        self.processing_ms = round((time.perf_counter() - started) * 1000)
        if usage is not None:
            self.prompt_tokens = as_int(usage.get("prompt_tokens"))
            self.completion_tokens = as_int(usage.get("completion_tokens"))
            self.tokens_used = as_int(usage.get("total_tokens")) or (
                self.prompt_tokens + self.completion_tokens
            )
        else:  # the server sent no usage: estimate (~4 characters a token) and say so
            self.usage_estimated = True
            self.prompt_tokens = sum(len(m["content"]) for m in messages) // 4
            self.completion_tokens = len(self.text) // 4
            self.tokens_used = self.prompt_tokens + self.completion_tokens
        self.message_type = message_type_of(self.text, self.context, self.question)
        self.done = True
        await tutor.record(self, messages)

    async def _from_course(self) -> AsyncIterator[str]:
        """No model: say so, and answer with the course passages that match."""
        self.source = "course"
        started = time.perf_counter()
        yield self._emit(f"{NO_MODEL_LEAD} {self.tutor.unavailable}\n\n")
        passages = await self.tutor.course_passages(self.question, self.context)
        yield self._emit(excerpts_markdown(passages, self.context.course_id))
        self.processing_ms = round((time.perf_counter() - started) * 1000)
        self.finish_reason = "stop"
        self.done = True
        await self.tutor.record(self, [])
