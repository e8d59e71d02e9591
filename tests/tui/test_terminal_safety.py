"""Issue #15: text from others never reaches the terminal as control sequences.

Every screen of the app is driven over the fixed screen data with HOSTILE (OSC 2,
OSC 52, CSI 2J, C1 CSI, BEL, DEL, OSC 8) in every text field, the tutor streams a
hostile answer from the OpenAI-compatible stand-in, and a test run prints hostile
output; what the app renders for the terminal is recorded (tests/tui/hostile.py) and
must hold no control character that Textual did not write itself."""

from __future__ import annotations

import pytest

from services.tutor.endpoint import Endpoint
from services.tutor.tutor import Tutor
from tests.stack.openai_standin import OpenAIStandIn
from tests.tui.fixed_backend import ASSESSMENT, COURSE, LESSONS
from tests.tui.helpers import wait_for, wait_for_screen
from tests.tui.hostile import HOSTILE, HOSTILE_DATA, HostileBackend, Terminal
from tui.app import LearnApp

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARN_HOME", str(tmp_path))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


@pytest.fixture(scope="module")
def ai():
    with OpenAIStandIn() as server:
        yield server


def hostile_app() -> LearnApp:
    return LearnApp(lambda progress: HostileBackend(progress))


async def settle(pilot) -> None:
    """Until every data worker is done."""
    for _ in range(200):
        await pilot.pause(0.02)
        busy = [w for w in pilot.app.workers if w.is_running and w.group != "boot"]
        busy += [w for s in pilot.app.screen_stack for w in s.workers if w.is_running]
        if not busy:
            break
    await pilot.pause()


def test_hostile_data_reaches_every_text_field():
    """The fixture itself: each screen's payload carries HOSTILE (so the tests below
    cannot pass on data that was never hostile)."""
    for fn, payload in HOSTILE_DATA.items():
        assert HOSTILE in repr(payload).encode().decode("unicode_escape"), fn
    assert HOSTILE_DATA["catalog"]["courses"][0]["title"].startswith("Python Foundations \x1b]2")
    assert HOSTILE_DATA["dashboard"]["profile"]["full_name"].endswith(f"{HOSTILE} end")


async def _visit(pilot, terminal: Terminal, go) -> None:
    await go(pilot)
    await settle(pilot)
    assert terminal.leaks() == [], pilot.app.screen
    assert terminal.shows("PWNED"), f"{pilot.app.screen} showed no hostile field"


SCREENS = {
    "dashboard": lambda pilot: wait_for(
        pilot, lambda: getattr(pilot.app.screen, "dashboard", None), what="dashboard"
    ),
    "catalog": lambda pilot: pilot.press("c"),
    "course": lambda pilot: _call(pilot.app.open_course, COURSE),
    "lesson": lambda pilot: _call(pilot.app.open_lesson, LESSONS[2]),
    "assessment": lambda pilot: _call(pilot.app.open_assessment, ASSESSMENT),
    "profile": lambda pilot: pilot.press("u"),
    "notifications": lambda pilot: pilot.press("n"),
    "studio": lambda pilot: _call(pilot.app.action_studio),
    "command palette": lambda pilot: _palette(pilot),
}


async def _call(method, *args) -> None:
    method(*args)


async def _palette(pilot) -> None:
    await pilot.press("ctrl+p")
    await settle(pilot)
    await pilot.press(*"Python")


@pytest.mark.parametrize("screen", list(SCREENS))
async def test_screen_shows_hostile_text_without_its_control_characters(screen):
    app = hostile_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = Terminal(app)
        await settle(pilot)
        await _visit(pilot, terminal, SCREENS[screen])


async def test_course_screen_at_80_by_24_shows_no_control_characters():
    app = hostile_app()
    async with app.run_test(size=(80, 24)) as pilot:
        terminal = Terminal(app)
        await settle(pilot)
        await _visit(pilot, terminal, SCREENS["course"])


async def test_studio_analytics_of_hostile_feedback_show_no_control_characters():
    from screens.studio import StudioScreen

    app = hostile_app()
    async with app.run_test(size=(140, 60)) as pilot:
        terminal = Terminal(app)
        await settle(pilot)
        app.action_studio()
        studio = await wait_for_screen(pilot, StudioScreen)
        await wait_for(pilot, lambda: studio.analytics, what="analytics")
        await settle(pilot)
        assert terminal.leaks() == []
        assert terminal.shows("friendly. ]2;PWNED")


async def open_tutor(pilot):
    from widgets.chat import ChatPane

    await pilot.press("ctrl+o")
    screen = pilot.app.screen
    pane = await wait_for(
        pilot, lambda: screen.query(ChatPane) and screen.query_one(ChatPane), what="the tutor pane"
    )
    await settle(pilot)
    return pane


async def test_tutor_streams_a_hostile_answer_without_its_control_characters(ai):
    app = hostile_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = Terminal(app)
        app.__dict__["tutor"] = Tutor(
            app.api, endpoint=Endpoint(ai.base_url, "sk-test", "tutor-model", "config")
        )
        await settle(pilot)
        app.open_lesson(LESSONS[2])
        await settle(pilot)
        ai.reply(
            f"Slices {HOSTILE} never fail.",
            chunks=[
                "Slices \x1b]2;",
                "PWNED\x07 \x1b]52;c;SGVsbG8=",
                "\x07\x9b31m",
                "\x1b[2J never fail.",
            ],
        )
        pane = await open_tutor(pilot)
        pane.input.value = "What is a slice?"
        pane.input.focus()
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: not pane.busy and "never fail" in "".join(terminal.frames),
            what="the answer",
        )
        await settle(pilot)
        assert terminal.leaks() == []
        assert terminal.shows("PWNED")
        await app.tutor.aclose()


