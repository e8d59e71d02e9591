"""services.offline.backend on real PostgreSQL: the local backend behind a TCP proxy we cut, and
the real supabase-py client against the PostgREST/GoTrue stand-in behind an HTTP proxy
that injects failures. Nothing here mocks the database."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from services import errors
from services.data.api import LearningAPI
from services.data.backend import LocalBackend, SupabaseBackend
from services.data.seed import seed_bundled
from services.offline.backend import OfflineBackend
from services.offline.cache import ReadCache
from services.offline.download import download_course
from services.offline.outbox import MAX_SERVER_ERRORS, Outbox
from services.offline.status import SyncStatus
from tests.stack import SupabaseStandIn
from tests.stack.faults import FlakyBackend, HttpFaultProxy, TcpProxy

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded_url(db_url) -> str:
    seed_bundled(db_url)
    return db_url


@pytest.fixture(scope="module")
def pg_proxy(seeded_url):
    proxy = TcpProxy(seeded_url)
    yield proxy
    proxy.stop()


@pytest.fixture
def net(pg_proxy):
    """The path to PostgreSQL, up at the start and the end of every test."""
    if not pg_proxy.running:
        pg_proxy.start()
    yield pg_proxy
    if not pg_proxy.running:
        pg_proxy.start()


@pytest.fixture
async def make(net, tmp_path, monkeypatch):
    """make(inner=None, home=tmp_path) → an OfflineBackend over LocalBackend through the
    proxy, with its cache, outbox and session in `home`."""
    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "learn-home"))
    made: list[OfflineBackend] = []

    def factory(inner=None, home: Path = tmp_path, wrap=None) -> OfflineBackend:
        inner = inner or LocalBackend(net.url, migrate=False, session_path=home / "session.json")
        backend = OfflineBackend(
            wrap(inner) if wrap else inner,
            cache=ReadCache(home / "reads.sqlite3"),
            outbox=Outbox(home / "outbox.sqlite3"),
            backoff=(0.05, 0.2),
        )
        made.append(backend)
        return backend

    yield factory
    for backend in made:
        try:
            await backend.close()
        except Exception:
            pass


async def _learner(backend: OfflineBackend, name: str = "Ada") -> LearningAPI:
    await backend.sign_up(None, None, full_name=name)
    return LearningAPI(backend)


async def _course(api: LearningAPI, search: str = "foundations"):
    summary = (await api.catalog(search=search)).courses[0]
    return await api.course_detail(summary.id)


def _yesterday() -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=1)


# -- reads ---------------------------------------------------------------------------------


async def test_reads_come_from_the_cache_while_the_database_is_unreachable(make, net):
    backend = make()
    api = await _learner(backend)
    detail = await _course(api)
    net.stop()
    again = await api.course_detail(detail.course.id)
    assert again.course.title == detail.course.title
    assert [x.id for x in again.lessons] == [x.id for x in detail.lessons]
    status = backend.status
    assert not status.online and status.as_of is not None and status.offline_since is not None
    assert status.describe().startswith("offline — as of ")


async def test_a_read_never_cached_raises_offline_when_unreachable(make, net):
    api = await _learner(make())
    net.stop()
    with pytest.raises(errors.Offline, match="not saved on this machine"):
        await api.dashboard()


async def test_the_cache_of_one_learner_is_not_served_to_another(make, net, tmp_path):
    first = make()
    await (await _learner(first, "First")).dashboard()
    await first.sign_out()
    api = await _learner(first, "Second")
    net.stop()
    with pytest.raises(errors.Offline):
        await api.dashboard()


async def test_fresh_data_replaces_the_cached_copy_once_back(make, net):
    backend = make()
    api = await _learner(backend)
    before = await api.my_profile()
    await api.update_profile({"bio": "changed online"})
    net.stop()
    assert (await api.my_profile()).profile.bio == before.profile.bio
    net.start()
    assert await backend.probe()
    assert (await api.my_profile()).profile.bio == "changed online"
    assert backend.status.online and backend.status.as_of is None


# -- writes --------------------------------------------------------------------------------


async def test_writes_made_offline_are_queued_and_change_nothing_yet(make, net, db):
    backend = make()
    api = await _learner(backend)
    detail = await _course(api)
    net.stop()
    result = await api.enroll(detail.course.id)
    assert result.get("queued") and result.achievements == []
    assert backend.pending_count == 1
    assert (
        db.su_one(
            "select count(*) from public.course_enrollments where user_id = %s",
            (backend.current_user.id,),
        )
        == 0
    )


async def test_queue_drains_in_order_and_the_server_matches_what_was_done_offline(make, net, db):
    backend = make()
    api = await _learner(backend)
    detail = await _course(api)
    first, second = detail.lessons[0].id, detail.lessons[1].id
    net.stop()
    await api.enroll(detail.course.id)
    await api.record_lesson_progress(first, time_spent=120, completed=True)
    await api.record_lesson_progress(second, time_spent=30, last_position=7)
    await api.update_profile({"bio": "written on a train"})
    await api.set_enrollment_status(detail.course.id, "paused")
    assert backend.pending_count == 5
    net.start()
    report = await backend.flush()
    assert (report.sent, report.waiting, report.refused) == (5, 0, [])
    user = backend.current_user.id
    progress = {
        r["lesson_id"]: r
        for r in db.su(
            "select lesson_id::text, completed, time_spent, last_position"
            " from public.user_progress where user_id = %s",
            (user,),
        )
    }
    assert progress[first]["completed"] and progress[first]["time_spent"] == 120
    assert not progress[second]["completed"] and progress[second]["last_position"] == 7
    enrollment = db.su(
        "select status, progress_percentage from public.course_enrollments where user_id = %s",
        (user,),
    )[0]
    assert enrollment["status"] == "paused" and enrollment["progress_percentage"] > 0
    assert (
        db.su_one("select bio from public.profiles where id = %s", (user,)) == "written on a train"
    )


async def test_a_lesson_completed_offline_yesterday_counts_for_yesterdays_streak(make, net, db):
    backend = make()
    api = await _learner(backend)
    detail = await _course(api)
    await api.enroll(detail.course.id)
    net.stop()
    yesterday = _yesterday()
    await api.record_lesson_progress(detail.lessons[0].id, completed=True, occurred_at=yesterday)
    net.start()
    assert (await backend.flush()).sent == 1
    user = backend.current_user.id
    days = db.su(
        "select session_date, lessons_completed from public.learning_analytics"
        " where user_id = %s and lessons_completed > 0",
        (user,),
    )
    assert [(d["session_date"], d["lessons_completed"]) for d in days] == [(yesterday.date(), 1)]
    streak = db.su(
        "select current_streak, last_activity_date from public.user_streaks where user_id = %s",
        (user,),
    )[0]
    assert (streak["current_streak"], streak["last_activity_date"]) == (1, yesterday.date())


async def test_writes_while_online_return_the_servers_result(make):
    backend = make()
    api = await _learner(backend)
    detail = await _course(api)
    result = await api.enroll(detail.course.id)
    assert result["enrollment"]["status"] == "active" and not result.get("queued")
    assert backend.pending_count == 0


async def test_a_write_refused_while_online_raises_and_is_not_listed(make):
    backend = make()
    api = await _learner(backend)
    detail = await _course(api)
    with pytest.raises(errors.NotFound, match="not enrolled"):
        await api.set_enrollment_status(detail.course.id, "paused")
    assert backend.refused == [] and backend.pending_count == 0


async def test_a_refused_replay_is_kept_with_its_reason_and_later_writes_still_go(make, net, db):
    backend = make()
    api = await _learner(backend)
    detail = await _course(api)
    net.stop()
    await api.set_enrollment_status(detail.course.id, "paused")  # not enrolled: refused
    await api.enroll(detail.course.id)
    net.start()
    report = await backend.flush()
    assert report.sent == 1 and [e.fn for e in report.refused] == ["set_enrollment_status"]
    refused = backend.refused
    assert len(refused) == 1 and "not enrolled" in refused[0].reason
    assert backend.status.refused == 1
    assert (
        db.su_one(
            "select status from public.course_enrollments where user_id = %s",
            (backend.current_user.id,),
        )
        == "active"
    )


async def test_dismissed_refusals_stop_being_listed_but_stay_in_the_outbox(make, net):
    backend = make()
    api = await _learner(backend)
    detail = await _course(api)
    net.stop()
    await api.set_enrollment_status(detail.course.id, "paused")
    net.start()
    await backend.flush()
    [event] = backend.refused
    backend.dismiss_refused()
    assert backend.refused == []
    assert backend.outbox.get(event.event_id).status == "refused"


async def test_the_same_event_id_is_stored_and_applied_once(make, net, db):
    backend = make()
    api = await _learner(backend)
    event_id = str(uuid.uuid4())
    net.stop()
    await api.log_chat("same question", "same answer", event_id=event_id)
    await api.log_chat("same question", "same answer", event_id=event_id)
    assert backend.pending_count == 1
    net.start()
    await backend.flush()
    again = await api.log_chat("same question", "same answer", event_id=event_id)
    assert not again.get("queued")
    assert (
        db.su_one(
            "select count(*) from public.chat_history where user_id = %s",
            (backend.current_user.id,),
        )
        == 1
    )


async def test_queued_writes_survive_a_restart_of_the_app(make, net, tmp_path, db):
    backend = make()
    api = await _learner(backend)
    net.stop()
    await api.log_chat("asked before the restart", None)
    await backend.close()
    net.start()
    again = make()
    await again.connect()
    assert again.pending_count == 1
    assert (await again.flush()).sent == 1
    assert (
        db.su_one(
            "select count(*) from public.chat_history where user_id = %s", (again.current_user.id,)
        )
        == 1
    )


async def test_an_event_the_server_keeps_failing_on_is_refused_after_a_few_tries(make, db):
    backend = make(wrap=lambda inner: FlakyBackend(inner, []))
    api = await _learner(backend)
    backend.inner.script = iter(["500"] * MAX_SERVER_ERRORS)
    result = await api.log_chat("poison", None)
    assert result.get("queued")
    for _ in range(MAX_SERVER_ERRORS - 1):
        await backend.flush()
    [event] = backend.refused
    assert event.fn == "log_chat" and "injected" in event.reason
    assert backend.pending_count == 0


# -- faults ----------------------------------------------------------------------------------


def _chat_counts(db, user_id: str) -> dict[str, int]:
    rows = db.su(
        "select question, count(*) as n from public.chat_history where user_id = %s"
        " group by question",
        (user_id,),
    )
    return {r["question"]: r["n"] for r in rows}


async def _drain(backend: OfflineBackend, tries: int = 60) -> None:
    for _ in range(tries):
        report = await backend.flush()
        if not report.waiting:
            return
    raise AssertionError(f"{backend.pending_count} events still waiting")


async def test_injected_faults_lose_no_event_and_apply_none_twice(make, db):
    faults = [
        "refused",
        None,
        "lost",
        "timeout",
        None,
        "500",
        "late",
        None,
        "500",
        None,
        "lost",
        None,
        None,
        "refused",
        "late",
        None,
    ]
    backend = make(wrap=lambda inner: FlakyBackend(inner, []))
    api = await _learner(backend)
    backend.inner.script = iter(faults)
    questions = [f"batch question {i}" for i in range(12)]
    for question in questions:
        await api.log_chat(question, "an answer")
    await _drain(backend)
    assert _chat_counts(db, backend.current_user.id) == dict.fromkeys(questions, 1)
    events = backend.outbox.events(backend.namespace, backend.current_user.id)
    assert [e.status for e in events] == ["sent"] * len(questions)
    assert [e.args["p_question"] for e in events] == questions
    assert any(e.replayed for e in events)  # the lost answers were applied the first time


class CutAfter:
    """The real backend; the network goes down right after its n-th answer."""

    def __init__(self, inner, n: int, proxy: TcpProxy):
        self.inner, self.n, self.proxy = inner, n, proxy

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def call(self, fn, **args):
        result = await self.inner.call(fn, **args)
        self.n -= 1
        if self.n == 0:
            self.proxy.stop()
        return result


async def test_the_connection_cut_halfway_through_a_batch_loses_nothing(make, net, db):
    backend = make()
    api = await _learner(backend)
    net.stop()
    questions = [f"half-way {i}" for i in range(30)]
    for question in questions:
        await api.log_chat(question, None)
    net.start()
    backend.inner = CutAfter(backend.inner, 12, net)
    report = await backend.flush()
    assert (report.sent, report.waiting) == (12, 18) and report.stopped
    net.start()
    await _drain(backend)
    assert _chat_counts(db, backend.current_user.id) == dict.fromkeys(questions, 1)


CHILD = r"""
import asyncio, sys
from pathlib import Path
from services.data.backend import LocalBackend
from services.offline.backend import OfflineBackend
from services.offline.cache import ReadCache
from services.offline.outbox import Outbox

