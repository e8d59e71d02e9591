"""`learn practice`: a real `learn` process watching a real file on real PostgreSQL.
The test plays the learner's editor: it saves the file (in place, and by writing a new
file and renaming it over the old one, as many editors do) and presses keys on the
process's standard input."""

from __future__ import annotations

import asyncio
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from services.data.backend import LocalBackend
from services.data.seed import seed_bundled
from services.grader import Grader
from services.review import drafts
from services.review.practice import syntax_problem
from services.review.workspace import prepare_file

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = (
    "import re\n\ndef make_slug(title: str) -> str:\n"
    '    return "-".join(re.findall(r"\\w+", title.lower()))\n'
)


@pytest.fixture(scope="module")
def seeded_url(db_url) -> str:
    seed_bundled(db_url)
    return db_url


@pytest.fixture
def home(seeded_url, tmp_path) -> Path:
    """LEARN_HOME with a signed-in local learner (the session `learn` restores)."""
    home = tmp_path / "home"

    async def sign_up() -> None:
        backend = LocalBackend(
            seeded_url, migrate=False, session_path=home / "data" / "session.json"
        )
        await backend.sign_up(None, None, full_name="Ada")
        await backend.close()

    asyncio.run(sign_up())
    return home


def _env(home: Path, url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SUPABASE_", "DATABASE_URL", "LEARN_", "OPENAI_"))
    }
    env.update(
        LEARN_HOME=str(home),
        DATABASE_URL=url,
        COLUMNS="100",
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",
    )  # no model: nothing listens there
    return env


class Learn:
    """`learn practice …` running, its output read line by line in a thread."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "practice", *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} never appeared; output:\n" + "\n".join(self.seen))

    def press(self, key: str) -> None:
        self.proc.stdin.write(key)
        self.proc.stdin.flush()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.press("q")
        return self.proc.wait(timeout=30)


def _save_in_place(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _save_by_rename(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".swp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def test_each_save_reruns_the_visible_tests_and_s_submits(home, seeded_url, tmp_path, db):
    workspace = tmp_path / "ws"
    learn = Learn(["make-slug", "--dir", str(workspace)], _env(home, seeded_url))
    try:
        learn.wait_for("Wrote the starter code to")
        first = learn.wait_for("tests pass")
        assert first.startswith("✗ 3/7 tests pass")
        learn.wait_for("h hint · s submit · q stop")
        path = workspace / "python-foundations" / "make-slug.py"
        assert "def make_slug" in path.read_text()

        _save_in_place(path, "def make_slug(title):\n    return '-'.join(title.split(\n")
        error = learn.wait_for("SyntaxError")
        assert error.startswith("SyntaxError at line 2, column")

        _save_by_rename(path, SOLUTION)
        assert learn.wait_for("tests pass").startswith("✓ 7/7 tests pass (100%)")
        learn.wait_for("h hint · s submit · q stop")

        learn.press("s")
        assert "grading…" in learn.wait_for("Submitted")  # a verified course
        # On a DATABASE_URL a grader runs elsewhere: this test is that grader.
        assert Grader(seeded_url, name="test").run(once=True) == 1
        assert "Verified: 100% recorded." in learn.wait_for("Verified")
        assert "rated Easy" in learn.wait_for("Review card rated")
        assert learn.stop() == 0
    finally:
        if learn.proc.poll() is None:
            learn.proc.kill()
    assert not any("Traceback" in line for line in learn.seen)
    user = db.su_one("select id from auth.users order by created_at desc limit 1")
    attempts = db.su(
        "select score from assessment_attempts a join assessments s"
        " on s.id = a.assessment_id where a.user_id = %s and s.slug = 'make-slug'",
        (user,),
    )
    assert [float(a["score"]) for a in attempts] == [100.0]
    card = db.su(
        "select reps from review_cards c join assessments s on s.id = c.assessment_id"
        " where c.user_id = %s and s.slug = 'make-slug'",
        (user,),
    )
    assert card == [{"reps": 1}]


def test_the_draft_is_shared_with_the_app_both_ways(home, seeded_url, tmp_path, db, monkeypatch):
    monkeypatch.setenv("LEARN_HOME", str(home))
    assessment = str(db.su_one("select id from assessments where slug = 'make-slug'"))
    drafts.save(assessment, "# from the app's editor\n" + SOLUTION)
    workspace = tmp_path / "ws"
    learn = Learn(["make-slug", "--dir", str(workspace)], _env(home, seeded_url))
    try:
        learn.wait_for("Wrote your draft from the app to")
        assert learn.wait_for("tests pass").startswith("✓ 7/7")
        learn.wait_for("h hint")
        path = workspace / "python-foundations" / "make-slug.py"
        assert path.read_text().startswith("# from the app's editor")
        _save_in_place(path, "# edited in my editor\n" + SOLUTION)
        learn.wait_for("tests pass")
        assert learn.stop() == 0
    finally:
        if learn.proc.poll() is None:
            learn.proc.kill()
    assert drafts.load(assessment).startswith("# edited in my editor")


def test_h_gives_a_hint_from_the_failing_tests_without_a_model(home, seeded_url, tmp_path):
    learn = Learn(["make a URL", "--dir", str(tmp_path / "ws")], _env(home, seeded_url))
    try:
        learn.wait_for("h hint · s submit · q stop")
        learn.press("h")
        learn.wait_for("no AI model is set up")
        assert "punctuation is dropped" in learn.wait_for("Look at the test")
        assert learn.stop() == 0
    finally:
        if learn.proc.poll() is None:
            learn.proc.kill()


def test_an_unknown_assessment_is_one_line_and_exit_1(home, seeded_url, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "practice", "no-such-thing", "--dir", str(tmp_path)],
        cwd=ROOT,
        env=_env(home, seeded_url),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert done.stderr.strip().startswith("learn: No assessment matches 'no-such-thing'")
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_syntax_error_is_one_line_with_its_position():
    assert (
        syntax_problem("def f(:\n", "python") == "SyntaxError at line 1, column 7: invalid syntax"
    )
    assert syntax_problem("x = 1\n", "python") is None


def test_the_newer_of_file_and_draft_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "home"))
    path = tmp_path / "ws" / "a.py"
    assert prepare_file(path, "k", "starter\n") == "Wrote the starter code to"
    path.write_text("mine\n")
    os.utime(path, (time.time() + 5, time.time() + 5))
    assert prepare_file(path, "k", "starter\n") == "Kept your file as you left it:"
    assert drafts.load("k") == "mine\n"
    drafts.save("k", "from the app\n")
    os.utime(path, (time.time() - 60, time.time() - 60))
    assert prepare_file(path, "k", "starter\n").startswith("Wrote your draft from the app")
    assert path.read_text() == "from the app\n"
