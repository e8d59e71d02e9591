"""What a new learner notices in the first minutes: where the cursor is, where a
lesson opens, keys that explain themselves. Fixed data (tests/tui/fixed_backend.py):
these are about the screens, not the database."""

from __future__ import annotations

import copy

import pytest
from textual.widgets import ListView

from tests.tui.fixed_backend import ASSESSMENT, COURSE, DATA, LESSONS, FixedBackend
from tests.tui.helpers import wait_for, wait_for_toast
from tui.app import LearnApp


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARN_HOME", str(tmp_path))


def make_app() -> LearnApp:
    return LearnApp(lambda progress: FixedBackend(progress))


async def start(pilot) -> None:
    await wait_for(pilot, lambda: getattr(pilot.app.screen, "dashboard", None), what="dashboard")


def rendered(renderable) -> str:
    import io

    from rich.console import Console

    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def highlighted(list_view: ListView) -> list[int]:
    return [i for i, item in enumerate(list_view.children) if item.highlighted]


async def open_course(pilot):
    pilot.app.open_course(COURSE)
    await wait_for(pilot, lambda: getattr(pilot.app.screen, "detail", None), what="course")
    return pilot.app.screen


async def test_course_lists_show_a_highlighted_item_after_a_reload():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        screen = await open_course(pilot)
        screen.reload(quiet=True)  # as on returning from a lesson
        lessons, assessments = screen.query_one("#lessons"), screen.query_one("#assessments")
        await wait_for(
            pilot,
            lambda: highlighted(lessons) and highlighted(assessments),
            what="highlighted items",
        )
        assert highlighted(lessons) == [lessons.index]
        assert highlighted(assessments) == [0]  # a one-item list too


async def test_next_lesson_opens_at_its_top_even_with_a_saved_position(monkeypatch):
    lesson = copy.deepcopy(DATA["lesson_detail"])
    lesson["progress"]["last_position"] = 8
    monkeypatch.setitem(DATA, "lesson_detail", lesson)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot)
        app.open_lesson(LESSONS[1])
        body = await wait_for(
            pilot,
            lambda: app.screen.query_one("#body").scroll_y == 8 and app.screen.query_one("#body"),
            what="restored position",
        )
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: app.screen.detail is not None, what="next lesson")
        await pilot.pause(0.2)
        assert body.scroll_y == 0


async def test_marking_a_lesson_of_a_course_you_are_not_in_says_why(monkeypatch):
    monkeypatch.setitem(DATA, "lesson_detail", {**DATA["lesson_detail"], "enrolled": False})
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        app.open_lesson(LESSONS[2])
        await wait_for(pilot, lambda: getattr(app.screen, "detail", None), what="lesson")
        await pilot.press("m")
        await wait_for_toast(pilot, lambda n: "Enroll in" in n.message, "why not")


async def test_space_on_the_dashboard_continues_the_assessment_in_progress():
    from screens.assessment import AssessmentScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        await wait_for(
            pilot,
            lambda: "Make a URL slug" in str(app.screen.query_one("#continue").render()),
            what="continue line",
        )
        await pilot.press("space")
        await wait_for(pilot, lambda: isinstance(app.screen, AssessmentScreen), what="opened")


async def test_space_on_the_dashboard_opens_the_next_lesson_with_nothing_in_progress(monkeypatch):
    from screens.lesson import LessonScreen

    monkeypatch.setitem(DATA, "resume_point", {"assessment": None})
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        await wait_for(
            pilot,
            lambda: "Working with strings" in str(app.screen.query_one("#continue").render()),
            what="continue line",
        )
        await pilot.press("space")
        screen = await wait_for(
            pilot, lambda: isinstance(app.screen, LessonScreen) and app.screen, what="lesson"
        )
        assert screen.lesson_id == LESSONS[2]


