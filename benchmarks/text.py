"""What `terminal_safe` costs: per streamed chunk, per screen's JSON, per kilobyte.

    python benchmarks/text.py [--runs 200000]

Times services/text.py on the data it meets: a tutor delta (a few words), a whole
2,000-token answer, the fixed catalog and lesson payloads (tests/tui/fixed_backend.py)
as clean text (the common case: nothing to remove, nothing copied) and with hostile
text in every field (tests/tui/hostile.py). Prints microseconds per call; no asserts,
not run by CI.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.text import terminal_safe, terminal_safe_json  # noqa: E402
from tests.tui.fixed_backend import DATA  # noqa: E402
from tests.tui.hostile import HOSTILE, hostile_copy  # noqa: E402


def per_call(fn, runs: int) -> float:
    """Best of 5 repeats, in microseconds per call."""
    return min(timeit.repeat(fn, number=runs, repeat=5)) / runs * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200_000)
    runs = parser.parse_args().runs
    delta = " the slice `text[1:3]`"
    answer = (
        "Slices never fail: `text[1:30]` on a short string gives what there is.\n\n"
        "- one\n- two\n\n```python\nprint(name[::-1])\n```\n"
    ) * 60  # ~8 KB
    hostile_delta = f" the {HOSTILE} slice"
    catalog, lesson = DATA["catalog"], DATA["lesson_detail"]
    hostile = hostile_copy(DATA)
    rows = [
        (f"tutor delta, clean ({len(delta)} chars)", lambda: terminal_safe(delta), runs),
        (
            f"tutor delta, hostile ({len(hostile_delta)} chars)",
            lambda: terminal_safe(hostile_delta),
            runs,
        ),
        (
            f"whole answer, clean ({len(answer) // 1000} KB)",
            lambda: terminal_safe(answer),
            runs // 100,
        ),
        ("catalog JSON, clean (3 courses)", lambda: terminal_safe_json(catalog), runs // 20),
        ("catalog JSON, hostile", lambda: terminal_safe_json(hostile["catalog"]), runs // 20),
        ("lesson JSON, clean", lambda: terminal_safe_json(lesson), runs // 20),
        (
            "dashboard JSON, clean (365 days of activity)",
            lambda: terminal_safe_json(DATA["dashboard"]),
            runs // 200,
        ),
    ]
    print(f"{'what':<46} {'µs per call':>12}")
    for name, fn, n in rows:
        print(f"{name:<46} {per_call(fn, max(n, 10)):>12.2f}")


if __name__ == "__main__":
    main()
