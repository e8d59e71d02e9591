"""How long a submission whose code loops forever takes to report, and how quickly a run
is cancelled.

    python benchmarks/looping_submission.py [REPETITIONS]

Uses the bundled "Make a URL slug" assessment (9 tests, 2 s per test). Prints the median
and the slowest of REPETITIONS runs (default 3) of
- `run()` with `while True: pass` in the function: the first test times out and the
  other tests are reported as not run (before: every test waited out its 2 s);
- `run()` of `time.sleep(60)` cancelled 0.2 s after it starts (esc in the app): the time
  from setting the cancel event to run() returning.
No asserts: CI does not time things.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.runner import load_assessment, run, sandbox_strength  # noqa: E402

ASSESSMENT = ROOT / "content/courses/python-foundations/assessments/make-slug.toml"
LOOPS = "def make_slug(title):\n    while True:\n        pass\n"
SLEEPS = "import time\ndef make_slug(title):\n    time.sleep(60)\n"


def main() -> None:
    repetitions = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    spec = load_assessment(ASSESSMENT)
    looping, cancelling = [], []
    for _ in range(repetitions):
        started = time.monotonic()
        result = run(spec, LOOPS)
        looping.append(time.monotonic() - started)
        assert result.tests[0].status == "timeout"

        cancel = threading.Event()
        set_at: list[float] = []

        def stop(cancel: threading.Event = cancel, set_at: list[float] = set_at) -> None:
            set_at.append(time.monotonic())
            cancel.set()

        threading.Timer(0.2, stop).start()
        run(spec, SLEEPS, cancel=cancel)
        cancelling.append(time.monotonic() - set_at[0])
    print(
        f"sandbox: {sandbox_strength()}; {len(spec.tests)} tests, "
        f"{spec.limits.time_ms} ms each; {repetitions} runs"
    )
    print(
        f"looping submission reported after: median {statistics.median(looping):.2f} s, "
        f"slowest {max(looping):.2f} s"
    )
    print(
        f"cancelled run returned after:      median "
        f"{statistics.median(cancelling) * 1000:.0f} ms, slowest "
        f"{max(cancelling) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
