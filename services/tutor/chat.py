"""The AI tutor: any OpenAI-compatible chat server, streamed, aware of what the learner sees.

    tutor = Tutor(api)                                  # settings from `learn config` / env
    answer = tutor.ask("Why does my test fail?", TutorContext.for_assessment(...))
    async for delta in answer:                          # Markdown, as it arrives
        ...
    answer.tokens_used, answer.processing_ms, answer.message_type

Where the model comes from (`Tutor.endpoint`): OPENAI_BASE_URL / OPENAI_API_KEY /
LEARN_MODEL or the config file (OpenAI, Ollama, LM Studio, vLLM — anything that speaks
`/v1/chat/completions`); with none of those, Ollama on its default local port when it
runs. With no model at all the tutor says how to set one up and answers from the
course itself: the lesson passages that best match the question (PostgreSQL full-text
search through `search_lessons`), labelled "Course excerpts (not AI)".

In an assessment it tutors rather than solves: each help request in the same
assessment climbs a hint ladder (1: questions and pointers, 2: a concrete hint,
3: pseudo-code). A full solution only when the learner explicitly asks after at least
one attempt, and never while the attempt's timer runs — enforced here, not only asked
of the model. The reference solution is never part of a context, so never sent.

Every answered exchange is logged through the API: `log_chat` (question, answer,
context, message_type) and, for model answers, `log_ai_interaction` (summaries, tokens
from the response's usage, processing time in ms). Failures are `TutorError`s with
one line saying what to do.

The request goes through the openai client (`chat.completions` with `stream=True`,
`stream_options.include_usage`; its auth, base URL, timeouts and status errors); the
SSE body is decoded here into plain dicts instead of the client's typed chunk models,
which cost ~0.15 ms a token — five times what reading the stream costs otherwise
(benchmarks/tutor.py). Never imports textual; imports openai in a thread when first
needed, so opening the pane never freezes the UI.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from services.errors import LearnError, from_exception, one_line
from services.text import terminal_safe

if TYPE_CHECKING:
    from services.config import Settings
    from services.data.api import LearningAPI

log = logging.getLogger("learn.tutor")

CONTEXT_KINDS = ("general_chat", "course_guidance", "lesson_chat", "assessment_help")
OLLAMA_URL = "http://127.0.0.1:11434"  # Ollama's default; found without configuration
OPENAI_URL = "https://api.openai.com/v1"  # when only an API key is configured
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"
TOP_RUNG = 3
HISTORY_TURNS = 6  # earlier exchanges sent along with a question

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
SUMMARY_CHARS = 500  # of the question/answer kept in ai_interactions

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


# ---------------------------------------------------------------------------
# What the learner is looking at
# ---------------------------------------------------------------------------


@dataclass
class TutorContext:
    """What the tutor knows about the screen the question comes from.

    There is deliberately no field for an assessment's reference solution."""

    kind: str = "general_chat"  # general_chat | course_guidance | lesson_chat | assessment_help
    course_id: str | None = None
    course_title: str | None = None
    course_description: str | None = None
    course_outline: list[str] = field(default_factory=list)  # lesson titles, ✓ when done
    lesson_id: str | None = None
    lesson_title: str | None = None
    assessment_id: str | None = None
    assessment_title: str | None = None
    # a lesson
    lesson_content: str | None = None
    lesson_explanation: str | None = None
    key_points: list[str] = field(default_factory=list)
    code_example: str | None = None
    # an assessment
    instructions: str | None = None
    language: str = "python"
    entry: str | None = None
    current_code: str | None = None
    # the last run, in the runner's result shape (name, status, message, expected, actual,
    # output); a hidden test contributes only its name and status
    test_results: list[Mapping[str, Any]] = field(default_factory=list)
    run_message: str | None = None  # why a run could not test at all (syntax error, …)
    timer_running: bool = False
    attempted: bool = False

    def __post_init__(self) -> None:
        if self.kind not in CONTEXT_KINDS:
            raise ValueError(f"unknown tutor context {self.kind!r}")

    # -- builders from what the screens hold -------------------------------------------

    @classmethod
    def general(cls) -> TutorContext:
        return cls()

    @classmethod
    def for_course(cls, course: Any) -> TutorContext:
        """From a CourseDetail (or its CourseSummary)."""
        summary = getattr(course, "course", course)
        return cls(
            kind="course_guidance",
            course_id=_str(summary.id),
            course_title=summary.title,
            course_description=getattr(summary, "description", None)
            or getattr(summary, "short_description", None),
            course_outline=[
                ("✓ " if getattr(x, "completed", False) else "") + x.title
                for x in getattr(course, "lessons", None) or []
            ],
        )

    @classmethod
    def for_lesson(cls, detail: Any) -> TutorContext:
        """From a LessonDetail (or a Lesson plus `course_title`)."""
        lesson = getattr(detail, "lesson", detail)
        course = getattr(detail, "course", None)
        return cls(
            kind="lesson_chat",
            course_id=_str(lesson.course_id),
            course_title=getattr(course, "title", None),
            lesson_id=_str(lesson.id),
            lesson_title=lesson.title,
            lesson_content=lesson.content,
            lesson_explanation=lesson.explanation,
            key_points=list(lesson.key_points or []),
            code_example=getattr(lesson, "code_example", None),
        )

    @classmethod
    def for_assessment(
        cls,
        detail: Any,
        *,
        code: str | None = None,
        results: Iterable[Any] | Mapping[str, Any] | None = None,
        timer_running: bool = False,
        attempted: bool | None = None,
    ) -> TutorContext:
        """From an AssessmentDetail (or an Assessment), the editor's code and the last run.

        `results` is the run's dict (`{"status", "message", "tests": [...]}`), its list
        of tests, or TestResult objects. `attempted` defaults to "has run the tests or
        finished an attempt" (an attempt merely started, timer running, does not count).
        Only the fields named here are read: a solution on `detail` is never looked at.
        """
        assessment = getattr(detail, "assessment", detail)
        course = getattr(detail, "course", None)
        lesson = getattr(detail, "lesson", None)
        run_message = None
        tests: Iterable[Any] = ()
        if isinstance(results, Mapping):
            tests = results.get("tests") or ()
            if results.get("status") == "error":
                run_message = results.get("message")
        elif results is not None:
            tests = results
        rows: list[Mapping[str, Any]] = [_result_row(t) for t in tests]
        if attempted is None:
            finished = [
                a
                for a in getattr(detail, "attempts", None) or []
                if getattr(a, "status", None) != "in-progress"
            ]
            attempted = bool(rows or run_message or finished)
        return cls(
            kind="assessment_help",
            course_id=_str(getattr(assessment, "course_id", None) or getattr(course, "id", None)),
            course_title=getattr(course, "title", None),
            lesson_id=_str(getattr(assessment, "lesson_id", None) or getattr(lesson, "id", None)),
            lesson_title=getattr(lesson, "title", None),
            assessment_id=_str(assessment.id),
            assessment_title=assessment.title,
            instructions=getattr(assessment, "instructions", None)
            or getattr(assessment, "description", None),
            language=getattr(assessment, "language", None) or "python",
            entry=getattr(assessment, "entry", None),
            current_code=code if code is not None else getattr(assessment, "starter_code", None),
            test_results=rows,
            run_message=run_message,
            timer_running=timer_running,
            attempted=attempted,
        )

    # -- identity ----------------------------------------------------------------------

    @property
    def key(self) -> tuple[str, str | None, str | None, str | None]:
        """Which conversation this is: chat_history is kept per key."""
        return (self.kind, self.course_id, self.lesson_id, self.assessment_id)

    def history_args(self) -> dict[str, Any]:
        """Arguments of LearningAPI.chat_history (and of log_chat) for this context."""
        return {
            "context": self.kind,
            "course_id": self.course_id,
            "lesson_id": self.lesson_id,
            "assessment_id": self.assessment_id,
        }

    @property
    def title(self) -> str:
        """What the conversation is about, for the pane's header."""
        if self.kind == "assessment_help":
            return f"Assessment: {self.assessment_title or '?'}"
        if self.kind == "lesson_chat":
            return f"Lesson: {self.lesson_title or '?'}"
        if self.kind == "course_guidance":
            return f"Course: {self.course_title or '?'}"
        return "General questions"

    @property
    def failing(self) -> list[Mapping[str, Any]]:
        return [t for t in self.test_results if t.get("status") != "pass"]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


