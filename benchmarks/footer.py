"""What widgets/keybar.py (KeyBar) saves over Textual's own Footer, on the screen changes
a learner makes all day: from a key press (c: catalog, d: back to the dashboard) to the
first frame that shows the new screen, and to its last frame once it has settled (its
data shown, its footer filled in; frames within 0.3 s of the press).

    python benchmarks/footer.py [--runs 5] [--switches 20]

Each run is a fresh headless interpreter on the fixed data of the snapshot tests
(tests/tui/fixed_backend.py: no database, so only the UI's own work is timed), with
every screen's footer either KeyBar or Textual's Footer; the runs alternate between
the two so that the machine's noise falls on both alike. Prints the median and the
quartiles per footer. Figures only; nothing is asserted. (benchmarks/startup.py
--footer textual measures the same for start-up, to the dashboard's data.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import asyncio, atexit, json, os, shutil, sys, tempfile, time
sys.path.insert(0, os.environ["BENCH_ROOT"])
os.environ["LEARN_HOME"] = tempfile.mkdtemp(prefix="learn-footer-")
atexit.register(shutil.rmtree, os.environ["LEARN_HOME"], ignore_errors=True)
if os.environ["BENCH_FOOTER"] == "textual":
    import widgets.keybar
    from textual.widgets import Footer
    widgets.keybar.KeyBar = Footer  # before any screen imports it
from tests.tui.fixed_backend import FixedBackend
from tui.app import LearnApp

frames = []


class Bench(LearnApp):
    def _display(self, screen, renderable):
        # Where a frame goes to the terminal (headless: the write itself is skipped).
        super()._display(screen, renderable)
        if renderable is not None:
            frames.append((time.perf_counter(), type(screen).__name__))


async def main():
    app = Bench(lambda progress: FixedBackend(progress))
    times = []
    async with app.run_test(size=(120, 40)) as pilot:
        while type(app.screen).__name__ != "DashboardScreen":
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        for _ in range(int(os.environ["BENCH_SWITCHES"])):
            for key, name in (("c", "CatalogScreen"), ("d", "DashboardScreen")):
                frames.clear()
                start = time.perf_counter()
                await pilot.press(key)
                while not any(shown == name for _, shown in frames):
                    await asyncio.sleep(0.001)
                first = next(t for t, shown in frames if shown == name)
                await pilot.pause(0.3)  # its data arrives, its footer fills in, it settles
                last = max(t for t, shown in frames if shown == name)
                times.append([name, first - start, last - start])
    print(json.dumps(times))


asyncio.run(main())
"""


def run(footer: str, switches: int) -> list[list]:
    env = {
        **os.environ,
        "BENCH_ROOT": str(ROOT),
        "BENCH_FOOTER": footer,
        "BENCH_SWITCHES": str(switches),
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=600
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("[")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"benchmark child failed:\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--switches", type=int, default=20, help="c/d round trips per run")
    args = parser.parse_args()
    times: dict[tuple[str, str, str], list[float]] = {}
    for _ in range(args.runs):
        for footer in ("keybar", "textual"):
            for screen, first, last in run(footer, args.switches):
                times.setdefault((screen, "first frame", footer), []).append(first)
                times.setdefault((screen, "settled", footer), []).append(last)
    print(f"runs: {args.runs} × {args.switches} round trips (c, then d) per footer")
    print("key press → the new screen's first frame, and its last (settled) frame:")
    for (screen, which, footer), values in sorted(times.items()):
        q1, median, q3 = statistics.quantiles(values, n=4)
        print(
            f"  {screen:<16} {which:<12} {footer:<8} median {median * 1000:5.1f} ms"
            f"   (quartiles {q1 * 1000:.1f}–{q3 * 1000:.1f} ms)"
        )


if __name__ == "__main__":
    main()
