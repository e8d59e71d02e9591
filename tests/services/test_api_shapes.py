"""services.data.models.build: strict in the tests (LEARN_STRICT_SHAPES=1, set by
tests/conftest.py), so an answer whose keys drift from its dataclass fails the test that
reads it; lenient elsewhere, so a newer server's extra key does not break an older client."""

from __future__ import annotations

import logging
import os

import pytest

from services.data.api import LearningAPI
from services.data.local import LocalBackend
from services.data.models import Ref, ShapeMismatch, Streak, build, build_optional, strict_shapes
from services.data.seed import seed_bundled


def test_the_tests_run_with_strict_shapes():
    assert os.environ.get("LEARN_STRICT_SHAPES") == "1" and strict_shapes()


def test_an_unknown_key_fails_under_strict_shapes():
    with pytest.raises(ShapeMismatch, match=r"Ref: unknown keys \['colour'\]"):
        build(Ref, {"id": "1", "title": "A", "colour": "red"})


def test_a_missing_required_key_fails_under_strict_shapes():
    with pytest.raises(ShapeMismatch, match=r"missing keys \['title'\]"):
        build(Ref, {"id": "1"})


def test_fields_with_defaults_may_be_absent_under_strict_shapes():
    assert build(Streak, {"current": 2}).current == 2


def test_outside_the_tests_an_unknown_key_is_dropped_and_logged_once(monkeypatch, caplog):
    monkeypatch.setenv("LEARN_STRICT_SHAPES", "0")
    with caplog.at_level(logging.WARNING, logger="learn.api"):
        first = build(Ref, {"id": "1", "title": "A", "added_by_a_newer_server": 1})
        build(Ref, {"id": "2", "title": "B", "added_by_a_newer_server": 2})
    assert first == Ref(id="1", title="A")
    lines = [r.getMessage() for r in caplog.records if "added_by_a_newer_server" in r.getMessage()]
    assert len(lines) == 1


def test_outside_the_tests_a_missing_required_key_still_fails(monkeypatch):
    monkeypatch.setenv("LEARN_STRICT_SHAPES", "0")
    with pytest.raises(TypeError):
        build(Ref, {"id": "1"})


def test_build_optional_gives_none_for_a_json_null():
    assert build_optional(Ref, None) is None


@pytest.fixture
async def api(db_url, tmp_path):
    seed_bundled(db_url)
    backend = LocalBackend(db_url, session_path=tmp_path / "session.json")
    await backend.connect()
    await backend.sign_up(None, None, full_name="Shape Learner")
    yield LearningAPI(backend)
    await backend.close()


async def test_every_read_of_a_new_learner_matches_its_dataclasses(api):
    """The SQL's answers against the dataclasses, strictly, for each screen's read."""
    catalog = await api.catalog()
    assert catalog.courses
    course = await api.course_detail(catalog.courses[0].id)
    await api.enroll(course.course.id)
    course = await api.course_detail(course.course.id)
    lesson = await api.lesson_detail(course.lessons[0].id)
    await api.record_lesson_progress(lesson.lesson.id, completed=True, time_spent=30)
    assessment = await api.assessment_detail(course.assessments[0].id)
    await api.start_attempt(assessment.assessment.id)
    assessment = await api.assessment_detail(course.assessments[0].id)
    assert assessment.open_attempt is not None
    assert await api.open_assessment() is not None
    await api.submit_attempt(
        assessment.assessment.id,
        "print(1)",
        {"passed": 1, "total": 1},
        100,
        attempt_id=assessment.open_attempt.id,
    )
    assessment = await api.assessment_detail(course.assessments[0].id)
    assert assessment.attempts
    dashboard = await api.dashboard()
    assert dashboard.enrollments and dashboard.achievements and dashboard.activity
    await api.my_profile()
    assert (await api.notifications()).notifications
    await api.log_chat("What is a loop?", "Doing a thing again.")
    assert await api.chat_history()
    assert await api.search_lessons("python")
    await api.navigation_index()
