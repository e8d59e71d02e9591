"""A non-editable install carries the SQL, the bundled courses and the stylesheets."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_migrations_local_sql_courses_and_styles(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--disable-pip-version-check",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for migration in (ROOT / "supabase" / "migrations").glob("*.sql"):
        assert f"services/_data/supabase/migrations/{migration.name}" in names
    for local in (ROOT / "supabase" / "local").glob("*.sql"):
        assert f"services/_data/supabase/local/{local.name}" in names
    courses = {p.relative_to(ROOT).as_posix() for p in (ROOT / "content").rglob("*") if p.is_file()}
    assert {f"services/_data/{c}" for c in courses} <= names
    assert "tui/app.tcss" in names
    assert not any(n.startswith("tools/") for n in names)  # maintenance scripts stay
