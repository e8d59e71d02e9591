"""The snapshot tests' fixed data must look like what the SQL returns."""

from __future__ import annotations

import asyncio

from services.data.backend import LocalBackend
from services.data.seed import seed_bundled
from tests.tui.fixed_backend import DATA


def _shape(value):
    """Keys, recursively (lists: the shape of their first element)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return None


def _missing(fixed, real, path=""):
    """Keys the real payload has that the fixed one lacks (or the reverse)."""
    problems = []
    if isinstance(real, dict) and isinstance(fixed, dict):
        for key in set(real) | set(fixed):
            if key not in fixed or key not in real:
                problems.append(f"{path}.{key}")
            elif real[key] is not None and fixed[key] is not None:
                problems += _missing(fixed[key], real[key], f"{path}.{key}")
    elif isinstance(real, list) and isinstance(fixed, list) and real and fixed:
        problems += _missing(fixed[0], real[0], f"{path}[]")
    return problems


def test_fixed_data_has_the_shape_the_sql_returns(db_url, tmp_path):
    seed_bundled(db_url)

    async def collect():
        backend = LocalBackend(db_url, session_path=tmp_path / "s.json")
        await backend.connect()
        await backend.sign_up(None, None, full_name="Shape Check")
        course = (await backend.call("catalog", p_search="foundations"))["courses"][0]
        await backend.call("enroll", p_course_id=course["id"])
        detail = await backend.call("course_detail", p_course_id=course["id"])
        lesson = detail["lessons"][1]["id"]
        await backend.call(
            "record_lesson_progress", p_lesson_id=detail["lessons"][0]["id"], p_completed=True
        )
        assessment = detail["assessments"][0]["id"]
        await backend.call("start_attempt", p_assessment_id=assessment)
        await backend.call(
            "submit_attempt",
            p_assessment_id=assessment,
            p_code="x = 1",
            p_execution_result={"status": "fail", "score": {"passed": 0, "total": 1}},
            p_score=0,
        )
        await backend.call(
            "submit_feedback", p_rating=4, p_feedback_type="course_rating", p_course_id=course["id"]
        )
        await backend.call("start_attempt", p_assessment_id=assessment)  # left open
        real = {
            "resume_point": await backend.call("resume_point"),
            "dashboard": await backend.call("dashboard"),
            "catalog": await backend.call("catalog"),
            "course_detail": await backend.call("course_detail", p_course_id=course["id"]),
            "lesson_detail": await backend.call("lesson_detail", p_lesson_id=lesson),
            "assessment_detail": await backend.call(
                "assessment_detail", p_assessment_id=assessment
            ),
            "my_profile": await backend.call("my_profile"),
            "notifications_list": await backend.call("notifications_list"),
            "navigation": await backend.call("navigation"),
            "review_summary": await backend.call("review_summary"),
            "review_queue": await backend.call("review_queue"),
        }
        await backend.close()
        return real

    real = asyncio.run(collect())
    problems = {fn: _missing(DATA[fn], real[fn]) for fn in real}
    assert {fn: p for fn, p in problems.items() if p} == {}