async def test_first_run_refuses_an_unknown_time_zone_as_the_profile_screen_does():
    from screens.first_run import LocalProfileScreen

    app = LearnApp(lambda progress: FixedBackend(progress, signed_in=False))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await wait_for(
            pilot,
            lambda: isinstance(app.screen, LocalProfileScreen) and app.screen,
            what="first run",
        )
        screen.query_one("#name").value = "Ada"
        screen.query_one("#timezone").value = "Mars/Olympus"
        await pilot.press("ctrl+s")
        await wait_for_toast(
            pilot, lambda n: 'unknown time zone "Mars/Olympus"' in n.message, "time zone error"
        )
        assert app.backend.current_user is None and app.screen is screen
        assert app.focused is screen.query_one("#timezone")


async def test_course_footer_offers_enroll_before_and_pause_and_rate_after(monkeypatch):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        screen = await open_course(pilot)  # the fixed learner is enrolled
        keys = set(screen.active_bindings)
        assert {"p", "s"} <= keys and "e" not in keys
        monkeypatch.setitem(
            DATA, "course_detail", {**DATA["course_detail"], "enrollment": None, "my_rating": None}
        )
        screen.reload(quiet=True)
        await wait_for(pilot, lambda: screen.detail.enrollment is None, what="not enrolled")
        keys = set(screen.active_bindings)
        assert "e" in keys and not {"p", "s", "x"} & keys


async def test_dashboard_footer_hides_continue_and_course_keys_with_nothing_to_open(monkeypatch):
    monkeypatch.setitem(DATA, "dashboard", {**DATA["dashboard"], "enrollments": []})
    monkeypatch.setitem(DATA, "resume_point", {"assessment": None})
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        await pilot.pause(0.2)
        keys = set(app.screen.active_bindings)
        assert not {"space", "o"} & keys and "c" in keys


async def open_fixed_assessment(pilot):
    from screens.assessment import AssessmentScreen

    pilot.app.open_assessment(ASSESSMENT)
    return await wait_for(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, AssessmentScreen)
            and pilot.app.screen.spec
            and pilot.app.screen
        ),
        what="assessment",
    )


async def test_the_results_table_explains_a_failure_and_enter_shows_the_whole_test():
    from screens.result_detail import ResultDetail

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await start(pilot)
        screen = await open_fixed_assessment(pilot)
        screen.query_one("#editor").load_text("def make_slug(title):\n    return title.lower()\n")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.query_one("#results").row_count, what="results")
        table = screen.query_one("#results")
        why = str(table.get_row_at(0)[3])
        assert "returned 'hello world', expected 'hello-world'" in why
        table.focus()
        await pilot.press("enter")
        detail = await wait_for(
            pilot, lambda: isinstance(app.screen, ResultDetail) and app.screen, what="detail view"
        )
        shown = rendered(detail.query_one("#result-body").content)
        for part in (
            "make_slug('Hello World') == 'hello-world'",
            "Expected\n'hello-world'",
            "Actual\n'hello world'",
            "returned 'hello world'",
        ):
            assert part in shown
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back to the editor")


async def test_enter_keeps_the_indentation_and_indents_after_a_colon_and_tab_indents():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await start(pilot)
        screen = await open_fixed_assessment(pilot)
        editor = screen.query_one("#editor")
        editor.load_text("def make_slug(title):")
        editor.move_cursor((0, 21))
        await pilot.press("enter", *"if title:", "enter", *"return 1", "enter", "tab", "x")
        assert editor.text == (
            "def make_slug(title):\n    if title:\n        return 1\n            x"
        )


async def test_escape_in_the_editor_goes_back_as_the_footer_says():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await start(pilot)
        screen = await open_fixed_assessment(pilot)
        assert app.focused is screen.query_one("#editor")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is not screen, what="left the assessment")


async def test_ctrl_e_edits_the_code_in_the_learners_editor_and_loads_it_back(
    tmp_path, monkeypatch
):
    import contextlib

    script = tmp_path / "fake-editor"
    script.write_text('#!/bin/sh\nprintf "    return title.lower()\\n" >> "$1"\n')
    script.chmod(0o755)
    monkeypatch.setenv("VISUAL", str(script))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await start(pilot)
        monkeypatch.setattr(app, "suspend", contextlib.nullcontext)  # no terminal here
        screen = await open_fixed_assessment(pilot)
        editor = screen.query_one("#editor")
        editor.load_text("def make_slug(title):\n")
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: "return title.lower()" in editor.text, what="reloaded")
        assert editor.text == "def make_slug(title):\n    return title.lower()\n"