async def test_tutor_error_echoing_the_server_shows_no_control_characters(ai):
    app = hostile_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = Terminal(app)
        app.__dict__["tutor"] = Tutor(
            app.api, endpoint=Endpoint(ai.base_url, "sk-test", "tutor-model", "config")
        )
        await settle(pilot)
        ai.fail(400, f"bad request {HOSTILE}")
        pane = await open_tutor(pilot)
        pane.input.value = "Hello?"
        pane.input.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: not pane.busy, what="the error")
        await settle(pilot)
        assert terminal.leaks() == []
        assert terminal.shows("PWNED")
        await app.tutor.aclose()


async def test_test_results_of_hostile_output_show_no_control_characters():
    """A learner's program prints hostile output and fails: the results table shows it."""
    from screens.assessment import AssessmentScreen

    app = hostile_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = Terminal(app)
        await settle(pilot)
        app.open_assessment(ASSESSMENT)
        screen = await wait_for_screen(pilot, AssessmentScreen)
        await settle(pilot)
        editor = screen.query_one("TextArea")
        editor.text = (
            f"def make_slug(title):\n    print({HOSTILE!r})\n    raise ValueError({HOSTILE!r})\n"
        )
        await pilot.press("ctrl+r")
        await wait_for(
            pilot, lambda: "ValueError" in "".join(terminal.frames), timeout=30, what="the results"
        )
        await settle(pilot)
        assert terminal.leaks() == []
        assert terminal.shows("PWNED")


async def test_recorder_finds_a_control_sequence_that_reaches_the_terminal():
    """The recorder is not blind: a Static updated with a raw OSC 2 is reported."""
    from textual.widgets import Static

    app = hostile_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = Terminal(app)
        await settle(pilot)
        await app.screen.mount(Static(f"raw {HOSTILE}", id="raw"))
        await settle(pilot)
        assert any("PWNED" in leak for leak in terminal.leaks())


async def test_a_toast_of_hostile_text_shows_no_control_characters():
    app = hostile_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        terminal = Terminal(app)
        await settle(pilot)
        app.notify(f"Got {HOSTILE}", title="toast\x1b]2;PWNED\x07\x9b2Jtitle", markup=False)
        await wait_for(pilot, lambda: app.screen.query("Toast"), what="the toast")
        await settle(pilot)
        assert terminal.leaks() == []
        assert terminal.shows("toast]2;PWNED2Jtitle")


@pytest.fixture
def hostile_folder(tmp_path):
    import shutil
    from pathlib import Path

    from services.paths import bundled_courses

    source = next(p for p in bundled_courses() if p.name == "python-foundations")
    folder = Path(shutil.copytree(source, tmp_path / "evil-course"))
    toml = folder / "course.toml"
    toml.write_text(
        toml.read_text().replace(
            'title = "Python Foundations"', 'title = "Evil \\u001b]2;PWNED\\u0007 course"'
        )
    )
    lesson = folder / "lessons" / "01-values-and-types.md"
    text = lesson.read_text().replace(
        'title = "Values and types"', 'title = "Values \\u001b]52;c;SGVsbG8=\\u0007 types"', 1
    )
    front, body = text.split("\n+++\n", 1)
    lesson.write_text(f"{front}\n+++\nRaw {HOSTILE} here.\n\n{body}")
    return folder


async def test_preview_of_a_hostile_course_folder_shows_no_control_characters(hostile_folder):
    """`learn course preview`: the folder's text reaches the screens without the
    database (which would refuse it) in between."""
    from screens.course import CourseScreen
    from screens.lesson import LessonScreen
    from tui.preview import PreviewApp

    app = PreviewApp(hostile_folder)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        terminal = Terminal(app)
        course = await wait_for_screen(pilot, CourseScreen)
        await wait_for(pilot, lambda: course.detail, what="course detail")
        await settle(pilot)
        assert terminal.leaks() == []
        assert terminal.shows("Evil ]2;PWNED")
        app.open_lesson(course.detail.lessons[0].id)
        await wait_for_screen(pilot, LessonScreen)
        await settle(pilot)
        assert terminal.leaks() == []
        assert terminal.shows("Raw ]2;PWNED") and terminal.shows("]52;c;SGVsbG8= types")


async def test_a_chat_answer_given_raw_to_the_pane_shows_no_control_characters():
    """The chat widget's own defence, for text that did not come through the tutor."""
    from widgets.chat_exchange import ChatExchange

    app = hostile_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = Terminal(app)
        await settle(pilot)
        exchange = ChatExchange("q", f"Answer {HOSTILE}\n\n- item {HOSTILE}")
        await app.screen.mount(exchange)
        await exchange.markdown.append("\n\nmore \x1b]2;APPENDED\x07 text")
        await settle(pilot)
        assert terminal.leaks() == []
        assert terminal.shows("Answer ]2;PWNED") and terminal.shows("more ]2;APPENDED")


async def test_a_toast_shows_markup_in_others_text_as_text_not_a_hyperlink():
    app = hostile_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        terminal = Terminal(app)
        await settle(pilot)
        app.notify("Server said: [link='http://evil']update[/link] [@click=app.quit]x[/]")
        await wait_for(pilot, lambda: app.screen.query("Toast"), what="the toast")
        await settle(pilot)
        assert not any("\x1b]8;" in frame for frame in terminal.frames)  # no hyperlink
        assert terminal.shows("update[/link]")