class Slow:
    # Widens the window between "the server applied it" and "marked sent".
    def __init__(self, inner):
        self.inner = inner
    def __getattr__(self, name):
        return getattr(self.inner, name)
    async def call(self, fn, **args):
        result = await self.inner.call(fn, **args)
        await asyncio.sleep(0.01)
        return result

async def main(url, home):
    home = Path(home)
    inner = LocalBackend(url, migrate=False, session_path=home / "session.json")
    backend = OfflineBackend(Slow(inner), cache=ReadCache(home / "reads.sqlite3"),
                             outbox=Outbox(home / "outbox.sqlite3"))
    await backend.connect()
    print("ready", flush=True)
    report = await backend.flush()
    print("done", report.sent, report.already_applied, flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.slow
async def test_replays_killed_at_random_moments_apply_every_event_exactly_once(
    make, net, db, tmp_path
):
    backend = make()
    api = await _learner(backend)
    rng = random.Random(8)
    questions: list[str] = []
    for round_ in range(20):
        net.stop()
        for i in range(15):
            questions.append(f"killed replay {round_}.{i}")
            await api.log_chat(questions[-1], None)
        net.start()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, net.url, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        try:
            line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 30)
            assert line.strip() == "ready", child.stderr.read()
            await asyncio.sleep(rng.uniform(0, 0.2))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
    await _drain(backend)
    user = backend.current_user.id
    assert _chat_counts(db, user) == dict.fromkeys(questions, 1)
    events = backend.outbox.events(backend.namespace, user)
    assert db.su_one(
        "select count(*) from public.applied_events where user_id = %s"
        " and event_id = any(%s::uuid[])",
        (user, [e.event_id for e in events]),
    ) == len(questions)
    # Some kills landed between "the server applied it" and "marked sent here".
    assert all(e.status == "sent" for e in events) and any(e.replayed for e in events)


