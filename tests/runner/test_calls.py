"""Function-call tests: results, comparisons, errors and what learners see of them."""

from __future__ import annotations

from services.runner import run
from tests.runner.conftest import assessment, call, io, run_one

TWO_SUM = """\
def solve(nums, target):
    print("looking at", nums)
    seen = {}
    for i, n in enumerate(nums):
        if target - n in seen:
            return [seen[target - n], i]
        seen[n] = i
"""


def test_a_correct_solution_passes_every_test_in_file_order():
    result = run(
        assessment(
            call("first", [[2, 7, 11, 15], 9], [0, 1]), call("second", [[3, 2, 4], 6], [1, 2])
        ),
        TWO_SUM,
    )
    assert result.status == "pass" and result.message is None
    assert [t.name for t in result.tests] == ["first", "second"]
    assert [t.status for t in result.tests] == ["pass", "pass"]
    assert (result.score.passed, result.score.total, result.score.percent) == (2, 2, 100)


def test_a_wrong_answer_fails_with_the_call_expected_and_actual():
    result = run(
        assessment(call("ok", [[2, 7], 9], [0, 1]), call("wrong", [[3, 3], 6], [1, 0])), TWO_SUM
    )
    wrong = result.tests[1]
    assert result.status == "fail" and result.score.percent == 50
    assert wrong.status == "fail"
    assert (wrong.expected, wrong.actual) == ("[1, 0]", "[0, 1]")
    assert wrong.message == "solve([3, 3], 6) returned [0, 1], expected [1, 0]"


def test_each_test_gets_the_output_it_printed():
    result = run(
        assessment(call("a", [[1, 2], 3], [0, 1]), call("b", [[5, 5], 10], [0, 1])), TWO_SUM
    )
    assert [t.output for t in result.tests] == ["looking at [1, 2]\n", "looking at [5, 5]\n"]


def test_what_a_test_printed_before_it_hung_is_in_its_output():
    code = "def solve():\n    print('got here')\n    while True:\n        pass\n"
    result = run_one(code, call(expected=1), time_ms=300)
    assert (result.status, result.output) == ("timeout", "got here\n")


def test_output_written_to_the_descriptor_or_by_a_child_process_is_in_the_output():
    code = (
        "import os, subprocess\ndef solve():\n    os.write(1, b'raw\\n')\n"
        "    subprocess.run(['echo', 'from echo'])\n    return 1\n"
    )
    result = run_one(code, call(expected=1))
    assert result.output == "raw\nfrom echo\n"


def test_output_in_results_is_cut_to_500_characters():
    shown = run_one("def solve():\n    print('x' * 2000)\n").output
    assert shown.startswith("x" * 500) and "x" * 501 not in shown
    assert "truncated" in shown


def test_an_exception_is_an_error_naming_type_message_and_line():
    result = run_one("def solve():\n    return helper()\n\ndef helper():\n    return 1 / 0\n")
    assert result.status == "error"
    assert result.message == "ZeroDivisionError: division by zero (line 5, in helper)"


def test_one_test_raising_does_not_stop_the_others():
    code = "def solve(x):\n    if x == 0:\n        raise ValueError('zero')\n    return x\n"
    result = run(assessment(call("zero", [0], 0), call("one", [1], 1)), code)
    assert [t.status for t in result.tests] == ["error", "pass"]
    assert result.status == "fail"


def test_a_syntax_error_makes_every_test_an_error_naming_the_line():
    result = run(assessment(call("a", [], 1), io("b", "", "x")), "x = 1\n\ndef solve(:\n")
    assert result.status == "error"
    assert result.message.startswith("SyntaxError on line 3:")
    assert all(t.status == "error" and t.message == result.message for t in result.tests)
    assert result.score.passed == 0


def test_an_indentation_error_is_reported_as_such():
    result = run(assessment(call(expected=1)), "def solve():\nreturn 1\n")
    assert result.message.startswith("IndentationError on line 2:")


def test_a_missing_entry_function_says_which_function_to_define():
    result = run(assessment(call(expected=1)), "def solution():\n    return 1\n")
    assert result.status == "error"
    assert result.message == "your code has no function named `solve`: define def solve(...)"


def test_an_entry_that_is_not_a_function_is_an_error():
    result = run(assessment(call(expected=1)), "solve = 3\n")
    assert result.status == "error" and "`solve` is not a function" in result.message


def test_an_exception_at_the_top_level_is_a_load_error_with_its_line():
    result = run(assessment(call(expected=1)), "import math\nx = int('seven')\n")
    assert result.status == "error"
    assert result.message == (
        "while loading your code: ValueError: invalid literal for int() "
        "with base 10: 'seven' (line 2)"
    )


def test_the_demo_block_under_if_main_does_not_run_in_call_tests():
    code = "def solve():\n    return 1\n\nif __name__ == '__main__':\n    print(input())\n"
    assert run_one(code, call(expected=1)).status == "pass"


def test_reading_input_in_a_call_test_explains_there_is_none():
    result = run_one("def solve():\n    return input()\n")
    assert result.status == "error"
    assert result.message.startswith("EOFError: EOF when reading a line (line 2, in solve)")
    assert "take values from the function's arguments" in result.message


def test_calling_exit_is_an_error_not_a_crash():
    result = run(
        assessment(call("a", expected=1), call("b", expected=1)),
        "import sys\ndef solve():\n    sys.exit(0)\n",
    )
    assert [t.status for t in result.tests] == ["error", "error"]
    assert "called exit()" in result.tests[0].message


def test_kwargs_are_passed_by_name():
    code = "def solve(a, *, scale=1):\n    return a * scale\n"
    assert run_one(code, call(args=[3], kwargs={"scale": 4}, expected=12)).status == "pass"


