"""`learn practice`: from a save of the learner's file to the results on screen.

    python benchmarks/practice.py [SAVES]

Runs the practice watcher (services.review.practice.run_practice, watchfiles) on a real file in
a temporary folder with the bundled "Make a URL slug" assessment (7 visible tests), then
saves the file SAVES times (default 20), alternating a failing and a passing solution,
each save written in place, the next only once the previous results are printed.
Prints medians (and the slowest) of:
  save → results     from just before the write to the results table printed
  the run itself     the sandboxed test run inside that (services.runner.run)
  overhead           the difference: noticing the save, debounce, syntax check, drawing
The target is overhead ≤ 150 ms. No asserts: CI does not time things.
"""

from __future__ import annotations

import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOOD = (
    "import re\n\ndef make_slug(title: str) -> str:\n"
    '    return "-".join(re.findall(r"\\w+", title.lower()))\n'
)
BAD = 'def make_slug(title: str) -> str:\n    return title.lower().replace(" ", "-")\n'


def _detail(spec):
    from services.data.api import Assessment, AssessmentDetail

    assessment = Assessment(
        id="bench-make-slug",
        title=spec.title,
        slug="make-slug",
        time_limit=15,
        starter_code=spec.starter_code,
        language="python",
    )
    return AssessmentDetail(
        assessment=assessment,
        course=None,
        lesson=None,
        attempts=[],
        best_score=None,
        open_attempt=None,
    )


async def main(saves: int) -> None:
    from rich.console import Console

    from services.review.practice import Practice, run_practice
    from services.runner import load_assessment

    spec = load_assessment(ROOT / "content/courses/python-foundations/assessments/make-slug.toml")
    folder = Path(tempfile.mkdtemp(prefix="learn-practice-bench-"))
    os.environ["LEARN_HOME"] = str(folder / "home")  # drafts go here
    path = folder / "make-slug.py"
    path.write_text(spec.starter_code or "", encoding="utf-8")
    shown = asyncio.Event()
    console = Console(file=io.StringIO(), width=100, force_terminal=True)
    practice = Practice(None, _detail(spec), spec, path, console)
    practice.on_checked = shown.set
    stop = asyncio.Event()
    task = asyncio.create_task(run_practice(practice, keys=None, stop=stop))
    await asyncio.wait_for(shown.wait(), 30)  # the first check, at start
    await asyncio.sleep(0.6)
    latencies, runs = [], []
    for i in range(saves):
        shown.clear()
        text = (GOOD if i % 2 else BAD) + f"# save {i}\n"
        started = time.perf_counter()
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        await asyncio.wait_for(shown.wait(), 30)
        latencies.append(time.perf_counter() - started)
        runs.append(practice.last_run_seconds)
        await asyncio.sleep(0.2)
    stop.set()
    await task
    overhead = [a - b for a, b in zip(latencies, runs, strict=True)]

    def ms(values: list[float]) -> str:
        return (
            f"median {statistics.median(values) * 1000:6.1f} ms   "
            f"slowest {max(values) * 1000:6.1f} ms"
        )

    print(
        f"practice: {saves} saves of {path.name} ({len(spec.tests)} tests, "
        f"{sum(1 for t in spec.tests if not t.hidden)} visible), watchfiles "
        f"debounce step 30 ms"
    )
    print(f"  save → results   {ms(latencies)}")
    print(f"  the run itself   {ms(runs)}")
    print(f"  overhead         {ms(overhead)}   (target ≤ 150 ms)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
