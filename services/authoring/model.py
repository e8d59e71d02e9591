"""What a course folder holds once read: the dataclasses, the problems found, the limits.

Problem, ContentError            a problem with its file and line; the error that carries them
LessonSource, AssessmentSource,  a lesson file, an assessment file, a whole course folder
CourseSource                     (`CourseSource.payload()` is what `publish_course` takes)
assessment_payload               one assessment as `publish_course` and the preview take it
DIFFICULTIES, SLUG, GRADINGS, PASS_SCORE, MAX_LEN, MAX_* and the *_KEYS tuples: the
format's vocabulary and the database's limits
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.text import terminal_safe
from services.words import plural

DIFFICULTIES = ("Beginner", "Intermediate", "Advanced")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")

COURSE_KEYS = (
    "title",
    "description",
    "short_description",
    "duration",
    "difficulty_level",
    "estimated_hours",
    "tags",
    "thumbnail_url",
    "grading",
)
GRADINGS = ("verified", "self")  # verified: a grader runs every test; self: the learner's score
LESSON_KEYS = ("title", "duration", "difficulty", "key_points")
ASSESSMENT_KEYS = (
    "title",
    "description",
    "difficulty",
    "time_limit",
    "instructions",
    "starter_code",
    "language",
    "entry",
    "limits",
    "tests",
    "solution",
    "lesson",
)
PASS_SCORE = 70  # what the studio and the operators' views count as passing

# The database's limits (CHECK constraints in supabase/migrations), checked here first
# so that publishing never fails on them.
MAX_LEN = {
    "course.title": 200,
    "course.description": 20000,
    "course.short_description": 300,
    "course.duration": 50,
    "course.thumbnail_url": 2048,
    "lesson.title": 200,
    "lesson.duration": 50,
    "lesson.content": 200000,
    "lesson.explanation": 100000,
    "lesson.code_example": 50000,
    "assessment.title": 200,
    "assessment.description": 2000,
    "assessment.instructions": 50000,
    "assessment.starter_code": 50000,
    "assessment.solution": 100000,
}
MAX_TAGS, MAX_TAG_CHARS = 20, 500
MAX_KEY_POINTS, MAX_KEY_POINT_CHARS = 20, 4000
MAX_ORDER = 10000
MAX_TIME_LIMIT = 600


@dataclass
class Problem:
    path: Path
    line: int
    message: str
    warning: bool = False  # shown, but does not make the course invalid

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        # file names and echoed keys come from the folder's author
        return terminal_safe(f"{self.path}:{self.line}: {kind}{self.message}")


class ContentError(Exception):
    """A course folder has problems; `problems` lists each with file and line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(
            str(problems[0])
            if len(problems) == 1
            else f"{plural(len(problems), 'problem')}, first: {problems[0]}"
        )


@dataclass
class LessonSource:
    slug: str
    order_index: int
    title: str
    content: str
    explanation: str | None
    code_example: str | None
    key_points: list[str]
    duration: str | None
    difficulty: str | None
    path: Path

    @property
    def stem(self) -> str:
        """The file's name without .md, e.g. 03-loops (what an assessment's `lesson` names)."""
        return self.path.stem


@dataclass
class AssessmentSource:
    """An assessment file: the runner's `Assessment` (`spec`) and what the course folder
    adds: its slug (the file name), the lesson it belongs to and where it is. Reads the
    spec's fields through (`a.title`, `a.tests`, ...)."""

    slug: str
    path: Path
    spec: Any  # services.runner.spec.Assessment
    lesson: str | None = None  # the lesson's slug

    def __getattr__(self, name: str) -> Any:
        if name == "spec":  # not set yet (copying, unpickling)
            raise AttributeError(name)
        return getattr(self.spec, name)


@dataclass
class CourseSource:
    slug: str
    title: str
    description: str | None
    short_description: str | None
    duration: str | None
    difficulty_level: str
    estimated_hours: float | None
    tags: list[str]
    lessons: list[LessonSource]
    assessments: list[AssessmentSource]
    path: Path
    thumbnail_url: str | None = None
    problems: list[Problem] = field(default_factory=list)
    grading: str = "verified"

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    def payload(self) -> dict[str, Any]:
        """The JSON `publish_course` takes."""
        return {
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "short_description": self.short_description,
            "duration": self.duration,
            "difficulty_level": self.difficulty_level,
            "estimated_hours": self.estimated_hours,
            "tags": self.tags,
            "thumbnail_url": self.thumbnail_url,
            "grading": self.grading,
            "lessons": [
                {
                    "slug": x.slug,
                    "title": x.title,
                    "content": x.content,
                    "explanation": x.explanation,
                    "code_example": x.code_example,
                    "key_points": x.key_points,
                    "duration": x.duration,
                    "difficulty": x.difficulty,
                    "order_index": x.order_index,
                }
                for x in self.lessons
            ],
            "assessments": [assessment_payload(a) for a in self.assessments],
        }


def assessment_fields(a: AssessmentSource) -> dict[str, Any]:
    """What an assessment file says of itself, as the database stores it: the fields both
    `publish_course` (assessment_payload) and the preview's `assessment_detail` carry."""
    return {
        "slug": a.slug,
        "title": a.title,
        "description": a.description,
        "difficulty": a.difficulty,
        "time_limit": a.time_limit,
        "instructions": a.instructions,
        "starter_code": a.starter_code,
        "test_cases": a.to_test_cases_json(),
        "language": a.language,
        "entry": a.entry,
        "limits": a.limits.to_json(),
    }


def assessment_payload(a: AssessmentSource) -> dict[str, Any]:
    """One assessment as `publish_course` takes it: its fields, its lesson and solution."""
    return {**assessment_fields(a), "lesson_slug": a.lesson, "solution": a.solution}
