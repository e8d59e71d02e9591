"""What a screen asks of the app that runs it, as Textual messages.

Screens do not call the app's methods: they post one of these and the app
(tui.app.LearnApp, and tui.preview.PreviewApp over it) handles it in an `on_…`
handler, as harlequin and posting do. Navigation and celebrations are posted to the
screen (they bubble to the app); a write is posted with `request_write`, straight to
the app's queue, so it is run even when the screen that asked is closing.

Public names: OpenCourse, OpenLesson, OpenAssessment, OpenReview, OpenUrl, GoTo,
WriteRequested, Celebrate, request_write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from textual.message import Message
from textual.message_pump import MessagePump


class OpenCourse(Message):
    """Show a course (screens.course.CourseScreen) over the current screen."""

    def __init__(self, course_id: str) -> None:
        super().__init__()
        self.course_id = course_id


class OpenLesson(Message):
    """Show a lesson (screens.lesson.LessonScreen) over the current screen."""

    def __init__(self, lesson_id: str) -> None:
        super().__init__()
        self.lesson_id = lesson_id


class OpenAssessment(Message):
    """Show an assessment (screens.assessment.AssessmentScreen) over the current screen."""

    def __init__(self, assessment_id: str) -> None:
        super().__init__()
        self.assessment_id = assessment_id


class OpenReview(Message):
    """Start a spaced-review session (screens.review.ReviewScreen)."""


class OpenUrl(Message):
    """Follow a link: learn://course/<id>, learn://lesson/<id>, learn://achievements,
    or http(s):// (the browser)."""

    def __init__(self, url: str | None) -> None:
        super().__init__()
        self.url = url


class GoTo(Message):
    """Go to a top-level section: "dashboard", "catalog", "profile", "notifications"."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class Celebrate(Message):
    """New achievements (services.data.api.Achievement) to show as toasts."""

    def __init__(self, achievements: Sequence[Any]) -> None:
        super().__init__()
        self.achievements = list(achievements)


class WriteRequested(Message):
    """An API write for the app to run in its own worker (it outlives the screen).

    `call()` makes the write; on success `success` is shown as a toast (or that the
    write waits in the offline outbox) and `then(result)` runs, if the screen that
    asked (`origin`) is still open. A failure is a toast ("Not saved") with what to do.
    """

    def __init__(
        self,
        call: Callable[[], Awaitable[Any]],
        *,
        success: str | None = None,
        then: Callable[[Any], None] | None = None,
        origin: MessagePump | None = None,
    ) -> None:
        super().__init__()
        self.call = call
        self.success = success
        self.then = then
        self.origin = origin


def request_write(
    origin: MessagePump,
    call: Callable[[], Awaitable[Any]],
    *,
    success: str | None = None,
    then: Callable[[Any], None] | None = None,
) -> None:
    """Post a WriteRequested from `origin` (a screen) to the app's own queue: a message
    posted to a screen that is closing would be lost with it."""
    origin.app.post_message(WriteRequested(call, success=success, then=then, origin=origin))
