"""learn check ASSESSMENT.toml SOLUTION_FILE [--json]

Run a solution against an assessment's tests, outside the app, and print the result:
a table, or with --json the results JSON (version 1; see services/runner/results.py).

Exit status: 0 every test passes; 1 a test fails, or the code cannot be tested (a syntax
error, a missing function); 2 bad input: a missing or invalid file, bad arguments, or a
language whose interpreter is not installed here.
"""

from __future__ import annotations

import sys

from .execute import run
from .results import RunResult
from .sandbox import PROGRAMS, interpreter
from .spec import AssessmentError, load_assessment, read_text_file

USAGE = "usage: learn check ASSESSMENT.toml SOLUTION_FILE [--json]"
_LABELS = {
    "pass": "PASS",
    "fail": "FAIL",
    "error": "ERROR",
    "timeout": "TIMEOUT",
    "memory_limit": "MEMORY",
    "output_limit": "OUTPUT",
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "-h" in args or "--help" in args:
        print(__doc__.strip())
        return 0
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    unknown = [a for a in args if a.startswith("-")]
    if unknown:
        return _bad_input(f"learn check: unknown option {unknown[0]} ({USAGE})")
    if len(args) != 2:
        return _bad_input(f"learn check: expected 2 files, got {len(args)} ({USAGE})")
    assessment_path, solution_path = args
    try:
        assessment = load_assessment(assessment_path)
        code = read_text_file(solution_path)
    except AssessmentError as e:
        return _bad_input(str(e))
    if interpreter(assessment.language) is None:
        program = PROGRAMS[assessment.language]
        return _bad_input(
            f"{assessment_path}: language {assessment.language} needs "
            f"`{program}`, which is not installed here: install it or put it "
            "on PATH"
        )
    result = run(assessment, code)
    if hasattr(sys.stdout, "reconfigure"):  # a C locale must not turn "…" into a traceback
        sys.stdout.reconfigure(errors="replace")
    if as_json:
        print(result.to_json())
    else:
        _print_table(assessment.title, assessment.language, result)
    return 0 if result.status == "pass" else 1


def _bad_input(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def _print_table(title: str, language: str, result: RunResult) -> None:
    score = result.score
    lines = [
        f"{title} ({language}): {score.passed} of {score.total} tests passed ({score.percent}%)"
    ]
    if result.message:
        lines.append(f"error: {result.message}")
    lines.append("")
    names = [f"{t.name} (hidden)" if t.hidden else t.name for t in result.tests]
    width = max(map(len, names), default=0)
    for test, name in zip(result.tests, names, strict=True):
        label = _LABELS.get(test.status, test.status.upper())
        lines.append(f"  {label:<7}  {name:<{width}}  {test.duration_ms:>8.1f} ms")
        if test.message and not test.hidden and test.message != result.message:
            lines.append(f"           {test.message}")
        if test.output:
            output = test.output.rstrip("\n").replace("\n", "\n             ")
            lines.append(f"           output: {output}")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
