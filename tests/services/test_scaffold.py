"""`learn course new SLUG`: a course folder that validates and previews as it is."""

from __future__ import annotations

import pytest

from services.authoring.course import validate
from tests.tui.helpers import wait_for
from tui.cli import main


def test_a_new_course_validates_with_no_problem_at_all(tmp_path, capsys):
    assert main(["course", "new", "intro-demo", "--dir", str(tmp_path)]) == 0
    assert "learn course preview" in capsys.readouterr().out
    course = validate(tmp_path / "intro-demo", run_code=True)
    assert course.problems == []
    assert (len(course.lessons), len(course.assessments)) == (1, 1)
    assert course.assessments[0].lesson is not None


@pytest.mark.parametrize("slug", ["Bad Slug", "dash_under", "UPPER"])
def test_a_new_course_needs_a_slug_the_catalog_can_use(slug, tmp_path, capsys):
    assert main(["course", "new", slug, "--dir", str(tmp_path)]) == 2
    assert "cannot be a course's slug" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_new_course_never_writes_into_a_folder_with_files(tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    assert main(["course", "new", "taken", "--dir", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.txt"]


async def test_a_new_course_previews_its_lesson_and_assessment(tmp_path, monkeypatch):
    from screens.course import CourseScreen
    from tui.preview import PreviewApp

    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "home"))
    assert main(["course", "new", "intro-demo", "--dir", str(tmp_path)]) == 0
    app = PreviewApp(tmp_path / "intro-demo")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await wait_for(
            pilot,
            lambda: isinstance(app.screen, CourseScreen) and app.screen.detail and app.screen,
            what="course",
        )
        assert [x.title for x in screen.detail.lessons] == ["First steps"]
        assert [x.title for x in screen.detail.assessments] == ["Add two numbers"]
        assert not [n for n in app._notifications if n.severity != "information"]