async def test_ctrl_e_without_a_terminal_to_hand_over_says_so():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await start(pilot)
        await open_fixed_assessment(pilot)
        await pilot.press("ctrl+e")
        await wait_for_toast(pilot, lambda n: "cannot be handed" in n.message, "why not")


@pytest.mark.parametrize("key", ["c", "u", "n"])
async def test_every_section_has_a_back_key_to_the_dashboard(key):
    from screens.dashboard import DashboardScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        assert "escape" not in app.screen.active_bindings  # home: nowhere to go back
        await pilot.press(key)
        await wait_for(
            pilot, lambda: not isinstance(app.screen, DashboardScreen), what="the section"
        )
        await pilot.pause(0.2)
        app.screen.set_focus(None)
        await pilot.press("escape")
        await wait_for(
            pilot, lambda: isinstance(app.screen, DashboardScreen), what="back on the dashboard"
        )


async def test_escape_in_the_catalog_search_leaves_the_field_first():
    from screens.catalog import CatalogScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        await pilot.press("c")
        screen = await wait_for(
            pilot, lambda: isinstance(app.screen, CatalogScreen) and app.screen, what="catalog"
        )
        await pilot.press("slash", *"py", "escape")
        assert app.screen is screen and app.focused is screen.query_one("#courses")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is not screen, what="back")


async def test_the_palette_opens_an_assessment_by_title():
    from screens.assessment import AssessmentScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"url slug")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AssessmentScreen), what="opened")


async def test_the_palette_on_the_welcome_screen_offers_only_what_works_there():
    from tui.commands import LearnCommands

    app = LearnApp(lambda progress: FixedBackend(progress, signed_in=False))
    async with app.run_test(size=(120, 40)) as pilot:
        from screens.first_run import LocalProfileScreen

        await wait_for(pilot, lambda: isinstance(app.screen, LocalProfileScreen), what="welcome")
        names = [c[0] for c in LearnCommands(app.screen)._commands()]
        assert "Go to dashboard" not in names and "Sign out" not in names
        assert "Quit" in names and "Help" in names


async def test_help_groups_keys_by_what_they_act_on_and_lists_each_once():
    from screens.dialogs import HelpScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        await pilot.pause(0.2)
        await pilot.press("f1")
        help_screen = await wait_for(
            pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen, what="help"
        )
        groups = dict(help_screen.groups)
        assert [g for g, _rows in help_screen.groups] == ["This screen", "The list", "Everywhere"]
        assert ("⏎", "Next lesson") in groups["This screen"]
        descriptions = [d for _k, d in help_screen.rows]
        assert "Select" not in descriptions
        assert len(descriptions) == len(set(descriptions))


async def test_help_finds_a_key_by_what_it_does():
    from screens.dialogs import HelpScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        await open_fixed_assessment(pilot)
        await pilot.press("f1")
        help_screen = await wait_for(
            pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen, what="help"
        )
        assert [g for g, _rows in help_screen.groups][:2] == ["This screen", "The editor"]
        await pilot.press(*"redo")
        await pilot.pause(0.1)
        shown = rendered(help_screen.query_one("#help-table").content)
        assert "Redo" in shown and "Run tests" not in shown and "The editor" in shown
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), what="closed")


async def test_a_screenshot_without_a_downloads_folder_is_saved_and_says_where(
    tmp_path, monkeypatch
):
    home = tmp_path / "person"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))  # no user-dirs.dirs
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        app.action_screenshot()
        await wait_for_toast(pilot, lambda n: n.title == "Screenshot", "saved")
        saved = list((home / "Downloads").glob("*.svg"))
        assert len(saved) == 1
        assert any(str(saved[0]) in n.message for n in app._notifications)


async def test_the_chosen_theme_survives_a_restart():
    from services import config

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        app.theme = "nord"
        await wait_for(pilot, lambda: config.load().theme == "nord", what="saved theme")
    assert make_app().theme == "nord"


