"""Asking a review card: its prompt with blanks (cloze) and the tutor's "quiz me".

cloze(text)                  the key point with its most telling words blanked out
quiz_question(tutor, card)   a question about the card's key point from the model
quiz_suggestion(tutor, card, question, answer)
                             the model's judgement: a suggested rating and why (the
                             learner still rates)
quiz_context, parse_suggestion, QUIZ_ASK, QUIZ_JUDGE: what those two send and read
"""

from __future__ import annotations

import re

from services.review.spaced import Rating, ReviewCard

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_](?:\(\))?")
_COMMON = frozenset(
    {
        "about",
        "after",
        "again",
        "also",
        "always",
        "another",
        "because",
        "been",
        "before",
        "being",
        "between",
        "both",
        "cannot",
        "could",
        "does",
        "each",
        "either",
        "every",
        "from",
        "give",
        "gives",
        "have",
        "here",
        "into",
        "itself",
        "just",
        "like",
        "make",
        "makes",
        "many",
        "more",
        "most",
        "much",
        "must",
        "never",
        "often",
        "only",
        "other",
        "over",
        "same",
        "should",
        "some",
        "such",
        "take",
        "takes",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "until",
        "used",
        "uses",
        "using",
        "usually",
        "very",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "with",
        "without",
        "would",
        "you",
        "your",
    }
)


def cloze(text: str, blanks: int = 2) -> str:
    """The key point with its most telling words blanked out: the question side of a
    card. Code-like words (calls, dotted names, snake_case) first, then the longest;
    common words never."""

    def telling(word: str) -> tuple[int, int]:
        camel = word[1:] != word[1:].lower()
        code = any(c in word for c in "._()") or camel
        return (0 if code else 1, -len(word))

    words = {m.group(0) for m in _WORD.finditer(text)}
    candidates = sorted(
        (w for w in words if len(w) >= 4 and w.lower() not in _COMMON),
        key=lambda w: (*telling(w), w),
    )
    hidden = set(candidates[:blanks])
    if not hidden:
        return text
    return _WORD.sub(lambda m: "_" * len(m.group(0)) if m.group(0) in hidden else m.group(0), text)


QUIZ_ASK = (
    'Quiz me on this key point, which I learned earlier: "{point}". Ask me one '
    "short question whose answer shows whether I remember it. Reply with the "
    "question only; do not give the answer."
)
QUIZ_JUDGE = (
    'The key point: "{point}". Your question was: {question}\nMy answer: '
    "{answer}\nHow well does my answer show that I remember the key point? Begin "
    "your reply with exactly one word — Again, Hard, Good or Easy — then one short "
    "sentence saying why."
)
_SUGGESTION = re.compile(r"\b(again|hard|good|easy)\b", re.IGNORECASE)


def quiz_context(card: ReviewCard):
    """What the tutor knows for a quiz: the card's lesson and its key point only."""
    from services.tutor.context import TutorContext

    return TutorContext(
        kind="lesson_chat",
        course_id=card.course_id,
        course_title=card.course_title,
        lesson_id=card.lesson_id,
        lesson_title=card.lesson_title,
        key_points=[card.prompt],
    )


def parse_suggestion(text: str) -> Rating | None:
    """The rating a judgement starts with (its first of Again/Hard/Good/Easy)."""
    found = _SUGGESTION.search(text[:80])
    return Rating[found.group(1).upper()] if found else None


async def _answer_text(answer) -> str:
    async for _piece in answer:
        pass
    return answer.text.strip()


async def quiz_question(tutor, card: ReviewCard) -> str | None:
    """A question about the card's key point from the model; None without a model."""
    if await tutor.endpoint() is None:
        return None
    return await _answer_text(tutor.ask(QUIZ_ASK.format(point=card.prompt), quiz_context(card)))


async def quiz_suggestion(
    tutor, card: ReviewCard, question: str, answer: str
) -> tuple[Rating | None, str]:
    """The model's judgement of the learner's answer: a suggested rating and why. The
    learner still rates: this is a hint for them, never recorded as their rating."""
    text = await _answer_text(
        tutor.ask(
            QUIZ_JUDGE.format(point=card.prompt, question=question, answer=answer or "(no answer)"),
            quiz_context(card),
        )
    )
    return parse_suggestion(text), text
