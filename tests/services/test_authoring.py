"""Publishing course folders through the API, exporting them back, the studio's
analytics (authors only) and the operators' monitoring (service_role only), on real
PostgreSQL."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest

from services.authoring.course import load_course
from services.authoring.model import ContentError
from services.authoring.publishing import AuthoringAPI, export_folder, publish_folder
from services.data.backend import LocalBackend
from services.errors import NotFound, NotSignedIn
from services.paths import bundled_courses
from tests.stack import SupabaseStandIn
from tui.cli import main

SOURCE = next(p for p in bundled_courses() if p.name == "python-foundations")
MONITORING_VIEWS = (
    "daily_active_learners",
    "weekly_active_learners",
    "course_completion",
    "assessment_performance",
    "ai_usage_daily",
    "ai_usage_by_type",
    "tutor_questions",
    "streak_distribution",
    "achievement_distribution",
)


def course_copy(root: Path) -> Path:
    """Python Foundations under a slug of its own (slugs are unique in the database)."""
    return Path(shutil.copytree(SOURCE, root / f"pf-{uuid.uuid4().hex[:8]}"))


@pytest.fixture
async def backend_for(db_url, tmp_path):
    """`await backend_for(user_id)`: a LocalBackend signed in as that user (None: anon)."""
    made: list[LocalBackend] = []

    async def make(user_id: str | None) -> LocalBackend:
        backend = LocalBackend(
            db_url, migrate=False, session_path=tmp_path / f"session-{len(made)}.json"
        )
        made.append(backend)
        await backend.connect()
        if user_id is not None:
            await backend.sign_in_profile(user_id)
        return backend

    yield make
    for backend in made:
        await backend.close()


def rows_state(db, course_id: str, author: str) -> dict:
    return {
        "course": db.su_one("select updated_at from public.courses where id = %s", (course_id,)),
        "lessons": [
            r["updated_at"]
            for r in db.su(
                "select updated_at from public.lessons where course_id = %s order by id",
                (course_id,),
            )
        ],
        "assessments": [
            r["updated_at"]
            for r in db.su(
                "select updated_at from public.assessments where course_id = %s order by id",
                (course_id,),
            )
        ],
        "solutions": [
            r["updated_at"]
            for r in db.su(
                "select s.updated_at from public.assessment_solutions s join public.assessments a"
                " on a.id = s.assessment_id where a.course_id = %s order by a.id",
                (course_id,),
            )
        ],
        "audit": db.su_one(
            "select count(*) from public.audit_log where course_author_id = %s", (author,)
        ),
    }


# -- publishing ----------------------------------------------------------------------------


async def test_publishing_a_folder_creates_the_course_as_its_author(db, backend_for, tmp_path):
    author = db.new_user()
    folder = course_copy(tmp_path)
    result = await publish_folder(await backend_for(author), folder, run_code=False)
    assert result.created
    assert (
        db.su_one("select created_by::text from public.courses where slug = %s", (folder.name,))
        == author
    )


async def test_publishing_twice_changes_nothing(db, backend_for, tmp_path):
    author = db.new_user()
    folder = course_copy(tmp_path)
    backend = await backend_for(author)
    first = await publish_folder(backend, folder, run_code=False)
    before = rows_state(db, first.course_id, author)
    again = await publish_folder(backend, folder, run_code=False)
    assert (again.changed, again.summary) == (0, f"{folder.name}: no changes")
    assert rows_state(db, first.course_id, author) == before


async def test_publishing_again_updates_the_course_in_place(db, backend_for, tmp_path):
    author = db.new_user()
    folder = course_copy(tmp_path)
    backend = await backend_for(author)
    first = await publish_folder(backend, folder, run_code=False)
    page = folder / "lessons" / "02-variables-and-names.md"
    page.write_text(page.read_text().replace('title = "', 'title = "Renamed: ', 1))
    again = await publish_folder(backend, folder, run_code=False)
    assert (again.course_id, again.changed) == (first.course_id, 1)
    assert db.su_one(
        "select title from public.lessons where course_id = %s and slug = %s",
        (first.course_id, "variables-and-names"),
    ).startswith("Renamed: ")


async def test_republishing_without_a_lesson_unpublishes_it_and_keeps_progress(
    db, backend_for, tmp_path
):
    author, learner = db.new_user(), db.new_user()
    folder = course_copy(tmp_path)
    backend = await backend_for(author)
    course_id = (await publish_folder(backend, folder, run_code=False)).course_id
    lesson_id = db.su_one(
        "select id from public.lessons where course_id = %s and slug = 'modules'", (course_id,)
    )
    db.run_as(learner, "select public.enroll(%s)", (course_id,))
    db.run_as(learner, "select public.record_lesson_progress(%s, 60, null, true)", (lesson_id,))
    (folder / "lessons" / "10-modules.md").unlink()
    await publish_folder(backend, folder, run_code=False)
    assert db.su_one("select is_published from public.lessons where id = %s", (lesson_id,)) is False
    assert db.su(
        "select completed, time_spent from public.user_progress"
        " where user_id = %s and lesson_id = %s",
        (learner, lesson_id),
    ) == [{"completed": True, "time_spent": 60}]


async def test_republishing_a_removed_lesson_publishes_it_again(db, backend_for, tmp_path):
    author = db.new_user()
    folder = course_copy(tmp_path)
    backend = await backend_for(author)
    course_id = (await publish_folder(backend, folder, run_code=False)).course_id
    page = folder / "lessons" / "10-modules.md"
    saved = page.read_text()
    page.unlink()
    await publish_folder(backend, folder, run_code=False)
    page.write_text(saved)
    await publish_folder(backend, folder, run_code=False)
    assert (
        db.su_one(
            "select is_published from public.lessons where course_id = %s and slug = 'modules'",
            (course_id,),
        )
        is True
    )


async def test_publishing_refuses_an_invalid_course(db, backend_for, tmp_path):
    folder = course_copy(tmp_path)
    (folder / "course.toml").write_text('title = "T"\ndifficulty_level = "Expert"\n')
    with pytest.raises(ContentError):
        await publish_folder(await backend_for(db.new_user()), folder, run_code=False)
    assert db.su_one("select count(*) from public.courses where slug = %s", (folder.name,)) == 0


async def test_publishing_refuses_a_course_whose_reference_solution_fails(
    db, backend_for, tmp_path
):
    folder = course_copy(tmp_path)
    page = folder / "assessments" / "chunk.toml"
    text = page.read_text()
    at = text.index("solution = '''")
    page.write_text(text[:at] + text[at:].replace("return", "return None and", 1))
    with pytest.raises(ContentError):
        await publish_folder(await backend_for(db.new_user()), folder)


async def test_publishing_as_a_draft_keeps_the_course_unpublished(db, backend_for, tmp_path):
    folder = course_copy(tmp_path)
    result = await publish_folder(
        await backend_for(db.new_user()), folder, draft=True, run_code=False
    )
    assert result.published is False
    assert (
        db.su_one("select is_published from public.courses where id = %s", (result.course_id,))
        is False
    )


async def test_publishing_needs_a_signed_in_author(backend_for, tmp_path):
    with pytest.raises(NotSignedIn):
        await publish_folder(await backend_for(None), course_copy(tmp_path), run_code=False)


async def test_two_authors_publishing_the_same_slug_get_a_course_each(db, backend_for, tmp_path):
    """Slugs are unique per author (issue #15 §6): nobody can squat one."""
    folder = course_copy(tmp_path)
    first = await publish_folder(await backend_for(db.new_user()), folder, run_code=False)
    second = await publish_folder(await backend_for(db.new_user()), folder, run_code=False)
    assert (first.created, second.created) == (True, True)
    assert first.course_id != second.course_id


def test_publish_command_says_no_changes_the_second_time(db, db_url, tmp_path, monkeypatch, capsys):
    import asyncio

    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    for key in ("SUPABASE_URL", "SUPABASE_ANON_KEY", "LEARN_BACKEND"):
        monkeypatch.delenv(key, raising=False)
    author = db.new_user()

    async def sign_in() -> None:
        backend = LocalBackend(db_url)  # the session file `learn` itself uses
        await backend.connect()
        await backend.sign_in_profile(author)
        await backend.close()

    asyncio.run(sign_in())
    folder = course_copy(tmp_path)
    assert main(["course", "publish", str(folder)]) == 0
    assert main(["course", "publish", str(folder)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"{folder.name}: no changes"


# -- export --------------------------------------------------------------------------------


async def test_export_writes_a_folder_that_loads_to_the_published_payload(
    db, backend_for, tmp_path
):
    folder = course_copy(tmp_path)
    backend = await backend_for(db.new_user())
    await publish_folder(backend, folder, run_code=False)
    target = await export_folder(backend, folder.name, tmp_path / "exported")
    assert target == tmp_path / "exported" / folder.name
    assert load_course(target).payload() == load_course(folder).payload()


async def test_exported_folder_publishes_with_no_changes(db, backend_for, tmp_path):
    folder = course_copy(tmp_path)
    backend = await backend_for(db.new_user())
    await publish_folder(backend, folder, run_code=False)
    target = await export_folder(backend, folder.name, tmp_path / "exported")
    assert (await publish_folder(backend, target, run_code=False)).changed == 0


async def test_export_leaves_out_unpublished_lessons(db, backend_for, tmp_path):
    folder = course_copy(tmp_path)
    backend = await backend_for(db.new_user())
    await publish_folder(backend, folder, run_code=False)
    (folder / "lessons" / "10-modules.md").unlink()
    await publish_folder(backend, folder, run_code=False)
    target = await export_folder(backend, folder.name, tmp_path / "exported")
    assert not (target / "lessons" / "10-modules.md").exists()


async def test_export_of_another_authors_course_is_refused(db, backend_for, tmp_path):
    folder = course_copy(tmp_path)
    await publish_folder(await backend_for(db.new_user()), folder, run_code=False)
    with pytest.raises(NotFound):
        await export_folder(await backend_for(db.new_user()), folder.name, tmp_path / "x")


# -- the studio: my courses and their analytics ----------------------------------------------


def submit(db, learner: str, assessment_id: str, passed: int, total: int) -> None:
    result = {
        "version": 1,
        "status": "pass" if passed == total else "fail",
        "message": None,
        "score": {"passed": passed, "total": total, "percent": 100 * passed // total},
        "tests": [],
    }
    db.run_as(
        learner,
        "select public.submit_attempt(%s, 'code', %s::jsonb, %s::numeric)",
        (assessment_id, json.dumps(result), 100 * passed / total),
    )


@pytest.fixture(scope="module")
def dataset(db, tmp_path_factory):
    """A course with a known history:
    three learners enrolled (ada finishes every lesson, bob completes lesson 1 and reads
    lesson 2, cy drops out), dan reads without enrolling; chunk submitted at 100 and 50
    (ada) and 80 (bob); ratings 5 with text and 3 without; written feedback on lesson 2;
    tutor questions on the course and on a lesson, and one general question."""
    author, ada, bob, cy, dan = (db.new_user() for _ in range(5))
    folder = course_copy(tmp_path_factory.mktemp("dataset"))
    payload = load_course(folder).payload()
    course_id = db.run_as(
        author, "select public.publish_course(%s::jsonb)", (json.dumps(payload),)
    )[0]["publish_course"]["course_id"]
    lessons = [
        r["id"]
        for r in db.su(
            "select id from public.lessons where course_id = %s order by order_index", (course_id,)
        )
    ]
    chunk = db.su_one(
        "select id from public.assessments where course_id = %s and slug = 'chunk'", (course_id,)
    )
    for learner in (ada, bob, cy):
        db.run_as(learner, "select public.enroll(%s)", (course_id,))
    for lesson_id in lessons:
        db.run_as(ada, "select public.record_lesson_progress(%s, 30, null, true)", (lesson_id,))
    db.run_as(bob, "select public.record_lesson_progress(%s, 30, null, true)", (lessons[0],))
    db.run_as(bob, "select public.record_lesson_progress(%s, 30, null, null)", (lessons[1],))
    db.run_as(dan, "select public.record_lesson_progress(%s, 30, null, true)", (lessons[0],))
    db.run_as(cy, "select public.set_enrollment_status(%s, 'dropped')", (course_id,))
    submit(db, ada, chunk, 2, 2)
    submit(db, ada, chunk, 1, 2)
    submit(db, bob, chunk, 4, 5)
    db.run_as(
        ada, "select public.submit_feedback(5, 'Loved it', 'course_rating', %s)", (course_id,)
    )
    db.run_as(bob, "select public.submit_feedback(3, null, 'course_rating', %s)", (course_id,))
    db.run_as(
        bob,
        "select public.submit_feedback(null, 'Lesson 2 is confusing', 'lesson', null, %s)",
        (lessons[1],),
    )
    db.run_as(
        ada,
        "select public.log_chat('What is a list?', 'A sequence.', 'course_guidance', %s)",
        (course_id,),
    )
    db.run_as(
        bob, "select public.log_chat('Why?', 'Because.', 'lesson_chat', null, %s)", (lessons[1],)
    )
    db.run_as(dan, "select public.log_chat('Hello?', 'Hi.')")
    return {
        "author": author,
        "learners": [ada, bob, cy, dan],
        "course_id": str(course_id),
        "slug": folder.name,
        "lessons": [str(x) for x in lessons],
    }


@pytest.fixture
async def analytics(dataset, backend_for):
    backend = await backend_for(dataset["author"])
    return await AuthoringAPI(backend).analytics(dataset["course_id"])


async def test_analytics_count_enrollments_by_status(analytics):
    e = analytics.enrollments
    assert (e.total, e.active, e.completed, e.dropped) == (3, 1, 1, 1)


async def test_analytics_completion_rate_is_completed_over_enrolled(analytics):
    assert analytics.completion_rate == 33.3


async def test_analytics_enrollments_this_week_are_the_last_point(analytics):
    weeks = analytics.enrollments_by_week
    assert (len(weeks), weeks[-1].count, sum(w.count for w in weeks)) == (12, 3, 3)


async def test_analytics_funnel_counts_enrolled_learners_per_lesson(analytics):
    funnel = analytics.funnel
    assert [(s.started, s.completed) for s in funnel[:3]] == [(2, 2), (2, 1), (1, 1)]
    assert (len(funnel), funnel[0].rate, funnel[1].rate) == (11, 66.7, 33.3)


async def test_analytics_withhold_the_scores_of_an_assessment_two_learners_took(analytics):
    """Fewer than 3 learners: counts only (issue #15 §3; tests/db/test_hardening.py
    checks the figures once 3 learners stand behind them)."""
    chunk = next(a for a in analytics.assessments if a.slug == "chunk")
    assert (
        chunk.attempts,
        chunk.learners,
        chunk.passed,
        chunk.pass_rate,
        chunk.average_score,
        chunk.withheld,
    ) == (3, 2, None, None, None, True)


async def test_analytics_assessments_without_submissions_have_no_rate(analytics):
    other = next(a for a in analytics.assessments if a.slug == "make-slug")
    assert (other.attempts, other.pass_rate, other.average_score) == (0, None, None)


async def test_analytics_withhold_the_rating_of_two_learners(analytics):
    r = analytics.rating
    assert (r.average, r.count, r.distribution, r.withheld) == (None, 2, None, True)


async def test_analytics_recent_feedback_is_the_text_without_its_author(analytics):
    texts = {(f.text, f.about) for f in analytics.feedback}
    assert texts == {("Loved it", None), ("Lesson 2 is confusing", "Variables and names")}


async def test_analytics_tutor_usage_counts_the_courses_questions(analytics):
    assert (
        analytics.tutor.questions,
        analytics.tutor.learners,
        analytics.tutor.by_week[-1].count,
    ) == (2, 2, 2)


async def test_another_author_cannot_read_a_courses_analytics(db, dataset, backend_for):
    backend = await backend_for(db.new_user())
    with pytest.raises(NotFound):
        await AuthoringAPI(backend).analytics(dataset["course_id"])


async def test_a_learner_of_the_course_cannot_read_its_analytics(dataset, backend_for):
    backend = await backend_for(dataset["learners"][0])
    with pytest.raises(NotFound):
        await AuthoringAPI(backend).analytics(dataset["course_id"])


async def test_anon_cannot_read_a_courses_analytics(dataset, backend_for):
    with pytest.raises(NotSignedIn):
        await AuthoringAPI(await backend_for(None)).analytics(dataset["course_id"])


def test_anon_cannot_call_the_private_analytics_function(db, dataset):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.run_as(None, "select private.course_analytics(%s)", (dataset["course_id"],))


def test_the_private_analytics_function_checks_the_caller_is_the_author(db, dataset):
    with pytest.raises(psycopg.errors.NoDataFound):
        db.run_as(
            dataset["learners"][1], "select private.course_analytics(%s)", (dataset["course_id"],)
        )


async def test_studio_lists_my_courses_including_drafts(db, backend_for, tmp_path):
    author = db.new_user()
    backend = await backend_for(author)
    folder = course_copy(tmp_path)
    await publish_folder(backend, folder, draft=True, run_code=False)
    mine = await AuthoringAPI(backend).my_courses()
    assert [(c.slug, c.is_published, c.lesson_count) for c in mine] == [(folder.name, False, 11)]


async def test_studio_lists_no_one_elses_courses(db, dataset, backend_for):
    assert await AuthoringAPI(await backend_for(db.new_user())).my_courses() == []


async def test_unpublishing_a_course_from_the_studio(db, backend_for, tmp_path):
    backend = await backend_for(db.new_user())
    result = await publish_folder(backend, course_copy(tmp_path), run_code=False)
    await AuthoringAPI(backend).set_published(result.course_id, False)
    assert (
        db.su_one("select is_published from public.courses where id = %s", (result.course_id,))
        is False
    )


# -- operators -----------------------------------------------------------------------------


@pytest.mark.parametrize("view", MONITORING_VIEWS)
def test_monitoring_views_are_not_readable_by_authenticated(db, view):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.run_as(db.new_user(), f"select * from monitoring.{view}")


@pytest.mark.parametrize("view", MONITORING_VIEWS)
def test_monitoring_views_are_not_readable_by_anon(db, view):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.run_as(None, f"select * from monitoring.{view}")


@pytest.mark.parametrize("view", MONITORING_VIEWS)
def test_monitoring_views_are_readable_by_service_role(db, view):
    assert isinstance(
        db.run_as(None, f"select * from monitoring.{view}", role="service_role"), list
    )


def test_admin_report_is_not_callable_by_authenticated(db):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.run_as(db.new_user(), "select public.admin_report()")


def test_admin_report_shows_course_completion_to_service_role(db, dataset):
    report = db.run_as(None, "select public.admin_report() as r", role="service_role")[0]["r"]
    course = next(c for c in report["courses"] if c["slug"] == dataset["slug"])
    assert (course["enrollments"], course["completed"], course["completion_rate"]) == (3, 1, 33.3)


def test_admin_report_shows_assessment_performance(db, dataset):
    report = db.run_as(None, "select public.admin_report() as r", role="service_role")[0]["r"]
    chunk = next(
        a
        for a in report["assessments"]
        if a["course_slug"] == dataset["slug"] and a["slug"] == "chunk"
    )
    assert (chunk["attempts"], chunk["pass_rate"], chunk["average_score"]) == (3, 66.7, 76.7)


def test_admin_report_counts_todays_active_learners(db, dataset):
    report = db.run_as(None, "select public.admin_report() as r", role="service_role")[0]["r"]
    assert report["daily_active"][-1]["learners"] >= 3


def test_streak_distribution_counts_every_learner_once(db, dataset):
    rows = db.run_as(
        None, "select learners from monitoring.streak_distribution", role="service_role"
    )
    assert sum(r["learners"] for r in rows) == db.su_one("select count(*) from public.user_streaks")


def test_ai_usage_sums_tokens_and_latency_by_type(db):
    learner = db.new_user()
    for tokens, ms in ((100, 200), (300, 400)):
        db.run_as(
            learner,
            "select public.log_ai_interaction('probe_type', null, null, %s, %s)",
            (tokens, ms),
        )
    row = db.run_as(
        None,
        "select * from monitoring.ai_usage_by_type where interaction_type = 'probe_type'",
        role="service_role",
    )[0]
    assert (row["requests"], row["tokens"], row["average_ms"], row["max_ms"]) == (2, 400, 300, 400)


def test_admin_report_command_prints_the_local_report(
    db_url, dataset, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("SUPABASE_SERVICE_ROLE_KEY", raising=False)
    assert main(["admin", "report"]) == 0
    out = capsys.readouterr().out
    assert "Daily active learners" in out and "Python Foundations" in out


def test_admin_report_command_reads_supabase_with_the_service_role_key(
    db_url, dataset, tmp_path, monkeypatch, capsys
):
    with SupabaseStandIn(db_url) as api:
        monkeypatch.setenv("LEARN_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("SUPABASE_URL", api.url)
        monkeypatch.setenv("SUPABASE_ANON_KEY", api.anon_key)
        monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", api.service_role_key)
        assert main(["admin", "report", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert any(c["slug"] == dataset["slug"] for c in report["courses"])


def test_admin_report_command_with_the_anon_key_is_refused(db_url, tmp_path, monkeypatch, capsys):
    with SupabaseStandIn(db_url) as api:
        monkeypatch.setenv("LEARN_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("SUPABASE_URL", api.url)
        monkeypatch.setenv("SUPABASE_ANON_KEY", api.anon_key)
        monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", api.anon_key)
        assert main(["admin", "report"]) == 1
    assert "service-role key" in capsys.readouterr().err


def test_admin_report_does_not_count_the_bundled_courses_account_as_a_learner(db, db_url):
    from services.data.seed import seed_bundled

    seed_bundled(db_url)
    report = db.run_as(None, "select public.admin_report() as r", role="service_role")[0]["r"]
    assert report["learners"] == db.su_one("select count(*) from public.profiles") - 1
