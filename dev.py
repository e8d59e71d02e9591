#!/usr/bin/env python3
"""Set up everything and run `learn` or the test suite.

    python3 dev.py run  [learn args...]   # create .venv, install, start the app
    python3 dev.py test [pytest args...]  # create .venv, install, ruff, mypy, every test

Needs only Python 3.10+. Installs the versions in requirements.lock (what CI tested).
The test command also installs, when it can, the tools the database tests use: the
Supabase CLI (npm) and Debian's plpgsql_check (apt, as root).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
TOOLS = ROOT / ".tools"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
SUPABASE_CLI_VERSION = "2.117.0"


def say(msg: str) -> None:
    print(f"==> {msg}", flush=True)


def run(cmd: list[str], **kw) -> int:
    kw.setdefault("cwd", ROOT)
    return subprocess.call(cmd, **kw)


LOCK = ROOT / "requirements.lock"


def pip(*args: str) -> int:
    return run([str(BIN / "python"), "-m", "pip", "-q", "--disable-pip-version-check", *args])


def ensure_venv() -> None:
    """.venv with the versions CI tested (requirements.lock), then learn itself, editable.

    Reinstalls when pyproject.toml or requirements.lock changes. Outside CI, a lock that
    cannot be installed here (another platform, an older Python) falls back to resolving
    pyproject.toml afresh, with a warning; in CI (LEARN_STRICT=1) it fails.
    """
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + LOCK.read_bytes()).hexdigest()
    stamp = VENV / ".installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not (BIN / "python").exists():
        say("creating .venv")
        if run([sys.executable, "-m", "venv", str(VENV)]) != 0:
            sys.exit(
                "could not create .venv: install Python's venv module"
                " (e.g. apt install python3-venv)"
            )
    say("installing the locked dependencies (requirements.lock) into .venv")
    if pip("install", "-r", str(LOCK)) == 0:
        rc = pip("install", "--no-deps", "-e", ".")
    elif os.environ.get("LEARN_STRICT") == "1":
        sys.exit("pip could not install requirements.lock: see the messages above")
    else:
        say(
            "warning: requirements.lock does not install here; resolving pyproject.toml"
            " instead (versions may differ from CI's)"
        )
        rc = pip("install", "-e", ".[dev]")
    if rc != 0:
        sys.exit("pip install failed: see the messages above")
    stamp.write_text(digest)


def ensure_test_tools() -> None:
    """Best effort: the tests that need a tool skip without it, unless LEARN_STRICT=1."""
    cli = TOOLS / "node_modules" / ".bin" / "supabase"
    if not cli.exists() and shutil.which("npm"):
        say(f"installing the Supabase CLI {SUPABASE_CLI_VERSION} into .tools/")
        TOOLS.mkdir(exist_ok=True)
        run(
            [
                "npm",
                "i",
                "--silent",
                "--no-audit",
                "--no-fund",
                "-E",
                f"supabase@{SUPABASE_CLI_VERSION}",
            ],
            cwd=TOOLS,
        )
    pg15 = Path("/usr/lib/postgresql/15/lib/plpgsql_check.so")
    if (
        Path("/usr/lib/postgresql/15/bin/postgres").exists()
        and not pg15.exists()
        and hasattr(os, "geteuid")
        and os.geteuid() == 0
        and shutil.which("apt-get")
    ):
        say("installing Debian's postgresql-15-plpgsql-check (for `supabase db lint`)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if (
            run(
                ["apt-get", "install", "-y", "-qq", "postgresql-15-plpgsql-check"],
                env=env,
                stdout=subprocess.DEVNULL,
            )
            != 0
        ):
            run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL)
            run(
                ["apt-get", "install", "-y", "-qq", "postgresql-15-plpgsql-check"],
                env=env,
                stdout=subprocess.DEVNULL,
            )


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__.strip())
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "run":
        ensure_venv()
        os.execv(str(BIN / "learn"), [str(BIN / "learn"), *rest])
    ensure_venv()
    ensure_test_tools()
    say("ruff")
    if run([str(BIN / "ruff"), "check", "."]) != 0:
        return 1
    if run([str(BIN / "ruff"), "format", "--check", "--quiet", "."]) != 0:
        print("the files above are not formatted: run `.venv/bin/ruff format .`", flush=True)
        return 1
    say("mypy (services/)")
    if run([str(BIN / "mypy")]) != 0:
        return 1
    say("pytest")
    return run([str(BIN / "python"), "-m", "pytest", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
