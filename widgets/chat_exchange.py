"""One question and its answer in the chat log.

ChatExchange      the question, its answer (an AnswerMarkdown) and a note under it
describe(answer)  that note for a finished answer: model · tokens · time
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown, Static

from services.tutor.answer import Answer
from widgets.answer_markdown import AnswerMarkdown


class ChatExchange(Vertical):
    """One question and its answer."""

    DEFAULT_CSS = """
    ChatExchange { height: auto; margin-bottom: 1; layout: stream; }
    ChatExchange > .chat-question { color: $text-accent; text-style: bold; }
    ChatExchange > Markdown { margin: 0; padding: 0; background: transparent; layout: stream; }
    ChatExchange > .chat-meta { color: $text-muted; }
    """

    # the answer's widget class (benchmarks/tutor.py --markdown plain swaps it)
    answer_markdown: type[Markdown] = AnswerMarkdown

    def __init__(self, question: str, answer: str = "", *, history: bool = False) -> None:
        super().__init__(classes="-history" if history else "")
        self.question = question
        self._initial = answer
        self.answer_text = answer

    def compose(self) -> ComposeResult:
        yield Static(Text(f"› {self.question}"), classes="chat-question")
        yield self.answer_markdown(self._initial, classes="chat-answer")
        yield Static(classes="chat-meta")

    @property
    def markdown(self) -> Markdown:
        return self.query_one(Markdown)

    def note(self, text: str) -> None:
        self.query_one(".chat-meta", Static).update(Text(text))


def describe(answer: Answer) -> str:
    """The line under a finished answer: model, tokens, time (or "from the course")."""
    if answer.source == "course":
        parts = ["from the course, not AI"]
    else:
        tokens = f"{answer.tokens_used} tokens" + (" (estimated)" if answer.usage_estimated else "")
        parts = [answer.model or "", tokens, f"{answer.processing_ms / 1000:.1f} s"]
    if answer.log_error:
        parts.append(f"not saved: {answer.log_error}")
    return " · ".join(p for p in parts if p)
