"""Spaced review: the key points of completed lessons (and passed assessments) when
they are due. A prompt; space reveals; 1–4 rates Again/Hard/Good/Easy; the next card.

The next state comes from the FSRS scheduler (services.review.spaced) at once, so the next
card shows without waiting for the server; the review itself is written through the
outbox (queued when offline). A card rated into a short learning step comes back in
this session. Leaving after at least one review finishes the session: the database
counts the day for the streak."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Header, Static

from screens import messages
from screens.base import DataScreen, friendly, host
from screens.quiz import QuizDialog
from services.review.practice import printable
from services.review.quiz import cloze
from services.review.spaced import (
    SAME_SESSION,
    Rating,
    ReviewCard,
    ReviewQueue,
    Reviews,
    next_state,
    when,
)
from widgets.keybar import KeyBar


class ReviewScreen(DataScreen):
    """One card at a time: prompt, reveal, rate."""

    BINDINGS = [
        Binding("space", "reveal", "Reveal", id="review.reveal"),
        Binding("enter", "reveal", "Reveal", id="review.reveal_enter", show=False),
        Binding("1", "rate(1)", "Again", id="review.again"),
        Binding("2", "rate(2)", "Hard", id="review.hard"),
        Binding("3", "rate(3)", "Good", id="review.good"),
        Binding("4", "rate(4)", "Easy", id="review.easy"),
        Binding("k", "quiz", "Quiz me", id="review.quiz"),
        Binding("o", "open_source", "Open lesson", id="review.open"),
        Binding("escape", "back", "Back", id="review.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.queue: list[ReviewCard] = []
        self.data: ReviewQueue | None = None
        self.revealed = False
        self.reviewed = 0
        self.started_at = datetime.now(timezone.utc)
        self.shown_at = time.monotonic()
        self.finished = False
        self.next_due: datetime | None = None
        self.suggestion: tuple[Rating | None, str] | None = None  # the tutor's, for this card

    @property
    def reviews(self) -> Reviews:
        return Reviews(self.api)

    @property
    def card(self) -> ReviewCard | None:
        return self.queue[0] if self.queue else None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="body"):
            with Vertical(id="review-card", classes="panel"):
                yield Static(id="review-where")
                yield Static(id="review-prompt")
                yield Static(id="review-answer")
            yield Static(id="review-keys")
            yield Static(id="review-progress")
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = "Review"
        self.query_one("#review-card").border_title = "Card"

    async def fetch(self) -> ReviewQueue:
        return await self.reviews.queue()

    def show(self, data: ReviewQueue) -> None:
        self.data = data
        seen = {c.id for c in self.queue}
        if not self.queue:
            self.queue = list(data.cards)
        else:  # a reload: keep the session's order, add what is new
            self.queue += [c for c in data.cards if c.id not in seen]
        self.next_due = data.summary.next_due
        self._show_card()

    # Drawing ---------------------------------------------------------------------

    def _show_card(self) -> None:
        card = self.card
        where = self.query_one("#review-where", Static)
        prompt = self.query_one("#review-prompt", Static)
        answer = self.query_one("#review-answer", Static)
        keys = self.query_one("#review-keys", Static)
        self.query_one("#review-progress", Static).update(self._progress())
        self.refresh_bindings()
        if card is None:
            self.query_one("#review-card").border_title = "Done"
            where.update("")
            prompt.update(self._done_text())
            answer.update("")
            keys.update(Text("d dashboard · c catalog", style="dim"))
            return
        self.shown_at = time.monotonic()
        self.query_one("#review-card").border_title = (
            "Assessment" if card.assessment_id else "Key point"
        )
        head = Text(printable(card.where) or "A lesson", style="bold")
        if card.key_point_index is not None and card.key_point_count:
            head.append(
                f"   key point {card.key_point_index + 1} of {card.key_point_count}", style="dim"
            )
        where.update(head)
        if card.assessment_id:
            prompt.update(
                Text.assemble(
                    "Could you solve ",
                    (printable(card.assessment_title or card.prompt), "bold"),
                    " again, from scratch? Think through the approach before you reveal.",
                )
            )
        else:
            prompt.update(
                Text.assemble(
                    ("Fill in the gaps, or say the key point in your own words:\n\n", "dim"),
                    (printable(cloze(card.prompt)), "bold"),
                )
            )
        if self.revealed:
            if card.assessment_id:
                slug = card.assessment_slug or card.assessment_id
                answer.update(
                    Text.assemble(
                        ("\nPractise it in your editor: ", "dim"),
                        (f"learn practice {slug}", "bold"),
                        ("\nRate how well you remembered how to solve it.", "dim"),
                    )
                )
            else:
                answer.update(Text.assemble(("\n", ""), (printable(card.prompt), "bold green")))
            rating_keys = self._rating_keys(card)
            if self.suggestion is not None:
                suggested, why = self.suggestion
                rating_keys = Text.assemble(
                    ("The tutor suggests ", "dim"),
                    (suggested.label if suggested else "no rating", "bold"),
                    (f": {printable(why)[:300]}\nYour call — ", "dim"),
                    rating_keys,
                )
            keys.update(rating_keys)
        else:
            answer.update("")
            keys.update(Text("space reveals the answer", style="dim"))

    def _rating_keys(self, card: ReviewCard) -> Text:
        """The four ratings with the interval each would give (as Anki shows them)."""
        now = datetime.now(timezone.utc)
        text = Text()
        styles = {
            Rating.AGAIN: "red",
            Rating.HARD: "yellow",
            Rating.GOOD: "green",
            Rating.EASY: "cyan",
        }
        for rating in Rating:
            due = datetime.fromisoformat(next_state(card, rating, now)["due"])
            if text:
                text.append("   ")
            text.append(f" {int(rating)} ", style=f"bold reverse {styles[rating]}")
            text.append(f" {rating.label} ", style="bold")
            text.append(when(due, now).replace("in ", ""), style="dim")
        return text

    def _progress(self) -> Text:
        left = len(self.queue)
        text = Text(f"{self.reviewed} reviewed · {left} to go", style="dim")
        if self.data and self.data.pending:
            text.append(f" · {self.data.pending} reviews wait to sync", style="yellow")
        return text

    def _done_text(self) -> Text:
        if self.reviewed:
            text = Text(
                f"✓ All done: {self.reviewed} card"
                f"{'s' if self.reviewed != 1 else ''} reviewed.\n\n",
                style="bold green",
            )
        else:
            text = Text("Nothing is due for review.\n\n", style="bold")
        if self.next_due:
            text.append(
                f"The next cards come {when(self.next_due)} "
                f"({self.next_due.astimezone():%a %d %b %H:%M}).",
                style="dim",
            )
        elif not (self.data and self.data.summary.total):
            text.append("Complete a lesson: its key points become review cards.", style="dim")
        return text

    # Keys --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "rate":
            return True if (self.card is not None and self.revealed) else None
        if action in ("reveal", "quiz"):
            return True if (self.card is not None and not self.revealed) else None
        if action == "open_source":
            card = self.card
            return True if card is not None and (card.lesson_id or card.assessment_id) else None
        return True

    def action_reveal(self) -> None:
        if self.card is None or self.revealed:
            return
        self.revealed = True
        self._show_card()

    def action_rate(self, value: int) -> None:
        card = self.card
        if card is None or not self.revealed:
            return
        rating = Rating(value)
        reviewed_at = datetime.now(timezone.utc)
        duration_ms = int((time.monotonic() - self.shown_at) * 1000)
        updated = card.with_state(next_state(card, rating, reviewed_at))
        self.queue.pop(0)
        if updated.due and updated.due - reviewed_at <= SAME_SESSION:
            self.queue.append(updated)  # a short learning step: again in this session
        elif updated.due and (self.next_due is None or updated.due < self.next_due):
            self.next_due = updated.due
        self.reviewed += 1
        self.revealed = False
        self.suggestion = None
        self._send(card, rating, reviewed_at, duration_ms)
        self._show_card()
        if self.card is None:
            self._finish()

    def _send(
        self, card: ReviewCard, rating: Rating, reviewed_at: datetime, duration_ms: int
    ) -> None:
        """Written by the app (its worker outlives this screen), through the outbox."""
        reviews = self.reviews

        def merged(outcome) -> None:
            if outcome.stale:
                self.app.notify(
                    "This card was also reviewed elsewhere: its schedule is "
                    "rebuilt from all its reviews.",
                    title="Merged",
                )

        self.write(
            lambda: reviews.rate(card, rating, reviewed_at=reviewed_at, duration_ms=duration_ms),
            then=merged,
        )

    def _finish(self) -> None:
        if self.finished or not self.reviewed:
            return
        self.finished = True
        started = self.started_at
        reviews = self.reviews
        self.write(lambda: reviews.finish_session(started))

    @work(exclusive=True, group="quiz")
    async def action_quiz(self) -> None:
        """The tutor asks about this key point and suggests a rating; the learner rates."""
        card = self.card
        if card is None or self.revealed:
            return
        tutor = host(self).tutor
        try:
            endpoint = await tutor.endpoint()
        except Exception as exc:  # configured, but not answering
            self.notify(
                f"{friendly(exc)} Press space to reveal instead.",
                title="Quiz me",
                severity="warning",
            )
            return
        if endpoint is None:
            self.notify(
                "Quiz me needs an AI model: set one with `learn config "
                "openai_base_url …` (or run Ollama). Press space to reveal instead.",
                title="No AI model",
                severity="warning",
            )
            return
        result = await self.app.push_screen_wait(QuizDialog(card, tutor))
        if self.card is not card:
            return
        self.suggestion = result
        self.revealed = True
        self._show_card()

    def action_open_source(self) -> None:
        card = self.card
        if card is None:
            return
        if card.lesson_id:
            self.post_message(messages.OpenLesson(card.lesson_id))
        elif card.assessment_id:
            self.post_message(messages.OpenAssessment(card.assessment_id))

    def action_back(self) -> None:
        self._finish()
        self.app.pop_screen()

    def on_unmount(self) -> None:
        """The app is quitting mid-session: the backend is closing, so the session's end
        goes straight into the outbox (sent at the next start, or by `learn sync`)."""
        if self.finished or not self.reviewed:
            return
        self.finished = True
        try:
            self.reviews.queue_finish(self.started_at)
        except Exception:  # never in the way of quitting; the reviews are saved
            import logging

            logging.getLogger("learn.review").warning(
                "the end of the review session was not queued", exc_info=True
            )
