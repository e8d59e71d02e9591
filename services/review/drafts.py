"""Assessment drafts: the learner's code, saved as they type so that a crash or a
quit never loses it. One file per assessment in the data dir, written atomically."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from services import paths


def _path(key: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", key)[:120]
    folder = paths.data_dir() / "drafts"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / f"{safe}.txt"


def save(key: str, text: str) -> None:
    """Replace the draft atomically: the old one stays whole until the new one is."""
    target = _path(key)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".draft-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(key: str) -> str | None:
    try:
        return _path(key).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def discard(key: str) -> None:
    _path(key).unlink(missing_ok=True)


def modified(key: str) -> float | None:
    """When the draft was last saved (a file mtime), or None when there is none."""
    try:
        return _path(key).stat().st_mtime
    except FileNotFoundError:
        return None
