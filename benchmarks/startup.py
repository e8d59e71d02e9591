"""Start-up figures for `learn`, against a bare Textual hello-world in the same run.

    python benchmarks/startup.py [--runs 5] [--footer keybar|textual] [--warm-only]

Prints (medians over the runs, each in a fresh interpreter, headless):
  * hello-world: time from process start to the first frame;
  * learn: time to the first frame, and to the dashboard's data, with the embedded
    database warm (its server already running) and cold (the server must start);
  * learn's RSS after visiting every screen.
A frame counts when Textual hands it to the terminal (App._display; headless, the
write itself is skipped, for both apps alike): "dashboard data" is the first frame
that shows the dashboard with its data, not the moment the screen is pushed.
Targets (issue 5): first frame ≤ 1.5× hello-world, dashboard data ≤ 0.5 s warm,
RSS ≤ 150 MB. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HELLO = r"""
import os, sys, time
from textual.app import App
from textual.widgets import Static

class Hello(App):
    def compose(self):
        yield Static("Hello, world")
    def _display(self, screen, renderable):
        # Where a frame goes to the terminal: the moment a person would see it.
        super()._display(screen, renderable)
        if renderable is not None and not FRAMES:
            FRAMES.append(time.monotonic() - START)
            print(json.dumps({"first_frame": FRAMES[0]}), flush=True)
            self.exit()

import json
START = float(os.environ["BENCH_START"])
FRAMES = []
Hello().run(headless=True, size=(120, 40))
"""

LEARN = r"""
import json, os, sys, time
START = float(os.environ["BENCH_START"])
sys.path.insert(0, os.environ["BENCH_ROOT"])
import importlib.abc, importlib.util

figures = {}
visit = os.environ.get("BENCH_VISIT") == "1"


def instrumented(LearnApp):
    class Bench(LearnApp):
        def run(self, **_kwargs):
            return super().run(headless=True, size=(120, 40))

        def _display(self, screen, renderable):
            # Where a frame goes to the terminal: the moment a person would see it.
            super()._display(screen, renderable)
            if renderable is None or "dashboard" in figures:
                return
            now = time.monotonic() - START
            figures.setdefault("first_frame", now)
            # By name: importing the screen here would load it before learn does.
            if type(screen).__name__ == "DashboardScreen" \
                    and getattr(screen, "dashboard", None) is not None:
                figures["dashboard"] = now
                if visit:
                    self.call_later(self.run_worker, self._visit_all(), exclusive=True)
                else:
                    self.call_later(self.exit)

        async def _visit_all(self):
            import asyncio
            api = self.api
            course = (await api.catalog()).courses[0]
            detail = await api.course_detail(course.id)
            steps = [lambda: self.action_goto("catalog"), lambda: self.open_course(course.id),
                     lambda: self.open_lesson(detail.lessons[0].id),
                     lambda: self.open_assessment(detail.assessments[0].id),
                     lambda: self.action_goto("profile"),
                     lambda: self.action_goto("notifications"),
                     lambda: self.action_goto("dashboard")]
            for step in steps:
                step()
                await asyncio.sleep(0.4)
            with open("/proc/self/status") as status:
                rss = next(int(line.split()[1]) for line in status
                           if line.startswith("VmRSS"))
            figures["rss_mb"] = rss / 1024
            self.exit()

    return Bench


def textual_footer(keybar):
    # --footer textual: every screen's KeyBar is Textual's own Footer (to measure what
    # KeyBar saves); imported where widgets.keybar is, so nothing loads earlier.
    from textual.widgets import Footer
    keybar.KeyBar = Footer


PATCHES = {"tui.app": lambda module: setattr(module, "LearnApp", instrumented(module.LearnApp))}
if os.environ.get("BENCH_FOOTER") == "textual":
    PATCHES["widgets.keybar"] = textual_footer


class Instrument(importlib.abc.MetaPathFinder):
    # `learn` exactly as the command runs it (tui.cli.main), with LearnApp swapped for
    # the measuring subclass when tui.app is first imported, wherever that happens.
    def find_spec(self, name, path, target=None):
        if name not in PATCHES:
            return None
        patch = PATCHES.pop(name)
        sys.meta_path.remove(self)  # find the real spec (and stop, once all are patched)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            if PATCHES:
                sys.meta_path.insert(0, self)
        exec_module = spec.loader.exec_module

        def exec_and_instrument(module):
            exec_module(module)
            patch(module)

        spec.loader.exec_module = exec_and_instrument
        return spec


sys.meta_path.insert(0, Instrument())
from tui.cli import main
main([])
print(json.dumps(figures), flush=True)
"""

SETUP = r"""
import asyncio, os, sys
sys.path.insert(0, os.environ["BENCH_ROOT"])
from services.data.backend import LocalBackend
from services.data.seed import seed_bundled