def test_progress_bars_take_the_themes_colours():
    from textual.theme import BUILTIN_THEMES

    from widgets.progress import bar

    nord = BUILTIN_THEMES["nord"]
    assert bar(50, 10, nord).spans[0].style == nord.accent
    assert bar(100, 10, nord).spans[0].style == nord.success


async def test_rating_digits_choose_stars_and_in_the_comment_box_they_are_text():
    from screens.dialogs import RateCourseDialog

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        await open_course(pilot)
        await pilot.press("s")
        dialog = await wait_for(
            pilot,
            lambda: isinstance(app.screen, RateCourseDialog) and app.screen,
            what="rating dialog",
        )
        await pilot.press("3")
        assert dialog.stars == 3
        assert "press 1–5" in str(dialog.query_one("#stars").render())
        await pilot.press("tab", "5")
        feedback = dialog.query_one("#feedback")
        assert dialog.stars == 3 and feedback.value.endswith("5")
        assert "press 1–5" not in str(dialog.query_one("#stars").render())


async def test_quitting_during_a_timed_attempt_asks_first(monkeypatch):
    from datetime import datetime, timezone

    from screens.dialogs import ConfirmDialog

    detail = copy.deepcopy(DATA["assessment_detail"])
    detail["assessment"]["time_limit"] = 20
    detail["open_attempt"] = {
        "id": "t2",
        "submitted_code": None,
        "started_at": datetime.now(timezone.utc).isoformat(),
    }
    monkeypatch.setitem(DATA, "assessment_detail", detail)
    app = make_app()
    exits = []
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        screen = await open_fixed_assessment(pilot)
        await wait_for(pilot, lambda: screen.timer_running, what="the clock")
        monkeypatch.setattr(app, "exit", lambda *a, **k: exits.append(True))
        await pilot.press("ctrl+q")
        dialog = await wait_for(
            pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen, what="the question"
        )
        assert "minutes left" in dialog.message
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen, what="back to the attempt")
        assert not exits
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="asked")
        await pilot.press("y")
        await wait_for(pilot, lambda: exits, what="quit")


async def test_quitting_with_no_timed_attempt_does_not_ask():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        await open_fixed_assessment(pilot)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.return_code is not None, what="quit")


def test_a_repl_block_is_marked_as_a_transcript_and_a_program_is_not():
    from widgets.transcripts import mark_transcripts

    markdown = (
        "```python\n>>> type(None)\n<class 'NoneType'>\n```\n\n"
        "```python\nprint('>>> not a prompt')\n```\n"
    )
    assert mark_transcripts(markdown) == (
        "```pycon\n>>> type(None)\n<class 'NoneType'>\n```\n\n"
        "```python\nprint('>>> not a prompt')\n```\n"
    )


async def test_the_lesson_shows_a_repl_block_as_a_transcript(monkeypatch):
    from textual.widgets.markdown import MarkdownFence

    lesson = copy.deepcopy(DATA["lesson_detail"])
    lesson["lesson"]["content"] = "Try it:\n\n```python\n>>> 7 / 2\n3.5\n```\n"
    monkeypatch.setitem(DATA, "lesson_detail", lesson)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        app.open_lesson(LESSONS[2])
        await wait_for(pilot, lambda: app.screen.query(MarkdownFence), what="the code block")
        fence = app.screen.query_one("#lesson-content").query_one(MarkdownFence)
        assert fence.lexer == "pycon"


async def test_alt_arrows_move_the_divider_and_f8_zooms_the_focused_pane():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await start(pilot)
        screen = await open_fixed_assessment(pilot)
        left = screen.query_one("#assessment-left")
        before = left.size.width
        await pilot.press("alt+right")
        await pilot.pause()
        assert left.size.width > before and screen.split == 55
        await pilot.press("alt+left", "alt+left")
        await pilot.pause()
        assert screen.split == 35 and left.size.width < before
        await pilot.press("f8")
        await pilot.pause()
        assert screen.maximized is screen.query_one("#editor")
        await pilot.press("f8")
        assert screen.maximized is None


