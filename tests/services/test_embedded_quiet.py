"""Starting the embedded database prints nothing of its own on the terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_starting_the_embedded_database_without_xdg_runtime_dir_prints_no_warning(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    env["LEARN_HOME"] = str(tmp_path)
    code = (
        "from services.data.database import EmbeddedPostgres\n"
        "print(bool(EmbeddedPostgres().start()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.stdout.strip() == "True", done.stderr
    assert "XDG_RUNTIME_DIR" not in done.stderr, done.stderr