# -- status, flusher, download ----------------------------------------------------------------


async def test_listeners_hear_going_offline_and_coming_back(make, net):
    backend = make()
    api = await _learner(backend)
    heard: list[SyncStatus] = []
    backend.add_listener(heard.append)
    await api.dashboard()
    net.stop()
    await api.dashboard()
    await api.log_chat("while away", None)
    net.start()
    await backend.probe()
    states = [(s.online, s.pending) for s in heard]
    assert (False, 0) in states and (False, 1) in states and states[-1] == (True, 0)


async def test_the_background_flusher_sends_the_queue_when_the_backend_is_back(make, net, db):
    backend = make()
    api = await _learner(backend)
    net.stop()
    await api.log_chat("sent by the flusher", None)
    flusher = asyncio.create_task(backend.sync_forever())
    try:
        await asyncio.sleep(0.3)
        assert backend.pending_count == 1
        net.start()
        for _ in range(100):
            if backend.pending_count == 0 and backend.online:
                break
            await asyncio.sleep(0.05)
    finally:
        flusher.cancel()
    assert backend.pending_count == 0 and backend.online
    assert _chat_counts(db, backend.current_user.id) == {"sent by the flusher": 1}


async def test_the_background_flusher_backs_off_instead_of_hammering_a_dead_backend(make, net):
    backend = make(wrap=lambda inner: FlakyBackend(inner, []))
    api = await _learner(backend)
    net.stop()
    await api.log_chat("waiting", None)
    flusher = asyncio.create_task(backend.sync_forever())
    try:
        for _ in range(20):
            backend.wake()
            await asyncio.sleep(0.05)
    finally:
        flusher.cancel()
    # backoff (0.05 s doubling to 0.2 s) allows a handful of tries in that second, not
    # one per wake-up or a busy loop
    assert 2 <= len(backend.inner.calls) <= 40


