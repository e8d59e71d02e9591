"""`learn courses [--json]`: the catalog for scripts, on any database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from services.data.seed import seed_bundled

ROOT = Path(__file__).resolve().parents[2]


def run_learn(args, db_url, home) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPABASE_", "OPENAI_"))}
    env.update(DATABASE_URL=db_url, LEARN_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_learn_courses_json_is_a_list_of_course_objects(db_url, tmp_path):
    seed_bundled(db_url)
    out = run_learn(["courses", "--json"], db_url, tmp_path)
    assert out.returncode == 0, out.stderr
    courses = json.loads(out.stdout)
    assert {c["slug"] for c in courses} >= {"python-foundations", "dsa-python", "data-python"}
    assert all({"id", "title", "lesson_count", "difficulty_level"} <= set(c) for c in courses)


def test_learn_courses_filters_by_difficulty(db_url, tmp_path):
    seed_bundled(db_url)
    out = run_learn(["courses", "--difficulty", "Beginner"], db_url, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "python-foundations" in out.stdout and "dsa-python" not in out.stdout


def test_learn_courses_on_an_unreachable_database_is_one_line(tmp_path):
    out = run_learn(["courses"], "postgresql://nobody@127.0.0.1:9/none", tmp_path)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_learn_courses_shows_the_id_of_a_slug_two_authors_use(db, db_url, tmp_path):
    """Slugs are unique per author (issue #15 §6): a shared one is listed by id, which
    `learn download` takes too."""
    seed_bundled(db_url)
    other = db.new_user()
    copy = db.run_as(
        other,
        "select public.publish_course(jsonb_build_object("
        "'slug', 'python-foundations', 'title', 'Python Foundations (copy)'))"
        " as r",
    )[0]["r"]["course_id"]
    out = run_learn(["courses"], db_url, tmp_path)
    assert out.returncode == 0, out.stderr
    assert str(copy) in out.stdout and "\npython-foundations " not in "\n" + out.stdout
