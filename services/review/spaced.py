"""Spaced review of what was learned: cards, the FSRS scheduler, and the review calls.

The database makes the cards (one per key point of a completed lesson, one per passed
assessment) and keeps an append-only log of reviews. Scheduling is FSRS-6 (the `fsrs`
package): the client computes a card's next state with `Scheduler.review_card` and
sends it with the review (`record_review`, queued in the offline outbox like every
write). The server applies the state only when it was computed from the state it holds
(`basis` = the card's last review); otherwise it keeps the log and marks the card
stale, and `rebuild_stale` recomputes it from all of its logs (`reschedule_card`).
Fuzzing is off, so a card's state is a pure function of its logs: any client rebuilds
the same schedule (see supabase/migrations/20261205003000_review_cards.sql).
Asking a card (cloze blanks, the tutor's quiz) is services.review.quiz. This module stays
one (~440 lines): the card, its FSRS state and the calls that move it are one protocol
with the SQL (`basis`, stale cards, `rebuild_stale`), read best in one place.

    reviews = Reviews(api)
    queue = await reviews.queue()          # due cards, pending offline reviews applied
    outcome = await reviews.rate(queue.cards[0], Rating.GOOD, duration_ms=4200)
    await reviews.finish_session(started_at)  # counts for the streak if it had reviews
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from services.data.api import build, new_event_id, parse_datetime, write_result

if TYPE_CHECKING:
    import fsrs

    from services.data.api import LearningAPI, WriteResult

# A card rated into a learning step shorter than this comes back in the same session.
SAME_SESSION = timedelta(minutes=20)


class Rating(enum.IntEnum):
    """The learner's answer, as fsrs.Rating numbers it (keys 1–4)."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4

    @property
    def label(self) -> str:
        return self.name.capitalize()


@lru_cache(maxsize=1)
def scheduler() -> fsrs.Scheduler:
    """FSRS-6 with its default parameters; no fuzzing, so logs determine the state."""
    import fsrs

    return fsrs.Scheduler(enable_fuzzing=False)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------------------
# Data shapes
# ---------------------------------------------------------------------------


@dataclass
class ReviewCard:
    """A card as review_queue / review_card return it, with its FSRS state."""

    id: str
    prompt: str
    state: int = 1
    step: int | None = 0
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None
    last_review: datetime | None = None
    reps: int = 0
    stale: bool = False
    key_point_index: int | None = None
    key_point_count: int | None = None
    lesson_id: str | None = None
    lesson_title: str | None = None
    assessment_id: str | None = None
    assessment_title: str | None = None
    assessment_slug: str | None = None
    course_id: str | None = None
    course_title: str | None = None
    logs: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.due = parse_datetime(self.due)
        self.last_review = parse_datetime(self.last_review)
        self.stability = None if self.stability is None else float(self.stability)
        self.difficulty = None if self.difficulty is None else float(self.difficulty)

    @property
    def kind(self) -> str:
        return "assessment" if self.assessment_id else "key point"

    @property
    def where(self) -> str:
        """Course — lesson (or assessment), for the card's header."""
        parts = [self.course_title, self.lesson_title or self.assessment_title]
        return " — ".join(p for p in parts if p)

    def to_fsrs(self) -> fsrs.Card:
        import fsrs

        return fsrs.Card(
            card_id=0,
            state=fsrs.State(self.state),
            step=self.step,
            stability=self.stability,
            difficulty=self.difficulty,
            due=self.due or utcnow(),
            last_review=self.last_review,
        )

    def with_state(self, state: dict[str, Any]) -> ReviewCard:
        return replace(
            self,
            state=int(state["state"]),
            step=state.get("step"),
            stability=state.get("stability"),
            difficulty=state.get("difficulty"),
            due=parse_datetime(state["due"]),
            last_review=parse_datetime(state["last_review"]),
        )


@dataclass
class ReviewSummary:
    """How many cards are due now and today, and when the next ones come."""

    total: int = 0
    due_now: int = 0
    due_today: int = 0
    next_due: datetime | None = None
    next_day_due: datetime | None = None
    next_day_count: int = 0
    reviewed_today: int = 0
    stale: int = 0

    def __post_init__(self) -> None:
        self.next_due = parse_datetime(self.next_due)
        self.next_day_due = parse_datetime(self.next_day_due)


@dataclass
class ReviewQueue:
    cards: list[ReviewCard]
    summary: ReviewSummary
    pending: int = 0  # reviews made here that wait in the outbox


@dataclass
class Outcome:
    """What one rating did: the card's next state, and how the server took it."""

    card: ReviewCard
    result: WriteResult
    queued: bool = False
    stale: bool = False


def state_json(card: fsrs.Card) -> dict[str, Any]:
    """The state columns record_review takes (and checks)."""
    return {
        "state": int(card.state),
        "step": card.step,
        "stability": card.stability,
        "difficulty": card.difficulty,
        "due": card.due.isoformat(),
        "last_review": card.last_review.isoformat() if card.last_review else None,
    }


