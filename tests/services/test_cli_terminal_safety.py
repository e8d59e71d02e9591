"""Issue #15: `learn` commands print others' text without its control characters.

Each command runs as a person runs it (a child process; its stdout and stderr bytes are
what a terminal would receive) against a real database holding a published course
whose text is hostile, a course folder with a hostile title, a program printing
hostile output and a model server with a hostile model name."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from services.paths import bundled_courses
from services.text import CONTROL
from tests.stack.openai_standin import OpenAIStandIn
from tests.tui.hostile import HOSTILE

ROOT = Path(__file__).resolve().parents[2]
MAIN = "import sys\nfrom tui.cli import main\nsys.exit(main(sys.argv[1:]))"
SLUG = "evil-course"


def as_superuser_without_triggers(url: str, sql: str, params=None):
    """Run `sql` as the superuser with `session_replication_role = replica`, which skips
    ordinary triggers: the database refuses control characters in authors' text with
    triggers (migration 20261205001000), and the client must stay safe all the same —
    rows from before that migration, a project where it is not pushed yet, a server
    that lets one through. Nothing else here depends on a trigger."""
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("set local session_replication_role = replica")
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else None


@pytest.fixture(scope="module")
def hostile_db(db_url) -> str:
    """This module's own database, with a published course whose text is hostile."""
    as_superuser_without_triggers(
        db_url,
        "insert into public.courses (slug, title, short_description, description,"
        " duration, tags, is_published, published_at) values (%s, %s, %s, %s, %s, %s, true,"
        " now())",
        (
            SLUG,
            f"Evil {HOSTILE} course",
            f"short {HOSTILE}",
            f"long {HOSTILE}",
            "1 \x1b]2;W\x07 week",
            ["tag\x1b]2;PWNED\x07"],
        ),
    )
    return db_url


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "SUPABASE_URL",
            "SUPABASE_ANON_KEY",
            "DATABASE_URL",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "LEARN_MODEL",
        )
    }
    environ["LEARN_HOME"] = str(tmp_path / "home")
    return environ


def learn(env: dict[str, str], *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", MAIN, *args], cwd=cwd, env=env, capture_output=True, timeout=180
    )


def assert_clean(done: subprocess.CompletedProcess) -> str:
    """The bytes the command wrote hold no control character; its stdout as text."""
    for name, data in (("stdout", done.stdout), ("stderr", done.stderr)):
        text = data.decode("utf-8")
        leaks = [m.group() for m in CONTROL.finditer(text.replace("\n", ""))]
        assert leaks == [], f"{name}: {text!r}"
    return done.stdout.decode()


def test_courses_prints_a_hostile_title_without_its_control_characters(hostile_db, env):
    env["DATABASE_URL"] = hostile_db
    done = learn(env, "courses")
    out = assert_clean(done)
    assert done.returncode == 0, done.stderr
    assert "Evil ]2;PWNED]52;c;SGVsbG8=" in out


def test_courses_json_holds_no_control_characters_even_escaped(hostile_db, env):
    env["DATABASE_URL"] = hostile_db
    done = learn(env, "courses", "--json")
    out = assert_clean(done)
    course = next(c for c in json.loads(out) if c["slug"] == SLUG)
    assert CONTROL.search(json.dumps(course, ensure_ascii=False)) is None
    assert course["tags"] == ["tag]2;PWNED"]


def test_admin_report_prints_a_hostile_title_without_its_control_characters(hostile_db, env):
    env["DATABASE_URL"] = hostile_db
    as_superuser_without_triggers(
        hostile_db,
        "with learner as (insert into auth.users (id, email, aud, role) values"
        " (gen_random_uuid(), 'evil-report@example.test', 'authenticated', 'authenticated')"
        " returning id) insert into public.course_enrollments (user_id, course_id)"
        " select learner.id, c.id from learner, public.courses c where c.slug = %s",
        (SLUG,),
    )
    done = learn(env, "admin", "report", "--local")
    out = assert_clean(done)
    assert done.returncode == 0, done.stderr
    assert "Evil ]2;PWNED" in out


def test_admin_report_json_holds_no_control_characters(hostile_db, env):
    env["DATABASE_URL"] = hostile_db
    done = learn(env, "admin", "report", "--local", "--json")
    assert_clean(done)
    assert CONTROL.search(json.dumps(json.loads(done.stdout), ensure_ascii=False)) is None


@pytest.fixture
def hostile_folder(tmp_path) -> Path:
    source = next(p for p in bundled_courses() if p.name == "python-foundations")
    folder = Path(shutil.copytree(source, tmp_path / "evil-course"))
    toml = folder / "course.toml"
    toml.write_text(
        toml.read_text().replace(
            'title = "Python Foundations"', 'title = "Evil \\u001b]2;PWNED\\u0007 course"'
        )
    )
    lesson = folder / "lessons" / "01-values-and-types.md"
    lesson.write_text(lesson.read_text() + f"\nRaw {HOSTILE} here.\n")
    (folder / "lessons" / "09-\x1b]2;PWNED\x07.md").write_text('+++\ntitle = "x"\n+++\nx\n')
    return folder


def test_course_validate_reports_hostile_text_with_file_and_line_cleanly(hostile_folder, env):
    done = learn(env, "course", "validate", str(hostile_folder), "--no-run")
    out = assert_clean(done) + done.stderr.decode()
    assert done.returncode == 1
    assert "course.toml:1: `title` holds the control character U+001B (ESC)" in out
    assert "01-values-and-types.md:" in out and "U+001B (ESC), which terminals obey" in out
    assert "09-]2;PWNED.md" in out


def test_course_publish_of_a_hostile_folder_prints_no_control_characters(
    hostile_folder, hostile_db, env
):
    env["DATABASE_URL"] = hostile_db
    done = learn(env, "course", "publish", str(hostile_folder))
    assert_clean(done)
    assert done.returncode != 0
    assert "U+001B (ESC)" in done.stdout.decode() + done.stderr.decode()


CHECK = """\
title = "Echo \\u001b]2;PWNED\\u0007"
language = "python"
entry = "echo"
[[tests]]
name = "named \\u001b]52;c;SGVsbG8=\\u0007"
args = ["x"]
expected = "x"
"""


def test_check_prints_hostile_program_output_without_its_control_characters(env, tmp_path):
    (tmp_path / "echo.toml").write_text(CHECK)
    (tmp_path / "echo.py").write_text(
        f"def echo(s):\n    print({HOSTILE!r})\n    return {HOSTILE!r}\n"
    )
    for extra in ((), ("--json",)):
        done = learn(env, "check", str(tmp_path / "echo.toml"), str(tmp_path / "echo.py"), *extra)
        out = assert_clean(done)
        assert done.returncode == 1
        assert "PWNED" in out


def test_doctor_prints_a_hostile_model_name_without_its_control_characters(env):
    with OpenAIStandIn(models=[f"evil{HOSTILE}"]) as ai:
        env.update(OPENAI_BASE_URL=ai.base_url, OPENAI_API_KEY="sk", LEARN_MODEL="missing")
        done = learn(env, "doctor")
    out = assert_clean(done)
    assert "ai model" in out
