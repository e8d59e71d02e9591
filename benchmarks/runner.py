"""How long `learn check` takes for 50 function-call tests, next to a bare interpreter start.

    python benchmarks/runner.py [REPETITIONS]

Prints medians of REPETITIONS interleaved runs (default 15) of
- `python -c pass` (the floor any CLI pays),
- `python -m services.runner.check ASSESSMENT SOLUTION --json` on a 50-test assessment,
and their ratio (the target is 6× or less). No asserts: CI does not time things.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = 50

SOLUTION = """\
def solve(nums, target):
    seen = {}
    for i, n in enumerate(nums):
        if target - n in seen:
            return [seen[target - n], i]
        seen[n] = i
"""


def assessment() -> str:
    lines = ['title = "Two sum, 50 tests"', 'language = "python"', 'entry = "solve"']
    for i in range(TESTS):
        nums = [i, i + 1, i + 2, 100 + i]
        lines += [
            "[[tests]]",
            f'name = "case {i}"',
            f"args = [{nums}, {nums[1] + nums[3]}]",
            "expected = [1, 3]",
        ]
    return "\n".join(lines) + "\n"


def elapsed_ms(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    took = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    return took


def main() -> None:
    repetitions = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    python = sys.executable
    # An installed `learn` has bytecode for its modules; let this checkout write it too.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    bare_argv = [python, "-c", "pass"]
    with tempfile.TemporaryDirectory() as folder:
        toml = Path(folder, "two-sum.toml")
        toml.write_text(assessment())
        solution = Path(folder, "solution.py")
        solution.write_text(SOLUTION)
        check = [python, "-m", "services.runner.check", str(toml), str(solution), "--json"]
        for _ in range(2):  # warm the file cache and write bytecode
            elapsed_ms(check, env)
        bare, checked = [], []
        for _ in range(repetitions):  # interleaved, so load on the machine hits both alike
            bare.append(elapsed_ms(bare_argv, env))
            checked.append(elapsed_ms(check, env))
    from services.runner import sandbox_strength

    bare_ms, check_ms = statistics.median(bare), statistics.median(checked)
    print(
        f"sandbox: {sandbox_strength()}; medians of {repetitions} interleaved runs "
        f"(min in brackets)"
    )
    print(f"python -c pass:                       {bare_ms:7.1f} ms  ({min(bare):.1f})")
    print(f"learn check --json, {TESTS} call tests:    {check_ms:7.1f} ms  ({min(checked):.1f})")
    print(
        f"ratio:                                {check_ms / bare_ms:7.1f}x  "
        f"({min(checked) / min(bare):.1f}x; target <= 6x)"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
