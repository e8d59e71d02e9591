"""`learn course preview DIR`: the learner's screens on a course folder, without a
database or a sign-in, reloading when a file changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import Markdown, TextArea

from screens.assessment import AssessmentScreen
from screens.course import CourseScreen
from screens.lesson import LessonScreen
from services.authoring.course import load_course
from services.paths import bundled_courses
from tests.tui.helpers import screen_text, wait_for, wait_for_screen, wait_for_toast
from tui.preview import PreviewApp
from widgets.transcripts import mark_transcripts

BUNDLED = {p.name: p for p in bundled_courses()}


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "home"))  # drafts go here


@pytest.fixture
def folder(tmp_path) -> Path:
    return Path(shutil.copytree(BUNDLED["python-foundations"], tmp_path / "python-foundations"))


async def open_course(pilot) -> CourseScreen:
    course = await wait_for_screen(pilot, CourseScreen)
    await wait_for(pilot, lambda: course.detail, what="course detail")
    return course


async def open_assessment(pilot, slug: str) -> AssessmentScreen:
    course = await open_course(pilot)
    pilot.app.open_assessment(next(a.id for a in course.detail.assessments if a.slug == slug))
    return await wait_for_screen(pilot, AssessmentScreen)


async def nothing_saved(pilot) -> None:
    await wait_for_toast(pilot, lambda n: str(n.message) == "preview: nothing is saved")


async def test_preview_starts_on_the_course_screen_without_signing_in(folder):
    app = PreviewApp(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        course = await open_course(pilot)
        assert course.detail.course.title == "Python Foundations"
        assert "Preview — as learners see it before they enroll" in screen_text(pilot)


@pytest.mark.parametrize("name", sorted(BUNDLED))
async def test_preview_renders_every_lesson_in_order(name):
    lessons = load_course(BUNDLED[name]).lessons
    app = PreviewApp(BUNDLED[name])
    async with app.run_test(size=(120, 40)) as pilot:
        await open_course(pilot)
        await pilot.press("enter")
        reader = await wait_for_screen(pilot, LessonScreen)
        shown = []
        for expected in lessons:
            await wait_for(
                pilot,
                lambda e=expected: reader.detail and reader.detail.lesson.title == e.title,
                what=expected.title,
            )
            # as written, REPL blocks labelled as transcripts (widgets.transcripts)
            assert reader.query_one("#lesson-content", Markdown).source == mark_transcripts(
                expected.content
            )
            assert expected.title in screen_text(pilot)
            shown.append(reader.detail.lesson.title)
            await pilot.press("right_square_bracket")
        assert shown == [x.title for x in lessons]


@pytest.mark.parametrize("name", sorted(BUNDLED))
async def test_preview_renders_every_assessment(name):
    assessments = load_course(BUNDLED[name]).assessments
    app = PreviewApp(BUNDLED[name])
    async with app.run_test(size=(120, 40)) as pilot:
        course = await open_course(pilot)
        listed = course.detail.assessments
        assert sorted(a.title for a in listed) == sorted(a.title for a in assessments)
        for item in listed:
            app.open_assessment(item.id)
            screen = await wait_for_screen(pilot, AssessmentScreen)
            await wait_for(pilot, lambda s=screen: s.detail, what=item.title)
            source = next(a for a in assessments if a.title == item.title)
            assert screen.query_one("#instructions", Markdown).source == source.instructions
            assert screen.query_one("#editor", TextArea).text == source.starter_code
            assert f"{len(source.tests)} tests" in screen_text(pilot)
            await pilot.press("escape", "escape")  # the editor lets go of escape first
            await wait_for_screen(pilot, CourseScreen)


async def test_preview_reloads_the_lesson_when_its_file_changes(folder):
    app = PreviewApp(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_course(pilot)
        await pilot.press("enter")
        reader = await wait_for_screen(pilot, LessonScreen)
        await wait_for(pilot, lambda: reader.detail, what="lesson")
        page = folder / "lessons" / "01-values-and-types.md"
        page.write_text(
            page.read_text().replace(
                'title = "Values and types"', 'title = "Values, types and more"'
            )
        )
        await wait_for(
            pilot,
            lambda: reader.detail.lesson.title == "Values, types and more",
            what="the new title",
        )


async def test_preview_shows_a_new_lesson_file_on_the_course_screen(folder):
    app = PreviewApp(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        course = await open_course(pilot)
        (folder / "lessons" / "12-next-steps.md").write_text(
            '+++\ntitle = "Next steps"\n+++\n\nWhere to go from here.\n'
        )
        await wait_for(
            pilot, lambda: course.detail.lessons[-1].title == "Next steps", what="the new lesson"
        )


async def test_preview_reports_the_folders_problems(folder):
    (folder / "course.toml").write_text('title = "T"\ndifficulty_level = "Expert"\n')
    app = PreviewApp(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_course(pilot)
        await wait_for_toast(
            pilot, lambda n: "difficulty_level" in str(n.message), "the problem toast"
        )


async def test_preview_footer_offers_no_enroll_rate_or_dashboard(folder):
    app = PreviewApp(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        course = await open_course(pilot)
        actions = {b.binding.action for b in course.active_bindings.values()}
        assert not actions & {
            "enroll",
            "pause",
            "rate",
            "drop",
            "goto('dashboard')",
            "goto('catalog')",
        }
        assert "q" in course.active_bindings


async def test_preview_refuses_to_mark_a_lesson_complete_politely(folder):
    app = PreviewApp(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_course(pilot)
        await pilot.press("enter")
        reader = await wait_for_screen(pilot, LessonScreen)
        await wait_for(pilot, lambda: reader.detail, what="lesson")
        await pilot.press("m")
        await nothing_saved(pilot)


async def test_preview_runs_the_tests_but_saves_no_submission(folder):
    app = PreviewApp(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_assessment(pilot, "chunk")
        await wait_for(pilot, lambda: screen.detail, what="assessment")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.last_result, what="test results")
        await pilot.press("ctrl+s")
        await nothing_saved(pilot)


async def test_preview_shows_the_assessment_countdown_once_started(folder):
    app = PreviewApp(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_assessment(pilot, "chunk")
        assert "left" not in screen.sub_title  # as for learners: F5 (or an edit) starts it
        await pilot.press("f5")
        await wait_for(pilot, lambda: "left" in screen.sub_title, what="the countdown")


def test_preview_command_exits_2_for_a_folder_that_is_not_a_course(tmp_path):
    from tui.cli import main

    assert main(["course", "preview", str(tmp_path)]) == 2
