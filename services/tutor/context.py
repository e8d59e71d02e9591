"""What the learner is looking at, and what was said before: the tutor's input.

TutorContext          the screen a question comes from (course, lesson, assessment:
                      the learner's code and last run; never a reference solution)
CONTEXT_KINDS         its kinds (chat_history.context)
result_row(test)      one test result as the plain dict a context holds
model_turns(history)  the earlier exchanges a model sees (HISTORY_TURNS at most)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.tutor.fallback import NO_MODEL_LEAD

CONTEXT_KINDS = ("general_chat", "course_guidance", "lesson_chat", "assessment_help")
HISTORY_TURNS = 6  # earlier exchanges sent along with a question


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
        rows: list[Mapping[str, Any]] = [result_row(t) for t in tests]
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


def result_row(test: Any) -> dict[str, Any]:
    """One test result as a plain dict; a hidden one keeps only its name and status."""
    if isinstance(test, Mapping):
        row = {k: test.get(k) for k in (*_RESULT_FIELDS, "hidden")}
    else:
        row = {k: getattr(test, k, None) for k in (*_RESULT_FIELDS, "hidden")}
    hidden = bool(row.pop("hidden", False)) or row.get("message") == "hidden test"
    if hidden:
        return {"name": row.get("name"), "status": row.get("status"), "hidden": True}
    return row


def model_turns(history: Iterable[Any]) -> list[tuple[str, str]]:
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