async def main():
    backend = LocalBackend(seed=seed_bundled)
    await backend.connect()
    if backend.current_user is None:
        await backend.sign_up(None, None, full_name="Bench Learner")
    course = (await backend.call("catalog"))["courses"][0]
    await backend.call("enroll", p_course_id=course["id"])
    detail = await backend.call("course_detail", p_course_id=course["id"])
    await backend.call("record_lesson_progress", p_lesson_id=detail["lessons"][0]["id"],
                       p_completed=True, p_time_spent=60)
    await backend.close()

asyncio.run(main())
"""


def child(code: str, env: dict[str, str]) -> dict:
    env = {**os.environ, **env, "BENCH_ROOT": str(ROOT), "BENCH_START": repr(time.monotonic())}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"benchmark child failed:\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    """Every run, fastest first, in ms: the VM's noise is part of the figure."""
    return " ".join(f"{v * 1000:.0f}" for v in sorted(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--footer",
        choices=["keybar", "textual"],
        default="keybar",
        help="the footer every screen shows: learn's KeyBar, or Textual's Footer "
        "(to measure what KeyBar saves)",
    )
    parser.add_argument(
        "--warm-only", action="store_true", help="only the warm runs (no cold start, no RSS)"
    )
    args = parser.parse_args()

    # As installed: with bytecode (even where PYTHONDONTWRITEBYTECODE keeps imports
    # from writing it, a stale .pyc would make every run compile the changed modules).
    for package in ("services", "screens", "widgets", "tui"):
        compileall.compile_dir(ROOT / package, quiet=1)

    home = Path(tempfile.mkdtemp(prefix="learn-bench-"))
    try:
        measure(args, home)
    finally:  # the embedded database it made is ~40 MB
        shutil.rmtree(home, ignore_errors=True)


def measure(args: argparse.Namespace, home: Path) -> None:
    env = {"LEARN_HOME": str(home), "BENCH_FOOTER": args.footer}
    t0 = time.monotonic()
    subprocess.run(
        [sys.executable, "-c", SETUP],
        env={**os.environ, **env, "BENCH_ROOT": str(ROOT)},
        check=True,
        capture_output=True,
    )
    first_run = time.monotonic() - t0

    hello = [child(HELLO, env)["first_frame"] for _ in range(args.runs)]

    # Warm: this process keeps a handle on the embedded server, so it stays up.
    sys.path.insert(0, str(ROOT))
    from services.data.database import EmbeddedPostgres

    server = EmbeddedPostgres(home / "data" / "pgdata")
    server.start()
    warm = [child(LEARN, env) for _ in range(args.runs)]
    server.stop()
    warm_frame = median([r["first_frame"] for r in warm]) * 1000
    warm_dash = median([r["dashboard"] for r in warm]) * 1000
    hello_ms = median(hello) * 1000
    if args.warm_only:
        print(f"runs: {args.runs} (medians; fresh headless interpreters), footer: {args.footer}")
        print(f"hello-world first frame            {hello_ms:7.0f} ms")
        print(f"learn first frame (warm)           {warm_frame:7.0f} ms")
        print(
            f"learn dashboard data (warm)        {warm_dash:7.0f} ms   "
            f"(runs {spread([r['dashboard'] for r in warm])})"
        )
        return
    # Cold: nobody holds the server; each run starts it (and stops it on exit).
    cold = [child(LEARN, env) for _ in range(args.runs)]
    server.start()
    visited = child(LEARN, {**env, "BENCH_VISIT": "1"})
    server.stop()

    cold_frame = median([r["first_frame"] for r in cold]) * 1000
    cold_dash = median([r["dashboard"] for r in cold]) * 1000
    print(f"runs: {args.runs} (medians; each a fresh headless interpreter)")
    print(f"setup (first run: create database, migrate, load courses, sign up): {first_run:.2f} s")
    print(f"hello-world first frame            {hello_ms:7.0f} ms")
    print(
        f"learn first frame (warm)           {warm_frame:7.0f} ms   "
        f"{warm_frame / hello_ms:.2f}× hello-world (target ≤ 1.5×)"
    )
    print(
        f"learn dashboard data (warm)        {warm_dash:7.0f} ms   (target ≤ 500 ms; "
        f"runs {spread([r['dashboard'] for r in warm])})"
    )
    print(
        f"learn first frame (cold)           {cold_frame:7.0f} ms   "
        f"{cold_frame / hello_ms:.2f}× hello-world"
    )
    print(f"learn dashboard data (cold)        {cold_dash:7.0f} ms")
    print(f"learn RSS after every screen       {visited['rss_mb']:7.1f} MB   (target ≤ 150 MB)")


if __name__ == "__main__":
    main()
