"""`learn check` as a person runs it: exit codes, the JSON contract, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.runner import RunResult, TestResult
from services.runner.check import main

ROOT = Path(__file__).resolve().parents[2]

ASSESSMENT = """\
title = "Add"
language = "python"
entry = "add"
[limits]
time_ms = 2000
[[tests]]
name = "small"
args = [2, 3]
expected = 5
[[tests]]
name = "negative"
args = [-2, -3]
expected = -5
[[tests]]
name = "secret"
args = [40, 2]
expected = 42
hidden = true
"""

TOP_KEYS = ["version", "status", "message", "score", "tests"]
TEST_KEYS = ["name", "status", "message", "expected", "actual", "output", "duration_ms"]


def check(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.runner.check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "add.toml").write_text(ASSESSMENT)
    (tmp_path / "right.py").write_text("def add(a, b):\n    return a + b\n")
    (tmp_path / "wrong.py").write_text("def add(a, b):\n    print('adding')\n    return a - b\n")
    (tmp_path / "broken.py").write_text("def add(a, b)\n    return a + b\n")
    return {p.stem: p for p in tmp_path.iterdir()}


def test_all_passing_exits_0_with_the_contract_json(files):
    done = check(str(files["add"]), str(files["right"]), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert list(data) == TOP_KEYS
    assert (data["version"], data["status"], data["message"]) == (1, "pass", None)
    assert data["score"] == {"passed": 3, "total": 3, "percent": 100}
    assert [list(t) for t in data["tests"]] == [TEST_KEYS] * 3
    assert [t["name"] for t in data["tests"]] == ["small", "negative", "secret"]
    assert all(isinstance(t["duration_ms"], float) for t in data["tests"])


def test_a_failing_solution_exits_1_and_hides_the_hidden_test(files):
    done = check(str(files["add"]), str(files["wrong"]), "--json")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["status"] == "fail" and data["score"] == {"passed": 0, "total": 3, "percent": 0}
    small, _, secret = data["tests"]
    assert small == {
        **small,
        "status": "fail",
        "expected": "5",
        "actual": "-1",
        "output": "adding\n",
        "message": "add(2, 3) returned -1, expected 5",
    }
    assert secret == {
        "name": "secret",
        "status": "fail",
        "message": "hidden test",
        "expected": None,
        "actual": None,
        "output": None,
        "duration_ms": secret["duration_ms"],
    }


def test_a_syntax_error_exits_1_with_status_error(files):
    done = check(str(files["add"]), str(files["broken"]), "--json")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["status"] == "error" and data["message"].startswith("SyntaxError on line 1:")


def test_without_json_it_prints_a_table(files):
    done = check(str(files["add"]), str(files["wrong"]))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == "Add (python): 0 of 3 tests passed (0%)"
    assert any(line.split()[:2] == ["FAIL", "small"] for line in lines)
    assert "add(2, 3) returned -1, expected 5" in done.stdout
    assert any(line.split()[:3] == ["FAIL", "secret", "(hidden)"] for line in lines)
    assert "42" not in done.stdout


@pytest.mark.parametrize(
    ("make_args", "expected"),
    [
        (
            lambda f: ["/nonexistent/add.toml", str(f["right"])],
            "/nonexistent/add.toml: no such file: check the path",
        ),
        (
            lambda f: [str(f["add"]), "/nonexistent/solution.py"],
            "/nonexistent/solution.py: no such file: check the path",
        ),
        (lambda f: [str(f["add"])], "learn check: expected 2 files, got 1"),
        (
            lambda f: [str(f["add"]), str(f["right"]), "--fast"],
            "learn check: unknown option --fast",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_on_stderr(files, make_args, expected):
    done = check(*make_args(files))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(expected)
    assert "Traceback" not in done.stderr


def test_an_invalid_assessment_exits_2_naming_file_and_line(tmp_path, files):
    bad = tmp_path / "bad.toml"
    bad.write_text(ASSESSMENT.replace('language = "python"', 'language = "cobol"'))
    done = check(str(bad), str(files["right"]))
    assert done.returncode == 2
    assert done.stderr.startswith(f"{bad}:2: unknown language 'cobol'")
    assert done.stderr.count("\n") == 1


def test_broken_toml_exits_2_naming_the_line(tmp_path, files):
    bad = tmp_path / "bad.toml"
    bad.write_text(ASSESSMENT.replace("args = [2, 3]", "args = [2, 3"))
    done = check(str(bad), str(files["right"]))
    assert done.returncode == 2 and done.stderr.startswith(f"{bad}:")
    assert "invalid TOML" in done.stderr and "Traceback" not in done.stderr


def test_a_missing_interpreter_exits_2(tmp_path, files):
    js = tmp_path / "add.toml"
    js.write_text(
        'title = "t"\nlanguage = "javascript"\n[[tests]]\nname = "a"\nstdin = ""\n'
        'expected_stdout = ""\n'
    )
    env = {**os.environ, "PATH": str(tmp_path)}  # no node there
    done = check(str(js), str(files["right"]), env=env)
    assert done.returncode == 2
    assert "language javascript needs `node`, which is not installed here" in done.stderr


def test_main_returns_the_exit_code_for_the_learn_cli(files, capsys):
    assert main([str(files["add"]), str(files["right"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "pass"


def test_learn_check_imports_neither_textual_nor_supabase_nor_openai():
    code = (
        "import sys, services.runner.check\n"
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'textual', 'supabase', 'openai'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_score_percent_rounds_down_so_100_means_all_passed():
    tests = [TestResult(str(i), "pass") for i in range(199)] + [TestResult("x", "fail")]
    assert RunResult("fail", None, tests).score.percent == 99
    assert RunResult("error", "no tests", []).score.percent == 0
