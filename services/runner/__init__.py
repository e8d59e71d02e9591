"""Run learners' code against an assessment's tests, sandboxed (no Textual here).

    from services.runner import load_assessment, run
    result = run(load_assessment("two-sum.toml"), code)   # blocking: call from a thread
    result.status, result.score.percent, result.to_dict()  # `learn check --json` shape
    run_code("python", code, stdin="2 3\n")               # "run my program": ProgramResult

Modules: spec (file format, validation), toml_lines (KeyLines: the line of a key, for
error messages), execute (run, run_code), results (RunResult), sandbox (processes,
limits, sandbox_strength), check (`learn check`), _child (the code that runs inside the
sandbox).
"""

from .execute import ProgramResult, run, run_code, stdout_difference
from .results import RunResult, Score, TestResult
from .sandbox import available_languages, interpreter, sandbox_strength
from .spec import (
    LANGUAGES,
    Assessment,
    AssessmentError,
    Limits,
    TestCase,
    assessment_from_row,
    load_assessment,
    parse_assessment,
)

__all__ = [
    "LANGUAGES",
    "Assessment",
    "AssessmentError",
    "Limits",
    "ProgramResult",
    "RunResult",
    "Score",
    "TestCase",
    "TestResult",
    "assessment_from_row",
    "available_languages",
    "interpreter",
    "load_assessment",
    "parse_assessment",
    "run",
    "run_code",
    "sandbox_strength",
    "stdout_difference",
]
