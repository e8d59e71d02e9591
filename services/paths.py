"""Every path the app uses, in one place.

platformdirs decides where config, data and cache live. `LEARN_HOME` puts all three
under one folder instead (tests and demos use it to stay isolated).
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "learn"
_PKG_DIR = Path(__file__).resolve().parent


def _home() -> Path | None:
    home = os.environ.get("LEARN_HOME")
    return Path(home).expanduser() if home else None


def _platform_dir(kind: str) -> Path:
    import platformdirs

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return Path(getattr(dirs, f"user_{kind}_dir"))


def _dir(kind: str) -> Path:
    home = _home()
    path = home / kind if home else _platform_dir(kind)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def config_dir() -> Path:
    return _dir("config")


def data_dir() -> Path:
    return _dir("data")


def cache_dir() -> Path:
    return _dir("cache")


def screenshots_dir() -> Path:
    """Where screenshots go: the Downloads folder (created when missing, as on a fresh
    server account), else the home folder, else the temporary folder."""
    import tempfile

    import platformdirs

    for folder in (Path(platformdirs.user_downloads_dir()), Path.home()):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    return Path(tempfile.gettempdir())


def config_file() -> Path:
    return config_dir() / "config.toml"


def embedded_pgdata() -> Path:
    """The embedded PostgreSQL cluster (created on first use)."""
    return data_dir() / "pgdata"


def session_file() -> Path:
    return data_dir() / "session.json"


def _bundled(name: str) -> Path:
    """`supabase/` or `content/`: inside the wheel, or at the top of a checkout."""
    packaged = _PKG_DIR / "_data" / name
    return packaged if packaged.is_dir() else _PKG_DIR.parent / name


def supabase_dir() -> Path:
    return _bundled("supabase")


def migrations_dir() -> Path:
    return supabase_dir() / "migrations"


def local_sql_dir() -> Path:
    return supabase_dir() / "local"


def content_dir() -> Path:
    return _bundled("content")


def courses_dir() -> Path:
    return content_dir() / "courses"


def bundled_courses() -> list[Path]:
    """The course folders shipped with learn, in name order."""
    root = courses_dir()
    return (
        sorted(p for p in root.iterdir() if (p / "course.toml").is_file()) if root.is_dir() else []
    )
