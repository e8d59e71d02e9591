"""The tutor chat pane: opens beside any screen, streams answers into Markdown.

Who does what:

* The pane gets its conversation's history as data: when it opens (or its context
  changes) it posts `ChatPane.HistoryWanted`; the host (the app) fetches
  `api.chat_history(**context.history_args())` in a worker and posts
  `ChatPane.History(entries, context)` back to the pane. The pane never fetches.
* The pane is given a `Tutor` — a service object, like the API a screen is given —
  and runs the answer's stream in its own worker. Streaming is paced by the UI (the
  deltas go into `Markdown.append`, once a frame), and esc must cancel the very task
  that holds the HTTP response; relaying every token through messages to a host would
  cost a message per token and split cancellation across two objects. The Tutor
  logs the exchange through the API; the pane only shows it.
* The context (what the learner is looking at) is a `TutorContext` or a callable
  returning one: it is read again for every question, so an assessment's current
  code and last test results are always the ones on screen.

Rendering: the request goes out first and the answer is read in its own task while
the exchange mounts; what arrived is appended to the Markdown once a frame (FRAME), so
a fast server costs one `append` a frame, not one per token. Each append is awaited
(not handed to `Markdown.get_stream`, whose `stop()` can return while its last append
is still mounting), so when the stream ends the document is complete. The full
re-render at the end runs only when the streamed blocks differ from a parse of the
whole answer (`streamed_as_parsed`): remounting every block costs more than the whole
stream did. The log, the exchanges and the answers use `layout: stream`.

Each exchange is a `ChatExchange` (widgets/chat_exchange.py) whose answer is an
`AnswerMarkdown` (widgets/answer_markdown.py): Textual's Markdown, cleaned of control
sequences, cheaper to mount. This module is the pane alone, over 400 lines because its
messages, opening and closing, history, asking and keys all act on the same state.

Keys: enter sends, esc stops a running answer (and closes the pane when nothing
runs), f4 copies the last answer (ctrl+y is the editor's redo).
`toggle_chat(screen, tutor, context)` mounts the pane on first use and toggles it
after; opening focuses the question, closing returns focus to where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Static
from textual.worker import Worker

from services.errors import LearnError, from_exception
from services.tutor.answer import Answer
from services.tutor.context import TutorContext
from services.tutor.tutor import Tutor
from widgets.answer_markdown import streamed_as_parsed
from widgets.chat_exchange import ChatExchange, describe

ContextSource = TutorContext | Callable[[], TutorContext] | None

FRAME = 1 / 30  # seconds between appends to a streaming answer

QUICK_PROMPTS = {
    "lesson_chat": ("Explain this differently", "Quiz me"),
    "assessment_help": ("Give me a hint", "Why does my test fail?"),
}


class ChatPane(Widget):
    """The AI tutor beside the current screen."""

    DEFAULT_CSS = """
    ChatPane {
        split: right;
        width: 40%;
        min-width: 36;
        height: 1fr;
        layout: vertical;
        border-left: tall $primary 40%;
        background: $surface;
        padding: 0 1;
    }
    ChatPane > #chat-title { text-style: bold; color: $text-accent; height: 1; }
    ChatPane > #chat-status { color: $text-muted; height: 1; }
    ChatPane > #chat-log { height: 1fr; scrollbar-size-vertical: 1; layout: stream; }
    ChatPane > #chat-error { color: $error; height: auto; display: none; }
    ChatPane > #chat-error.-shown { display: block; }
    ChatPane > #chat-quick { height: auto; }
    ChatPane > #chat-quick > Button { width: auto; min-width: 0; margin-right: 1; }
    ChatPane > #chat-input { margin-top: 0; }
    """

    BINDINGS = [
        Binding("escape", "stop", "Stop answer", id="chat.stop"),
        Binding("escape", "close", "Close tutor", id="chat.close", show=False),
        Binding("f4", "copy_answer", "Copy answer", id="chat.copy"),
        Binding("alt+left", "resize(10)", "Wider tutor", id="chat.wider", show=False),
        Binding("alt+right", "resize(-10)", "Narrower tutor", id="chat.narrower", show=False),
    ]
    WIDTHS = (25, 75)  # the pane's share of the screen, in percent: lowest, highest
    share = 40  # as DEFAULT_CSS has it

    def action_resize(self, delta: int) -> None:
        """alt+←/→ move the pane's left edge (it sits at the right of the screen)."""
        low, high = self.WIDTHS
        self.share = max(low, min(high, self.share + delta))
        self.styles.width = f"{self.share}%"

    # -- messages ------------------------------------------------------------------------

    class HistoryWanted(Message):
        """The host should load chat_history for `context` and post `History` back."""

        def __init__(self, pane: ChatPane, context: TutorContext) -> None:
            super().__init__()
            self.pane = pane
            self.context = context

    class History(Message):
        """Post this to the pane with the loaded history (or the error loading it)."""

        def __init__(
            self, entries: Iterable[Any], context: TutorContext, error: str | None = None
        ) -> None:
            super().__init__()
            self.entries = list(entries)
            self.context = context
            self.error = error

    class Answered(Message):
        """An answer finished streaming (and the tutor has logged it)."""

        def __init__(self, pane: ChatPane, answer: Answer) -> None:
            super().__init__()
            self.pane = pane
            self.answer = answer

    class Failed(Message):
        """An answer failed; `error` is one line saying what to do."""

        def __init__(self, pane: ChatPane, question: str, error: str) -> None:
            super().__init__()
            self.pane = pane
            self.question = question
            self.error = error

    class _Ready(Message):
        def __init__(self, model: str | None, error: str | None) -> None:
            super().__init__()
            self.model = model
            self.error = error

    class _Done(Message):
        def __init__(
            self, exchange: ChatExchange, answer: Answer | None, error: str | None
        ) -> None:
            super().__init__()
            self.exchange = exchange
            self.answer = answer
            self.error = error

    # -- set-up --------------------------------------------------------------------------

    def __init__(
        self,
        tutor: Tutor,
        context: ContextSource = None,
        *,
        name: str | None = None,
        id: str | None = "chat-pane",
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.tutor = tutor
        self._context_source: ContextSource = context
        self._conversation: tuple[Any, ...] | None = None  # the conversation shown
        self._turns: list[tuple[str, str]] = []  # (question, answer), oldest first
        self._answer_worker: Worker[None] | None = None
        self._current: ChatExchange | None = None
        self._last_answer: str | None = None
        self._return_focus: Widget | None = None
        self._model = "Finding a model…"
        self._prepared = False

    def compose(self) -> ComposeResult:
        yield Static(id="chat-title")
        yield Static(id="chat-status")
        yield VerticalScroll(id="chat-log")
        yield Static(id="chat-error")
        yield Horizontal(id="chat-quick")
        yield Input(placeholder="Ask the tutor…  (enter sends)", id="chat-input")

    def on_mount(self) -> None:
        self.open()

    @property
    def context(self) -> TutorContext:
        source = self._context_source
        if callable(source):
            return source()
        return source or TutorContext()

    @property
    def busy(self) -> bool:
        return self._current is not None

    @property
    def last_answer(self) -> str | None:
        return self._last_answer

    @property
    def input(self) -> Input:
        return self.query_one("#chat-input", Input)

    # -- opening and closing ---------------------------------------------------------------

    def open(self) -> None:
        """Show the pane, focus the question, load the history if the context changed."""
        focused = self.screen.focused
        if focused is not None and self not in focused.ancestors_with_self:
            self._return_focus = focused
        self.display = True
        self.screen.add_class("-tutor-open")  # narrow screens make room (app.tcss)
        self._sync_context()
        self.input.focus()
        if not self._prepared:
            self._prepared = True
            self._prepare()

    def close(self) -> None:
        """Hide the pane (a running answer carries on) and give focus back."""
        self.display = False
        self.screen.remove_class("-tutor-open")
        target = self._return_focus
        self._return_focus = None
        if target is not None and target.is_attached and target.focusable:
            target.focus()
        else:
            self.screen.set_focus(None)
            self.screen.focus_next()

    def toggle(self) -> None:
        if self.display:
            self.close()
        else:
            self.open()

    def set_context(self, context: ContextSource) -> None:
        """A new context (the screen moved to another lesson, …): reload if it differs."""
        self._context_source = context
        if self.display:
            self._sync_context()

    def refresh_context(self) -> None:
        """Read the context again (a screen whose data just loaded or changed calls it)."""
        self.set_context(self._context_source)

    def _sync_context(self) -> None:
        context = self.context
        self._show_header(context)
        if context.key != self._conversation:
            if self.busy:  # an answer about what is no longer on screen
                self.action_stop()
            self._conversation = context.key
            self._turns = []
            self._last_answer = None
            self.query_one("#chat-log").remove_children()
            self._show_quick_prompts(context)
            self.post_message(self.HistoryWanted(self, context))

    def _show_header(self, context: TutorContext) -> None:
        self.query_one("#chat-title", Static).update(Text(f"Tutor · {context.title}"))
        if not self.busy:
            self._status(self._model)

    def _show_quick_prompts(self, context: TutorContext) -> None:
        row = self.query_one("#chat-quick", Horizontal)
        row.remove_children()
        prompts = QUICK_PROMPTS.get(context.kind, ())
        row.mount_all(
            Button(label, compact=True, classes="chat-quick-prompt", name=label)
            for label in prompts
        )
        row.display = bool(prompts)

    def _status(self, text: str) -> None:
        self.query_one("#chat-status", Static).update(Text(text))

    def _error(self, text: str | None) -> None:
        error = self.query_one("#chat-error", Static)
        error.update(Text(f"⚠ {text}") if text else "")
        error.set_class(bool(text), "-shown")

    @work(exclusive=True, group="chat-prepare")
    async def _prepare(self) -> None:
        """Find the model (and load the client) before the first question."""
        try:
            endpoint = await self.tutor.prepare()
        except Exception as exc:  # shown in the pane, never a crash
            error = exc if isinstance(exc, LearnError) else from_exception(exc)
            self.post_message(self._Ready(None, str(error)))
            return
        self.post_message(self._Ready(endpoint.describe() if endpoint else None, None))

    @on(_Ready)
    def _ready(self, message: _Ready) -> None:
        self._model = message.model or (
            "No AI model: answers come from the course"
            if message.error is None
            else "No model reachable"
        )
        if message.error:
            self._prepared = False  # try again next time the pane opens
            self._error(message.error)
        if not self.busy:
            self._status(self._model)

    # -- history -------------------------------------------------------------------------

    def load_history(self, entries: Iterable[Any], context: TutorContext | None = None) -> None:
        """Show earlier exchanges (ChatEntry objects or (question, answer) pairs).

        Ignored when `context` is given and is no longer the pane's conversation."""
        if context is not None and context.key != self._conversation:
            return
        turns = []
        for entry in entries:
            if isinstance(entry, tuple):
                question, answer = entry
            else:
                question, answer = entry.question, entry.answer
            turns.append((str(question), str(answer or "")))
        log = self.query_one("#chat-log", VerticalScroll)
        for old in log.query(".-history"):
            old.remove()
        exchanges = [ChatExchange(q, a, history=True) for q, a in turns]
        if exchanges:
            first_live = next(iter(log.children), None)
            if first_live is not None:
                log.mount_all(exchanges, before=first_live)
            else:
                log.mount_all(exchanges)
        self._turns = turns + [t for t in self._turns if t not in turns]
        if turns and self._last_answer is None:
            self._last_answer = turns[-1][1]
        log.scroll_end(animate=False)

    @on(History)
    def _history(self, message: History) -> None:
        message.stop()
        if message.error:
            if message.context.key == self._conversation:
                self._error(message.error)
            return
        self.load_history(message.entries, message.context)

    def show_error(self, message: str) -> None:
        """Show a problem (e.g. the history could not load) with what to do."""
        self._error(message)

    # -- asking ----------------------------------------------------------------------------

    @on(Input.Submitted, "#chat-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.ask(event.value)

    @on(Button.Pressed, ".chat-quick-prompt")
    def _quick_prompt(self, event: Button.Pressed) -> None:
        event.stop()
        self.ask(event.button.name or str(event.button.label))
        self.input.focus()

    def ask(self, question: str) -> None:
        """Send a question; its answer streams into a new exchange."""
        question = question.strip()
        if not question:
            return
        if self.busy:
            self._status("Still answering — esc stops it")
            return
        context = self.context
        if context.key != self._conversation:
            self._sync_context()
        self._error(None)
        if self.input.value.strip() == question:
            self.input.value = ""
        exchange = ChatExchange(question)
        self._current = exchange
        self._status("Thinking…  esc stops")
        self.refresh_bindings()
        self._answer_worker = self._stream(exchange, question, context, list(self._turns))

    @work(exclusive=True, group="chat-answer")
    async def _stream(
        self,
        exchange: ChatExchange,
        question: str,
        context: TutorContext,
        history: list[tuple[str, str]],
    ) -> None:
        log = self.query_one("#chat-log", VerticalScroll)
        answer = self.tutor.ask(question, context, history)
        pending: list[str] = []

        async def read() -> None:
            async for delta in answer:
                pending.append(delta)

        # The request goes out first, and the answer is read in its own task while the
        # exchange mounts. What arrived is appended once a frame: a fast server costs one
        # append a frame (everything that came during an append goes in the next one),
        # a slow one shows every token at once. Each append is awaited (shielded, so esc
        # never cuts one in half): when the loop ends, the document is complete.
        reader = asyncio.create_task(read())
        try:
            await log.mount(exchange)
            log.anchor()
            markdown = exchange.markdown
            while True:
                done, _ = await asyncio.wait({reader}, timeout=FRAME)
                if pending:
                    text = "".join(pending)
                    pending.clear()
                    await asyncio.shield(markdown.append(text))
                if done:
                    break
            reader.result()
        except Exception as exc:  # every failure becomes a line in the pane, never a crash
            error = exc if isinstance(exc, LearnError) else from_exception(exc)
            exchange.answer_text = answer.text
            self.post_message(self._Done(exchange, None, str(error)))
            return
        finally:
            if not reader.done():  # stopped (esc): closes the HTTP response
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
            await answer.aclose()
        if not streamed_as_parsed(markdown, answer.text):
            await markdown.update(answer.text)  # the one full render, when needed
        exchange.answer_text = answer.text
        self.post_message(self._Done(exchange, answer, None))

    @on(_Done)
    def _done(self, message: _Done) -> None:
        exchange = message.exchange
        if self._current is exchange:
            self._current = None
            self._answer_worker = None
            self.refresh_bindings()
        if not exchange.is_attached:  # the conversation was replaced meanwhile
            return
        if message.error is not None:
            question = exchange.question
            kept = not self.input.value.strip()  # unless the learner typed a new one
            if kept:
                self.input.value = question  # keep the question for a retry
                self.input.cursor_position = len(question)
            if exchange.answer_text:
                exchange.note("(incomplete)")
            elif kept:
                exchange.remove()
            else:
                exchange.note("Not answered.")
            self._error(message.error)
            self._status("Your question is still in the box: press enter to ask again")
            self.post_message(self.Failed(self, question, message.error))
            return
        answer = message.answer
        assert answer is not None
        self._turns.append((exchange.question, answer.text))
        self._last_answer = answer.text
        exchange.note(describe(answer))
        self._model = (
            answer.endpoint.describe()
            if answer.endpoint
            else "No AI model: answers come from the course"
        )
        self._status(self._model)
        self.post_message(self.Answered(self, answer))

    # -- keys ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.busy
        if action == "close":
            return not self.busy
        return True

    def action_stop(self) -> None:
        """Stop the running answer: the worker is cancelled and the HTTP response closed."""
        exchange, worker = self._current, self._answer_worker
        if exchange is None:
            return
        self._current = None
        self._answer_worker = None
        if worker is not None:
            worker.cancel()
        exchange.note("Stopped.")
        self._status(f"Stopped · {self._model}")
        self.refresh_bindings()

    def action_close(self) -> None:
        self.close()

    def action_copy_answer(self) -> None:
        if not self._last_answer:
            self.notify("No answer to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(self._last_answer)
        self.notify("Answer copied to the clipboard.")


def toggle_chat(screen: Any, tutor: Tutor, context: ContextSource = None) -> ChatPane:
    """Open the tutor beside `screen` (mounting it the first time), or close it."""
    panes = screen.query(ChatPane)
    if panes:
        pane = panes.first()
        if not pane.display:
            pane.set_context(context)
        pane.toggle()
        return pane
    pane = ChatPane(tutor, context)
    screen.mount(pane)
    return pane
