"""The preview's answers (services.authoring.preview.FolderBackend) must have the keys and
JSON types the SQL functions return for the same course, published to real PostgreSQL and
read by a learner, as tests/tui/test_fixed_data.py checks the snapshot tests' fixed data."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from services.authoring.preview import FolderBackend
from services.authoring.publishing import publish_folder
from services.data.backend import LocalBackend
from services.paths import bundled_courses

SOURCE = next(p for p in bundled_courses() if p.name == "python-foundations")


def kind(value: Any) -> str:
    """The JSON type of a value (int and float are both a JSON number)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def differences(preview: Any, real: Any, path: str = "") -> list[str]:
    """Where the preview's answer differs from the SQL's in keys or JSON types. A null
    on one side matches any type on the other (an optional field left empty); arrays
    are compared element by element, as far as both go (the same course: same order)."""
    if preview is None or real is None:
        return []
    if kind(preview) != kind(real):
        return [f"{path or '.'}: preview {kind(preview)}, SQL {kind(real)}"]
    if isinstance(real, dict):
        found = [f"{path}.{k}: only in the SQL" for k in sorted(set(real) - set(preview))]
        found += [f"{path}.{k}: only in the preview" for k in sorted(set(preview) - set(real))]
        for key in sorted(set(real) & set(preview)):
            found += differences(preview[key], real[key], f"{path}.{key}")
        return found
    if isinstance(real, list):
        return [
            problem
            for index, (p, r) in enumerate(zip(preview, real, strict=False))
            for problem in differences(p, r, f"{path}[{index}]")
        ]
    return []


def test_differences_sees_a_missing_key_and_a_changed_type():
    real = {"a": 1, "b": [{"c": "x"}], "d": None}
    assert differences({"a": 1.5, "b": [{"c": "y"}], "d": {"e": 1}}, real) == []
    assert sorted(differences({"a": "1", "b": [{"c": "x", "z": 1}]}, real)) == [
        ".a: preview string, SQL number",
        ".b[0].z: only in the preview",
        ".d: only in the SQL",
    ]


@pytest.fixture
async def answers(db, db_url, tmp_path):
    """(preview, SQL) answers of every call FolderBackend answers, for one course folder:
    the SQL's as a learner who has not enrolled (what the preview shows), except
    navigation, chat history and the attempt's clock, asked once enrolled (before, the
    SQL has no rows to compare)."""
    folder = Path(shutil.copytree(SOURCE, tmp_path / f"pf-{uuid.uuid4().hex[:8]}"))
    backends = []

    async def signed_in(user_id: str) -> LocalBackend:
        backend = LocalBackend(
            db_url, migrate=False, session_path=tmp_path / f"session-{len(backends)}.json"
        )
        backends.append(backend)
        await backend.sign_in_profile(user_id)
        return backend

    author = await signed_in(db.new_user())
    course_id = (await publish_folder(author, folder, run_code=False)).course_id
    learner = await signed_in(db.new_user())
    preview = FolderBackend(folder)
    await preview.connect()

    async def both(fn: str, **args: Any) -> tuple[Any, Any]:
        return await preview.call(fn, **args), await learner.call(fn, **args)

    def by_slug(detail: dict[str, Any], key: str) -> dict[str, str]:
        return {x["slug"]: x["id"] for x in detail[key]}

    found: dict[str, tuple[Any, Any]] = {}
    detail = found["course_detail"] = (
        await preview.call("course_detail", p_course_id=preview.course_id),
        await learner.call("course_detail", p_course_id=course_id),
    )
    lessons = [by_slug(d, "lessons") for d in detail]
    assessments = [by_slug(d, "assessments") for d in detail]
    assert list(lessons[0]) == list(lessons[1]) and list(assessments[0]) == list(assessments[1])
    lesson = list(lessons[0])[1]  # one with a previous and a next lesson
    assessment = next(a["slug"] for a in detail[0]["assessments"] if a["lesson_id"])

    async def each(fn: str, name: str, ids: tuple[str, str], **args: Any) -> tuple[Any, Any]:
        return (
            await preview.call(fn, **{name: ids[0]}, **args),
            await learner.call(fn, **{name: ids[1]}, **args),
        )

    lesson_ids = (lessons[0][lesson], lessons[1][lesson])
    assessment_ids = (assessments[0][assessment], assessments[1][assessment])
    found["lesson_detail"] = await each("lesson_detail", "p_lesson_id", lesson_ids)
    found["assessment_detail"] = await each("assessment_detail", "p_assessment_id", assessment_ids)
    found["catalog"] = await both("catalog", p_search="Python Foundations")
    found["search_lessons"] = await each(
        "search_lessons", "p_course_id", (preview.course_id, course_id), p_query="variables"
    )
    found["record_lesson_progress"] = await each(
        "record_lesson_progress", "p_lesson_id", lesson_ids, p_time_spent=5
    )
    await learner.call("enroll", p_course_id=course_id)
    found["navigation"] = await both("navigation")
    found["chat_history_for"] = await each(
        "chat_history_for", "p_lesson_id", lesson_ids, p_context="lesson_help"
    )
    found["start_attempt"] = await each("start_attempt", "p_assessment_id", assessment_ids)
    yield found
    await preview.close()
    for backend in backends:
        await backend.close()


CALLS = (
    "course_detail",
    "lesson_detail",
    "assessment_detail",
    "catalog",
    "search_lessons",
    "record_lesson_progress",
    "navigation",
    "chat_history_for",
    "start_attempt",
)


async def test_every_preview_answer_has_the_keys_and_types_the_sql_returns(answers):
    assert sorted(answers) == sorted(CALLS)
    found = {fn: differences(*answers[fn]) for fn in CALLS}
    assert {fn: d for fn, d in found.items() if d} == {}, "\n".join(
        f"{fn}: {x}" for fn, d in found.items() for x in d
    )


async def test_the_compared_answers_are_not_empty(answers):
    """Nothing is compared in an empty list: each list the preview fills, the SQL fills."""
    for fn in ("course_detail", "catalog", "navigation"):
        preview, real = answers[fn]
        for key, value in preview.items():
            if isinstance(value, list) and value:
                assert real[key], f"{fn}.{key} is empty in the SQL's answer"
    assert answers["search_lessons"][0] and answers["search_lessons"][1]
