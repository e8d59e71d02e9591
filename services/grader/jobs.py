"""One grading job: the claimed row → the runner → the `execution_result` to record."""

from __future__ import annotations

from typing import Any

from services.runner import AssessmentError, RunResult, TestResult, assessment_from_row, run


def grade_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run the job's code with every test of its assessment; never raises for anything
    the code does. Hidden tests run after the visible ones (one harness process keeps
    state between tests, so a hidden test's arguments must not be there for a visible
    test to print), and the results come back in the assessment's order; hidden tests'
    results are concealed by the runner (name, pass/fail, duration)."""
    try:
        assessment = assessment_from_row(
            {
                "id": job.get("assessment_id"),
                "title": job.get("title") or "assessment",
                "language": job.get("language") or "python",
                "entry": job.get("entry"),
                "limits": job.get("limits") or {},
                "starter_code": job.get("starter_code") or "",
                "test_cases": job.get("test_cases") or [],
            }
        )
    except AssessmentError as e:
        return RunResult(
            "error",
            f"the assessment cannot be graded: {e}",
            [TestResult("assessment", "error", str(e))],
        ).to_dict()
    order = sorted(range(len(assessment.tests)), key=lambda i: assessment.tests[i].hidden)
    result = run(
        assessment._replace(tests=[assessment.tests[i] for i in order]), job.get("code") or ""
    )
    tests: list[TestResult] = list(result.tests)
    back: list[TestResult | None] = [None] * len(tests)
    for position, index in enumerate(order):
        back[index] = tests[position]
    return result._replace(tests=[t for t in back if t is not None]).to_dict()