async def test_a_downloaded_course_opens_offline_lesson_by_lesson(make, net):
    backend = make()
    api = await _learner(backend)
    slug = (await api.catalog(search="foundations")).courses[0].slug
    steps: list[tuple[int, int]] = []
    report = await download_course(backend, slug, lambda d, t, _w: steps.append((d, t)))
    net.stop()
    detail = await api.course_detail(report.course_id)
    for lesson in detail.lessons:
        assert (await api.lesson_detail(lesson.id)).lesson.id == lesson.id
    for assessment in detail.assessments:
        await api.assessment_detail(assessment.id)
    total = 1 + report.lessons + report.assessments
    assert steps == [(n, total) for n in range(1, total + 1)] and report.lessons > 0


async def test_a_download_while_offline_fails_instead_of_claiming_stale_data(make, net):
    backend = make()
    api = await _learner(backend)
    detail = await _course(api)
    net.stop()
    with pytest.raises(errors.Offline):
        await download_course(backend, detail.course.id)


async def test_starting_offline_as_the_last_learner_works_from_the_cache(make, net, tmp_path):
    backend = make()
    api = await _learner(backend)
    await api.dashboard()
    await backend.close()
    net.stop()
    again = make()
    await again.connect()
    assert again.current_user is not None and not again.online
    assert (await LearningAPI(again).dashboard()).profile.full_name == "Ada"