def next_state(card: ReviewCard, rating: Rating, reviewed_at: datetime) -> dict[str, Any]:
    """The card's state after this review, by FSRS-6."""
    import fsrs

    updated, _log = scheduler().review_card(
        card.to_fsrs(), fsrs.Rating(int(rating)), review_datetime=reviewed_at
    )
    return state_json(updated)


def _reviewed_at(log: dict[str, Any]) -> datetime:
    moment = parse_datetime(log["reviewed_at"])
    if moment is None:
        raise ValueError("a review log without its time (reviewed_at)")
    return moment


def rebuilt_state(logs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The state a card's logs give (fsrs reschedule_card); None for no logs."""
    import fsrs

    if not logs:
        return None
    reviews = [
        fsrs.ReviewLog(
            card_id=0,
            rating=fsrs.Rating(int(g["rating"])),
            review_datetime=_reviewed_at(g),
            review_duration=g.get("duration_ms"),
        )
        for g in logs
    ]
    card = scheduler().reschedule_card(fsrs.Card(card_id=0), reviews)
    return state_json(card)


def assessment_rating(
    *, passed: bool, used_hint: bool, seconds: float | None, time_limit_minutes: int | None
) -> Rating:
    """How an assessment submission rates its card: failed Again, passed after a hint
    Hard, passed well inside the time limit (under half of it) Easy, else Good."""
    if not passed:
        return Rating.AGAIN
    if used_hint:
        return Rating.HARD
    if time_limit_minutes and seconds is not None and seconds < time_limit_minutes * 30:
        return Rating.EASY
    return Rating.GOOD


def when(moment: datetime | None, now: datetime | None = None) -> str:
    """'now', 'in 10 min', 'in 3 h', 'tomorrow', 'in 12 days' — for humans."""
    if moment is None:
        return "—"
    seconds = (moment - (now or utcnow())).total_seconds()
    if seconds < 30:
        return "now"
    if seconds < 3600:
        return f"in {round(seconds / 60)} min"
    if seconds < 86400:
        return f"in {round(seconds / 3600)} h"
    days = round(seconds / 86400)
    return "tomorrow" if days == 1 else f"in {days} days"


# ---------------------------------------------------------------------------
# The calls
# ---------------------------------------------------------------------------


class Reviews:
    """Review calls over a LearningAPI's backend (an OfflineBackend in the app), made
    through LearningAPI.call, so every answer is terminal_safe (cards quote authors'
    key points)."""

    def __init__(self, api: LearningAPI):
        self.api = api
        self.backend = api.backend

    async def summary(self) -> ReviewSummary:
        return build(ReviewSummary, await self.api.call("review_summary"))

    async def card_for_assessment(self, assessment_id: str) -> ReviewCard | None:
        raw = await self.api.call("review_card", p_card_id=None, p_assessment_id=assessment_id)
        return build(ReviewCard, raw) if raw else None

    async def queue(self, limit: int = 100, *, rebuild: bool = True) -> ReviewQueue:
        """Due cards, oldest due first; stale cards rebuilt first when online, and the
        reviews still waiting in the outbox applied on top of what the server said."""
        raw = await self.api.call("review_queue", p_limit=limit)
        if rebuild and raw.get("stale") and await self.rebuild_stale(raw["stale"]):
            raw = await self.api.call("review_queue", p_limit=limit)
        cards = [build(ReviewCard, c) for c in raw.get("due") or []]
        summary = build(ReviewSummary, raw.get("summary") or {})
        pending = self._pending_states()
        now = utcnow()
        kept = []
        for card in cards:
            if card.id in pending:
                card = card.with_state(pending[card.id])
                if card.due and card.due > now:
                    continue
            kept.append(card)
        return ReviewQueue(kept, summary, pending=len(pending))

    def _pending_states(self) -> dict[str, dict[str, Any]]:
        """card id → the newest state of a review queued here, not yet on the server."""
        queue = self._outbox()
        if queue is None:
            return {}
        outbox, namespace, user_id = queue
        states: dict[str, dict[str, Any]] = {}
        for event in outbox.events(namespace, user_id, status="queued"):
            if event.fn == "record_review" and event.args.get("p_card_id"):
                states[event.args["p_card_id"]] = event.args["p_new_state"]
        return states

    async def rate(
        self,
        card: ReviewCard,
        rating: Rating,
        *,
        duration_ms: int | None = None,
        reviewed_at: datetime | None = None,
        source: str = "review",
    ) -> Outcome:
        """Record a review; returns the card with its next state (applied here even when
        the write waits in the outbox)."""
        reviewed_at = reviewed_at or utcnow()
        state = next_state(card, rating, reviewed_at)
        raw = await self.api.call(
            "record_review",
            p_rating=int(rating),
            p_reviewed_at=reviewed_at.isoformat(),
            p_new_state=state,
            p_card_id=card.id,
            p_assessment_id=None,
            p_basis=card.last_review.isoformat() if card.last_review else None,
            p_duration_ms=duration_ms,
            p_source=source,
            p_event_id=new_event_id(),
            p_occurred_at=reviewed_at.isoformat(),
        )
        result = write_result(raw)
        queued = bool(result.get("queued"))
        stale = bool(result.get("stale"))
        server_card = result.get("card")
        updated = (
            build(ReviewCard, server_card) if server_card and not stale else card.with_state(state)
        )
        return Outcome(updated, result, queued=queued, stale=stale)

    async def rate_assessment(
        self,
        assessment_id: str,
        rating: Rating,
        *,
        reviewed_at: datetime | None = None,
        duration_ms: int | None = None,
    ) -> Outcome | None:
        """Rate an assessment's card after a submission. The card may not exist yet on
        the server (offline): the state is then computed from a new card and the server
        marks the card stale if that guess was wrong; nothing is lost either way."""
        reviewed_at = reviewed_at or utcnow()
        try:
            card = await self.card_for_assessment(assessment_id)
        except Exception:  # offline and never read: start from a new card
            card = None
        if card is None:
            if rating == Rating.AGAIN:
                return None  # a failed submission with no card: nothing to rate
            card = ReviewCard(id="", prompt="", assessment_id=assessment_id, due=reviewed_at)
        state = next_state(card, rating, reviewed_at)
        raw = await self.api.call(
            "record_review",
            p_rating=int(rating),
            p_reviewed_at=reviewed_at.isoformat(),
            p_new_state=state,
            p_card_id=card.id or None,
            p_assessment_id=assessment_id,
            p_basis=card.last_review.isoformat() if card.last_review else None,
            p_duration_ms=duration_ms,
            p_source="assessment",
            p_event_id=new_event_id(),
            p_occurred_at=reviewed_at.isoformat(),
        )
        result = write_result(raw)
        return Outcome(
            card.with_state(state),
            result,
            queued=bool(result.get("queued")),
            stale=bool(result.get("stale")),
        )

    async def rebuild_stale(self, stale: list[dict[str, Any]]) -> int:
        """Recompute each stale card from its logs; returns how many were rebuilt."""
        rebuilt = 0
        for raw in stale:
            logs = raw.get("logs") or []
            state = rebuilt_state(logs)
            last = max((_reviewed_at(g) for g in logs), default=None)
            try:
                result = await self.api.call(
                    "rebuild_review_card",
                    p_card_id=raw["id"],
                    p_new_state=state,
                    p_log_count=len(logs),
                    p_last_reviewed_at=last.isoformat() if last else None,
                )
            except Exception:  # offline: the next load tries again
                return rebuilt
            rebuilt += bool(result.get("rebuilt"))
        return rebuilt

    def _outbox(self) -> tuple[Any, str, str] | None:
        """(outbox, namespace, learner id) when the backend queues writes offline and
        someone is signed in; None otherwise."""
        outbox = getattr(self.backend, "outbox", None)
        user = getattr(self.backend, "current_user", None)
        namespace = getattr(self.backend, "namespace", None)
        if outbox is None or user is None or namespace is None:
            return None
        return outbox, namespace, user.id

    @staticmethod
    def _finish_args(started_at: datetime) -> dict[str, Any]:
        return {
            "p_started_at": started_at.isoformat(),
            "p_event_id": new_event_id(),
            "p_occurred_at": utcnow().isoformat(),
        }

    async def finish_session(self, started_at: datetime) -> WriteResult:
        """A finished session; the database counts it for the streak if it had reviews."""
        raw = await self.api.call("finish_review_session", **self._finish_args(started_at))
        return write_result(raw)

    def queue_finish(self, started_at: datetime) -> bool:
        """The session's end straight into the outbox, for when the backend is closing
        (the app quitting mid-session): sent at the next start or by `learn sync`.
        False when there is no outbox to keep it."""
        queue = self._outbox()
        if queue is None:
            return False
        outbox, namespace, user_id = queue
        outbox.append(namespace, user_id, "finish_review_session", self._finish_args(started_at))
        return True


def due_json(queue: ReviewQueue) -> dict[str, Any]:
    """`learn review --due --json`: a stable shape for scripts."""

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "version": 1,
        "due": [
            {
                "id": c.id,
                "kind": c.kind,
                "prompt": c.prompt,
                "course": c.course_title,
                "lesson": c.lesson_title,
                "assessment": c.assessment_title,
                "assessment_slug": c.assessment_slug,
                "due": iso(c.due),
                "last_review": iso(c.last_review),
                "reps": c.reps,
            }
            for c in queue.cards
        ],
        "summary": {
            "due_now": queue.summary.due_now,
            "due_today": queue.summary.due_today,
            "total": queue.summary.total,
            "next_due": iso(queue.summary.next_due),
            "reviewed_today": queue.summary.reviewed_today,
            "pending_offline": queue.pending,
        },
    }
