"""Authoring through the API: publish a course folder as its author, export a course
back to a folder, the studio's course list and analytics, the operators' report (its
text: services.authoring.report).

Every call goes through `Backend.call`, so RLS and the SQL functions decide: only
a course's author can publish over it, export it or read its analytics
(supabase/migrations/20261124000800_authoring.sql, …0900_studio.sql).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from services.authoring.course import validate
from services.authoring.model import ContentError, CourseSource
from services.authoring.writing import write_course
from services.data.api import Caller, build, float_or_none
from services.errors import NotSignedIn
from services.text import terminal_safe_json


@dataclass
class PublishResult:
    course_id: str
    slug: str
    created: bool
    changed: int
    published: bool

    @property
    def summary(self) -> str:
        state = "published" if self.published else "saved as a draft"
        if self.created:
            return f"{self.slug}: created and {state}"
        if not self.changed:
            return f"{self.slug}: no changes"
        rows = "row" if self.changed == 1 else "rows"
        return f"{self.slug}: {state}, {self.changed} {rows} changed"


@dataclass
class StudioCourse:
    id: str
    title: str
    slug: str | None = None
    short_description: str | None = None
    difficulty_level: str = "Beginner"
    is_published: bool = False
    published_at: str | None = None
    updated_at: str | None = None
    lesson_count: int = 0
    unpublished_lessons: int = 0
    assessment_count: int = 0
    rating_avg: float | None = None
    rating_count: int = 0

    def __post_init__(self) -> None:
        self.rating_avg = float_or_none(self.rating_avg)


# Per-item figures fewer than 3 learners stand behind come back as None with
# `withheld` set: one learner's score must not be readable from an average.


@dataclass
class Enrollments:
    total: int = 0
    active: int | None = 0
    paused: int | None = 0
    completed: int | None = 0
    dropped: int | None = 0
    average_progress: float | None = None
    withheld: bool = False

    def __post_init__(self) -> None:
        self.average_progress = float_or_none(self.average_progress)


@dataclass
class WeekCount:
    week: date
    count: int = 0

    def __post_init__(self) -> None:
        self.week = date.fromisoformat(str(self.week)[:10])


@dataclass
class FunnelStep:
    lesson_id: str
    title: str
    slug: str | None = None
    order_index: int = 0
    started: int | None = 0
    completed: int | None = 0
    rate: float | None = None  # completed ÷ enrollments, in percent
    withheld: bool = False

    def __post_init__(self) -> None:
        self.rate = float_or_none(self.rate)


@dataclass
class AssessmentStats:
    assessment_id: str
    title: str
    slug: str | None = None
    attempts: int = 0
    learners: int = 0
    passed: int | None = 0
    pass_rate: float | None = None  # submitted attempts scoring ≥ 70, in percent
    average_score: float | None = None
    withheld: bool = False

    def __post_init__(self) -> None:
        self.pass_rate = float_or_none(self.pass_rate)
        self.average_score = float_or_none(self.average_score)


@dataclass
class RatingStats:
    average: float | None = None
    count: int = 0
    distribution: list[int] | None = field(default_factory=lambda: [0] * 5)  # 1 to 5 stars
    withheld: bool = False

    def __post_init__(self) -> None:
        self.average = float_or_none(self.average)


@dataclass
class FeedbackEntry:
    text: str
    rating: int | None = None
    type: str = "general"
    about: str | None = None
    at: str | None = None


@dataclass
class TutorUsage:
    questions: int = 0
    learners: int = 0
    by_week: list[WeekCount] = field(default_factory=list)


@dataclass
class CourseAnalytics:
    course: StudioCourse
    enrollments: Enrollments
    completion_rate: float | None
    enrollments_by_week: list[WeekCount]
    funnel: list[FunnelStep]
    assessments: list[AssessmentStats]
    rating: RatingStats
    feedback: list[FeedbackEntry]
    tutor: TutorUsage


class AuthoringAPI:
    """Typed authoring calls over a Backend (the same one LearningAPI uses)."""

    def __init__(self, backend: Caller):
        self.backend = backend

    async def _call(self, fn: str, **args: Any) -> Any:
        """The answer made `terminal_safe` (learners' feedback, other authors' names)."""
        return terminal_safe_json(await self.backend.call(fn, **args))

    async def publish(self, course: CourseSource, *, draft: bool = False) -> PublishResult:
        raw = await self._call("publish_course", p_course=course.payload(), p_draft=draft)
        grading = await self.backend.call(
            "set_course_grading", p_course_id=raw["course_id"], p_grading=course.grading
        )
        return PublishResult(
            course_id=str(raw["course_id"]),
            slug=raw["slug"],
            created=bool(raw["created"]),
            changed=int(raw["changed"]) + int(bool(grading.get("changed"))),
            published=bool(raw["published"]),
        )

    async def set_published(self, course_id: str, published: bool) -> dict[str, Any]:
        return await self._call(
            "set_course_published", p_course_id=course_id, p_published=published
        )

    async def export(self, slug: str) -> dict[str, Any]:
        # as published, to be written back to files: not for a terminal, not cleaned
        return await self.backend.call("export_course", p_slug=slug)

    async def my_courses(self) -> list[StudioCourse]:
        return [build(StudioCourse, x) for x in await self._call("studio_courses")]

    async def analytics(self, course_id: str) -> CourseAnalytics:
        raw = await self._call("course_analytics", p_course_id=course_id)
        tutor = raw.get("tutor") or {}
        return CourseAnalytics(
            course=build(StudioCourse, raw["course"]),
            enrollments=build(Enrollments, raw["enrollments"]),
            completion_rate=float_or_none(raw.get("completion_rate")),
            enrollments_by_week=[build(WeekCount, x) for x in raw["enrollments_by_week"]],
            funnel=[build(FunnelStep, x) for x in raw["funnel"]],
            assessments=[build(AssessmentStats, x) for x in raw["assessments"]],
            rating=build(RatingStats, raw["rating"]),
            feedback=[build(FeedbackEntry, x) for x in raw["feedback"]],
            tutor=TutorUsage(
                questions=int(tutor.get("questions") or 0),
                learners=int(tutor.get("learners") or 0),
                by_week=[build(WeekCount, x) for x in tutor.get("by_week") or []],
            ),
        )

    async def admin_report(self, days: int = 30) -> dict[str, Any]:
        return await self._call("admin_report", p_days=days)


# ---------------------------------------------------------------------------
# What `learn course publish` and `learn course export` do
# ---------------------------------------------------------------------------


def require_author(backend: Any) -> None:
    """NotSignedIn unless someone is signed in (the database decides who is an author)."""
    if getattr(backend, "current_user", None) is None:
        raise NotSignedIn(
            "Sign in as the course's author first: `learn login` (or start "
            "`learn` once to create your local profile)."
        )


async def publish_folder(
    backend: Any, directory: Path | str, *, draft: bool = False, run_code: bool = True
) -> PublishResult:
    """Validate the folder (refusing an invalid course: ContentError lists why), then
    publish it as the signed-in author."""
    course = validate(directory, run_code=run_code)
    if course.errors:
        raise ContentError(course.errors)
    await backend.connect()
    require_author(backend)
    return await AuthoringAPI(backend).publish(course, draft=draft)


def export_target(slug: str, directory: Path | str) -> Path:
    """Where `learn course export SLUG DIR` writes: DIR itself when it is named after the
    course (the folder name is the slug), else DIR/SLUG."""
    directory = Path(directory)
    return directory if directory.name == slug else directory / slug


async def export_folder(
    backend: Any, slug: str, directory: Path | str, *, force: bool = False
) -> Path:
    """Write the author's course `slug` (its published lessons and assessments, with the
    reference solutions) as a course folder; returns the folder."""
    await backend.connect()
    require_author(backend)
    data = await AuthoringAPI(backend).export(slug)
    target = export_target(data["slug"], directory)
    write_course(data, target, force=force)
    return target