def test_each_test_gets_fresh_arguments():
    code = "def solve(items):\n    items.append(0)\n    return len(items)\n"
    result = run(assessment(call("a", [[1, 2]], 3), call("b", [[1, 2]], 3)), code)
    assert [t.status for t in result.tests] == ["pass", "pass"]


def test_exact_compare_accepts_a_tuple_for_a_list_and_an_int_float_match():
    assert run_one("def solve():\n    return (0, 1)\n", call(expected=[0, 1])).status == "pass"
    assert run_one("def solve():\n    return 2.0\n", call(expected=2)).status == "pass"


def test_exact_compare_tells_true_from_one_and_strings_from_numbers():
    assert run_one("def solve():\n    return 1\n", call(expected=True)).status == "fail"
    assert run_one("def solve():\n    return '1'\n", call(expected=1)).status == "fail"
    assert (
        run_one("def solve():\n    return {'a': 1}\n", call(expected={"a": 1, "b": 2})).status
        == "fail"
    )


def test_an_object_claiming_equality_with_everything_does_not_pass():
    code = (
        "class Liar:\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = object.__hash__\n\ndef solve():\n    return Liar()\n"
    )
    assert run_one(code, call(expected=[0, 1])).status == "fail"


def test_approx_compare_accepts_rounding_error_but_not_a_wrong_value():
    close = call(expected=0.3, compare="approx")
    assert run_one("def solve():\n    return 0.1 + 0.2\n", close).status == "pass"
    assert run_one("def solve():\n    return 0.1 + 0.2\n", call(expected=0.3)).status == "fail"
    assert run_one("def solve():\n    return 0.301\n", close).status == "fail"


def test_approx_compare_looks_inside_lists():
    test = call(expected=[[0.1, 0.2], {"x": 1.0}], compare="approx")
    code = "def solve():\n    return [[0.1 + 1e-12, 0.2], {'x': 1 + 1e-9}]\n"
    assert run_one(code, test).status == "pass"


def test_unordered_compare_ignores_order_but_counts_duplicates():
    test = call(expected=[1, 2, 2, [3, 4]], compare="unordered")
    assert run_one("def solve():\n    return [[3, 4], 2, 1, 2]\n", test).status == "pass"
    assert run_one("def solve():\n    return [[3, 4], 1, 1, 2]\n", test).status == "fail"
    assert run_one("def solve():\n    return [[4, 3], 2, 1, 2]\n", test).status == "fail"


def test_unordered_compare_accepts_a_set():
    test = call(expected=["b", "a"], compare="unordered")
    assert run_one("def solve():\n    return {'a', 'b'}\n", test).status == "pass"


def test_a_repr_that_raises_is_still_reported():
    code = (
        "class Odd:\n    def __repr__(self):\n        raise RuntimeError('no')\n\n"
        "def solve():\n    return Odd()\n"
    )
    result = run_one(code, call(expected=1))
    assert result.status == "fail" and result.actual == "<Odd object>"


def test_hidden_tests_show_only_name_pass_or_fail_and_duration():
    code = "def solve(x):\n    print('SECRET-OUTPUT', x)\n    raise KeyError('SECRET-MESSAGE')\n"
    result = run(
        assessment(
            call("visible", [1], 2),
            call("hidden one", [424242], 777777, hidden=True),
            io("hidden io", "818181\n", "919191\n", hidden=True),
        ),
        code,
    )
    hidden = result.tests[1]
    assert (hidden.name, hidden.status, hidden.message) == ("hidden one", "fail", "hidden test")
    assert hidden.expected is hidden.actual is hidden.output is None
    assert result.tests[2].status == "fail"
    text = result.to_json()
    for secret in ("424242", "777777", "818181", "919191"):
        assert secret not in text
    assert text.count("SECRET-OUTPUT") == 1  # the visible test's own output only
    assert "SECRET-MESSAGE" in result.tests[0].message


def test_a_passing_hidden_test_passes_and_counts():
    result = run(assessment(call("h", [2], 4, hidden=True)), "def solve(x):\n    return x * 2\n")
    assert result.status == "pass" and result.tests[0].status == "pass"
    assert result.score.percent == 100


def test_call_and_io_tests_mix_and_keep_file_order():
    code = (
        "import sys\ndef solve(a, b):\n    return a + b\n\n"
        "if __name__ == '__main__':\n    print(solve(*map(int, sys.stdin.read().split())))\n"
    )
    result = run(assessment(io("io", "2 3\n", "5\n"), call("call", [2, 3], 5)), code)
    assert [(t.name, t.status) for t in result.tests] == [("io", "pass"), ("call", "pass")]


def test_results_hold_nothing_a_jsonb_column_refuses():
    code = (
        'def solve():\n    print("nul\\x00 and lone \\ud800")\n    return "\\x00"\n'
        'if __name__ == "__main__":\n    print("\\x00")\n'
    )
    result = run(assessment(call("call", expected=1), io("io", "", "x")), code)
    assert [t.status for t in result.tests] == ["fail", "fail"]
    text = result.to_json()
    assert "\\u0000" not in text and "\\ud800" not in text
    assert result.tests[0].output == "nul\ufffd and lone ?\n"


def test_code_that_python_cannot_encode_is_an_error_not_a_crash():
    result = run(assessment(call(expected=1)), "def solve():\n    return '\ud800'\n")
    assert result.status == "error" and "UnicodeEncodeError" in result.message


def test_approx_compare_does_not_accept_infinity_or_nan():
    test = call(expected=1.0, compare="approx")
    assert run_one("def solve():\n    return float('inf')\n", test).status == "fail"
    assert run_one("def solve():\n    return float('nan')\n", test).status == "fail"
