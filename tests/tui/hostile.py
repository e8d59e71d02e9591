"""Hostile text, and a recorder of what the app would write to the terminal.

HOSTILE holds the sequences issue #15 names: OSC 2 (window title), OSC 52 (clipboard
write), CSI 2J (clear screen), a C1 CSI (0x9b), BEL, DEL and an OSC 8 hyperlink.
`hostile_copy(DATA)` puts it into every text field of the fixed screen data;
`Terminal(app)` records every frame Textual renders for the terminal, and `leaks()`
says what in them did not come from Textual itself.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from services.text import CONTROL
from tests.tui.fixed_backend import ASSESSMENT, COURSE, DATA, LESSONS, FixedBackend

HOSTILE = (
    "\x1b]2;PWNED\x07\x1b]52;c;SGVsbG8=\x07\x1b[2J\x9b31m\x07\x7f\x1b]8;;http://evil\x1b\\link"
)
# The same, rendered harmless: what is left once the control characters are gone.
CLEANED = "]2;PWNED]52;c;SGVsbG8=[2J31m]8;;http://evil\\link"

# Fields the screens parse or branch on (ids, dates, states, enums, the runner's data):
# left as they are so that every screen still opens. Every other string gets HOSTILE.
STRUCTURAL = {
    "id",
    "date",
    "today",
    "last_activity_date",
    "created_at",
    "earned_at",
    "last_accessed",
    "enrollment_date",
    "completed_at",
    "started_at",
    "published_at",
    "updated_at",
    "week",
    "at",
    "status",
    "language",
    "entry",
    "streak_type",
    "timezone",
    "preferred_language",
    "test_cases",
    "limits",
    "message_type",
    "action_url",
    "rating",
}


def _structural(key: str) -> bool:
    return key in STRUCTURAL or key.endswith("_id")


def hostile_copy(value: Any, key: str = "") -> Any:
    """`value` with HOSTILE added to every text field (a deep copy)."""
    if isinstance(value, dict):
        return {
            k: (copy.deepcopy(v) if _structural(k) else hostile_copy(v, k))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [hostile_copy(v, key) for v in value]
    if isinstance(value, str):
        return f"{value} {HOSTILE} end"
    return value


# The screens' data from tests/tui/fixed_backend.py, plus the author studio's, the
# tutor's history and the course passages it finds.
STUDIO_COURSE = {
    "id": COURSE,
    "title": "Python Foundations",
    "slug": "python-foundations",
    "short_description": "Learn Python.",
    "difficulty_level": "Beginner",
    "is_published": True,
    "published_at": "2026-11-01T08:00:00+00:00",
    "updated_at": "2026-11-01T08:00:00+00:00",
    "lesson_count": 4,
    "unpublished_lessons": 0,
    "assessment_count": 1,
    "rating_avg": 4.5,
    "rating_count": 2,
}
STUDIO = {
    "studio_courses": [STUDIO_COURSE],
    "course_analytics": {
        "course": STUDIO_COURSE,
        "enrollments": {
            "total": 2,
            "active": 1,
            "paused": 0,
            "completed": 1,
            "dropped": 0,
            "average_progress": 75,
        },
        "completion_rate": 50,
        "enrollments_by_week": [{"week": "2026-11-16", "count": 2}],
        "funnel": [
            {
                "lesson_id": LESSONS[0],
                "title": "Values and types",
                "slug": "l0",
                "order_index": 1,
                "started": 2,
                "completed": 2,
                "rate": 100,
            }
        ],
        "assessments": [
            {
                "assessment_id": ASSESSMENT,
                "title": "Make a URL slug",
                "slug": "make-slug",
                "attempts": 3,
                "learners": 2,
                "passed": 1,
                "pass_rate": 33.3,
                "average_score": 70,
            }
        ],
        "rating": {"average": 4.5, "count": 2, "distribution": [0, 0, 0, 1, 1]},
        "feedback": [
            {
                "text": "Clear and friendly.",
                "rating": 5,
                "type": "course_rating",
                "about": "Python Foundations",
                "at": "2026-11-20T09:30:00+00:00",
            }
        ],
        "tutor": {"questions": 1, "learners": 1, "by_week": [{"week": "2026-11-16", "count": 1}]},
    },
    "chat_history_for": [
        {
            "id": "h1",
            "question": "What is a slice?",
            "answer": "A part of a sequence.",
            "message_type": "text",
            "created_at": "2026-11-23T10:00:00+00:00",
        }
    ],
    "search_lessons": [
        {
            "lesson_id": LESSONS[2],
            "title": "Working with strings",
            "course_id": COURSE,
            "course_title": "Python Foundations",
            "excerpt": "Strings are immutable.",
            "rank": 0.5,
        }
    ],
}
HOSTILE_DATA = hostile_copy({**DATA, **STUDIO})


class HostileBackend(FixedBackend):
    """The fixed screen data with HOSTILE in every text field."""

    async def call(self, fn: str, **args):
        if fn in HOSTILE_DATA:
            return HOSTILE_DATA[fn]
        return await super().call(fn, **args)


# What Textual writes around the text it renders: SGR (colours, bold…), cursor
# positioning (CSI row;col H), and OSC 8 hyperlink brackets made from a Style's link.
_TEXTUAL = re.compile(r"\x1b\[[0-9;]*m|\x1b\[\d+;\d+H|\x1b\]8;[^\x07\x1b]*\x1b\\")


class Terminal:
    """Everything the app renders for the terminal while it runs headless.

    Textual's headless driver writes nothing, so this records each frame at the point
    where Textual turns it into the terminal's bytes (`App._display`, Textual 8: the
    private hook every screen update goes through); `segments` checks the text of each
    rendered segment, before Textual adds its own sequences."""

    def __init__(self, app) -> None:
        from textual._compositor import CompositorUpdate

        self.app = app
        self.frames: list[str] = []
        original = app._display

        def display(screen, renderable) -> None:
            if isinstance(renderable, CompositorUpdate):
                self.frames.append(renderable.render_segments(app.console))
            original(screen, renderable)

        app._display = display

    def screen_segments(self) -> list[str]:
        """The text of every segment of the current screen, as rendered now."""
        return [
            segment.text
            for strip in self.app.screen._compositor.render_strips()
            for segment in strip
            if not segment.control
        ]

    def leaks(self) -> list[str]:
        """Control characters (with 20 characters around each) that reached the
        terminal: in the recorded frames once Textual's own sequences are taken out,
        and in the text of the current screen's segments."""
        found = []
        for frame in self.frames:
            rest = _TEXTUAL.sub("", frame).replace("\n", "")
            found += [
                repr(rest[max(0, m.start() - 20) : m.end() + 20]) for m in CONTROL.finditer(rest)
            ]
        for text in self.screen_segments():
            found += [repr(text) for _ in CONTROL.finditer(text.replace("\n", ""))][:1]
        return found

    def shows(self, text: str) -> bool:
        """Whether `text` is in the frames written (the screen really showed it)."""
        plain = "".join(_TEXTUAL.sub("", frame) for frame in self.frames)
        return text in plain
