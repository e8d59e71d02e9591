"""The assessment file format: what loads, and every error naming its file and line."""

from __future__ import annotations

import json

import pytest

from services.runner import (
    AssessmentError,
    Limits,
    TestCase,
    assessment_from_row,
    load_assessment,
    parse_assessment,
)

DESIGN_EXAMPLE = """\
title = "Two sum"
language = "python"          # python always; javascript/bash when the interpreter is on PATH
entry = "solve"              # function that "call" tests call
time_limit = 20              # minutes, for the learner (blueprint column)
starter_code = \'\'\'def solve(nums, target):
    ...
\'\'\'
solution = \'\'\'...\'\'\'         # reference solution
[limits]                     # per run, optional: time_ms, memory_mb, output_kb
time_ms = 2000
[[tests]]                    # a call test: entry(*args) == expected
name = "basic"
args = [[2, 7, 11, 15], 9]
expected = [0, 1]
[[tests]]
name = "close enough"
args = [1, 3]
expected = 0.333333
compare = "approx"           # exact (default) | approx | unordered
[[tests]]                    # an io test: stdin in, stdout out (any language)
name = "sum of a line"
stdin = "2 3\\n"
expected_stdout = "5\\n"
hidden = true
"""

HEAD = 'title = "t"\nlanguage = "python"\nentry = "solve"\n'


def error_of(text: str) -> AssessmentError:
    with pytest.raises(AssessmentError) as caught:
        parse_assessment(text, "a.toml")
    return caught.value


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return lines[occurrence - 1]


def test_the_design_example_loads_with_its_tests_and_limits():
    a = parse_assessment(DESIGN_EXAMPLE, "two-sum.toml")
    assert (a.title, a.language, a.entry, a.time_limit) == ("Two sum", "python", "solve", 20)
    assert a.limits == Limits(time_ms=2000)
    assert a.starter_code.startswith("def solve(nums, target):")
    assert [t.kind for t in a.tests] == ["call", "call", "io"]
    assert a.tests[0] == TestCase("basic", args=[[2, 7, 11, 15], 9], expected=[0, 1])
    assert a.tests[1].compare == "approx"
    assert a.tests[2].stdin == "2 3\n" and a.tests[2].expected_stdout == "5\n"
    assert a.tests[2].hidden


def test_test_cases_json_is_the_files_tests_list_and_reads_back_from_a_row():
    a = parse_assessment(DESIGN_EXAMPLE, "two-sum.toml")
    cases = a.to_test_cases_json()
    assert cases[0] == {"name": "basic", "args": [[2, 7, 11, 15], 9], "expected": [0, 1]}
    assert cases[1]["compare"] == "approx"
    assert cases[2] == {
        "name": "sum of a line",
        "stdin": "2 3\n",
        "expected_stdout": "5\n",
        "hidden": True,
    }
    row = {
        "id": "abc",
        "title": a.title,
        "language": "python",
        "entry": "solve",
        "starter_code": a.starter_code,
        "test_cases": json.loads(json.dumps(cases)),
        "limits": {"time_ms": 2000},
    }
    back = assessment_from_row(row)
    assert back.tests == a.tests and back.limits == a.limits and back.entry == "solve"


def test_a_row_leaves_out_hidden_tests_the_database_withheld():
    row = {
        "title": "t",
        "entry": "f",
        "test_cases": [
            {"name": "shown", "args": [1], "expected": 2},
            {"name": "secret", "hidden": True, "revision": 1},
        ],
    }
    assert [t.name for t in assessment_from_row(row).tests] == ["shown"]


def test_a_row_keeps_hidden_tests_that_carry_their_expectations():
    row = {
        "title": "t",
        "entry": "f",
        "test_cases": [
            {"name": "shown", "args": [1], "expected": 2},
            {"name": "secret", "args": [2], "expected": 4, "hidden": True},
        ],
    }
    assert [t.hidden for t in assessment_from_row(row).tests] == [False, True]


