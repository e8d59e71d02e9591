"""What is sent to the model, and how an answer is filed.

system_prompt(context, guidance)                    the material and the rules
build_messages(question, context, guidance, history) the chat messages of one request
format_results(context)                             the last test run, for the prompt
message_type_of(answer, context, question)          chat_history.message_type
LIMITS                                              characters of each part sent
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from services.errors import one_line
from services.tutor.context import TutorContext, model_turns
from services.tutor.policy import Guidance

# How much of each part of the context goes into the prompt (characters).
LIMITS = {
    "lesson": 6000,
    "explanation": 3000,
    "code_example": 2000,
    "instructions": 4000,
    "code": 8000,
    "detail": 400,
    "turn": 2000,
}


def _clip(text: str | None, limit: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[:limit].rstrip() + "\n… (truncated)"


def _fence(code: str, language: str = "") -> str:
    ticks = "````" if "```" in code else "```"
    return f"{ticks}{language}\n{code}\n{ticks}"


def format_results(context: TutorContext) -> str:
    """The last run for the prompt: failing tests first, in detail; hidden ones by name."""
    lines: list[str] = []
    if context.run_message:
        lines.append(f"The last run could not test the code: {one_line(context.run_message)}")
    tests = context.test_results
    if not tests:
        return "\n".join(lines) or "The learner has not run the tests yet."
    passed = sum(1 for t in tests if t.get("status") == "pass")
    lines.append(f"Last test run: {passed} of {len(tests)} passed.")
    failing = [t for t in tests if t.get("status") != "pass"]
    if failing:
        lines.append("Failing tests:")
    for test in failing:
        if test.get("hidden"):
            lines.append(f"- {test.get('name')} (hidden test): {test.get('status')}")
            continue
        parts = [f"- {test.get('name')}: {test.get('status')}"]
        for key in ("message", "expected", "actual", "output"):
            value = test.get(key)
            if value not in (None, ""):
                parts.append(f"  {key}: {_clip(str(value), LIMITS['detail'])}")
        lines.append("\n".join(parts))
    passing = [str(t.get("name")) for t in tests if t.get("status") == "pass"]
    if passing:
        lines.append("Passing tests: " + ", ".join(passing))
    return "\n".join(lines)


_LADDER = {
    1: "Rung 1 of 3: ask one or two guiding questions and point at the idea or the line "
    "that matters. No code.",
    2: "Rung 2 of 3: give a concrete hint — name the approach or data structure and what "
    "is wrong in their code. At most a one-line snippet.",
    3: "Rung 3 of 3: outline the algorithm in short pseudo-code (not runnable "
    "{language}) and say which step their code gets wrong.",
}


def system_prompt(context: TutorContext, guidance: Guidance) -> str:
    parts = [
        "You are the tutor inside `learn`, a terminal app for learning to program. Answer in "
        "Markdown for a narrow terminal pane: short paragraphs, lists, fenced code blocks "
        "with a language. Be accurate, concise and encouraging; base your answer on the "
        "material below when it is relevant."
    ]
    if context.course_title:
        parts.append(f"## Course\n{context.course_title}")
    if context.kind == "course_guidance" and context.course_description:
        parts.append("## About the course\n" + _clip(context.course_description, LIMITS["lesson"]))
    if context.kind == "course_guidance" and context.course_outline:
        parts.append(
            "## Lessons (✓ = completed by the learner)\n"
            + "\n".join(f"- {t}" for t in context.course_outline)
        )
    if context.lesson_title and context.kind == "lesson_chat":
        parts.append(
            f"## Lesson: {context.lesson_title}\n{_clip(context.lesson_content, LIMITS['lesson'])}"
        )
        if context.lesson_explanation:
            parts.append(
                "## The lesson's explanation\n"
                + _clip(context.lesson_explanation, LIMITS["explanation"])
            )
        if context.code_example:
            parts.append(
                "## The lesson's code example\n"
                + _fence(_clip(context.code_example, LIMITS["code_example"]), "python")
            )
        if context.key_points:
            parts.append("## Key points\n" + "\n".join(f"- {p}" for p in context.key_points))
    if context.kind == "assessment_help":
        if context.lesson_title:
            parts.append(f"## Lesson it belongs to\n{context.lesson_title}")
        parts.append(
            f"## Exercise: {context.assessment_title or ''}\n"
            f"{_clip(context.instructions, LIMITS['instructions'])}"
        )
        if context.entry:
            parts.append(f"The learner writes `{context.entry}` in {context.language}.")
        code = _clip(context.current_code, LIMITS["code"])
        parts.append(
            "## The learner's current code\n"
            + (_fence(code, context.language) if code else "(empty)")
        )
        parts.append("## " + format_results(context))
        parts.append(_tutoring_rules(context, guidance))
    return "\n\n".join(parts)


def _tutoring_rules(context: TutorContext, guidance: Guidance) -> str:
    rules = [
        "## How to help with this exercise",
        "Tutor, don't solve: lead the learner to find the fix themselves. Climb a hint "
        "ladder, one rung per request: questions and hints first, then a more concrete "
        "hint, then pseudo-code. A full solution only when the learner explicitly asks "
        "for it after at least one attempt, and never while an attempt's timer is running.",
        "When tests fail, start from the failing test: what it expected, what the code "
        "returned, and why.",
    ]
    if guidance.solution_allowed:
        rules.append(
            "The learner has attempted the exercise and explicitly asked for the "
            "full solution: give a complete, working solution in "
            f"{context.language}, explain it step by step, and point out what "
            "their attempt got wrong."
        )
    else:
        rules.append("This request: " + _LADDER[guidance.level].format(language=context.language))
        rules.append(
            "Do not write the full solution or complete, runnable code for the "
            "exercise in this answer."
        )
    if context.timer_running:
        rules.append(
            "An attempt's timer is running: whatever the learner asks, do not give "
            "the full solution."
        )
    if guidance.refusal:
        rules.append(
            "The learner asked for the full solution, which is not allowed now; "
            "the app has already told them so. Do not repeat that — give the "
            "hint for this rung."
        )
    return "\n".join(rules)


def build_messages(
    question: str, context: TutorContext, guidance: Guidance, history: Iterable[Any] = ()
) -> list[dict[str, str]]:
    """The chat messages for one request: system prompt, earlier turns, the question."""
    messages = [{"role": "system", "content": system_prompt(context, guidance)}]
    for asked, answered in model_turns(history):
        messages.append({"role": "user", "content": _clip(asked, LIMITS["turn"])})
        messages.append({"role": "assistant", "content": _clip(answered, LIMITS["turn"])})
    messages.append({"role": "user", "content": question})
    return messages


_FENCED = re.compile(r"^(```+|~~~+)[^\n]*\n.*?(?:^\1[ \t]*$|\Z)", re.MULTILINE | re.DOTALL)
_EXPLAIN = re.compile(
    r"\b(explain|explanation|what|why|how|mean|means|understand|"
    r"differently|example|difference)\b",
    re.IGNORECASE,
)


def message_type_of(answer: str, context: TutorContext, question: str) -> str:
    """chat_history.message_type: 'code' when the answer is mostly code, 'explanation'
    when it explains the lesson, else 'text'."""
    body = answer.strip()
    if body:
        code = sum(len(m.group(0)) for m in _FENCED.finditer(body))
        if code * 2 >= len(body):
            return "code"
    if context.kind == "lesson_chat" and _EXPLAIN.search(question):
        return "explanation"
    return "text"
