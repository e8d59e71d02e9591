"""How the tutor may help in an assessment: the hint ladder and the solution rule.

    asks_for_solution(question)            does the learner explicitly ask for it?
    guidance_for(context, question, rung)  the rule for one request: a Guidance
    Guidance                               its rung, whether the solution is allowed, why not
    HintLadder                             which rung each assessment's requests reached
    TOP_RUNG                               the ladder's last rung (pseudo-code)

Each answered help request in the same assessment climbs a rung (1: questions and
pointers, 2: a concrete hint, 3: pseudo-code). A full solution only when the learner
explicitly asks after at least one attempt, and never while the attempt's timer runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.tutor.context import TutorContext, model_turns

TOP_RUNG = 3

_SOLUTION_ASK = re.compile(
    r"\b(full|complete|whole|entire|final|reference|working|model)\s+"
    r"(solution|answer|implementation)\b"
    r"|\b(full|complete|whole|entire|final)\s+(code|program)\b"
    r"|\b(show|give|tell|write|send)\s+(me\s+)?(the|a|your)\s+(solution|answer)\b"
    r"|\b(just|please)\s+(solve|do)\s+it\b|\bsolve\s+it\s+for\s+me\b"
    r"|^\s*(the\s+)?solution\s*[?!.]*\s*$",
    re.IGNORECASE,
)


def asks_for_solution(question: str) -> bool:
    """Does the learner explicitly ask for the full solution?"""
    return bool(_SOLUTION_ASK.search(question))


@dataclass(frozen=True)
class Guidance:
    """How this answer may help: the hint ladder's rung and the solution rule."""

    level: int = 0  # 1..3 in assessments (0: no ladder)
    solution_allowed: bool = False
    refusal: str | None = None  # why an explicit ask for the solution is refused

    @property
    def mode(self) -> str:
        if self.solution_allowed:
            return "solution"
        return f"hint-{self.level}" if self.level else "answer"


def guidance_for(context: TutorContext, question: str, level: int) -> Guidance:
    """The rule for one request. `level` is the rung this request reached."""
    if context.kind != "assessment_help":
        return Guidance()
    level = max(1, min(TOP_RUNG, level))
    if not asks_for_solution(question):
        return Guidance(level=level)
    if context.timer_running:
        return Guidance(
            level=level,
            refusal=(
                "⏱ No full solution while the attempt's timer is running — here is a hint "
                "instead. Ask again after you submit or when the time is up."
            ),
        )
    if not context.attempted:
        return Guidance(
            level=level,
            refusal=(
                "Have a go first: run or submit your code once, then ask for the solution if you "
                "are still stuck. Meanwhile, a hint:"
            ),
        )
    return Guidance(level=level, solution_allowed=True)


class HintLadder:
    """The rung each assessment's help requests reached, per conversation
    (`TutorContext.key`); a conversation reloaded from chat_history counts too."""

    def __init__(self) -> None:
        self._requests: dict[tuple[Any, ...], int] = {}

    def level(self, context: TutorContext) -> int:
        """The rung the last help request in this assessment reached (0: none yet)."""
        return min(TOP_RUNG, self._requests.get(context.key, 0))

    def _before(self, context: TutorContext, history: Sequence[Any]) -> int:
        # Each answered help request in the same assessment climbs a rung; a
        # conversation reloaded from chat_history counts too.
        return max(self._requests.get(context.key, 0), len(model_turns(history)) if history else 0)

    def next_rung(self, context: TutorContext, history: Sequence[Any]) -> int:
        """The rung the next request reaches (0 outside assessments)."""
        if context.kind != "assessment_help":
            return 0
        return min(TOP_RUNG, self._before(context, history) + 1)

    def climb(self, context: TutorContext, history: Sequence[Any]) -> None:
        """A help request was answered in full: the next one gets the next rung."""
        if context.kind == "assessment_help":
            self._requests[context.key] = self._before(context, history) + 1