_RESULT_FIELDS = ("name", "status", "message", "expected", "actual", "output")


def _result_row(test: Any) -> dict[str, Any]:
    """One test result as a plain dict; a hidden one keeps only its name and status."""
    if isinstance(test, Mapping):
        row = {k: test.get(k) for k in (*_RESULT_FIELDS, "hidden")}
    else:
        row = {k: getattr(test, k, None) for k in (*_RESULT_FIELDS, "hidden")}
    hidden = bool(row.pop("hidden", False)) or row.get("message") == "hidden test"
    if hidden:
        return {"name": row.get("name"), "status": row.get("status"), "hidden": True}
    return row


# ---------------------------------------------------------------------------
# Tutoring policy: the hint ladder and the solution rule
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# The prompt
# ---------------------------------------------------------------------------


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


def _turns(history: Iterable[Any]) -> list[tuple[str, str]]:
    """The earlier exchanges a model sees: the model's own answers, not the course
    excerpts shown while there was no model (they are not its words, and they would
    count as rungs of the hint ladder)."""
    turns: list[tuple[str, str]] = []
    for entry in history:
        if isinstance(entry, tuple):
            question, answer = entry
        else:
            question, answer = getattr(entry, "question", ""), getattr(entry, "answer", "")
        if question and answer and not str(answer).startswith(NO_MODEL_LEAD):
            turns.append((str(question), str(answer)))
    return turns[-HISTORY_TURNS:]


