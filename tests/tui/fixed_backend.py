"""Fixed screen data for snapshot tests: the JSON each screen-shaped SQL function
returns, with fixed ids and dates so that screenshots are stable. Not a database
stand-in: `test_fixed_data_has_the_shape_the_sql_returns` checks every payload
against what the real functions return, so this cannot drift from the SQL."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from services.data.backend import CurrentUser

TODAY = date(2026, 11, 24)
COURSE = "11111111-1111-4111-8111-111111111111"
LESSONS = [f"22222222-2222-4222-8222-22222222220{i}" for i in range(4)]
ASSESSMENT = "33333333-3333-4333-8333-333333333333"
USER = "44444444-4444-4444-8444-444444444444"

_course = {
    "id": COURSE,
    "slug": "python-foundations",
    "title": "Python Foundations",
    "short_description": "Learn Python from scratch: values, strings, collections, "
    "control flow and functions.",
    "description": "Python Foundations is a first course in programming with Python 3.\n\n"
    "Every lesson pairs a short explanation with a program you can run.",
    "duration": "4 weeks",
    "difficulty_level": "Beginner",
    "estimated_hours": 14,
    "tags": ["python", "beginner"],
    "thumbnail_url": None,
    "is_published": True,
    "archived": False,
    "is_mine": False,
    "rating_avg": 4.5,
    "rating_count": 12,
}
_titles = ["Values and types", "Variables and names", "Working with strings", "Functions"]


def _activity() -> list[dict[str, Any]]:
    days = []
    for back in range(0, 365):
        day = TODAY - timedelta(days=back)
        n = (back * 7919) % 11
        if n > 5:
            days.append(
                {
                    "date": day.isoformat(),
                    "lessons": n - 5,
                    "assessments": n % 2,
                    "seconds": 600 * (n - 4),
                }
            )
    return sorted(days, key=lambda d: d["date"])


ACHIEVEMENTS = [
    {
        "id": "a1",
        "type": "streak",
        "title": "3-day streak",
        "description": "Learned on 3 days in a row.",
        "points": 15,
        "earned_at": "2026-11-22T18:00:00+00:00",
    },
    {
        "id": "a2",
        "type": "first_lesson",
        "title": "First lesson",
        "description": "Completed your first lesson.",
        "points": 10,
        "earned_at": "2026-11-20T09:30:00+00:00",
    },
]

DATA: dict[str, Any] = {
    "dashboard": {
        "profile": {
            "id": USER,
            "email": "ada@example.com",
            "full_name": "Ada Lovelace",
            "timezone": "Europe/London",
            "preferred_language": "en",
        },
        "streak": {
            "current": 3,
            "longest": 8,
            "last_activity_date": TODAY.isoformat(),
            "streak_type": "daily",
            "today": TODAY.isoformat(),
            "active_today": True,
        },
        "enrollments": [
            {
                "course_id": COURSE,
                "slug": "python-foundations",
                "title": "Python Foundations",
                "status": "active",
                "progress": 50.0,
                "last_accessed": "2026-11-24T10:00:00+00:00",
                "completed_at": None,
                "next_lesson": {"id": LESSONS[2], "title": _titles[2]},
            },
            {
                "course_id": "c2",
                "slug": "dsa-python",
                "title": "Data Structures and Algorithms in Python",
                "status": "paused",
                "progress": 12.5,
                "last_accessed": None,
                "completed_at": None,
                "next_lesson": {"id": "l9", "title": "Arrays and two pointers"},
            },
        ],
        "achievements": ACHIEVEMENTS,
        "points": 25,
        "unread_notifications": 2,
        "activity": _activity(),
    },
    "catalog": {
        "total": 3,
        "tags": ["algorithms", "beginner", "data", "python"],
        "courses": [
            {
                **_course,
                "lesson_count": 4,
                "assessment_count": 1,
                "enrolled": True,
                "status": "active",
                "progress": 50.0,
            },
            {
                **_course,
                "id": "c2",
                "slug": "dsa-python",
                "title": "Data Structures and Algorithms in Python",
                "short_description": "Big-O, hashing, stacks, recursion, sorting and trees.",
                "difficulty_level": "Intermediate",
                "duration": "5 weeks",
                "estimated_hours": 20,
                "tags": ["python", "algorithms"],
                "rating_avg": None,
                "rating_count": 0,
                "lesson_count": 10,
                "assessment_count": 8,
                "enrolled": False,
                "status": None,
                "progress": None,
            },
            {
                **_course,
                "id": "c3",
                "slug": "data-python",
                "title": "Working with Data in Python",
                "short_description": "Read, clean, store and summarise real data.",
                "difficulty_level": "Intermediate",
                "duration": "4 weeks",
                "estimated_hours": 16,
                "tags": ["python", "data"],
                "rating_avg": 3.8,
                "rating_count": 5,
                "lesson_count": 9,
                "assessment_count": 7,
                "enrolled": False,
                "status": None,
                "progress": None,
            },
        ],
    },
    "course_detail": {
        "course": _course,
        "enrollment": {
            "status": "active",
            "progress": 50.0,
            "enrollment_date": "2026-11-18T08:00:00+00:00",
            "last_accessed": "2026-11-24T10:00:00+00:00",
            "completed_at": None,
        },
        "lessons": [
            {
                "id": LESSONS[i],
                "slug": f"l{i}",
                "title": t,
                "duration": "20 min",
                "difficulty": "Beginner",
                "order_index": i + 1,
                "is_published": True,
                "completed": i < 2,
                "time_spent": 900 if i < 2 else 0,
            }
            for i, t in enumerate(_titles)
        ],
        "assessments": [
            {
                "id": ASSESSMENT,
                "slug": "make-slug",
                "title": "Make a URL slug",
                "description": "Turn a title into a slug.",
                "difficulty": "Beginner",
                "time_limit": None,
                "lesson_id": LESSONS[2],
                "language": "python",
                "is_published": True,
                "best_score": 77.78,
                "attempts": 2,
            }
        ],
        "my_rating": {"rating": 5, "feedback_text": "Clear and friendly."},
    },
    "lesson_detail": {
        "lesson": {
            "id": LESSONS[2],
            "course_id": COURSE,
            "slug": "l2",
            "title": _titles[2],
            "content": "Strings are **immutable** sequences of characters.\n\n"
            "## Slicing\n\n`text[1:3]` gives the characters at 1 and 2.",
            "explanation": "Because strings never change, every method returns a *new* string.",
            "code_example": 'name = "Ada"\nprint(name.upper())\nprint(name[::-1])',
            "key_points": ["Strings are immutable", "Slices never fail"],
            "duration": "30 min",
            "difficulty": "Beginner",
            "order_index": 3,
            "is_published": True,
        },
        "course": {"id": COURSE, "slug": "python-foundations", "title": "Python Foundations"},
        "previous": {"id": LESSONS[1], "title": _titles[1]},
        "next": {"id": LESSONS[3], "title": _titles[3]},
        "progress": {
            "completed": False,
            "time_spent": 300,
            "last_position": 0,
            "completed_at": None,
        },
        "enrolled": True,
        "assessments": [{"id": ASSESSMENT, "title": "Make a URL slug"}],
    },
    "assessment_detail": {
        "assessment": {
            "id": ASSESSMENT,
            "slug": "make-slug",
            "title": "Make a URL slug",
            "description": "Turn a title into a slug.",
            "difficulty": "Beginner",
            "time_limit": None,
            "instructions": "Write `make_slug(title)` that lowercases the title "
            "and joins its words with hyphens.",
            "starter_code": "def make_slug(title: str) -> str:\n    ...\n",
            "test_cases": [{"name": "basic", "args": ["Hello World"], "expected": "hello-world"}],
            "expected_output": None,
            "language": "python",
            "entry": "make_slug",
            "limits": {"time_ms": 2000, "memory_mb": 256, "output_kb": 64},
            "course_id": COURSE,
            "lesson_id": LESSONS[2],
            "is_published": True,
            "grading": "verified",
        },
        "course": {"id": COURSE, "slug": "python-foundations", "title": "Python Foundations"},
        "lesson": {"id": LESSONS[2], "title": _titles[2]},
        "attempts": [
            {
                "id": "t1",
                "status": "completed",
                "score": 77.78,
                "grading": "verified",
                "started_at": "2026-11-23T10:00:00+00:00",
                "completed_at": "2026-11-23T10:12:00+00:00",
                "time_spent": 720,
            }
        ],
        "best_score": 77.78,
        "open_attempt": None,
    },
    "my_profile": {
        "profile": {
            "id": USER,
            "email": "ada@example.com",
            "full_name": "Ada Lovelace",
            "avatar_url": None,
            "bio": "Mathematician and writer.",
            "learning_goals": ["Finish Python Foundations", "Learn SQL"],
            "preferred_language": "en",
            "timezone": "Europe/London",
            "created_at": "2026-11-01T08:00:00+00:00",
        },
        "streak": {
            "current": 3,
            "longest": 8,
            "last_activity_date": TODAY.isoformat(),
            "streak_type": "daily",
            "today": TODAY.isoformat(),
            "active_today": True,
        },
        "points": 25,
        "achievements": ACHIEVEMENTS,
    },
    "notifications_list": {
        "unread": 2,
        "notifications": [
            {
                "id": "n1",
                "title": "Achievement unlocked: 3-day streak",
                "message": "Learned on 3 days in a row. +15 points.",
                "type": "achievement",
                "is_read": False,
                "action_url": "learn://achievements/a1",
                "created_at": "2026-11-22T18:00:00+00:00",
            },
            {
                "id": "n2",
                "title": "Achievement unlocked: First lesson",
                "message": "Completed your first lesson. +10 points.",
                "type": "achievement",
                "is_read": False,
                "action_url": "learn://achievements/a2",
                "created_at": "2026-11-20T09:30:00+00:00",
            },
            {
                "id": "n3",
                "title": "Welcome to learn",
                "message": "Start with the catalog.",
                "type": "info",
                "is_read": True,
                "action_url": None,
                "created_at": "2026-11-01T08:00:00+00:00",
            },
        ],
    },
    "resume_point": {
        "assessment": {
            "id": ASSESSMENT,
            "title": "Make a URL slug",
            "time_limit": None,
            "course_id": COURSE,
            "course_title": "Python Foundations",
            "started_at": "2026-11-24T09:50:00+00:00",
        }
    },
    "navigation": {
        "courses": [{"id": COURSE, "title": "Python Foundations"}],
        "lessons": [{"id": LESSONS[0], "title": _titles[0], "course_title": "Python Foundations"}],
        "assessments": [
            {"id": ASSESSMENT, "title": "Make a URL slug", "course_title": "Python Foundations"}
        ],
    },
}

_REVIEW_SUMMARY = {
    "total": 12,
    "due_now": 5,
    "due_today": 7,
    "next_due": "2026-11-24T15:00:00+00:00",
    "next_day_due": "2026-11-25T09:00:00+00:00",
    "next_day_count": 3,
    "reviewed_today": 2,
    "stale": 0,
}
_KEY_POINTS = [
    "Every value in Python has a type: int, float, str, bool, None and many more",
    "type() tells you what a value is; int(), float() and str() convert between types",
]


def _review_card(i: int, point: str) -> dict[str, Any]:
    return {
        "id": f"55555555-5555-4555-8555-55555555550{i}",
        "prompt": point,
        "key_point_index": i,
        "key_point_count": 5,
        "lesson_id": LESSONS[0],
        "lesson_title": _titles[0],
        "assessment_id": None,
        "assessment_title": None,
        "assessment_slug": None,
        "course_id": COURSE,
        "course_title": "Python Foundations",
        "state": 1,
        "step": 0,
        "stability": None,
        "difficulty": None,
        "due": "2026-11-24T08:00:00+00:00",
        "last_review": None,
        "reps": 0,
        "stale": False,
    }


DATA["review_summary"] = _REVIEW_SUMMARY
DATA["review_queue"] = {
    "due": [_review_card(i, p) for i, p in enumerate(_KEY_POINTS)],
    "stale": [],
    "summary": _REVIEW_SUMMARY,
}


class FixedBackend:
    """Serves DATA; writes are answered as applied with no achievements."""

    kind = "local"

    def __init__(self, progress=None, signed_in: bool = True):
        self._user = CurrentUser(USER, "ada@example.com") if signed_in else None

    @property
    def current_user(self):
        return self._user

    async def connect(self) -> None:
        return None

    async def call(self, fn: str, **args: Any) -> Any:
        if fn in DATA:
            return DATA[fn]
        return {"replayed": False, "achievements": []}

    async def sign_up(self, email, password, *, full_name=None, **meta):
        self._user = CurrentUser(USER, email)
        return self._user

    async def sign_out(self) -> None:
        self._user = None

    async def close(self) -> None:
        return None
