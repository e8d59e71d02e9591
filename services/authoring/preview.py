"""FolderBackend: a course folder as the Backend, for `learn course preview DIR`.

It answers the read functions the course, lesson and assessment screens call
(course_detail, lesson_detail, assessment_detail, navigation, catalog, ...) with
the same JSON shapes as the SQL API (supabase/migrations/…_api.sql), built from
`load_course(dir)`: the screens render a folder exactly as they render a published
course, as a learner who has not enrolled yet sees it (hidden tests by their names
only: `learner_test_cases`). tests/services/test_preview_shapes.py checks every answer's
keys and JSON types against the SQL's for the same course. There is no database and no
sign-in. Writes are refused with `PreviewReadOnly` ("preview: nothing is saved"),
except the two a learner never asks for: the reading-time ticks of the lesson reader
(ignored) and starting an assessment's attempt (a clock kept here, so the countdown
shows as learners see it).

`reload()` reads the folder again; ids are derived from the slugs, so a screen that
shows a lesson keeps showing it after the file changes.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from services.authoring.course import load_course
from services.authoring.model import (
    AssessmentSource,
    CourseSource,
    LessonSource,
    Problem,
    assessment_fields,
)
from services.data.backend import CurrentUser, check_identifier
from services.errors import LearnError, NotFound

_NAMESPACE = uuid.UUID("6f1c1c52-5a8e-4c8e-9f0e-2b7e8f0c0de5")
PREVIEW_USER = CurrentUser(id=str(uuid.uuid5(_NAMESPACE, "preview")), email=None)

WRITES = frozenset(
    {
        "enroll",
        "set_enrollment_status",
        "record_lesson_progress",
        "start_attempt",
        "submit_attempt",
        "log_chat",
        "log_ai_interaction",
        "mark_notifications_read",
        "submit_feedback",
        "update_profile",
        "publish_course",
        "set_course_published",
        "set_course_grading",
    }
)


class PreviewReadOnly(LearnError):
    default = "preview: nothing is saved"


def preview_id(course_slug: str, kind: str, slug: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{course_slug}/{kind}/{slug}"))


class FolderBackend:
    """The Backend protocol over a course folder (read-only)."""

    kind = "preview"

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)
        self._course: CourseSource | None = None
        self.course_id = ""
        self._attempts: dict[str, dict[str, Any]] = {}

    # -- the folder ---------------------------------------------------------------

    def reload(self) -> list[Problem]:
        """Read the folder again (ContentError if it is no longer a course folder);
        returns its problems."""
        c = self._course = load_course(self.directory)
        self.course_id = preview_id(c.slug, "course", c.slug)
        self._lessons = {preview_id(c.slug, "lesson", x.slug): x for x in c.lessons}
        self._lesson_ids = {x.slug: i for i, x in self._lessons.items()}
        self._assessments = {preview_id(c.slug, "assessment", a.slug): a for a in c.assessments}
        return c.problems

    @property
    def course(self) -> CourseSource:
        """The course as last read; the calls come after `connect()` read it."""
        if self._course is None:
            raise RuntimeError("FolderBackend: call connect() before calling functions")
        return self._course

    @property
    def problems(self) -> list[Problem]:
        return self._course.problems if self._course else []

    # -- the Backend protocol -----------------------------------------------------

    @property
    def current_user(self) -> CurrentUser | None:
        return PREVIEW_USER

    def describe(self) -> str:
        return f"preview of {self.directory}"

    async def connect(self) -> None:
        if self._course is None:
            self.reload()

    async def close(self) -> None:
        return None

    async def call(self, fn: str, **args: Any) -> Any:
        check_identifier(fn, "function")
        await self.connect()
        if fn == "record_lesson_progress" and args.get("p_completed") is None:
            # reading time: nothing to save
            return {
                "progress": None,
                "enrollment": None,
                "streak": None,
                "achievements": [],
                "replayed": False,
            }
        if fn == "start_attempt":
            return {
                "attempt": self._attempt(args["p_assessment_id"]),
                "achievements": [],
                "replayed": False,
            }
        if fn in WRITES:
            raise PreviewReadOnly()
        handler = getattr(self, f"_{fn}", None)
        if handler is None:
            raise NotFound(
                f"preview: {fn.replace('_', ' ')} is not part of a course "
                "preview (it shows the course, its lessons and assessments)"
            )
        return handler(**args)

    async def sign_up(self, *_args: Any, **_kwargs: Any) -> CurrentUser:
        return PREVIEW_USER

    async def sign_in(self, *_args: Any, **_kwargs: Any) -> CurrentUser:
        return PREVIEW_USER

    async def sign_in_with_otp(self, email: str) -> None:
        raise PreviewReadOnly("preview: there is nothing to sign in to")

    async def verify_otp(self, email: str, token: str) -> CurrentUser:
        return PREVIEW_USER

    async def reset_password(self, email: str) -> None:
        raise PreviewReadOnly("preview: there is nothing to sign in to")

    async def sign_out(self) -> None:
        return None

    # -- JSON as the SQL API shapes it ----------------------------------------------

    def _course_json(self) -> dict[str, Any]:
        c = self.course
        return {
            "id": self.course_id,
            "slug": c.slug,
            "title": c.title,
            "description": c.description,
            "short_description": c.short_description,
            "duration": c.duration,
            "difficulty_level": c.difficulty_level,
            "estimated_hours": c.estimated_hours,
            "tags": list(c.tags),
            "thumbnail_url": c.thumbnail_url,
            "is_published": True,
            "archived": False,
            "is_mine": False,
            "rating_avg": None,
            "rating_count": 0,
        }

    def _ref(self) -> dict[str, Any]:
        return {"id": self.course_id, "slug": self.course.slug, "title": self.course.title}

    def _lesson_of(self, a: AssessmentSource) -> str | None:
        return self._lesson_ids.get(a.lesson) if a.lesson else None

    def _ordered_assessments(self) -> list[tuple[str, AssessmentSource]]:
        def key(item: tuple[str, AssessmentSource]) -> tuple:
            lesson_id = self._lesson_of(item[1])
            order = self._lessons[lesson_id].order_index if lesson_id else None
            return (order is None, order or 0, item[1].title)

        return sorted(self._assessments.items(), key=key)

    def _course_detail(
        self, p_course_id: str | None = None, p_slug: str | None = None
    ) -> dict[str, Any]:
        if p_course_id not in (None, self.course_id) or (
            p_course_id is None and p_slug != self.course.slug
        ):
            raise NotFound("course not found")
        return {
            "course": self._course_json(),
            "enrollment": None,
            "lessons": [
                {
                    "id": i,
                    "slug": x.slug,
                    "title": x.title,
                    "duration": x.duration,
                    "difficulty": x.difficulty,
                    "order_index": x.order_index,
                    "is_published": True,
                    "completed": False,
                    "time_spent": 0,
                }
                for i, x in self._lessons.items()
            ],
            "assessments": [
                {
                    "id": i,
                    "slug": a.slug,
                    "title": a.title,
                    "description": a.description,
                    "difficulty": a.difficulty,
                    "time_limit": a.time_limit,
                    "lesson_id": self._lesson_of(a),
                    "language": a.language,
                    "is_published": True,
                    "best_score": None,
                    "attempts": 0,
                }
                for i, a in self._ordered_assessments()
            ],
            "my_rating": None,
        }

    def _lesson_detail(self, p_lesson_id: str) -> dict[str, Any]:
        lesson: LessonSource | None = self._lessons.get(str(p_lesson_id))
        if lesson is None:
            raise NotFound("lesson not found: its file was removed or no longer loads")
        ids = list(self._lessons)
        at = ids.index(str(p_lesson_id))

        def ref(index: int) -> dict[str, Any] | None:
            if 0 <= index < len(ids):
                return {"id": ids[index], "title": self._lessons[ids[index]].title}
            return None

        return {
            "lesson": {
                "id": str(p_lesson_id),
                "course_id": self.course_id,
                "slug": lesson.slug,
                "title": lesson.title,
                "content": lesson.content,
                "explanation": lesson.explanation,
                "code_example": lesson.code_example,
                "key_points": list(lesson.key_points),
                "duration": lesson.duration,
                "difficulty": lesson.difficulty,
                "order_index": lesson.order_index,
                "is_published": True,
            },
            "course": self._ref(),
            "previous": ref(at - 1),
            "next": ref(at + 1),
            "progress": None,
            "enrolled": False,
            "assessments": sorted(
                (
                    {"id": i, "title": a.title}
                    for i, a in self._assessments.items()
                    if self._lesson_of(a) == str(p_lesson_id)
                ),
                key=lambda x: x["title"],
            ),
        }

    def _assessment_detail(self, p_assessment_id: str) -> dict[str, Any]:
        a = self._assessments.get(str(p_assessment_id))
        if a is None:
            raise NotFound("assessment not found: its file was removed or no longer loads")
        lesson_id = self._lesson_of(a)
        return {
            "assessment": {
                **assessment_fields(a),
                "id": str(p_assessment_id),
                "test_cases": learner_test_cases(a.to_test_cases_json()),
                "expected_output": None,
                "course_id": self.course_id,
                "lesson_id": lesson_id,
                "is_published": True,
                "grading": self.course.grading,
            },
            "course": self._ref(),
            "lesson": {"id": lesson_id, "title": self._lessons[lesson_id].title}
            if lesson_id
            else None,
            "attempts": [],
            "best_score": None,
            "open_attempt": None,
        }

    def _attempt(self, assessment_id: str) -> dict[str, Any]:
        """A clock for the countdown; kept in memory only."""
        if assessment_id not in self._attempts:
            self._attempts[assessment_id] = {
                "id": str(uuid.uuid4()),
                "status": "in-progress",
                "submitted_code": None,
                "started_at": datetime.now(timezone.utc).isoformat(),
            }
        return self._attempts[assessment_id]

    def _navigation(self) -> dict[str, Any]:
        return {
            "courses": [{"id": self.course_id, "title": self.course.title}],
            "lessons": [
                {"id": i, "title": x.title, "course_title": self.course.title}
                for i, x in self._lessons.items()
            ],
            "assessments": [
                {"id": i, "title": x.title, "course_title": self.course.title}
                for i, x in self._assessments.items()
            ],
        }

    def _catalog(self, **_args: Any) -> dict[str, Any]:
        course = {
            **self._course_json(),
            "lesson_count": len(self._lessons),
            "assessment_count": len(self._assessments),
            "enrolled": False,
            "status": None,
            "progress": None,
        }
        return {"total": 1, "tags": sorted(self.course.tags), "courses": [course]}

    def _chat_history_for(self, **_args: Any) -> list[Any]:
        return []

    def _search_lessons(
        self, p_query: str, p_course_id: str | None = None, p_limit: int = 3
    ) -> list[dict[str, Any]]:
        """The tutor's offline answer: lessons holding the question's words, best first."""
        words = {w for w in re.findall(r"\w{3,}", (p_query or "").lower())}
        scored = []
        for lesson_id, x in self._lessons.items():
            text = " ".join(filter(None, [x.title, x.content, x.explanation])).lower()
            score = sum(text.count(w) for w in words)
            if score:
                scored.append((score, lesson_id, x))
        scored.sort(key=lambda s: -s[0])
        return [
            {
                "lesson_id": i,
                "title": x.title,
                "course_id": self.course_id,
                "course_title": self.course.title,
                "excerpt": x.content[:300],
                "rank": float(score),
            }
            for score, i, x in scored[: max(1, p_limit or 3)]
        ]


def learner_test_cases(tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tests as learners are sent them: a hidden test's name only, as the database
    keeps it in the public row (its inputs and expectations stay with the grader;
    `revision` 1, that of a first publish)."""
    return [
        {"name": t.get("name"), "hidden": True, "revision": 1} if t.get("hidden") is True else t
        for t in tests
    ]


def folder_snapshot(directory: Path | str) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime, size) of every file in the folder: changes when a file does."""
    found = []
    for path in sorted(Path(directory).rglob("*")):
        try:
            if path.is_file() and not path.name.startswith("."):
                stat = path.stat()
                found.append((str(path), stat.st_mtime_ns, stat.st_size))
        except OSError:
            continue
    return tuple(found)