# -- learn sync / learn download ------------------------------------------------------------


def _learn(args: list[str], home: Path, database_url: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SUPABASE_", "DATABASE_URL", "LEARN_"))
    }
    env.update(LEARN_HOME=str(home), DATABASE_URL=database_url)
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _queued_in_home(make, net, home: Path) -> OfflineBackend:
    """A learner in LEARN_HOME=home (the paths `learn` uses) with two writes queued."""
    inner = LocalBackend(net.url, migrate=False, session_path=home / "data" / "session.json")
    backend = OfflineBackend(
        inner,
        cache=ReadCache(home / "cache" / "reads.sqlite3"),
        outbox=Outbox(home / "data" / "outbox.sqlite3"),
    )
    api = await _learner(backend)
    detail = await _course(api)
    net.stop()
    await api.enroll(detail.course.id)
    await api.set_enrollment_status(detail.course.id, "bogus")
    await backend.close()
    return backend


async def test_learn_sync_sends_the_queue_and_exits_1_when_something_was_refused(
    make, net, tmp_path
):
    home = tmp_path / "home"
    await _queued_in_home(make, net, home)
    net.start()
    done = _learn(["sync"], home, net.url)
    assert done.returncode == 1, done.stderr
    assert "sent 1 · already applied 0 · refused 1 · waiting 0" in done.stdout
    assert "Course status change" in done.stdout and "bogus" in done.stdout
    dismissed = _learn(["sync", "--dismiss"], home, net.url)
    assert dismissed.returncode == 0, dismissed.stdout + dismissed.stderr
    assert _learn(["sync"], home, net.url).returncode == 0


async def test_learn_sync_while_unreachable_keeps_everything_waiting(make, net, tmp_path):
    home = tmp_path / "home"
    await _queued_in_home(make, net, home)
    done = _learn(["sync"], home, net.url)
    assert done.returncode == 1
    assert "sent 0 · already applied 0 · refused 0 · waiting 2" in done.stdout


async def test_learn_download_prints_progress_and_fills_the_cache(make, net, tmp_path):
    home = tmp_path / "home"
    inner = LocalBackend(net.url, migrate=False, session_path=home / "data" / "session.json")
    backend = OfflineBackend(
        inner,
        cache=ReadCache(home / "cache" / "reads.sqlite3"),
        outbox=Outbox(home / "data" / "outbox.sqlite3"),
    )
    api = await _learner(backend)
    slug = (await api.catalog(search="foundations")).courses[0].slug
    await backend.close()
    done = _learn(["download", slug], home, net.url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("[") and "Available offline: Python Foundations" in lines[-1]
    cache = ReadCache(home / "cache" / "reads.sqlite3")
    assert cache.count() >= len(lines)  # course + every lesson and assessment
    cache.close()


# -- Supabase (the stand-in) --------------------------------------------------------------------


@pytest.fixture(scope="module")
def standin(seeded_url):
    with SupabaseStandIn(seeded_url) as api:
        yield api


@pytest.fixture
def http(standin):
    proxy = HttpFaultProxy(standin.url, slow_seconds=2.0)
    yield proxy
    proxy.down()


@pytest.fixture
async def make_supabase(http, standin, tmp_path, monkeypatch):
    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "learn-home"))
    made: list[OfflineBackend] = []

    def factory(session: str = "session.json") -> OfflineBackend:
        inner = SupabaseBackend(
            http.url,
            standin.anon_key,
            session_path=tmp_path / session,
            auto_refresh=False,
            timeout=1.0,
        )
        backend = OfflineBackend(
            inner,
            cache=ReadCache(tmp_path / "reads.sqlite3"),
            outbox=Outbox(tmp_path / "outbox.sqlite3"),
            backoff=(0.05, 0.2),
        )
        made.append(backend)
        return backend

    yield factory
    for backend in made:
        try:
            await backend.close()
        except Exception:
            pass


