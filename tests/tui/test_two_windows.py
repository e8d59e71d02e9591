"""The app open in two windows (two real processes, each driven by Pilot) saving at the same
moment on one offline queue and one read cache, while `learn sync` runs again and again:
every save is recorded once, no window says "Not saved", and the queue file stays sound.
Real PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from services.data.api import LearningAPI
from services.data.backend import LocalBackend

ROOT = Path(__file__).resolve().parents[2]

WINDOW = r"""
import asyncio, json, sys
from pathlib import Path
from screens.lesson import LessonScreen
from services.data.backend import LocalBackend
from services.offline.backend import OfflineBackend
from tests.tui.helpers import wait_for, wait_for_screen
from tui.app import LearnApp
from screens.dashboard import DashboardScreen

url, session, go, lessons = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4:]

async def main():
    app = LearnApp(lambda progress: OfflineBackend(LocalBackend(
        url, progress=progress, migrate=False, session_path=Path(session))))
    toasts = []          # every notification, kept (the app's own list forgets them)
    shown = app.notify

    def notify(message, *args, **kw):
        toasts.append([kw.get("title", ""), str(message), kw.get("severity", "information")])
        return shown(message, *args, **kw)

    app.notify = notify
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_screen(pilot, DashboardScreen, timeout=60)
        print("ready", flush=True)
        while not go.exists():
            await asyncio.sleep(0.01)
        for n, lesson_id in enumerate(lessons, 1):
            app.open_lesson(lesson_id)
            screen = await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen)
                                    and app.screen.lesson_id == lesson_id and app.screen.detail
                                    and app.screen, timeout=30, what="lesson")
            await pilot.press("m")
            await wait_for(pilot, lambda: sum("Lesson complete" in t[1] or t[2] == "error"
                                              for t in toasts) >= n,
                           timeout=60, what="the save's answer")
            await pilot.press("escape")
    print(json.dumps(toasts), flush=True)

asyncio.run(main())
"""


def _learn_sync_until(windows: list[subprocess.Popen], env: dict) -> list:
    runs = []
    while any(w.poll() is None for w in windows):
        runs.append(
            subprocess.run(
                [sys.executable, "-m", "tui.cli", "sync"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
        )
    return runs


async def _learner_with_lessons(url: str, session: Path) -> tuple[str, list[str]]:
    backend = LocalBackend(url, migrate=False, session_path=session)
    try:
        user = await backend.sign_up(None, None, full_name="Two Windows")
        api = LearningAPI(backend)
        lessons: list[str] = []
        for course in (await api.catalog()).courses[:2]:
            await api.enroll(course.id)
            lessons += [x.id for x in (await api.course_detail(course.id)).lessons]
    finally:
        await backend.close()
    return user.id, lessons


async def test_two_app_windows_saving_at_once_record_every_save_once(seeded_url, tmp_path, db):
    home, go = tmp_path / "home", tmp_path / "go"
    session = home / "data" / "session.json"  # where `learn sync` finds it
    session.parent.mkdir(parents=True)
    user, lessons = await _learner_with_lessons(seeded_url, session)
    lessons = lessons[:8]
    env = {
        **os.environ,
        "LEARN_HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": seeded_url,
    }
    windows = [
        subprocess.Popen(
            [sys.executable, "-c", WINDOW, seeded_url, str(session), str(go), *lessons[side::2]],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for side in (0, 1)
    ]
    try:
        for window in windows:
            line = await asyncio.wait_for(asyncio.to_thread(window.stdout.readline), 120)
            assert line.strip() == "ready", window.stderr.read()
        go.touch()
        # Meanwhile `learn sync` runs again and again, as a learner might in a third
        # window: it opens and closes the queue the windows are writing to.
        syncs = asyncio.create_task(asyncio.to_thread(_learn_sync_until, windows, env))
        outputs = [await asyncio.wait_for(asyncio.to_thread(w.communicate), 180) for w in windows]
        runs = await syncs
    finally:
        for window in windows:
            if window.poll() is None:
                window.kill()
    for window, (out, err) in zip(windows, outputs, strict=True):
        assert window.returncode == 0 and "Traceback" not in err, err
        toasts = json.loads(out.strip().splitlines()[-1])
        assert not [t for t in toasts if t[2] == "error"], toasts
        assert sum("Lesson complete" in t[1] for t in toasts) == len(lessons) // 2
    assert runs and all(
        r.returncode in (0, 1) and "Traceback" not in r.stderr and r.stdout.startswith("sent ")
        for r in runs
    ), runs
    assert db.su_one(
        "select count(*) from public.user_progress where user_id = %s and completed", (user,)
    ) == len(lessons)
    with contextlib.closing(sqlite3.connect(home / "data" / "outbox.sqlite3")) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        statuses = dict(conn.execute("select status, count(*) from events group by status"))
        event_ids = [row[0] for row in conn.execute("select event_id from events")]
    # Each save (and the time spent, saved on leaving a lesson) sent, none waiting or
    # refused, each applied by the server once.
    assert set(statuses) == {"sent"} and statuses["sent"] >= len(lessons)
    assert db.su_one(
        "select count(*) from public.applied_events where user_id = %s"
        " and event_id = any(%s::uuid[])",
        (user, event_ids),
    ) == len(event_ids)
