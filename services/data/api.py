"""LearningAPI: typed methods over `Backend.call`, one per screen-shaped SQL function.

Screens use only this. Every method is one round trip; the SQL decides what the
caller may see and what a write means (RLS, triggers). Writes take an optional
event id and the time the learner acted, so the offline outbox can replay them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from services.text import terminal_safe_json

T = TypeVar("T")

# Data for programs, not for people: an assessment's tests go to the runner as written
# (a course about terminal colours may expect "\x1b[31m"); what the runner reports
# about them is cleaned where it leaves the runner.
_PROGRAM_DATA = ("test_cases", "expected_output")


class Caller(Protocol):
    async def call(self, fn: str, **args: Any) -> Any: ...


def parse_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _parse_date(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def build(cls: type[T], data: Mapping[str, Any]) -> T:
    """A dataclass from a JSON object, ignoring keys the class does not know."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


def build_optional(cls: type[T], data: Mapping[str, Any] | None) -> T | None:
    """`build`, or None for a JSON null: a part of an answer that may be absent."""
    return None if data is None else build(cls, data)


def float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


# ---------------------------------------------------------------------------
# Data shapes
# ---------------------------------------------------------------------------


@dataclass
class CourseSummary:
    """A course as the catalog and course screens list it, with the learner's enrollment."""

    id: str
    title: str
    slug: str | None = None
    short_description: str | None = None
    description: str | None = None
    duration: str | None = None
    difficulty_level: str = "Beginner"
    estimated_hours: float | None = None
    tags: list[str] = field(default_factory=list)
    thumbnail_url: str | None = None
    is_published: bool = True
    is_mine: bool = False
    lesson_count: int = 0
    assessment_count: int = 0
    rating_avg: float | None = None
    rating_count: int = 0
    enrolled: bool = False
    status: str | None = None
    progress: float | None = None

    def __post_init__(self) -> None:
        self.estimated_hours = float_or_none(self.estimated_hours)
        self.rating_avg = float_or_none(self.rating_avg)
        self.progress = float_or_none(self.progress)


@dataclass
class Catalog:
    """One page of the catalog: the courses found and how many match in all."""

    courses: list[CourseSummary]
    total: int
    tags: list[str]


@dataclass
class Enrollment:
    """The learner's enrollment in a course."""

    status: str
    progress: float = 0.0
    course_id: str | None = None
    enrollment_date: str | None = None
    last_accessed: str | None = None
    completed_at: str | None = None

    def __post_init__(self) -> None:
        self.progress = float(self.progress or 0)


@dataclass
class LessonSummary:
    """A lesson in a course's table of contents, with the learner's completion."""

    id: str
    title: str
    slug: str | None = None
    duration: str | None = None
    difficulty: str | None = None
    order_index: int = 0
    is_published: bool = True
    completed: bool = False
    time_spent: int = 0
    pending: bool = False  # `completed` comes from a change waiting to be sent


@dataclass
class AssessmentSummary:
    """An assessment in a course's table of contents, with the learner's best score."""

    id: str
    title: str
    slug: str | None = None
    description: str | None = None
    difficulty: str | None = None
    time_limit: int | None = None
    lesson_id: str | None = None
    language: str = "python"
    is_published: bool = True
    best_score: float | None = None
    attempts: int = 0

    def __post_init__(self) -> None:
        self.best_score = float_or_none(self.best_score)


@dataclass
class Rating:
    """The learner's own rating of a course."""

    rating: int | None
    feedback_text: str | None = None


@dataclass
class CourseDetail:
    """The course screen: the course, its lessons and assessments, the learner's part."""

    course: CourseSummary
    enrollment: Enrollment | None
    lessons: list[LessonSummary]
    assessments: list[AssessmentSummary]
    my_rating: Rating | None

    @property
    def next_lesson(self) -> LessonSummary | None:
        published = [lesson for lesson in self.lessons if lesson.is_published]
        return next(
            (lesson for lesson in published if not lesson.completed),
            published[0] if published else None,
        )


@dataclass
class Lesson:
    """A lesson's content: Markdown, explanation, code example, key points."""

    id: str
    course_id: str
    title: str
    slug: str | None = None
    content: str | None = None
    explanation: str | None = None
    code_example: str | None = None
    key_points: list[str] = field(default_factory=list)
    duration: str | None = None
    difficulty: str | None = None
    order_index: int = 0
    is_published: bool = True


@dataclass
class Ref:
    """A course, lesson or assessment named by another: id, title, slug."""

    id: str
    title: str
    slug: str | None = None


@dataclass
class LessonProgress:
    """The learner's progress in one lesson: completion, time spent, last position."""

    completed: bool = False
    time_spent: int = 0
    last_position: int = 0
    completed_at: str | None = None
    lesson_id: str | None = None
    pending: bool = False  # `completed` comes from a change waiting to be sent


@dataclass
class LessonDetail:
    """The lesson reader: the lesson, its neighbours and the learner's progress."""

    lesson: Lesson
    course: Ref
    previous: Ref | None
    next: Ref | None
    progress: LessonProgress | None
    enrolled: bool
    assessments: list[Ref]


