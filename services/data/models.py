"""The data shapes: one dataclass per part of a screen-shaped SQL function's JSON answer.

    build(cls, data)          a dataclass from a JSON object; build_optional for a JSON null
    strict_shapes()           whether `build` raises on a mismatch (LEARN_STRICT_SHAPES=1)
    ShapeMismatch             what it raises then
    CourseSummary, Catalog, Enrollment, LessonSummary, AssessmentSummary, Rating,
    CourseDetail, Lesson, Ref, LessonProgress, LessonDetail, Assessment, Attempt,
    AssessmentDetail, Streak, Achievement, DayActivity, EnrolledCourse, OpenAssessment,
    Profile, Dashboard, ProfilePage, Notification, Notifications, ChatEntry, Passage,
    WriteResult (write_result), new_event_id, parse_datetime, float_or_none

The keys of each answer are the SQL's (supabase/migrations); `build` compares them with
the dataclass's fields. The tests set LEARN_STRICT_SHAPES=1 (tests/conftest.py): a key
the class does not know, or a required field the answer lacks, raises ShapeMismatch.
Elsewhere an unknown key is dropped and logged once per class and key set, so a newer
server can add a key without breaking an older client.

Over 400 lines because it is a catalogue of ~26 small classes, one per answer shape,
read side by side with the SQL; split by screen they would repeat the shared ones.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime
from typing import Any, TypeVar

log = logging.getLogger("learn.api")

T = TypeVar("T")

STRICT_ENV = "LEARN_STRICT_SHAPES"


class ShapeMismatch(ValueError):
    """A JSON answer whose keys do not match its dataclass (raised under strict_shapes)."""


def strict_shapes() -> bool:
    """True when `build` raises on a mismatch: LEARN_STRICT_SHAPES=1 (set by the tests)."""
    return os.environ.get(STRICT_ENV, "") == "1"


_logged: set[tuple[str, frozenset[str]]] = set()


def parse_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _parse_date(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def build(cls: type[T], data: Mapping[str, Any]) -> T:
    """A dataclass from a JSON object. Under strict_shapes() a key the class does not
    know, or a required field that is missing, raises ShapeMismatch; otherwise unknown
    keys are dropped (logged once) and a missing required field raises TypeError."""
    known = fields(cls)  # type: ignore[arg-type]
    names = {f.name for f in known}
    unknown = frozenset(k for k in data if k not in names)
    if strict_shapes():
        required = {
            f.name
            for f in known
            if f.init and f.default is MISSING and f.default_factory is MISSING
        }
        missing = sorted(required - set(data))
        if unknown or missing:
            raise ShapeMismatch(
                f"{cls.__name__}: unknown keys {sorted(unknown)}, missing keys {missing}"
            )
    elif unknown and (cls.__name__, unknown) not in _logged:
        _logged.add((cls.__name__, unknown))
        log.warning("%s: ignoring unknown keys %s", cls.__name__, sorted(unknown))
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
    archived: bool = False  # its author archived it: listed for them and its learners only
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
