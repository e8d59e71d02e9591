"""Issue #15: `terminal_safe` and the places where others' text enters the program —
API answers (and so the offline cache and previews), the tutor's stream, the runner's
results, error messages, course folders (`validate` reports control characters with
file and line)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from services.authoring.course import validate
from services.data.api import LearningAPI
from services.errors import LearnError
from services.paths import bundled_courses
from services.runner import parse_assessment, run, run_code
from services.text import CONTROL, TerminalSafeWriter, terminal_safe, terminal_safe_json
from services.tutor.context import TutorContext
from services.tutor.endpoint import Endpoint
from services.tutor.tutor import Tutor
from tests.stack.openai_standin import OpenAIStandIn
from tests.tui.fixed_backend import ASSESSMENT, COURSE, LESSONS
from tests.tui.hostile import CLEANED, HOSTILE, HOSTILE_DATA, HostileBackend

BUNDLED = {p.name: p for p in bundled_courses()}


def control_in(value) -> list[str]:
    """Every string inside `value` (dataclasses, lists, dicts) that holds a control
    character other than newline and tab."""
    import dataclasses

    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    if isinstance(value, str):
        return [value] if CONTROL.search(value) else []
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in control_in(k) + control_in(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in control_in(v)]
    return []


# -- the function ------------------------------------------------------------------------


def test_terminal_safe_removes_every_control_character_of_the_hostile_string():
    assert terminal_safe(HOSTILE) == CLEANED


@pytest.mark.parametrize("code", [*range(0, 9), *range(11, 32), *range(0x7F, 0xA0)])
def test_terminal_safe_removes_each_c0_and_c1_control_and_del(code):
    assert terminal_safe(f"a{chr(code)}b") == "ab"


def test_terminal_safe_keeps_newline_tab_and_printable_unicode():
    text = "line one\n\tindented — café, 日本語, emoji 🐍, ﬁ, \u00a0nbsp"
    assert terminal_safe(text) == text


def test_terminal_safe_json_cleans_nested_strings_and_keys():
    raw = {"title\x1b": ["a\x07", {"deep": "b\x9b31m"}], "n": 3, "none": None}
    assert terminal_safe_json(raw) == {"title": ["a", {"deep": "b31m"}], "n": 3, "none": None}


def test_terminal_safe_json_returns_clean_data_itself_without_copying():
    raw = {"courses": [{"title": "Python", "tags": ["a", "b"]}], "total": 1}
    assert terminal_safe_json(raw) is raw


def test_terminal_safe_writer_passes_on_clean_text():
    out = io.StringIO()
    TerminalSafeWriter(out).write(f"title: {HOSTILE}\n")
    assert out.getvalue() == f"title: {CLEANED}\n"


# -- API answers -------------------------------------------------------------------------

SCREEN_READS = {
    "catalog": lambda api: api.catalog(),
    "course_detail": lambda api: api.course_detail(COURSE),
    "lesson_detail": lambda api: api.lesson_detail(LESSONS[2]),
    "assessment_detail": lambda api: api.assessment_detail(ASSESSMENT),
    "dashboard": lambda api: api.dashboard(),
    "my_profile": lambda api: api.my_profile(),
    "notifications": lambda api: api.notifications(),
    "chat_history": lambda api: api.chat_history(),
    "search_lessons": lambda api: api.search_lessons("slice"),
    "navigation": lambda api: api.navigation_index(),
}


@pytest.mark.parametrize("read", list(SCREEN_READS))
async def test_api_answers_hold_no_control_characters(read):
    result = await SCREEN_READS[read](LearningAPI(HostileBackend()))
    assert control_in(result) == []
    assert "PWNED" in repr(result)  # the hostile text arrived, cleaned


async def test_api_leaves_an_assessments_tests_as_the_author_wrote_them():
    """Tests are the runner's data (a course on terminal colours may expect ESC)."""
    detail = await LearningAPI(HostileBackend()).assessment_detail(ASSESSMENT)
    assert (
        detail.assessment.test_cases
        == HOSTILE_DATA["assessment_detail"]["assessment"]["test_cases"]
    )
    assert control_in(detail.assessment.title) == []


async def test_authoring_answers_hold_no_control_characters():
    from services.authoring.publishing import AuthoringAPI

    authoring = AuthoringAPI(HostileBackend())
    courses = await authoring.my_courses()
    analytics = await authoring.analytics(COURSE)
    assert control_in(courses) == [] and control_in(analytics) == []
    assert "PWNED" in analytics.feedback[0].text


# -- errors ------------------------------------------------------------------------------


def test_an_error_echoing_a_server_message_holds_no_control_characters():
    assert str(LearnError(f"server said {HOSTILE}")) == f"server said {CLEANED}"


# -- the tutor's stream ------------------------------------------------------------------


@pytest.fixture(scope="module")
def ai():
    with OpenAIStandIn() as server:
        yield server


