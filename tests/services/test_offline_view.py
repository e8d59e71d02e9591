"""What is done offline shows up offline (services.data.api over services.offline.backend):
reads show the learner's waiting writes on top of the cached server data, marked
pending; a write that repeats one still waiting queues nothing; once sent, the server's
answer is what reads show. Real PostgreSQL behind a TCP proxy we cut."""

from __future__ import annotations

import pytest

from services.data.api import LearningAPI
from services.data.backend import LocalBackend
from services.data.seed import seed_bundled
from services.offline.backend import OfflineBackend
from services.offline.cache import ReadCache
from services.offline.outbox import Outbox
from tests.stack.faults import TcpProxy

RESULT = {
    "version": 1,
    "status": "fail",
    "message": None,
    "score": {"passed": 1, "total": 2, "percent": 50},
    "tests": [{"name": "a", "status": "pass"}, {"name": "b", "status": "fail"}],
}


@pytest.fixture(scope="module")
def seeded_url(db_url) -> str:
    seed_bundled(db_url)
    return db_url


@pytest.fixture(scope="module")
def net(seeded_url):
    proxy = TcpProxy(seeded_url)
    yield proxy
    proxy.stop()


@pytest.fixture
async def learner(net, tmp_path, monkeypatch):
    """(api, backend) for a new learner enrolled in the foundations course, with the
    course and its first lesson and assessment read once (so they are cached)."""
    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "learn-home"))
    if not net.running:
        net.start()
    backend = OfflineBackend(
        LocalBackend(net.url, migrate=False, session_path=tmp_path / "session.json"),
        cache=ReadCache(tmp_path / "reads.sqlite3"),
        outbox=Outbox(tmp_path / "outbox.sqlite3"),
        backoff=(0.05, 0.2),
    )
    await backend.sign_up(None, None, full_name="Ada")
    api = LearningAPI(backend)
    course = (await api.catalog(search="foundations")).courses[0]
    await api.enroll(course.id)
    detail = await api.course_detail(course.id)
    await api.lesson_detail(detail.lessons[0].id)
    await api.assessment_detail(detail.assessments[0].id)
    yield api, backend, detail
    if not net.running:
        net.start()
    await backend.close()


async def test_a_lesson_marked_complete_offline_reads_as_complete_and_pending(learner, net):
    api, _backend, course = learner
    lesson = course.lessons[0]
    net.stop()
    await api.record_lesson_progress(lesson.id, completed=True)
    detail = await api.lesson_detail(lesson.id)
    assert (detail.progress.completed, detail.progress.pending) == (True, True)
    listed = (await api.course_detail(course.course.id)).lessons[0]
    assert (listed.completed, listed.pending) == (True, True)


async def test_marking_a_lesson_complete_again_while_it_waits_queues_nothing(learner, net):
    api, backend, course = learner
    lesson = course.lessons[0]
    net.stop()
    await api.record_lesson_progress(lesson.id, completed=True, time_spent=30)
    again = await api.record_lesson_progress(lesson.id, completed=True)
    assert again.get("already_waiting") and backend.pending_count == 1


async def test_time_read_since_is_still_saved_when_the_completion_already_waits(learner, net):
    api, backend, course = learner
    lesson = course.lessons[0]
    net.stop()
    await api.record_lesson_progress(lesson.id, completed=True)
    await api.record_lesson_progress(lesson.id, completed=True, time_spent=45)
    events = backend.pending_writes("record_lesson_progress")
    assert [(e.args["p_completed"], e.args["p_time_spent"]) for e in events] == [
        (True, 0),
        (None, 45),
    ]


async def test_an_attempt_submitted_offline_is_listed_pending_and_no_longer_open(learner, net):
    api, _backend, course = learner
    assessment = course.assessments[0]
    started = await api.start_attempt(assessment.id)
    await api.assessment_detail(assessment.id)  # cached with the open attempt
    net.stop()
    await api.submit_attempt(
        assessment.id, "def f(): ...", RESULT, 50, attempt_id=started["attempt"]["id"]
    )
    detail = await api.assessment_detail(assessment.id)
    first = detail.attempts[0]
    assert (first.status, first.score, first.pending) == ("completed", 50.0, True)
    assert detail.open_attempt is None


async def test_submitting_the_same_attempt_again_while_it_waits_queues_nothing(learner, net):
    api, backend, course = learner
    assessment = course.assessments[0]
    attempt = (await api.start_attempt(assessment.id))["attempt"]["id"]
    net.stop()
    first = await api.submit_attempt(assessment.id, "x = 1", RESULT, 50, attempt_id=attempt)
    second = await api.submit_attempt(assessment.id, "x = 1", RESULT, 50, attempt_id=attempt)
    assert second.get("already_waiting") and second["event_id"] == first["event_id"]
    assert backend.pending_count == 1


async def test_once_sent_the_servers_answer_replaces_the_local_view(learner, net, db):
    api, backend, course = learner
    lesson, assessment = course.lessons[0], course.assessments[0]
    attempt = (await api.start_attempt(assessment.id))["attempt"]["id"]
    net.stop()
    await api.record_lesson_progress(lesson.id, completed=True)
    await api.submit_attempt(assessment.id, "x = 1", RESULT, 50, attempt_id=attempt)
    net.start()
    report = await backend.flush()
    assert (report.sent, report.waiting) == (2, 0)
    progress = (await api.lesson_detail(lesson.id)).progress
    assert (progress.completed, progress.pending) == (True, False)
    attempts = (await api.assessment_detail(assessment.id)).attempts
    assert [(a.id, a.pending) for a in attempts] == [(attempt, False)]
    # recorded once (a verified course: submitted, for a grader to score)
    assert (
        db.su_one(
            "select count(*) from public.assessment_attempts where user_id = %s"
            " and status in ('completed', 'submitted')",
            (backend.current_user.id,),
        )
        == 1
    )