def test_a_row_without_entry_calls_the_first_function_of_the_starter_code():
    row = {
        "title": "t",
        "starter_code": "import math\n\ndef area(r):\n    ...\n",
        "test_cases": json.dumps(
            [{"name": "one", "args": [1], "expected": 3.14159, "compare": "approx"}]
        ),
    }
    a = assessment_from_row(row)
    assert (a.language, a.entry) == ("python", "area")


def test_a_bad_row_names_the_assessment_without_a_line():
    row = {
        "id": "42",
        "title": "t",
        "language": "python",
        "entry": "f",
        "test_cases": [{"name": "x", "args": [1], "expected": 1, "compare": "fuzzy"}],
    }
    with pytest.raises(AssessmentError) as caught:
        assessment_from_row(row)
    assert str(caught.value).startswith("assessment 42: test 'x': compare must be one of")


def test_broken_toml_reports_the_line_tomllib_found():
    text = HEAD + '[[tests]]\nname = "a"\nargs = [1, 2\nexpected = 3\n'
    error = error_of(text)
    assert error.file == "a.toml"
    assert error.line in (line_of(text, "args"), line_of(text, "expected"))
    assert "invalid TOML" in error.message


def test_every_error_is_one_line_starting_with_file_and_line():
    error = error_of(
        'title = "t"\nlanguage = "cobol"\n[[tests]]\nname = "a"\nargs = []\nexpected = 1\n'
    )
    assert str(error) == (f"a.toml:2: {error.message}")
    assert "\n" not in str(error)


def test_missing_title_points_at_the_top():
    error = error_of(
        'language = "python"\n[[tests]]\nname = "a"\nstdin = ""\nexpected_stdout = ""\n'
    )
    assert error.line == 1 and "`title` is missing" in error.message


def test_unknown_language_points_at_the_language_key_and_lists_the_known_ones():
    text = (
        'title = "t"\n\nlanguage = "ruby"\n[[tests]]\nname = "a"\nstdin = ""\n'
        'expected_stdout = "x"\n'
    )
    error = error_of(text)
    assert error.line == 3
    assert "unknown language 'ruby'" in error.message and "python" in error.message


def test_call_tests_without_entry_point_at_the_first_call_test():
    text = (
        'title = "t"\nlanguage = "python"\n[[tests]]\nname = "io"\nstdin = ""\n'
        'expected_stdout = ""\n[[tests]]\nname = "call"\nargs = [1]\nexpected = 1\n'
    )
    error = error_of(text)
    assert error.line == line_of(text, "[[tests]]", 2)
    assert "`entry` is not set" in error.message


def test_a_bad_compare_points_at_its_line_in_the_right_test():
    text = (
        HEAD + '[[tests]]\nname = "a"\nargs = [1]\nexpected = 1\ncompare = "exact"\n'
        '[[tests]]\nname = "b"\nargs = [1]\nexpected = 1\ncompare = "roughly"\n'
    )
    error = error_of(text)
    assert error.line == line_of(text, "roughly")
    assert "test 'b': compare must be one of exact, approx, unordered" in error.message


def test_a_test_that_is_neither_call_nor_io_points_at_its_header():
    text = HEAD + '[[tests]]\nname = "a"\nargs = [1]\nexpected = 1\n[[tests]]\nname = "b"\n'
    error = error_of(text)
    assert error.line == line_of(text, "[[tests]]", 2)
    assert "neither `expected`" in error.message


def test_a_test_mixing_call_and_io_keys_is_refused():
    text = HEAD + '[[tests]]\nname = "a"\nargs = [1]\nexpected = 1\nstdin = "x"\n'
    error = error_of(text)
    assert error.line == line_of(text, "[[tests]]") and "split it" in error.message


def test_io_test_without_expected_stdout_is_refused():
    error = error_of(HEAD + '[[tests]]\nname = "a"\nstdin = "1"\n')
    assert "no `expected_stdout`" in error.message


def test_call_test_without_expected_is_refused():
    error = error_of(HEAD + '[[tests]]\nname = "a"\nargs = [1]\n')
    assert "no `expected`" in error.message