async def test_tutor_stream_chunks_hold_no_control_characters(ai):
    ai.reply(chunks=["Hello \x1b]2;", "PWNED\x07 \x9b31m", "\x1b[2J", "\x07", " world"])
    tutor = Tutor(None, endpoint=Endpoint(ai.base_url, "sk-test", "tutor-model", "config"))
    try:
        answer = tutor.ask("hi", TutorContext.general())
        chunks = [chunk async for chunk in answer]
    finally:
        await tutor.aclose()
    assert control_in(chunks) == [] and "" not in chunks
    assert answer.text == "Hello ]2;PWNED 31m[2J world"


# -- the runner's results ----------------------------------------------------------------

ECHO = """\
title = "Echo"
language = "python"
entry = "echo"
[[tests]]
name = "a test named \\u001b]2;PWNED\\u0007"
args = ["x"]
expected = "x"
[[tests]]
name = "colour"
stdin = ""
expected_stdout = "\\u001b[31mred\\u001b[0m\\n"
"""


def test_runner_results_of_hostile_output_hold_no_control_characters():
    code = f"import sys\ndef echo(s):\n    print({HOSTILE!r})\n    return {HOSTILE!r}\n"
    result = run(parse_assessment(ECHO, "echo.toml"), code + f"print({HOSTILE!r})\n")
    assert result.tests[0].status == "fail"
    assert control_in(result.to_dict()) == []
    assert "PWNED" in result.tests[0].actual and "PWNED" in result.tests[0].name


def test_an_io_test_still_compares_the_programs_own_bytes():
    """Cleaning is for showing: output that must contain ESC still passes."""
    code = "def echo(s):\n    return s\nprint('\\x1b[31mred\\x1b[0m')\n"
    result = run(parse_assessment(ECHO, "echo.toml"), code)
    assert [t.status for t in result.tests] == ["pass", "pass"]


def test_run_code_output_holds_no_control_characters():
    result = run_code(
        "python", f"import sys\nprint({HOSTILE!r})\nprint({HOSTILE!r}, file=sys.stderr)\n"
    )
    assert control_in([result.stdout, result.stderr]) == []
    assert CLEANED in result.stdout


# -- course folders ----------------------------------------------------------------------


@pytest.fixture
def course(tmp_path) -> Path:
    return Path(shutil.copytree(BUNDLED["python-foundations"], tmp_path / "python-foundations"))


def problems(course: Path) -> list[tuple[str, int, str]]:
    return [
        (str(p.path.relative_to(course)), p.line, p.message)
        for p in validate(course, run_code=False).problems
    ]


def test_validate_reports_a_raw_escape_in_a_lesson_at_its_line(course):
    path = course / "lessons" / "01-values-and-types.md"
    lines = path.read_text().split("\n")
    body = lines.index("## Explanation") + 2  # a line of the explanation
    lines[body - 1] += " \x1b]2;PWNED\x07"
    path.write_text("\n".join(lines))
    found = problems(course)
    assert [(p, n) for p, n, _ in found] == [("lessons/01-values-and-types.md", body)]
    assert "control character U+001B (ESC)" in found[0][2]


def test_validate_reports_an_escaped_control_character_in_a_toml_value_at_its_key(course):
    path = course / "course.toml"
    text = path.read_text()
    path.write_text(
        text.replace(
            'title = "Python Foundations"', 'title = "Evil \\u001b]2;PWNED\\u001b\\\\ course"'
        )
    )
    line = 1 + path.read_text().split("\n").index(
        'title = "Evil \\u001b]2;PWNED\\u001b\\\\ course"'
    )
    assert problems(course) == [
        (
            "course.toml",
            line,
            "`title` holds the control character "
            "U+001B (ESC), which terminals obey as a command (it can "
            "set the window title or write the clipboard): remove it",
        )
    ]


def test_validate_reports_a_control_character_in_key_points_at_their_key(course):
    lesson = course / "lessons" / "01-values-and-types.md"
    lesson.write_text(
        lesson.read_text().replace("key_points = [", 'key_points = ["bell \\u0007", ', 1)
    )
    assert problems(course) == [
        (
            "lessons/01-values-and-types.md",
            5,
            "`key_points` holds the "
            "control character U+0007 (BEL), which terminals obey as a "
            "command (it can set the window title or write the "
            "clipboard): remove it",
        )
    ]


def test_validate_reports_a_c1_control_in_an_assessments_title_at_its_key(course):
    assessment = course / "assessments" / "chunk.toml"
    assessment.write_text(
        assessment.read_text().replace(
            'title = "Split a list into chunks"', 'title = "Split \\u009b2J into chunks"', 1
        )
    )
    found = problems(course)
    assert [(p, n) for p, n, _ in found] == [("assessments/chunk.toml", 1)]
    assert "U+009B (CSI)" in found[0][2]


def test_validate_accepts_windows_line_endings(course):
    path = course / "lessons" / "01-values-and-types.md"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert not any("control character" in m for _, _, m in problems(course))


def test_a_problem_printed_holds_no_control_characters_of_a_file_name(course):
    bad = course / "lessons" / "02-\x1b]2;PWNED\x07.md"
    bad.write_text('+++\ntitle = "x"\n+++\nbody\n')
    printed = [str(p) for p in validate(course, run_code=False).problems]
    assert control_in(printed) == [] and any("PWNED" in line for line in printed)
