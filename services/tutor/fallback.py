"""The answer without a model: say how to set one up, quote the course instead.

    SETUP_HELP, NO_MODEL_LEAD, EXCERPTS_HEADING   the texts of that answer
    course_passages(api, question, context)       the lesson passages matching a question
    excerpts_markdown(passages, course_id)        them as Markdown, "Course excerpts (not AI)"
    clean_excerpt(excerpt)                        one search excerpt as clean Markdown

Answer streams this when `Tutor.endpoint()` finds no model (see answer.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from services.errors import LearnError

if TYPE_CHECKING:
    from services.tutor.context import TutorContext

log = logging.getLogger("learn.tutor")

SETUP_HELP = (
    "To get AI answers, run [Ollama](https://ollama.com) (`ollama serve`, then "
    "`ollama pull qwen2.5-coder`) — learn finds it on 127.0.0.1:11434 — or point learn at "
    "any OpenAI-compatible server: `learn config openai_base_url http://HOST:PORT/v1`, "
    "`learn config model NAME` and, if it needs one, `learn config openai_api_key KEY`."
)
EXCERPTS_HEADING = "Course excerpts (not AI)"
NO_MODEL_LEAD = "**No AI model is set up.**"  # how every course-excerpt answer starts

_SENTENCE_END = re.compile(r"[.!?:](?:\*\*)?[\"')\]]?\s+(?=[\"'(`*]*[A-Z0-9])")


def clean_excerpt(excerpt: str) -> str:
    """A search excerpt (ts_headline fragments joined by " … ", matches in **…**) as
    Markdown that renders cleanly: it starts at a sentence (or with "…"), a code span
    cut in half loses its stray backtick, bold inside code (where it would show as
    literal asterisks) is dropped."""
    texts: list[str] = []
    cut_start = cut_end = False
    for fragment in " ".join(excerpt.split()).split(" … "):
        fragment = fragment.strip()
        if not fragment:
            continue
        if fragment[0].islower() or fragment[0] in ",;)":
            boundary = _SENTENCE_END.search(fragment)
            if boundary and boundary.end() < len(fragment) * 0.7:
                fragment = fragment[boundary.end() :]
            elif not texts:
                cut_start = True
        parts = fragment.split("`")
        if len(parts) % 2 == 0:  # an odd backtick: a code span cut off
            parts = [*parts[:-2], parts[-2] + parts[-1]]
        # parts at odd indexes are inside code spans
        fragment = "`".join(
            part.replace("**", "") if i % 2 else part for i, part in enumerate(parts)
        )
        if fragment.count("**") % 2:
            fragment = fragment.replace("**", "")
        texts.append(fragment)
        cut_end = fragment[-1] not in ".!?:"
    if not texts:
        return ""
    return ("…" if cut_start else "") + " … ".join(texts) + ("…" if cut_end else "")


async def course_passages(api: Any, question: str, context: TutorContext) -> list[Any]:
    """The lesson passages matching `question`: this course first, then every course;
    every word may match when the whole question matches nothing. `api` None: none."""
    if api is None:
        return []
    words = re.findall(r"[^\W_]{3,}", question)
    queries = [question] + ([" or ".join(words)] if len(words) > 1 else [])
    scopes = [context.course_id, None] if context.course_id else [None]
    try:
        # This course with the question, then with any of its words, and only then
        # the other courses; the lesson on screen first.
        for course_id in scopes:
            for query in queries:
                found = await api.search_lessons(query, course_id=course_id)
                if found:
                    return sorted(found, key=lambda p: p.lesson_id != context.lesson_id)
    except LearnError as exc:
        log.info("course search failed: %s", exc)
    return []


def excerpts_markdown(passages: Sequence[Any], course_id: str | None) -> str:
    """The passages under "Course excerpts (not AI)", each with its lesson and course;
    a line says so when none is from the learner's course (`course_id`)."""
    lines = [f"### {EXCERPTS_HEADING}\n"]
    elsewhere = (
        bool(passages) and bool(course_id) and all(p.course_id != course_id for p in passages)
    )
    if elsewhere:
        lines.append("*Nothing in this course matches; from other courses:*\n")
    if passages:
        for passage in passages:
            lines.append(
                f"**{passage.title}** · {passage.course_title}\n\n"
                f"> {clean_excerpt(passage.excerpt)}\n"
            )
    else:
        lines.append("No lesson matches this question; try other words.")
    return "\n".join(lines)
