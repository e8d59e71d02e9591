"""LearningAPI: typed methods over `Backend.call`, one per screen-shaped SQL function.

Screens use only this. Every method is one round trip; the SQL decides what the
caller may see and what a write means (RLS, triggers). Writes take an optional
event id and the time the learner acted, so the offline outbox can replay them.

The shapes of the answers (CourseDetail, Dashboard, …) live in services.data.models
and are re-exported here, so `from services.data.api import Dashboard` works.

Over 400 lines (~530) because it is one class with one short method per SQL function
(~30): the one place a screen looks for a call; split, a reader would search two.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from services.data.models import (
    Achievement,
    Assessment,
    AssessmentDetail,
    AssessmentSummary,
    Attempt,
    Catalog,
    ChatEntry,
    CourseDetail,
    CourseSummary,
    Dashboard,
    DayActivity,
    EnrolledCourse,
    Enrollment,
    Lesson,
    LessonDetail,
    LessonProgress,
    LessonSummary,
    Notification,
    Notifications,
    OpenAssessment,
    Passage,
    Profile,
    ProfilePage,
    Rating,
    Ref,
    ShapeMismatch,
    Streak,
    WriteResult,
    build,
    build_optional,
    float_or_none,
    new_event_id,
    parse_datetime,
    strict_shapes,
    write_result,
)
from services.text import terminal_safe_json

# Data for programs, not for people: an assessment's tests go to the runner as written
# (a course about terminal colours may expect "\x1b[31m"); what the runner reports
# about them is cleaned where it leaves the runner.
_PROGRAM_DATA = ("test_cases", "expected_output")

__all__ = [
    "Achievement",
    "Assessment",
    "AssessmentDetail",
    "AssessmentSummary",
    "Attempt",
    "Caller",
    "Catalog",
    "ChatEntry",
    "CourseDetail",
    "CourseSummary",
    "Dashboard",
    "DayActivity",
    "EnrolledCourse",
    "Enrollment",
    "LearningAPI",
    "Lesson",
    "LessonDetail",
    "LessonProgress",
    "LessonSummary",
    "Notification",
    "Notifications",
    "OpenAssessment",
    "Passage",
    "Profile",
    "ProfilePage",
    "Rating",
    "Ref",
    "ShapeMismatch",
    "Streak",
    "WriteResult",
    "build",
    "build_optional",
    "float_or_none",
    "new_event_id",
    "parse_datetime",
    "strict_shapes",
    "write_result",
]


class Caller(Protocol):
    async def call(self, fn: str, **args: Any) -> Any: ...


# ---------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------


class LearningAPI:
    """Typed calls over Backend.call. Over an offline backend (services.offline.backend) the
    reads show the learner's own writes still waiting to be sent on top of what the
    server (or the cache) says — a lesson marked complete, an attempt submitted —
    marked `pending`; once sent, the server's answer is all there is. A write that
    repeats one still waiting (the same lesson marked complete, the same attempt
    submitted, the same course enrolled in) queues nothing new.

    Every answer is made `terminal_safe` here, where it enters the program (the
    server's JSON, the offline cache's copy of it, a preview's course folder), so no
    screen can show a control sequence that someone else wrote."""

    def __init__(self, backend: Caller):
        self.backend = backend

    async def call(self, fn: str, **args: Any) -> Any:
        """`backend.call(fn, **args)`, its answer made terminal_safe: for the calls this
        class has no typed method for (services.review.spaced's)."""
        return terminal_safe_json(await self.backend.call(fn, **args))

    def _pending(self, fn: str) -> list[Any]:
        """Queued writes of kind `fn` (OutboxEvent) — none when the backend has no outbox."""
        source = getattr(self.backend, "pending_writes", None)
        return source(fn) if callable(source) else []

    @staticmethod
    def _waiting(event: Any) -> WriteResult:
        return write_result(
            {
                "queued": True,
                "event_id": event.event_id,
                "achievements": [],
                "already_waiting": True,
            }
        )

    # reads -------------------------------------------------------------------

    async def catalog(
        self,
        search: str | None = None,
        tags: list[str] | None = None,
        difficulty: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Catalog:
        raw = await self.call(
            "catalog",
            p_search=search or None,
            p_tags=tags or None,
            p_difficulty=difficulty or None,
            p_limit=limit,
            p_offset=offset,
        )
        return Catalog(
            courses=[build(CourseSummary, c) for c in raw["courses"]],
            total=int(raw["total"]),
            tags=list(raw.get("tags") or []),
        )

    async def course_detail(
        self, course_id: str | None = None, slug: str | None = None
    ) -> CourseDetail:
        raw = await self.call("course_detail", p_course_id=course_id, p_slug=slug)
        detail = CourseDetail(
            course=build(CourseSummary, raw["course"]),
            enrollment=build_optional(Enrollment, raw.get("enrollment")),
            lessons=[build(LessonSummary, x) for x in raw["lessons"]],
            assessments=[build(AssessmentSummary, x) for x in raw["assessments"]],
            my_rating=build_optional(Rating, raw.get("my_rating")),
        )
        completed = self._queued_completion()
        for lesson in detail.lessons:
            if str(lesson.id) in completed:
                lesson.completed, lesson.pending = completed[str(lesson.id)], True
        return detail

    async def lesson_detail(self, lesson_id: str) -> LessonDetail:
        raw = await self.call("lesson_detail", p_lesson_id=lesson_id)
        detail = LessonDetail(
            lesson=build(Lesson, raw["lesson"]),
            course=build(Ref, raw["course"]),
            previous=build_optional(Ref, raw.get("previous")),
            next=build_optional(Ref, raw.get("next")),
            progress=build_optional(LessonProgress, raw.get("progress")),
            enrolled=bool(raw.get("enrolled")),
            assessments=[build(Ref, x) for x in raw.get("assessments") or []],
        )
        completed = self._queued_completion().get(str(detail.lesson.id))
        if completed is not None:
            progress = detail.progress or LessonProgress(lesson_id=str(detail.lesson.id))
            progress.completed, progress.pending = completed, True
            detail.progress = progress
        return detail

    def _queued_completion(self) -> dict[str, bool]:
        """lesson id → completed, as the learner's latest waiting change sets it."""
        found: dict[str, bool] = {}
        for event in self._pending("record_lesson_progress"):
            if event.args.get("p_completed") is not None:
                found[str(event.args["p_lesson_id"])] = bool(event.args["p_completed"])
        return found

    async def assessment_detail(self, assessment_id: str) -> AssessmentDetail:
        raw = await self.backend.call("assessment_detail", p_assessment_id=assessment_id)
        program = {k: raw["assessment"][k] for k in _PROGRAM_DATA if k in raw["assessment"]}
        raw = terminal_safe_json(raw)
        detail = AssessmentDetail(
            assessment=build(Assessment, {**raw["assessment"], **program}),
            course=build_optional(Ref, raw.get("course")),
            lesson=build_optional(Ref, raw.get("lesson")),
            attempts=[build(Attempt, x) for x in raw.get("attempts") or []],
            best_score=float_or_none(raw.get("best_score")),
            open_attempt=build(Attempt, {"status": "in-progress", **raw["open_attempt"]})
            if raw.get("open_attempt")
            else None,
        )
        waiting = [
            e
            for e in self._pending("submit_attempt")
            if str(e.args.get("p_assessment_id")) == str(assessment_id)
        ]
        for event in waiting:  # newest first, as the server lists attempts
            detail.attempts.insert(
                0,
                Attempt(
                    id=event.event_id,
                    status="completed",
                    score=event.args.get("p_score"),
                    completed_at=str(event.args.get("p_occurred_at") or ""),
                    submitted_code=event.args.get("p_code"),
                    pending=True,
                ),
            )
            if detail.open_attempt is not None and str(event.args.get("p_attempt_id")) == str(
                detail.open_attempt.id
            ):
                detail.open_attempt = None  # submitted here: no longer open
        return detail

    async def dashboard(self) -> Dashboard:
        raw = await self.call("dashboard")
        return Dashboard(
            profile=build(Profile, raw["profile"]),
            streak=build(Streak, raw["streak"]),
            enrollments=[build(EnrolledCourse, x) for x in raw["enrollments"]],
            achievements=[build(Achievement, x) for x in raw["achievements"]],
            points=int(raw["points"]),
            unread_notifications=int(raw["unread_notifications"]),
            activity=[build(DayActivity, x) for x in raw["activity"]],
        )

    async def open_assessment(self) -> OpenAssessment | None:
        """The assessment attempt in progress (the latest), for "continue"."""
        raw = await self.call("resume_point")
        return build_optional(OpenAssessment, (raw or {}).get("assessment"))

    async def my_profile(self) -> ProfilePage:
        raw = await self.call("my_profile")
        return ProfilePage(
            profile=build(Profile, raw["profile"]),
            streak=build_optional(Streak, raw.get("streak")) or Streak(),
            points=int(raw["points"]),
            achievements=[build(Achievement, x) for x in raw["achievements"]],
        )

    async def notifications(self, limit: int = 100) -> Notifications:
        raw = await self.call("notifications_list", p_limit=limit)
        return Notifications(
            unread=int(raw["unread"]),
            notifications=[build(Notification, x) for x in raw["notifications"]],
        )

    async def chat_history(
        self,
        context: str = "general_chat",
        course_id: str | None = None,
        lesson_id: str | None = None,
        assessment_id: str | None = None,
        limit: int = 50,
    ) -> list[ChatEntry]:
        raw = await self.call(
            "chat_history_for",
            p_context=context,
            p_course_id=course_id,
            p_lesson_id=lesson_id,
            p_assessment_id=assessment_id,
            p_limit=limit,
        )
        return [build(ChatEntry, x) for x in raw]

    async def search_lessons(
        self, query: str, course_id: str | None = None, limit: int = 3
    ) -> list[Passage]:
        raw = await self.call("search_lessons", p_query=query, p_course_id=course_id, p_limit=limit)
        return [build(Passage, x) for x in raw]

    async def navigation_index(self) -> list[tuple[str, str, str, str]]:
        """(kind, id, title, context) for every course, lesson and assessment the caller
        can open."""
        raw = await self.call("navigation")
        entries = [("course", c["id"], c["title"], "") for c in raw["courses"]]
        entries += [("lesson", x["id"], x["title"], x["course_title"]) for x in raw["lessons"]]
        entries += [
            ("assessment", x["id"], x["title"], x["course_title"])
            for x in raw.get("assessments") or []
        ]
        return entries

    # writes ------------------------------------------------------------------

    async def _write(
        self, fn: str, event_id: str | None, occurred_at: datetime | None, **args: Any
    ) -> WriteResult:
        raw = await self.call(
            fn,
            **args,
            p_event_id=event_id or new_event_id(),
            p_occurred_at=occurred_at.isoformat() if occurred_at else None,
        )
        return write_result(raw)

    async def enroll(
        self, course_id: str, *, event_id: str | None = None, occurred_at: datetime | None = None
    ) -> WriteResult:
        for event in self._pending("enroll"):
            if str(event.args.get("p_course_id")) == str(course_id):
                return self._waiting(event)
        return await self._write("enroll", event_id, occurred_at, p_course_id=course_id)

    async def set_enrollment_status(
        self,
        course_id: str,
        status: str,
        *,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> WriteResult:
        return await self._write(
            "set_enrollment_status", event_id, occurred_at, p_course_id=course_id, p_status=status
        )

    async def record_lesson_progress(
        self,
        lesson_id: str,
        *,
        time_spent: int = 0,
        last_position: int | None = None,
        completed: bool | None = None,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> WriteResult:
        if completed is not None and event_id is None:
            waiting = [
                e
                for e in self._pending("record_lesson_progress")
                if str(e.args.get("p_lesson_id")) == str(lesson_id)
                and e.args.get("p_completed") is not None
            ]
            if waiting and bool(waiting[-1].args["p_completed"]) == completed:
                completed = None  # already waiting to be sent: only time and place
                if not time_spent and last_position in (
                    None,
                    waiting[-1].args.get("p_last_position"),
                ):
                    return self._waiting(waiting[-1])
        return await self._write(
            "record_lesson_progress",
            event_id,
            occurred_at,
            p_lesson_id=lesson_id,
            p_time_spent=time_spent,
            p_last_position=last_position,
            p_completed=completed,
        )

    async def start_attempt(
        self,
        assessment_id: str,
        *,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> WriteResult:
        return await self._write(
            "start_attempt", event_id, occurred_at, p_assessment_id=assessment_id
        )

    async def attempt_result(self, attempt_id: str) -> dict[str, Any]:
        """One of my attempts as grading sees it: {attempt: {status, grading, score,
        execution_result, …}, job: {state, tries} | None, grader_seen_at, achievements}."""
        raw = dict(await self.call("attempt_result", p_attempt_id=attempt_id) or {})
        raw["achievements"] = [build(Achievement, a) for a in raw.get("achievements") or []]
        return raw

    async def submit_attempt(
        self,
        assessment_id: str,
        code: str,
        execution_result: dict[str, Any],
        score: float,
        *,
        attempt_id: str | None = None,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> WriteResult:
        if attempt_id is not None and event_id is None:
            for event in self._pending("submit_attempt"):
                if str(event.args.get("p_attempt_id")) == str(attempt_id):
                    return self._waiting(event)
        return await self._write(
            "submit_attempt",
            event_id,
            occurred_at,
            p_assessment_id=assessment_id,
            p_code=code,
            p_execution_result=execution_result,
            p_score=score,
            p_attempt_id=attempt_id,
        )

    async def log_chat(
        self,
        question: str,
        answer: str | None,
        *,
        context: str = "general_chat",
        course_id: str | None = None,
        lesson_id: str | None = None,
        assessment_id: str | None = None,
        message_type: str = "text",
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> WriteResult:
        return await self._write(
            "log_chat",
            event_id,
            occurred_at,
            p_question=question,
            p_answer=answer,
            p_context=context,
            p_course_id=course_id,
            p_lesson_id=lesson_id,
            p_assessment_id=assessment_id,
            p_message_type=message_type,
        )

    async def log_ai_interaction(
        self,
        interaction_type: str,
        input_data: dict[str, Any],
        output_data: dict[str, Any],
        *,
        tokens_used: int,
        processing_time_ms: int,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> WriteResult:
        return await self._write(
            "log_ai_interaction",
            event_id,
            occurred_at,
            p_interaction_type=interaction_type,
            p_input_data=input_data,
            p_output_data=output_data,
            p_tokens_used=tokens_used,
            p_processing_time=processing_time_ms,
        )

    async def mark_notifications_read(
        self,
        ids: list[str] | None = None,
        *,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> WriteResult:
        return await self._write("mark_notifications_read", event_id, occurred_at, p_ids=ids)

    async def submit_feedback(
        self,
        *,
        rating: int | None = None,
        text: str | None = None,
        feedback_type: str = "general",
        course_id: str | None = None,
        lesson_id: str | None = None,
        assessment_id: str | None = None,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> WriteResult:
        return await self._write(
            "submit_feedback",
            event_id,
            occurred_at,
            p_rating=rating,
            p_feedback_text=text,
            p_feedback_type=feedback_type,
            p_course_id=course_id,
            p_lesson_id=lesson_id,
            p_assessment_id=assessment_id,
        )

    async def rate_course(
        self, course_id: str, rating: int, text: str | None = None, *, event_id: str | None = None
    ) -> WriteResult:
        return await self.submit_feedback(
            rating=rating,
            text=text,
            feedback_type="course_rating",
            course_id=course_id,
            event_id=event_id,
        )

    async def update_profile(
        self,
        changes: dict[str, Any],
        *,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> WriteResult:
        return await self._write("update_profile", event_id, occurred_at, p_changes=changes)
