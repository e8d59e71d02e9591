""" "Make available offline": a course, its lessons and assessments fetched into the read
cache with the arguments the screens use, so they open offline.

    download_course(backend, course, progress=None) -> DownloadReport
    DownloadProgress        progress(done, total, what) after each step
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.offline.backend import OfflineBackend

DownloadProgress = Callable[[int, int, str], None]


@dataclass
class DownloadReport:
    course_id: str
    title: str
    lessons: int
    assessments: int


class _Fresh:
    """A Caller that reads from the server only (and fills the cache)."""

    def __init__(self, backend: OfflineBackend):
        self.backend = backend

    async def call(self, fn: str, **args: Any) -> Any:
        return await self.backend.fetch(fn, **args)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


async def download_course(
    backend: OfflineBackend, course: str, progress: DownloadProgress | None = None
) -> DownloadReport:
    """Fetch a course (by id or slug), all its lessons and assessments into the cache,
    with the arguments the screens use, so they open offline. `progress(done, total,
    what)` after each step. Raises Offline (nothing half-claimed) if the server is
    unreachable."""
    from services.data.api import LearningAPI

    api: LearningAPI = LearningAPI(_Fresh(backend))
    say = progress or (lambda _done, _total, _what: None)
    if _is_uuid(course):
        detail = await api.course_detail(str(course))
    else:
        detail = await api.course_detail(slug=course)
        detail = await api.course_detail(detail.course.id)  # the key the screen reads
    items = [("lesson", x.id, x.title) for x in detail.lessons]
    items += [("assessment", x.id, x.title) for x in detail.assessments]
    total = len(items) + 1
    say(1, total, detail.course.title)
    for done, (kind, ident, title) in enumerate(items, 2):
        if kind == "lesson":
            await api.lesson_detail(ident)
        else:
            await api.assessment_detail(ident)
        say(done, total, f"{kind}: {title}")
    return DownloadReport(
        detail.course.id, detail.course.title, len(detail.lessons), len(detail.assessments)
    )