async def _supabase_learner(backend: OfflineBackend) -> tuple[LearningAPI, str]:
    email = f"offline-{uuid.uuid4().hex[:10]}@example.test"
    await backend.sign_up(email, PASSWORD, full_name="Sup")
    return LearningAPI(backend), email


async def test_supabase_down_reads_from_cache_writes_queue_and_drain_when_back(
    make_supabase, http, db
):
    backend = make_supabase()
    api, _ = await _supabase_learner(backend)
    detail = await _course(api)
    await api.enroll(detail.course.id)
    http.down()
    assert (await api.course_detail(detail.course.id)).course.id == detail.course.id
    assert not backend.online
    queued = await api.record_lesson_progress(
        detail.lessons[0].id, completed=True, occurred_at=_yesterday()
    )
    assert queued.get("queued")
    http.up()
    assert (await backend.flush()).sent == 1
    assert (
        db.su_one(
            "select completed from public.user_progress where user_id = %s",
            (backend.current_user.id,),
        )
        is True
    )
    assert (
        db.su_one(
            "select last_activity_date from public.user_streaks where user_id = %s",
            (backend.current_user.id,),
        )
        == _yesterday().date()
    )


async def test_supabase_500s_timeouts_and_dropped_answers_lose_nothing(make_supabase, http, db):
    backend = make_supabase()
    api, _ = await _supabase_learner(backend)
    http.down()
    questions = [f"over http {i}" for i in range(10)]
    for question in questions:
        await api.log_chat(question, None)
    http.up()
    http.faults = ["500", None, "drop", "503", None, "slow", None, "500", "drop", None]
    await _drain(backend)
    assert _chat_counts(db, backend.current_user.id) == dict.fromkeys(questions, 1)
    assert (
        sum(e.replayed for e in backend.outbox.events(backend.namespace, backend.current_user.id))
        >= 2
    )  # "drop" and "slow" were applied


async def test_supabase_expired_session_is_refreshed_before_the_replay(
    make_supabase, http, standin, db
):
    backend = make_supabase()
    api, _ = await _supabase_learner(backend)
    http.down()
    await api.log_chat("after a long tunnel", None)
    # A token refreshed within the second it was issued is the same JWT (iat has whole
    # seconds), which the stand-in would still count as expired: let a second pass.
    await asyncio.sleep(1.1)
    standin.expire_access_tokens()
    refreshes = standin.count("/auth/v1/token", "refresh_token")
    http.up()
    assert (await backend.flush()).sent == 1
    assert standin.count("/auth/v1/token", "refresh_token") > refreshes
    assert _chat_counts(db, backend.current_user.id) == {"after a long tunnel": 1}


async def test_supabase_revoked_session_stops_the_replay_keeps_the_queue_and_asks_to_sign_in(
    make_supabase, http, standin, db
):
    backend = make_supabase()
    api, email = await _supabase_learner(backend)
    user_id = backend.current_user.id
    http.down()
    await api.log_chat("kept while signed out", None)
    http.up()
    elsewhere = make_supabase("elsewhere.json")
    await elsewhere.sign_in(email, PASSWORD)
    await elsewhere.inner.sign_out(everywhere=True)  # revokes every session of the account
    standin.expire_access_tokens()
    report = await backend.flush()
    assert report.sent == 0 and backend.status.sign_in_needed
    assert backend.outbox.count(backend.namespace, user_id) == 1
    await backend.sign_in(email, PASSWORD)
    assert (await backend.flush()).sent == 1
    assert _chat_counts(db, user_id) == {"kept while signed out": 1}


def test_the_status_line_says_offline_as_of_waiting_and_refused():
    moment = datetime.now(timezone.utc)
    status = SyncStatus(online=False, as_of=moment, pending=3, refused=1)
    assert status.describe() == (
        f"offline — as of {moment.astimezone():%H:%M} · 3 waiting · 1 refused"
    )
    assert SyncStatus().describe() == ""
