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

The answer is an `AnswerMarkdown`: Textual's Markdown widget, blocks and all, made
cheaper to mount, which is where the time went (benchmarks/tutor.py: 2,000 tokens,
~10k characters, 34 blocks). Textual builds a list as four widgets an item (a
Horizontal, the bullet, a Vertical, the paragraph): 102 of the answer's 134 widgets,
and over half the time to show it. Here a list whose items hold only paragraphs and
lists is one widget drawing `ListLines` (wrapped items, hanging indents, the same
bullets, numbers and styles), so the answer is 38 widgets; and the inline styles
(em, strong, code) are resolved once on the document instead of through four virtual
nodes styled for each block. Medians on 2 cores: the pane, until the whole answer is
on screen, went from 718 ms to ~300 ms, against ~320 ms for the openai client
reading the bare stream (2.26x to ~0.95x; target 1.3x; ~1.1x when the benchmark
leaves earlier runs' garbage to be collected mid-answer); one render from history
from 410 ms to ~170 ms.

Keys: enter sends, esc stops a running answer (and closes the pane when nothing
runs), f4 copies the last answer (ctrl+y is the editor's redo).
`toggle_chat(screen, tutor, context)` mounts the pane on first use and toggles it
after; opening focuses the question, closing returns focus to where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import types
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.css.styles import RulesMap
from textual.message import Message
from textual.selection import Selection
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual.widget import Widget
from textual.widgets import Button, Input, Markdown, Static
from textual.widgets._markdown import (  # the block classes, which it does not export
    MarkdownBulletList,
    MarkdownList,
    MarkdownListItem,
    MarkdownOrderedList,
    MarkdownParagraph,
)
from textual.widgets.markdown import MarkdownBlock
from textual.worker import Worker

from services.errors import LearnError, from_exception
from services.text import terminal_safe
from services.tutor.answer import Answer
from services.tutor.context import TutorContext
from services.tutor.tutor import Tutor

ContextSource = TutorContext | Callable[[], TutorContext] | None

FRAME = 1 / 30  # seconds between appends to a streaming answer

QUICK_PROMPTS = {
    "lesson_chat": ("Explain this differently", "Quiz me"),
    "assessment_help": ("Give me a hint", "Why does my test fail?"),
}


# -- the answer's Markdown -----------------------------------------------------------------


class ListLines(Visual):
    """A Markdown list drawn as lines of text: each item wrapped beside its bullet.

    `items` are (bullet, parts), the parts being the item's paragraphs (Content, with
    the inline styles Textual gives them) and nested lists (ListLines). Continuation
    lines hang under the item's text, as in Textual's own list."""

    def __init__(self, items: list[tuple[str, list[Content | ListLines]]]) -> None:
        self.items = items
        self._lines: tuple[int, list[Content]] = (-1, [])
        self._content: tuple[int, Content] = (-1, Content())

    def lines(self, width: int) -> list[Content]:
        if self._lines[0] != width:
            lines: list[Content] = []
            for bullet, parts in self.items:
                indent = cell_len(bullet)
                inner = max(1, width - indent)
                body: list[Content] = []
                for part in parts:
                    body.extend(
                        part.wrap(inner) if isinstance(part, Content) else part.lines(inner)
                    )
                first, pad = Content.styled(bullet, ".answer--bullet"), Content(" " * indent)
                lines.extend(
                    (pad if n else first) + line for n, line in enumerate(body or [Content()])
                )
            self._lines = (width, lines)
        return self._lines[1]

    def content(self, width: int) -> Content:
        """The list at `width` as one Content: what is drawn, and what is selected."""
        if self._content[0] != width:
            self._content = (width, Content("\n").join(self.lines(width)))
        return self._content[1]

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        return self.content(width).render_strips(width, height, style, options)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return max(
            (
                cell_len(bullet)
                + max((part.get_optimal_width(rules, container_width) for part in parts), default=0)
                for bullet, parts in self.items
            ),
            default=0,
        )

    def get_minimal_width(self, rules: RulesMap) -> int:
        return max(
            (
                cell_len(bullet) + max((part.get_minimal_width(rules) for part in parts), default=1)
                for bullet, parts in self.items
            ),
            default=1,
        )

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self.lines(width))


class _CompactList(MarkdownList if TYPE_CHECKING else object):
    """A list that is one widget (ListLines), not four per item (Horizontal, bullet,
    Vertical, paragraph). A list whose items hold anything but paragraphs and lists
    (code, quotes, tables) keeps Textual's own widgets.

    A mixin, put before Textual's list class: Textual takes a widget's CSS type names
    from its first DOMNode base, so the list keeps MarkdownBulletList's styles."""

    def bullets(self) -> list[str]:
        raise NotImplementedError

    def list_lines(self) -> ListLines | None:
        items: list[tuple[str, list[Content | ListLines]]] = []
        for item, bullet in zip(self._blocks, self.bullets(), strict=True):
            if not isinstance(item, MarkdownListItem):
                return None
            parts: list[Content | ListLines] = []
            for block in item._blocks:
                if isinstance(block, _CompactList):
                    nested = block.list_lines()
                    if nested is None:
                        return None
                    parts.append(nested)
                elif isinstance(block, MarkdownParagraph):
                    parts.append(block._content)
                else:
                    return None
            items.append((bullet, parts))
        return ListLines(items)

    def compose(self) -> ComposeResult:
        lines = self.list_lines()
        if lines is None:
            yield from super().compose()
            return
        self._blocks.clear()
        self.update(lines)

    async def _update_from_block(self, block: MarkdownBlock) -> None:
        """The list being streamed is updated in place, not remounted every frame."""
        if (
            type(block) is type(self)
            and isinstance(block, _CompactList)
            and not self.children
            and (lines := block.list_lines()) is not None
        ):
            self._copy_context(block)
            self.update(lines)
            return
        await super()._update_from_block(block)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        if not isinstance(self.visual, ListLines):
            return super().get_selection(selection)
        return selection.extract(self.visual.content(self.content_size.width).plain), "\n"


class CompactBulletList(_CompactList, MarkdownBulletList):
    def bullets(self) -> list[str]:
        return [getattr(item, "bullet", "") for item in self._blocks]


class CompactOrderedList(_CompactList, MarkdownOrderedList):
    def bullets(self) -> list[str]:  # numbered as MarkdownOrderedList numbers
        start = 1
        if self._blocks and isinstance(self._blocks[0], MarkdownListItem):
            with contextlib.suppress(ValueError):
                start = int(self._blocks[0].bullet)
        numbers = [f"{n}. " for n in range(start, start + len(self._blocks))]
        width = max(map(len, numbers), default=0) + 1
        return [number.rjust(width) for number in numbers]


@functools.cache
def _styled_by_document(block: type[MarkdownBlock]) -> type[MarkdownBlock]:
    """`block` without its own inline-style component classes (em, strong, s,
    code_inline): Textual looks a span's style up the ancestors, so the AnswerMarkdown
    holding them once replaces four virtual nodes styled for every block mounted.
    Made on first use (a widget class costs ~0.4 ms to create)."""
    if block.__module__ != __name__:
        block = types.new_class(
            block.__name__, (block,), exec_body=lambda ns: ns.update(__module__=__name__)
        )
    # DOMNode's `inherit_component_classes=False`, set once the class exists:
    # Widget.__init_subclass__ does not pass that keyword on (Textual 8.2).
    block._inherit_component_classes = False
    return block


_TABLE_BLOCKS = {"table_open", "thead_open", "tbody_open", "tr_open", "th_open", "td_open"}


class AnswerMarkdown(Markdown):
    """Textual's Markdown, lighter to mount: lists are one widget each (`_CompactList`)
    and inline styles are resolved once per answer, not once per block (tables keep
    Textual's blocks as they are)."""

    COMPONENT_CLASSES = {"em", "strong", "s", "code_inline", "answer--bullet"}

    # Markdown's rules for these (and MarkdownBullet's), with the document in place of
    # each block.
    DEFAULT_CSS = """
    AnswerMarkdown {
        &:dark > .code_inline { background: $warning 10%; color: $text-warning 95%; }
        &:light > .code_inline { background: $error 5%; color: $text-error 95%; }
        &:ansi > .code_inline { background: ansi_default !important; }
        & > .em { text-style: italic; }
        & > .strong { text-style: bold; }
        & > .s { text-style: strike; }
        & > .answer--bullet { color: $text-primary; }
        &:light > .answer--bullet { color: $text-secondary; }
    }
    """

    BLOCKS = {
        **Markdown.BLOCKS,
        "bullet_list_open": CompactBulletList,
        "ordered_list_open": CompactOrderedList,
    }

    def update(self, markdown: str) -> Any:
        # an answer is the model's text: services/tutor/answer.py cleans it as it streams; this
        # is the second line of defence, one regex search per frame's worth of text
        return super().update(terminal_safe(markdown))

    def append(self, markdown: str) -> Any:
        return super().append(terminal_safe(markdown))

    def get_block_class(self, block_name: str) -> type[MarkdownBlock]:
        block = super().get_block_class(block_name)
        return block if block_name in _TABLE_BLOCKS else _styled_by_document(block)


class ChatExchange(Vertical):
    """One question and its answer."""

    DEFAULT_CSS = """
    ChatExchange { height: auto; margin-bottom: 1; layout: stream; }
    ChatExchange > .chat-question { color: $text-accent; text-style: bold; }
    ChatExchange > Markdown { margin: 0; padding: 0; background: transparent; layout: stream; }
    ChatExchange > .chat-meta { color: $text-muted; }
    """

    def __init__(self, question: str, answer: str = "", *, history: bool = False) -> None:
        super().__init__(classes="-history" if history else "")
        self.question = question
        self._initial = answer
        self.answer_text = answer

    def compose(self) -> ComposeResult:
        yield Static(Text(f"› {self.question}"), classes="chat-question")
        yield AnswerMarkdown(self._initial, classes="chat-answer")
        yield Static(classes="chat-meta")

    @property
    def markdown(self) -> Markdown:
        return self.query_one(Markdown)

    def note(self, text: str) -> None:
        self.query_one(".chat-meta", Static).update(Text(text))


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
        exchange.note(_describe(answer))
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


_TOP_LEVEL = frozenset(
    {
        "heading_open",
        "paragraph_open",
        "blockquote_open",
        "bullet_list_open",
        "ordered_list_open",
        "table_open",
        "hr",
        "fence",
        "code_block",
    }
)


def streamed_as_parsed(markdown: Markdown, text: str) -> bool:
    """Do the blocks built by streaming match a fresh parse of the whole answer?

    `Markdown.append` re-parses from the start of the last block, so the streamed
    document normally is exactly the parsed one; the full `update` (which remounts every
    block, ~5 ms each) is then skipped. Anything else — a different source or block
    layout — gets the full update."""
    from markdown_it import MarkdownIt

    if markdown.source != text:
        return False
    tokens = MarkdownIt("gfm-like").parse(text)
    expected = [
        tuple(t.map) for t in tokens if t.level == 0 and t.map is not None and t.type in _TOP_LEVEL
    ]
    actual = [tuple(b.source_range) for b in markdown.children if isinstance(b, MarkdownBlock)]
    return expected == actual


def _describe(answer: Answer) -> str:
    if answer.source == "course":
        parts = ["from the course, not AI"]
    else:
        tokens = f"{answer.tokens_used} tokens" + (" (estimated)" if answer.usage_estimated else "")
        parts = [answer.model or "", tokens, f"{answer.processing_ms / 1000:.1f} s"]
    if answer.log_error:
        parts.append(f"not saved: {answer.log_error}")
    return " · ".join(p for p in parts if p)


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