def build_messages(
    question: str, context: TutorContext, guidance: Guidance, history: Iterable[Any] = ()
) -> list[dict[str, str]]:
    """The chat messages for one request: system prompt, earlier turns, the question."""
    messages = [{"role": "system", "content": system_prompt(context, guidance)}]
    for asked, answered in _turns(history):
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


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class TutorError(LearnError):
    """The model server failed; `kind` says how, the message what to do."""

    default = "The AI tutor failed; press enter to ask again."

    def __init__(
        self,
        message: str | None = None,
        *,
        kind: str = "unknown",
        status: int | None = None,
        code: str | None = None,
    ):
        super().__init__(message, code=code, status=status)
        self.kind = kind


def _where(base_url: str | None) -> str:
    """scheme://host:port of the server — never a path, query or credentials."""
    if not base_url:
        return "the AI server"
    try:
        parts = urlsplit(base_url)
        return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "the AI server"


def _server_message(exc: Any) -> str:
    """The server's own error message, from an openai APIError or an error payload."""
    body = exc if isinstance(exc, Mapping) else getattr(exc, "body", None)
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping) and error.get("message"):
            return one_line(error["message"], 160)
        if isinstance(error, str):
            return one_line(error, 160)
    return one_line(getattr(exc, "message", "") or "", 160)


def map_error(
    exc: BaseException, endpoint: Endpoint | None = None, *, mid_stream: bool = False
) -> LearnError:
    """An exception from the openai client as one line a learner can act on."""
    if isinstance(exc, LearnError):
        return exc
    import openai

    where = _where(endpoint.base_url if endpoint else None)
    model = endpoint.model if endpoint else "?"
    # A transport error while reading the body comes from the HTTP library itself.
    transport = (type(exc).__module__ or "").startswith(("httpx", "httpcore"))  # httpx2 too
    timed_out = isinstance(exc, openai.APITimeoutError) or (
        transport and "Timeout" in type(exc).__name__
    )
    if timed_out:
        return TutorError(
            f"{where} took too long to answer: press enter to ask again, or "
            "choose a faster model (`learn config model …`).",
            kind="timeout",
        )
    if isinstance(exc, openai.APIConnectionError) or transport:
        if mid_stream:
            return TutorError(
                "The connection to the AI server dropped mid-answer: press enter to ask again.",
                kind="dropped",
            )
        if endpoint and endpoint.source == "ollama":
            hint = "start it with `ollama serve`"
        elif endpoint and endpoint.origin:
            hint = f"start it, or fix the address ({endpoint.origin}): " + (
                "change or unset OPENAI_BASE_URL"
                if "OPENAI_BASE_URL" in endpoint.origin
                else "`learn config openai_base_url …`"
            )
        else:
            hint = "start it, or fix the address with `learn config openai_base_url …`"
        return TutorError(
            f"Can't reach the AI server at {where}: is it running? "
            f"{hint[0].upper()}{hint[1:]}, then press enter to ask again.",
            kind="network",
        )
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        detail = _server_message(exc)
        if status == 401:
            return TutorError(
                f"{where} rejected the API key: set the right one with `learn "
                "config openai_api_key …` (or OPENAI_API_KEY).",
                kind="auth",
                status=status,
            )
        if status == 403:
            return TutorError(
                f"{where} refused the request ({detail}): check that the key "
                f"may use model {model!r}.",
                kind="permission",
                status=status,
            )
        if status == 404:
            return TutorError(
                f"{where} has no model {model!r}: choose one it has with `learn "
                "config model …` (or LEARN_MODEL), and check that "
                "openai_base_url ends in /v1.",
                kind="model",
                status=status,
            )
        if status == 429:
            retry = exc.response.headers.get("retry-after") if exc.response else None
            wait = f"wait {retry} s" if retry and retry.isdigit() else "wait a minute"
            return TutorError(
                f"{where} is rate-limiting requests (or the quota is used up): "
                f"{wait}, then press enter to ask again.",
                kind="rate_limit",
                status=status,
            )
        if status in (400, 413, 422):
            return TutorError(
                f"{where} did not accept the request ({detail}): try a "
                "shorter question or another model.",
                kind="bad_request",
                status=status,
            )
        if status >= 500:
            return TutorError(
                f"{where} failed (HTTP {status}): press enter to ask again in a moment.",
                kind="server",
                status=status,
            )
        return TutorError(
            f"{where} answered HTTP {status} ({detail}).", kind="unknown", status=status
        )
    if isinstance(exc, openai.OpenAIError):
        return TutorError(f"The AI client failed: {one_line(str(exc), 160)}", kind="unknown")
    error = from_exception(exc)
    return TutorError(str(error), kind="unknown")