def test_duplicate_test_names_point_at_the_second_name():
    text = (
        HEAD + '[[tests]]\nname = "same"\nargs = [1]\nexpected = 1\n'
        '[[tests]]\nname = "same"\nargs = [2]\nexpected = 2\n'
    )
    error = error_of(text)
    assert error.line == line_of(text, 'name = "same"', 2)
    assert "two tests are named 'same'" in error.message


def test_a_test_without_a_name_is_refused():
    text = HEAD + "[[tests]]\nargs = [1]\nexpected = 1\n"
    error = error_of(text)
    assert error.line == line_of(text, "[[tests]]") and "test #1 has no name" in error.message


def test_limits_out_of_range_point_at_the_limit():
    text = HEAD + '[limits]\nmemory_mb = 8\n[[tests]]\nname = "a"\nargs = []\nexpected = 1\n'
    error = error_of(text)
    assert error.line == line_of(text, "memory_mb")
    assert "limits.memory_mb must be a whole number from 32 to" in error.message


def test_an_unknown_limit_suggests_the_right_one():
    text = HEAD + '[limits]\ntime = 10\n[[tests]]\nname = "a"\nargs = []\nexpected = 1\n'
    error = error_of(text)
    assert error.line == line_of(text, "time = 10")
    assert "unknown limit `time`" in error.message and "time_ms" in error.message


def test_an_unknown_test_key_suggests_the_right_one():
    text = HEAD + '[[tests]]\nname = "a"\nargs = [1]\nexpectd = 1\nexpected = 1\n'
    error = error_of(text)
    assert error.line == line_of(text, "expectd")
    assert "did you mean `expected`?" in error.message


def test_call_tests_need_python():
    text = (
        'title = "t"\nlanguage = "javascript"\nentry = "solve"\n'
        '[[tests]]\nname = "a"\nargs = [1]\nexpected = 1\n'
    )
    error = error_of(text)
    assert error.line == line_of(text, "[[tests]]") and "write io tests" in error.message


def test_approx_and_unordered_are_for_call_tests_and_unordered_needs_a_list():
    io_text = HEAD + '[[tests]]\nname = "a"\nstdin = ""\nexpected_stdout = ""\ncompare = "approx"\n'
    assert "compare applies to call tests only" in error_of(io_text).message
    text = HEAD + '[[tests]]\nname = "a"\nargs = []\nexpected = 3\ncompare = "unordered"\n'
    assert "needs `expected` to be an array" in error_of(text).message


def test_dates_and_infinities_cannot_be_test_values():
    text = HEAD + '[[tests]]\nname = "a"\nargs = [1979-05-27]\nexpected = 1\n'
    error = error_of(text)
    assert error.line == line_of(text, "args") and "holds a date" in error.message
    assert (
        "not a finite number"
        in error_of(HEAD + '[[tests]]\nname = "a"\nargs = []\nexpected = inf\n').message
    )


def test_a_key_inside_a_multiline_string_does_not_confuse_the_line():
    text = (
        HEAD + "starter_code = '''\ncompare = \"nonsense\"\n'''\n"
        '[[tests]]\nname = "a"\nargs = []\nexpected = 1\ncompare = "wrong"\n'
    )
    assert error_of(text).line == line_of(text, '"wrong"')


def test_no_tests_is_an_error():
    assert "there are no tests" in error_of(HEAD).message


def test_a_missing_file_is_named():
    with pytest.raises(AssessmentError) as caught:
        load_assessment("/nonexistent/a.toml")
    assert str(caught.value) == "/nonexistent/a.toml: no such file: check the path"


def test_a_file_that_is_not_utf8_reports_the_line_of_the_bad_byte(tmp_path):
    path = tmp_path / "a.toml"
    path.write_bytes(b'title = "t"\nlanguage = "python"\n# caf\xe9\n')
    with pytest.raises(AssessmentError) as caught:
        load_assessment(path)
    assert caught.value.line == 3 and "not UTF-8" in caught.value.message


def test_load_assessment_reads_a_file(tmp_path):
    path = tmp_path / "two-sum.toml"
    path.write_text(DESIGN_EXAMPLE)
    assert load_assessment(path).title == "Two sum"
