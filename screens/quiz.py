"""Quiz me (k on the review screen): the tutor asks about a key point, the learner
answers, the tutor suggests a rating (services.review.quiz.quiz_question /
quiz_suggestion); the learner still rates.

Public names: QuizDialog.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from screens.base import friendly
from services.review.practice import printable
from services.review.spaced import Rating, ReviewCard


class QuizDialog(ModalScreen[tuple[Rating | None, str] | None]):
    """The tutor's question about a key point, the learner's answer, the tutor's
    suggested rating (services.review.quiz.quiz_question / quiz_suggestion)."""

    BINDINGS = [Binding("escape", "close", "Close", id="quiz.close")]

    def __init__(self, card: ReviewCard, tutor) -> None:
        super().__init__()
        self.card = card
        self.tutor = tutor
        self.question: str | None = None
        self.result: tuple[Rating | None, str] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="quiz", classes="dialog"):
            yield Label("Quiz me", classes="dialog-title")
            yield Static(Text("Thinking of a question…", style="dim"), id="quiz-question")
            yield Input(
                placeholder="Your answer, then enter",
                id="quiz-answer",
                max_length=2000,
                disabled=True,
            )
            yield Static(id="quiz-verdict")

    def on_mount(self) -> None:
        self._ask()

    @work(exclusive=True, group="quiz")
    async def _ask(self) -> None:
        from services.review.quiz import quiz_question

        try:
            question = await quiz_question(self.tutor, self.card)
        except Exception as exc:
            self._failed(friendly(exc))
            return
        if not question:
            self._failed("The tutor has no model to ask.")
            return
        self.question = question
        self.query_one("#quiz-question", Static).update(Text(printable(question), style="bold"))
        answer = self.query_one("#quiz-answer", Input)
        answer.disabled = False
        answer.focus()

    @on(Input.Submitted, "#quiz-answer")
    def _answered(self, event: Input.Submitted) -> None:
        if self.question is None or self.result is not None:
            if self.result is not None:
                self.dismiss(self.result)
            return
        event.input.disabled = True
        self.query_one("#quiz-verdict", Static).update(Text("Reading your answer…", style="dim"))
        self._judge(event.value)

    @work(exclusive=True, group="quiz")
    async def _judge(self, answer: str) -> None:
        from services.review.quiz import quiz_suggestion

        try:
            self.result = await quiz_suggestion(self.tutor, self.card, self.question or "", answer)
        except Exception as exc:
            self._failed(friendly(exc))
            return
        suggested, why = self.result
        verdict = Text.assemble(
            ("Suggested: ", "dim"),
            (suggested.label if suggested else "—", "bold"),
            ("\n" + printable(why)[:500], ""),
            ("\n\nenter or esc: back to the card, and rate it yourself", "dim"),
        )
        self.query_one("#quiz-verdict", Static).update(verdict)
        self.focus()

    def _failed(self, message: str) -> None:
        self.query_one("#quiz-verdict", Static).update(Text(message, style="red"))

    def key_enter(self) -> None:
        if self.result is not None:
            self.dismiss(self.result)

    def action_close(self) -> None:
        self.dismiss(self.result)