# ---------------------------------------------------------------------------
# Where the model is
# ---------------------------------------------------------------------------


def _origin(settings: Settings) -> str:
    """Where the AI server's address was set: the environment or the config file."""
    source = settings.sources.get("openai_base_url") if settings.sources else None
    if source == "env":
        return "set by OPENAI_BASE_URL in the environment"
    if source == "file":
        return f"set in {settings.path or 'the config file'}"
    return ""  # OpenAI's own address, the default


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    api_key: str = field(repr=False)
    model: str
    source: str  # "config" (file or environment) | "ollama"
    origin: str = ""  # where the address was set, for error messages

    def describe(self) -> str:
        where = "Ollama" if self.source == "ollama" else _where(self.base_url)
        return f"{self.model} · {where}"


_loaded: dict[str, Any] = {}


async def _load(name: str) -> Any:
    """A heavy module, imported in a thread the first time (never blocking the UI)."""
    module = _loaded.get(name)
    if module is None:
        module = _loaded[name] = await asyncio.to_thread(importlib.import_module, name)
    return module


async def _load_openai() -> Any:
    return await _load("openai")


def _client(
    base_url: str, api_key: str, *, timeout: float, connect_timeout: float, max_retries: int
):
    import openai

    return openai.AsyncOpenAI(
        base_url=base_url,
        api_key=api_key,
        max_retries=max_retries,
        timeout=openai.Timeout(timeout, connect=connect_timeout),
    )


async def probe_ollama(url: str = OLLAMA_URL, *, timeout: float = 0.5) -> list[str] | None:
    """The models of an Ollama running at `url`, or None when nothing answers there."""
    httpx = await _load("httpx")
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            response = await http.get(f"{url.rstrip('/')}/api/tags")
            if response.status_code == 200:
                return [
                    str(m.get("name") or m.get("model"))
                    for m in response.json().get("models") or []
                    if isinstance(m, Mapping)
                ]
            response = await http.get(f"{url.rstrip('/')}/v1/models")
            if response.status_code == 200:
                return [
                    str(m.get("id"))
                    for m in response.json().get("data") or []
                    if isinstance(m, Mapping)
                ]
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return None


# ---------------------------------------------------------------------------
# Server-sent events
# ---------------------------------------------------------------------------


async def sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The `data` of each server-sent event (WHATWG rules: `data:` lines joined by
    newlines, one optional space after the colon, `:` comments and other fields
    ignored, a blank line ends an event)."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


