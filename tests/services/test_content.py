"""Course folders: every kind of problem is reported with its file and line, the
bundled courses validate (reference solutions pass, starters fail), and a course
written back to a folder loads to the same payload. No database here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.authoring.course import load_course, validate
from services.authoring.model import ContentError
from services.authoring.writing import toml_value, write_course
from services.paths import bundled_courses
from tui.author_cli import COMMANDS
from tui.cli import build_parser

BUNDLED = {p.name: p for p in bundled_courses()}

ADD = """title = "Add two numbers"
language = "python"
entry = "add"
lesson = "01-values-and-types"
instructions = "Return a + b."
starter_code = \'\'\'
def add(a, b):
    return 0
\'\'\'
solution = \'\'\'
def add(a, b):
    return a + b
\'\'\'

[[tests]]
name = "small"
args = [1, 2]
expected = 3

[[tests]]
name = "negative"
args = [-1, -2]
expected = -3
"""


@pytest.fixture
def course(tmp_path) -> Path:
    """A copy of Python Foundations to break."""
    return Path(shutil.copytree(BUNDLED["python-foundations"], tmp_path / "python-foundations"))


def lesson(course: Path, stem: str = "01-values-and-types") -> Path:
    return course / "lessons" / f"{stem}.md"


def write_lesson(
    course: Path, body: str, front: str = 'title = "A lesson"', stem: str = "01-values-and-types"
) -> Path:
    path = lesson(course, stem)
    path.write_text(f"+++\n{front}\n+++\n{body}", encoding="utf-8")
    return path


def problems(course: Path, run_code: bool = False) -> list[tuple[str, int, str]]:
    found = validate(course, run_code=run_code).problems
    return [(str(p.path.relative_to(course)), p.line, p.message) for p in found]


def only(course: Path, run_code: bool = False) -> tuple[str, int, str]:
    found = problems(course, run_code)
    assert len(found) == 1, found
    return found[0]


# -- the bundled courses ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_course_validates_with_solutions_passing_and_starters_failing(name):
    checked = validate(BUNDLED[name], run_code=True)
    assert [str(p) for p in checked.errors] == []


def test_there_are_three_bundled_courses():
    assert len(BUNDLED) >= 3


# -- course.toml ---------------------------------------------------------------------------


def test_broken_course_toml_is_reported_at_its_line(course):
    (course / "course.toml").write_text(
        'title = "T"\ndifficulty_level = "Beginner"\ntags = ["a",\n', encoding="utf-8"
    )
    path, line, message = problems(course)[0]
    assert (path, line) == ("course.toml", 4)
    assert message.startswith("broken TOML")


def test_missing_course_title_is_reported(course):
    (course / "course.toml").write_text('difficulty_level = "Beginner"\n', encoding="utf-8")
    assert only(course)[:2] == ("course.toml", 1)
    assert "`title` is missing" in only(course)[2]


def test_bad_difficulty_level_is_reported_at_its_line(course):
    (course / "course.toml").write_text(
        'title = "T"\n\ndifficulty_level = "Expert"\n', encoding="utf-8"
    )
    path, line, message = only(course)
    assert (path, line) == ("course.toml", 3)
    assert "Beginner, Intermediate, Advanced" in message


def test_unknown_course_key_is_reported_at_its_line(course):
    (course / "course.toml").write_text(
        'title = "T"\ndifficulty_level = "Beginner"\ndificulty = "x"\n', encoding="utf-8"
    )
    assert only(course)[:2] == ("course.toml", 3)
    assert "unknown key `dificulty`" in only(course)[2]


def test_unknown_grading_is_reported_at_its_line(course):
    (course / "course.toml").write_text(
        'title = "T"\ndifficulty_level = "Beginner"\ngrading = "honour"\n', encoding="utf-8"
    )
    assert only(course)[:2] == ("course.toml", 3)
    assert '"verified"' in only(course)[2]


def test_grading_is_verified_unless_the_course_says_self(course):
    toml = course / "course.toml"
    toml.write_text('title = "T"\ndifficulty_level = "Beginner"\n', encoding="utf-8")
    assert load_course(course).grading == "verified"
    toml.write_text(
        'title = "T"\ndifficulty_level = "Beginner"\ngrading = "self"\n', encoding="utf-8"
    )
    assert load_course(course).grading == "self"


def test_estimated_hours_out_of_range_is_reported_at_its_line(course):
    (course / "course.toml").write_text(
        'title = "T"\ndifficulty_level = "Beginner"\nestimated_hours = -3\n', encoding="utf-8"
    )
    assert only(course)[:2] == ("course.toml", 3)


def test_too_many_tags_are_reported_at_their_line(course):
    tags = ", ".join(f'"t{i}"' for i in range(21))
    (course / "course.toml").write_text(
        f'title = "T"\ndifficulty_level = "Beginner"\ntags = [{tags}]\n', encoding="utf-8"
    )
    assert only(course)[:2] == ("course.toml", 3)


def test_a_folder_without_course_toml_cannot_be_used(tmp_path):
    with pytest.raises(ContentError) as raised:
        validate(tmp_path)
    assert "no course.toml" in str(raised.value)


def test_a_folder_name_that_is_not_a_slug_is_reported(tmp_path):
    folder = shutil.copytree(BUNDLED["python-foundations"], tmp_path / "Python Course")
    assert "not valid" in only(Path(folder))[2]


# -- lessons -------------------------------------------------------------------------------


def test_lesson_without_front_matter_is_reported(course):
    lesson(course).write_text("# Values\n\nText.\n", encoding="utf-8")
    assert only(course)[:2] == ("lessons/01-values-and-types.md", 1)
    assert "front matter" in only(course)[2]


def test_unclosed_front_matter_is_reported(course):
    lesson(course).write_text('+++\ntitle = "x"\n\nText.\n', encoding="utf-8")
    assert "not closed" in only(course)[2]


def test_broken_front_matter_is_reported_at_its_line_in_the_file(course):
    write_lesson(course, "\nText.\n", front='title = "A"\nduration = 20 min')
    path, line, message = only(course)
    assert (path, line) == ("lessons/01-values-and-types.md", 3)
    assert message.startswith("broken TOML")


def test_lesson_without_title_is_reported(course):
    write_lesson(course, "\nText.\n", front='duration = "5 min"')
    assert "`title` is missing" in only(course)[2]


def test_bad_lesson_difficulty_is_reported_at_its_line(course):
    write_lesson(course, "\nText.\n", front='title = "A"\nkey_points = []\ndifficulty = "Hard"')
    assert only(course)[:2] == ("lessons/01-values-and-types.md", 4)


def test_unknown_front_matter_key_is_reported_at_its_line(course):
    write_lesson(course, "\nText.\n", front='title = "A"\nkeypoints = ["x"]')
    _path, line, message = only(course)
    assert (line, "did you mean `key_points`" in message) == (3, True)


def test_key_points_that_are_not_strings_are_reported(course):
    write_lesson(course, "\nText.\n", front='title = "A"\nkey_points = [1, 2]')
    assert only(course)[1] == 3


def test_duplicate_lesson_order_is_reported(course):
    shutil.copy(lesson(course, "07-functions"), course / "lessons" / "07-more-functions.md")
    path, line, message = only(course)
    assert path == "lessons/07-more-functions.md" and line == 1
    assert "also used by 07-functions.md" in message


def test_duplicate_lesson_slug_is_reported(course):
    shutil.copy(lesson(course, "07-functions"), course / "lessons" / "12-functions.md")
    assert "slug 'functions'" in only(course)[2]


def test_misnamed_lesson_file_is_reported(course):
    shutil.copy(lesson(course, "07-functions"), course / "lessons" / "Extra lesson.md")
    path, _line, message = only(course)
    assert path == "lessons/Extra lesson.md" and "NN-slug.md" in message


def test_code_example_without_a_fence_is_reported_at_its_line(course):
    write_lesson(course, "\nText.\n\n## Code example\n\nprint('hi')\n")
    _path, line, message = only(course)
    assert (line, "fenced code block" in message) == (7, True)


def test_unclosed_code_block_is_reported_at_its_opening_line(course):
    write_lesson(course, "\nText.\n\n## Code example\n\n```python\nprint('hi')\n")
    _path, line, message = only(course)
    assert (line, "not closed" in message) == (9, True)


def test_second_explanation_section_is_reported_at_its_line(course):
    write_lesson(course, "\nText.\n\n## Explanation\n\nOne.\n\n## Explanation\n\nTwo.\n")
    _path, line, message = only(course)
    assert (line, "line 7" in message) == (11, True)


def test_empty_explanation_section_is_reported_at_its_line(course):
    write_lesson(course, "\nText.\n\n## Explanation\n\n## Code example\n\n```\nx = 1\n```\n")
    _path, line, message = only(course)
    assert (line, "empty" in message) == (7, True)


def test_text_after_the_code_block_is_reported(course):
    write_lesson(course, "\nText.\n\n## Code example\n\n```\nx = 1\n```\n\nLost words.\n")
    assert "besides its code block" in only(course)[2]


def test_lesson_without_content_before_its_sections_is_reported(course):
    write_lesson(course, "\n## Explanation\n\nWhy.\n")
    assert "no content" in only(course)[2]


def test_a_section_heading_inside_a_code_block_stays_content(course):
    write_lesson(course, "\nText.\n\n```markdown\n## Explanation\n```\n")
    loaded = load_course(course)
    assert loaded.problems == []
    assert "## Explanation" in loaded.lessons[0].content


def test_lesson_sections_map_to_their_columns(course):
    write_lesson(
        course, "\nText.\n\n## Explanation\n\nWhy.\n\n## Code example\n\n```python\nx = 1\n```\n"
    )
    first = load_course(course).lessons[0]
    assert (first.content, first.explanation, first.code_example) == ("Text.", "Why.", "x = 1")


def test_a_lesson_that_is_not_utf8_is_reported_at_its_line(course):
    lesson(course).write_bytes(b'+++\ntitle = "x"\n+++\n\ncaf\xe9\n')
    assert only(course)[1:] == (5, "is not UTF-8 text: save the file as UTF-8")


def test_a_course_without_lessons_is_reported(course):
    shutil.rmtree(course / "lessons")
    shutil.rmtree(course / "assessments")
    assert "no lessons" in only(course)[2]


# -- assessments ---------------------------------------------------------------------------


def write_assessment(course: Path, text: str = ADD, name: str = "add") -> Path:
    path = course / "assessments" / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_well_formed_assessment_passes_the_checks(course):
    write_assessment(course)
    assert [p for p in problems(course, run_code=True) if p[0] == "assessments/add.toml"] == []


def test_unknown_language_is_reported_at_its_line(course):
    write_assessment(course, ADD.replace('language = "python"', 'language = "cobol"'))
    path, line, message = only(course)
    assert (path, line) == ("assessments/add.toml", 2)
    assert "unknown language 'cobol'" in message


def test_broken_assessment_toml_is_reported_at_its_line(course):
    write_assessment(course, ADD.replace("expected = 3", "expected = "))
    path, line, message = only(course)
    assert (path, line) == ("assessments/add.toml", 18)
    assert "TOML" in message


def test_test_without_expected_is_reported_at_its_test(course):
    write_assessment(course, ADD.replace("expected = -3\n", ""))
    _path, line, message = only(course)
    assert (line, "'negative'" in message) == (20, True)


def test_assessment_naming_a_missing_lesson_is_reported_at_its_line(course):
    write_assessment(course, ADD.replace("01-values-and-types", "99-nothing"))
    path, line, message = only(course)
    assert (path, line) == ("assessments/add.toml", 4)
    assert "names no lesson" in message


def test_unknown_assessment_key_is_reported_at_its_line(course):
    write_assessment(course, ADD.replace('entry = "add"', 'entry = "add"\nhint = "x"'))
    assert only(course)[1:] == (
        4,
        "unknown key `hint`: use title, description, difficulty, "
        "time_limit, instructions, starter_code, language, entry, "
        "limits, tests, solution, lesson",
    )


def test_bad_assessment_difficulty_is_reported_at_its_line(course):
    write_assessment(course, 'difficulty = "Easy"\n' + ADD)
    assert only(course)[1] == 1


def test_time_limit_above_the_most_is_reported(course):
    write_assessment(course, "time_limit = 900\n" + ADD)
    assert "at most 600" in only(course)[2]


def test_assessment_without_a_solution_is_reported(course):
    write_assessment(
        course, ADD.replace("solution = '''\ndef add(a, b):\n    return a + b\n'''\n", "")
    )
    assert "no reference solution" in only(course)[2]


def test_solution_that_is_not_python_is_reported_at_its_line(course):
    write_assessment(course, ADD.replace("return a + b", "return a +"))
    _path, line, message = only(course)
    assert (line, "`solution` is not valid Python" in message) == (10, True)


def test_assessment_file_name_that_is_not_a_slug_is_reported(course):
    write_assessment(course, name="Add_Two")
    assert "not a valid slug" in only(course)[2]


def test_failing_reference_solution_is_reported_at_the_failing_test(course):
    write_assessment(course, ADD.replace("return a + b", "return abs(a + b)"))
    path, line, message = only(course, run_code=True)
    assert (path, line) == ("assessments/add.toml", 21)
    assert message.startswith("the reference solution fails test 'negative'")


def test_hidden_test_failures_are_shown_in_full_to_the_author(course):
    write_assessment(
        course,
        ADD.replace("return a + b", "return abs(a + b)").replace(
            "expected = -3", "expected = -3\nhidden = true"
        ),
    )
    assert "-3" in only(course, run_code=True)[2]


def test_reference_solution_that_cannot_run_is_reported_at_solution(course):
    write_assessment(
        course, ADD.replace("def add(a, b):\n    return a + b", "def plus(a, b):\n    return a + b")
    )
    _path, line, message = only(course, run_code=True)
    assert (line, "cannot be tested" in message) == (10, True)


def test_starter_that_already_passes_is_reported_at_starter_code(course):
    write_assessment(course, ADD.replace("return 0", "return a + b"))
    path, line, message = only(course, run_code=True)
    assert (path, line) == ("assessments/add.toml", 6)
    assert "already passes every test" in message


def test_without_running_code_the_solution_is_not_checked(course):
    write_assessment(course, ADD.replace("return a + b", "return 0"))
    assert problems(course, run_code=False) == []


# -- learn course validate -----------------------------------------------------------------


def run_cli(*argv: str) -> int:
    args = build_parser().parse_args(list(argv))
    return COMMANDS[args.command](args)


def test_validate_command_exits_0_for_a_valid_course(course, capsys):
    assert run_cli("course", "validate", str(course)) == 0
    assert capsys.readouterr().out.startswith("ok: “Python Foundations”")


def test_validate_command_exits_1_for_an_invalid_course(course):
    write_assessment(course, ADD.replace("return 0", "return a + b"))
    assert run_cli("course", "validate", str(course)) == 1


def test_validate_command_exits_2_for_a_folder_that_is_not_a_course(tmp_path):
    assert run_cli("course", "validate", str(tmp_path)) == 2


def test_validate_command_exits_2_for_a_missing_folder(tmp_path):
    assert run_cli("course", "validate", str(tmp_path / "nothing")) == 2


def test_validate_command_prints_each_problem_as_path_line_message(course, capsys):
    (course / "course.toml").write_text(
        'title = "T"\n\ndifficulty_level = "Expert"\n', encoding="utf-8"
    )
    write_assessment(course, ADD.replace('language = "python"', 'language = "cobol"'))
    run_cli("course", "validate", str(course), "--no-run")
    assert capsys.readouterr().out.splitlines() == [
        f"{course}/assessments/add.toml:2: unknown language 'cobol': use one of python, "
        "javascript, bash",
        f"{course}/course.toml:3: `difficulty_level` must be one of Beginner, Intermediate, "
        "Advanced, not 'Expert'",
    ]


# -- writing a course back -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_a_written_course_loads_to_the_same_payload(name, tmp_path):
    original = load_course(BUNDLED[name])
    write_course(original.payload(), tmp_path / name)
    again = load_course(tmp_path / name)
    assert again.problems == []
    assert again.payload() == original.payload()


def test_writing_refuses_a_folder_that_is_not_empty(course):
    with pytest.raises(ContentError):
        write_course(load_course(course).payload(), course)


def test_writing_with_force_removes_lessons_the_course_no_longer_has(course, tmp_path):
    payload = load_course(course).payload()
    payload["lessons"] = payload["lessons"][:-1]
    write_course(payload, course, force=True)
    assert not lesson(course, "11-files").exists()


@pytest.mark.parametrize(
    "text",
    [
        "it's",
        "'''",
        "ends with a quote'",
        'say "hi"',
        "back\\slash\n",
        "tab\tand\x7fdel",
        "crlf\r\nline",
        "\nleading newline",
        "ctrl\x01char\n",
    ],
)
def test_awkward_text_round_trips_through_toml(text):
    import tomllib

    assert tomllib.loads(f"a = {toml_value(text, multiline=True)}")["a"] == text
    assert tomllib.loads(f"a = {toml_value(text)}")["a"] == text


def test_code_with_a_fence_inside_round_trips(course, tmp_path):
    payload = load_course(course).payload()
    payload["lessons"][0]["code_example"] = 'doc = """\n```python\nx = 1\n```\n"""'
    write_course(payload, tmp_path / "out" / "python-foundations")
    again = load_course(tmp_path / "out" / "python-foundations").payload()
    assert again["lessons"][0]["code_example"] == payload["lessons"][0]["code_example"]