async def test_the_tutor_pane_can_be_widened_and_takes_the_instructions_place_when_narrow():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot)
        screen = await open_fixed_assessment(pilot)
        assert screen.query_one("#assessment-left").display
        await pilot.press("ctrl+o")
        pane = await wait_for(
            pilot, lambda: screen.query("ChatPane") and screen.query_one("ChatPane"), what="tutor"
        )
        await pilot.pause()
        assert not screen.query_one("#assessment-left").display  # no one-word lines
        before = pane.outer_size.width
        await pilot.press("alt+left")
        await pilot.pause()
        assert pane.share == 50 and pane.outer_size.width == 40 > before
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert screen.query_one("#assessment-left").display


async def test_tab_skips_panels_with_nothing_to_scroll():
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await start(pilot)
        screen = await open_course(pilot)
        await pilot.pause(0.2)
        chain = [w.id for w in screen.focus_chain]
        assert chain == ["lessons", "assessments"]  # not the short "About" panel


async def test_a_long_lesson_takes_the_arrow_keys_at_once(monkeypatch):
    lesson = copy.deepcopy(DATA["lesson_detail"])
    lesson["lesson"]["content"] = "\n\n".join(f"Paragraph {i}." for i in range(60))
    monkeypatch.setitem(DATA, "lesson_detail", lesson)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot)
        app.open_lesson(LESSONS[2])
        body = await wait_for(
            pilot,
            lambda: app.focused is app.screen.query_one("#body") and app.focused,
            what="the lesson focused",
        )
        await pilot.press("down", "down")
        await pilot.pause()
        assert body.scroll_y > 0


class SlowStart(FixedBackend):
    """FixedBackend whose connect waits until released: a cold database starting."""

    def __init__(self, progress=None, **kw):
        super().__init__(progress, **kw)
        self.release = None

    async def connect(self) -> None:
        import asyncio

        self.release = asyncio.Event()
        await self.release.wait()


async def test_start_paints_the_cached_dashboard_then_refreshes_it_in_place(monkeypatch):
    from services.offline.backend import OfflineBackend

    first = LearnApp(lambda progress: OfflineBackend(FixedBackend(progress)))
    async with first.run_test(size=(120, 40)) as pilot:  # fills the read cache
        await start(pilot)
    monkeypatch.setitem(DATA, "dashboard", {**DATA["dashboard"], "points": 99})
    inner = SlowStart()
    app = LearnApp(lambda progress: OfflineBackend(inner))
    async with app.run_test(size=(120, 40)) as pilot:
        home = await wait_for(
            pilot,
            lambda: getattr(app.screen, "dashboard", None) and app.screen,
            what="the cached dashboard",
        )
        assert inner.release is not None and not inner.release.is_set()  # still starting
        assert home.dashboard.points == 25 and home.sub_title.startswith("as of ")
        inner.release.set()
        await wait_for(pilot, lambda: home.dashboard.points == 99, what="fresh data")
        assert app.screen is home and not home.sub_title


async def test_the_results_rewrap_when_the_tutor_opens_beside_them():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await start(pilot)
        screen = await open_fixed_assessment(pilot)
        screen.query_one("#editor").load_text("def make_slug(title):\n    return title.lower()\n")
        await pilot.press("ctrl+r")
        table = screen.query_one("#results")
        await wait_for(pilot, lambda: table.row_count, what="results")
        wide = table.ordered_columns[3].width
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: table.ordered_columns[3].width < wide, what="rewrapped")
        assert sum(c.get_render_width(table) for c in table.ordered_columns) <= table.size.width


async def test_escape_leaves_a_profile_field_first_and_keeps_what_was_typed():
    from screens.profile import ProfileScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        await pilot.press("u")
        screen = await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, ProfileScreen)
                and app.screen.query_one("#full_name").value
                and app.screen
            ),
            what="profile",
        )
        screen.query_one("#full_name").focus()
        await pilot.press("end", *" K")
        await pilot.press("escape")
        assert app.screen is screen and app.focused is None
        assert screen.query_one("#full_name").value.endswith(" K")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is not screen, what="back")