def _json_object(data: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


# ---------------------------------------------------------------------------
# One answer
# ---------------------------------------------------------------------------


class Answer:
    """An answer being streamed: `async for delta in answer`, then read its figures.

    `aclose()` (or cancelling the task iterating it) closes the HTTP response at once."""

    def __init__(self, tutor: Tutor, question: str, context: TutorContext, history: Sequence[Any]):
        self.tutor = tutor
        self.question = question
        self.context = context
        self.history = history
        self._parts: list[str] = []
        self.source = "ai"  # "ai" | "course" (the offline fallback)
        self.endpoint: Endpoint | None = None
        self.guidance = Guidance()
        self.message_type = "text"
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.tokens_used = 0
        self.usage_estimated = False
        self.processing_ms = 0
        self.finish_reason: str | None = None
        self.done = False
        self.logged = False
        self.log_error: str | None = None
        self._gen = self._run()

    def __aiter__(self) -> Answer:
        return self

    async def __anext__(self) -> str:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        await self._gen.aclose()

    @property
    def model(self) -> str | None:
        return self.endpoint.model if self.endpoint else None

    @property
    def text(self) -> str:
        """Everything streamed so far."""
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def _emit(self, piece: str) -> str:
        self._parts.append(piece)
        return piece

    async def _run(self) -> AsyncGenerator[str, None]:
        tutor = self.tutor
        endpoint = await tutor.endpoint()
        if endpoint is None:
            async for piece in self._from_course():
                yield piece
            return
        self.endpoint = endpoint
        self.guidance = guidance_for(
            self.context, self.question, tutor._next_rung(self.context, self.history)
        )
        # the ladder climbs only when this answer arrives in full (see _run's end)
        messages = build_messages(self.question, self.context, self.guidance, self.history)
        if self.guidance.refusal:
            yield self._emit(self.guidance.refusal + "\n\n")
        started = time.perf_counter()
        usage: Mapping[str, Any] | None = None
        completed = False
        async with contextlib.AsyncExitStack() as stack:
            response = await tutor._open_stream(endpoint, messages, stack)
            try:
                async for data in sse_data(response.iter_lines()):
                    if data == "[DONE]":
                        completed = True
                        break
                    chunk = _json_object(data)
                    if chunk.get("error"):
                        raise TutorError(
                            f"{_where(endpoint.base_url)} failed mid-answer: "
                            f"{_server_message(chunk)} — press enter to ask "
                            "again.",
                            kind="server",
                        )
                    if chunk.get("usage"):
                        usage = chunk["usage"]
                    for choice in chunk.get("choices") or ():
                        delta = (choice.get("delta") or {}).get("content")
                        if delta and isinstance(delta, str):
                            # the model's words, cleaned as they arrive (and so logged)
                            delta = terminal_safe(delta)
                            if delta:
                                yield self._emit(delta)
                        if choice.get("finish_reason"):
                            self.finish_reason = choice["finish_reason"]
            except LearnError:
                raise
            except Exception as exc:
                if tutor._forget_on(exc):
                    tutor._endpoint = None
                raise map_error(exc, endpoint, mid_stream=bool(self._parts)) from exc
        if not completed and self.finish_reason is None:
            raise TutorError(
                "The connection to the AI server dropped mid-answer: press enter to ask again.",
                kind="dropped",
            )
        self.processing_ms = round((time.perf_counter() - started) * 1000)
        if usage is not None:
            self.prompt_tokens = _int(usage.get("prompt_tokens"))
            self.completion_tokens = _int(usage.get("completion_tokens"))
            self.tokens_used = _int(usage.get("total_tokens")) or (
                self.prompt_tokens + self.completion_tokens
            )
        else:  # the server sent no usage: estimate (~4 characters a token) and say so
            self.usage_estimated = True
            self.prompt_tokens = sum(len(m["content"]) for m in messages) // 4
            self.completion_tokens = len(self.text) // 4
            self.tokens_used = self.prompt_tokens + self.completion_tokens
        self.message_type = message_type_of(self.text, self.context, self.question)
        self.done = True
        tutor._climb(self)
        await tutor._log(self, messages)

    async def _from_course(self) -> AsyncIterator[str]:
        """No model: say so, and answer with the course passages that match."""
        self.source = "course"
        started = time.perf_counter()
        yield self._emit(f"{NO_MODEL_LEAD} {self.tutor.unavailable}\n\n")
        passages = await self.tutor.course_passages(self.question, self.context)
        lines = [f"### {EXCERPTS_HEADING}\n"]
        elsewhere = (
            bool(passages)
            and bool(self.context.course_id)
            and all(p.course_id != self.context.course_id for p in passages)
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
        yield self._emit("\n".join(lines))
        self.processing_ms = round((time.perf_counter() - started) * 1000)
        self.finish_reason = "stop"
        self.done = True
        await self.tutor._log(self, [])


# ---------------------------------------------------------------------------
# The tutor
# ---------------------------------------------------------------------------


class Tutor:
    """Asks the model, keeps the hint ladder, logs every exchange through the API.

    `api` may be None (nothing is logged, no course excerpts). `settings` defaults to
    `services.config.load()`; `endpoint` skips discovery (tests, benchmarks)."""

    def __init__(
        self,
        api: LearningAPI | Any | None = None,
        settings: Settings | None = None,
        *,
        endpoint: Endpoint | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        max_retries: int = 0,
        ollama_url: str = OLLAMA_URL,
        probe_timeout: float = 0.5,
    ):
        self.api = api
        self._settings = settings
        self._endpoint = endpoint
        self._fixed = endpoint is not None
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_retries = max_retries
        self.ollama_url = ollama_url
        self.probe_timeout = probe_timeout
        self.unavailable = SETUP_HELP
        self._clients: dict[tuple[str, str], Any] = {}
        self._requests: dict[tuple[Any, ...], int] = {}

    # -- the model ---------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from services import config

            self._settings = config.load()
        return self._settings

    async def endpoint(self) -> Endpoint | None:
        """The server and model to use, or None (then `unavailable` says why)."""
        if self._endpoint is not None:
            return self._endpoint
        settings = self.settings
        if settings.openai_base_url or settings.openai_api_key:
            base = (settings.openai_base_url or OPENAI_URL).rstrip("/")
            key = settings.openai_api_key or "not-needed"
            model = settings.model or (
                OPENAI_DEFAULT_MODEL if base == OPENAI_URL else await self._first_model(base, key)
            )
            self._endpoint = Endpoint(base, key, model, "config", _origin(settings))
            return self._endpoint
        names = await probe_ollama(self.ollama_url, timeout=self.probe_timeout)
        if names is None:
            self.unavailable = "No model is configured and Ollama is not running. " + SETUP_HELP
            return None
        if not names:
            self.unavailable = (
                "Ollama is running but has no models: `ollama pull "
                "qwen2.5-coder` (or any chat model), then ask again."
            )
            return None
        model = settings.model if settings.model in names else names[0]
        self._endpoint = Endpoint(f"{self.ollama_url.rstrip('/')}/v1", "ollama", model, "ollama")
        return self._endpoint

    async def prepare(self) -> Endpoint | None:
        """Find the model and load the openai client off the event loop (its import
        takes most of a second, and making one its SSL context), so the first answer
        starts at once."""
        endpoint = await self.endpoint()
        if endpoint is not None:
            await _load_openai()
            await asyncio.to_thread(self._client_for, endpoint)
        return endpoint

    async def _first_model(self, base: str, key: str) -> str:
        await _load_openai()
        client = self._client_for(Endpoint(base, key, "?", "config"))
        try:
            page = await client.models.list()
        except Exception as exc:
            raise map_error(exc, Endpoint(base, key, "?", "config")) from exc
        ids = [m.id for m in page.data]
        if not ids:
            raise TutorError(
                f"{_where(base)} offers no models: load one there, or set `learn config model …`.",
                kind="model",
            )
        return ids[0]

    def _client_for(self, endpoint: Endpoint):
        key = (endpoint.base_url, endpoint.api_key)
        if key not in self._clients:
            self._clients[key] = _client(
                endpoint.base_url,
                endpoint.api_key,
                timeout=self.timeout,
                connect_timeout=self.connect_timeout,
                max_retries=self.max_retries,
            )
        return self._clients[key]

    def _forget_on(self, exc: BaseException) -> bool:
        """Rediscover next time when an auto-discovered server went away."""
        import openai

        return (
            not self._fixed
            and self._endpoint is not None
            and self._endpoint.source == "ollama"
            and isinstance(exc, openai.APIConnectionError)
        )

    async def _open_stream(
        self, endpoint: Endpoint, messages: list[dict[str, str]], stack: contextlib.AsyncExitStack
    ) -> Any:
        """POST /chat/completions with stream=True; the open response (closed by `stack`).

        The SSE body is decoded here rather than through the client's typed chunk
        objects: building those costs ~0.2 ms a token, most of the client's time."""
        openai = await _load_openai()
        client = self._client_for(endpoint)
        kwargs: dict[str, Any] = {
            "model": endpoint.model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        completions = client.chat.completions.with_streaming_response
        try:
            try:
                return await stack.enter_async_context(completions.create(**kwargs))
            except openai.BadRequestError as exc:
                if "stream_options" not in _server_message(exc):
                    raise
                del kwargs["stream_options"]  # an older server: no usage, then
                return await stack.enter_async_context(completions.create(**kwargs))
        except Exception as exc:
            if self._forget_on(exc):
                self._endpoint = None
            raise map_error(exc, endpoint) from exc

    # -- asking ------------------------------------------------------------------------

    def ask(
        self, question: str, context: TutorContext | None = None, history: Sequence[Any] = ()
    ) -> Answer:
        """Stream the answer to `question`. `history`: earlier exchanges of this
        conversation (ChatEntry objects or (question, answer) pairs), oldest first."""
        question = question.strip()
        if not question:
            raise ValueError("empty question")
        return Answer(self, question, context or TutorContext(), history)

    def hint_level(self, context: TutorContext) -> int:
        """The rung the last help request in this assessment reached (0: none yet)."""
        return min(TOP_RUNG, self._requests.get(context.key, 0))

    def _requests_before(self, context: TutorContext, history: Sequence[Any]) -> int:
        # Each answered help request in the same assessment climbs a rung; a
        # conversation reloaded from chat_history counts too.
        return max(self._requests.get(context.key, 0), len(_turns(history)) if history else 0)

    def _next_rung(self, context: TutorContext, history: Sequence[Any]) -> int:
        if context.kind != "assessment_help":
            return 0
        return min(TOP_RUNG, self._requests_before(context, history) + 1)

    def _climb(self, answer: Answer) -> None:
        """An answered help request: the next one gets the next rung."""
        if answer.context.kind == "assessment_help":
            key = answer.context.key
            self._requests[key] = self._requests_before(answer.context, answer.history) + 1

    # -- the course as a fallback --------------------------------------------------------

    async def course_passages(self, question: str, context: TutorContext) -> list[Any]:
        """The lesson passages matching `question`: this course first, then every course;
        every word may match when the whole question matches nothing."""
        if self.api is None:
            return []
        words = re.findall(r"[^\W_]{3,}", question)
        queries = [question] + ([" or ".join(words)] if len(words) > 1 else [])
        scopes = [context.course_id, None] if context.course_id else [None]
        try:
            # This course with the question, then with any of its words, and only then
            # the other courses; the lesson on screen first.
            for course_id in scopes:
                for query in queries:
                    found = await self.api.search_lessons(query, course_id=course_id)
                    if found:
                        return sorted(found, key=lambda p: p.lesson_id != context.lesson_id)
        except LearnError as exc:
            log.info("course search failed: %s", exc)
        return []

    # -- logging -----------------------------------------------------------------------

    async def _log(self, answer: Answer, messages: list[dict[str, str]]) -> None:
        if self.api is None:
            return
        context = answer.context
        try:
            await self.api.log_chat(
                answer.question[:20000],
                answer.text[:100000],
                message_type=answer.message_type,
                **context.history_args(),
            )
            if answer.source == "ai":
                await self.api.log_ai_interaction(
                    context.kind,
                    {
                        "question": answer.question[:SUMMARY_CHARS],
                        "context": context.kind,
                        "course_id": context.course_id,
                        "lesson_id": context.lesson_id,
                        "assessment_id": context.assessment_id,
                        "model": answer.model,
                        "server": answer.endpoint.source if answer.endpoint else None,
                        "mode": answer.guidance.mode,
                        "hint_level": answer.guidance.level,
                        "failing_tests": len(context.failing),
                        "timer_running": context.timer_running,
                        "messages": len(messages),
                        "prompt_chars": sum(len(m["content"]) for m in messages),
                    },
                    {
                        "answer": answer.text[:SUMMARY_CHARS],
                        "chars": len(answer.text),
                        "message_type": answer.message_type,
                        "finish_reason": answer.finish_reason,
                        "prompt_tokens": answer.prompt_tokens,
                        "completion_tokens": answer.completion_tokens,
                        "usage_estimated": answer.usage_estimated,
                    },
                    tokens_used=answer.tokens_used,
                    processing_time_ms=answer.processing_ms,
                )
            answer.logged = True
        except Exception as exc:  # the answer stands even if the history can't be saved
            error = exc if isinstance(exc, LearnError) else from_exception(exc)
            answer.log_error = str(error)
            log.warning("chat not logged: %s", error)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