@dataclass
class Assessment:
    """A coding assessment: instructions, starter code, tests, time limit."""

    id: str
    title: str
    slug: str | None = None
    description: str | None = None
    difficulty: str | None = None
    time_limit: int | None = None
    instructions: str | None = None
    starter_code: str | None = None
    test_cases: list[dict[str, Any]] = field(default_factory=list)
    expected_output: Any = None
    language: str = "python"
    entry: str | None = None
    limits: dict[str, Any] = field(default_factory=dict)
    course_id: str | None = None
    lesson_id: str | None = None
    is_published: bool = True
    grading: str | None = None  # the course's: verified (a grader scores) | self


@dataclass
class Attempt:
    """One attempt at an assessment, scored by the database."""

    id: str
    status: str
    score: float | None = None
    started_at: str | None = None
    completed_at: str | None = None
    time_spent: int | None = None
    submitted_code: str | None = None
    pending: bool = False  # made on this machine, waiting to be sent (not the server's)
    grading: str | None = None  # self | pending | verified | error (None: not submitted)

    def __post_init__(self) -> None:
        self.score = float_or_none(self.score)


@dataclass
class AssessmentDetail:
    """The assessment screen: the assessment and the learner's attempts."""

    assessment: Assessment
    course: Ref | None
    lesson: Ref | None
    attempts: list[Attempt]
    best_score: float | None
    open_attempt: Attempt | None


@dataclass
class Streak:
    """The learner's streak: current, longest, and whether today already counts."""

    current: int = 0
    longest: int = 0
    last_activity_date: date | None = None
    streak_type: str = "daily"
    today: date | None = None
    active_today: bool = False

    def __post_init__(self) -> None:
        self.last_activity_date = _parse_date(self.last_activity_date)
        self.today = _parse_date(self.today)
        self.active_today = bool(self.active_today)


@dataclass
class Achievement:
    """An achievement the learner earned, with its points."""

    id: str
    title: str
    type: str = ""
    description: str | None = None
    points: int = 0
    earned_at: datetime | None = None

    def __post_init__(self) -> None:
        self.earned_at = parse_datetime(self.earned_at)


@dataclass
class DayActivity:
    """What the learner did on one day (the heatmap's cells)."""

    date: date
    lessons: int = 0
    assessments: int = 0
    seconds: int = 0

    def __post_init__(self) -> None:
        self.date = _parse_date(self.date)  # type: ignore[assignment]
        self.lessons, self.assessments = int(self.lessons), int(self.assessments)
        self.seconds = int(self.seconds)


@dataclass
class EnrolledCourse:
    """A course on the dashboard: progress and the next lesson."""

    course_id: str
    title: str
    status: str
    progress: float = 0.0
    slug: str | None = None
    last_accessed: str | None = None
    completed_at: str | None = None
    next_lesson: Ref | None = None

    def __post_init__(self) -> None:
        self.progress = float(self.progress or 0)
        if isinstance(self.next_lesson, dict):
            self.next_lesson = build(Ref, self.next_lesson)


@dataclass
class OpenAssessment:
    """An assessment attempt the learner started and has not submitted."""

    id: str
    title: str
    time_limit: int | None = None
    course_id: str | None = None
    course_title: str | None = None
    started_at: str | None = None


@dataclass
class Profile:
    """The learner's profile."""

    id: str
    email: str | None = None
    full_name: str | None = None
    avatar_url: str | None = None
    bio: str | None = None
    learning_goals: list[str] = field(default_factory=list)
    preferred_language: str = "en"
    timezone: str = "UTC"
    created_at: str | None = None


@dataclass
class Dashboard:
    """The home screen's data, in one round trip."""

    profile: Profile
    streak: Streak
    enrollments: list[EnrolledCourse]
    achievements: list[Achievement]
    points: int
    unread_notifications: int
    activity: list[DayActivity]


@dataclass
class ProfilePage:
    """The profile screen: the profile and every achievement."""

    profile: Profile
    streak: Streak
    points: int
    achievements: list[Achievement]


@dataclass
class Notification:
    """One notification, with the action it opens."""

    id: str
    title: str
    message: str | None = None
    type: str = "info"
    is_read: bool = False
    action_url: str | None = None
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        self.created_at = parse_datetime(self.created_at)


@dataclass
class Notifications:
    """The notifications screen: unread count and the latest notifications."""

    unread: int
    notifications: list[Notification]


@dataclass
class ChatEntry:
    """One question to the tutor and its answer."""

    id: str
    question: str
    answer: str | None = None
    message_type: str = "text"
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        self.created_at = parse_datetime(self.created_at)


@dataclass
class Passage:
    """A lesson passage found by search, for the tutor's context."""

    lesson_id: str
    title: str
    course_id: str
    course_title: str
    excerpt: str
    rank: float = 0.0


@dataclass
class WriteResult:
    """What a write changed, as the database reports it."""

    data: dict[str, Any]
    achievements: list[Achievement]
    replayed: bool = False

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


def write_result(raw: dict[str, Any]) -> WriteResult:
    raw = dict(raw or {})
    achievements = [build(Achievement, a) for a in raw.pop("achievements", []) or []]
    replayed = bool(raw.pop("replayed", False))
    return WriteResult(data=raw, achievements=achievements, replayed=replayed)


def new_event_id() -> str:
    return str(uuid.uuid4())


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
