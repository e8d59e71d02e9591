"""stdin/stdout tests in every language, and "run my program"."""

from __future__ import annotations

import pytest

from services.runner import Limits, run, run_code, sandbox, stdout_difference
from tests.runner.conftest import assessment, io, need

ADD_PY = "a, b = map(int, input().split())\nprint(a + b)\n"
ADD_JS = (
    "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/)"
    ".map(Number);\nconsole.log(a + b);\n"
)
ADD_SH = "read a b\necho $((a + b))\n"


def test_a_python_program_passes_when_its_stdout_matches():
    result = run(
        assessment(io("add", "2 3\n", "5\n"), io("big", "40 2\n", "42\n"), entry=None), ADD_PY
    )
    assert result.status == "pass"
    assert [t.status for t in result.tests] == ["pass", "pass"]


def test_trailing_spaces_and_final_newlines_do_not_matter():
    code = "print('a  ')\nprint('b')\nprint()\nprint()\n"
    assert run(assessment(io("t", "", "a\nb"), entry=None), code).status == "pass"


def test_a_different_line_fails_naming_the_line_and_showing_both_outputs():
    result = run(assessment(io("t", "", "1\n2\n3\n"), entry=None), "print(1)\nprint(5)\n")
    test = result.tests[0]
    assert test.status == "fail"
    assert test.message == "line 2 differs: expected '2', got '5'"
    assert (test.expected, test.actual) == ("1\n2\n3\n", "1\n5\n")


def test_stdout_difference_reports_missing_and_extra_lines():
    assert stdout_difference("1\n2\n", "1\n2   \n\n") is None
    assert "ends after 1 line(s); expected 2, next '2'" in stdout_difference("1\n2\n", "1\n")
    assert "extra '3'" in stdout_difference("1\n", "1\n3\n")


def test_stderr_is_the_tests_output():
    code = "import sys\nprint('debugging', file=sys.stderr)\nprint(5)\n"
    test = run(assessment(io("t", "", "5\n"), entry=None), code).tests[0]
    assert test.status == "pass" and test.output == "debugging\n"


def test_an_uncaught_exception_is_an_error_with_its_line():
    test = run(assessment(io("t", "", "5\n"), entry=None), "x = 1\nprint(int('five'))\n").tests[0]
    assert test.status == "error"
    assert test.message == "ValueError: invalid literal for int() with base 10: 'five' (line 2)"
    assert "Traceback" in test.output and "_child" not in test.output


def test_a_nonzero_exit_is_an_error():
    test = run(assessment(io("t", "", ""), entry=None), "import sys\nsys.exit(3)\n").tests[0]
    assert test.status == "error" and test.message == "the program exited with code 3"


def test_a_python_syntax_error_stops_every_io_test():
    result = run(assessment(io("a", "", "1\n"), io("b", "", "2\n"), entry=None), "print(1\n")
    assert result.status == "error"
    assert result.message.startswith("SyntaxError on line 1:")
    assert [t.status for t in result.tests] == ["error", "error"]


def test_a_javascript_program_reads_stdin():
    need("node")
    result = run(assessment(io("add", "2 3\n", "5\n"), language="javascript", entry=None), ADD_JS)
    assert result.status == "pass", result.tests[0].message


def test_a_javascript_error_names_the_error():
    need("node")
    test = run(
        assessment(io("t", "", "1\n"), language="javascript", entry=None),
        "console.log(undefinedThing);\n",
    ).tests[0]
    assert test.status == "error"
    assert test.message == (
        "the program exited with code 1: ReferenceError: undefinedThing is not defined"
    )


def test_a_bash_program_reads_stdin():
    need("bash")
    result = run(assessment(io("add", "2 3\n", "5\n"), language="bash", entry=None), ADD_SH)
    assert result.status == "pass", result.tests[0].message


def test_a_language_without_its_interpreter_is_an_error_for_every_test(monkeypatch):
    monkeypatch.setitem(sandbox._cache, "which:node", None)
    result = run(
        assessment(
            io("a", "", ""), io("b", "", "", hidden=True), language="javascript", entry=None
        ),
        "",
    )
    assert result.status == "error"
    assert result.message.startswith("javascript code needs `node`, which is not installed")
    assert [t.status for t in result.tests] == ["error", "fail"]


def test_run_code_returns_stdout_stderr_and_exit_code():
    outcome = run_code("python", "import sys\nprint(input()[::-1])\nsys.exit(2)\n", "abc\n")
    assert (outcome.status, outcome.exit_code, outcome.stdout) == ("error", 2, "cba\n")


def test_run_code_gives_up_at_the_time_limit():
    outcome = run_code("python", "while True:\n    pass\n", limits=Limits(time_ms=300))
    assert outcome.status == "timeout" and outcome.exit_code is None


@pytest.mark.parametrize("language", ["javascript", "bash"])
def test_run_code_runs_other_languages(language):
    need({"javascript": "node", "bash": "bash"}[language])
    code = {"javascript": ADD_JS, "bash": ADD_SH}[language]
    outcome = run_code(language, code, "20 22\n")
    assert (outcome.status, outcome.stdout) == ("ok", "42\n")
