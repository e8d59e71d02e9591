"""The practice workspace: the file `learn practice` watches and the app's "practice in
your editor" writes, `<practice_dir>/<course>/<assessment>.<ext>`, kept the same as the
draft the app's editor saves (services.review.drafts).

    workspace_root(practice_dir)   the folder (~/learn unless configured)
    workspace_file(root, course, assessment, language)
                                   the file, both names made safe as file names
    prepare_file(path, draft_key, starter)
                                   the newest of file and draft in the file (and the draft)
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from services.review import drafts

EXTENSIONS = {"python": ".py", "javascript": ".js", "bash": ".sh"}


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "assessment"


def workspace_root(practice_dir: str | None = None) -> Path:
    return Path(os.path.expanduser(practice_dir or "~/learn"))


def workspace_file(root: Path, course: str | None, assessment: str, language: str) -> Path:
    """`<root>/<course>/<assessment>.<ext>` with both names made safe as file names."""
    return (
        root / _slug(course or "practice") / (_slug(assessment) + EXTENSIONS.get(language, ".txt"))
    )


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.learn-tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def prepare_file(path: Path, draft_key: str, starter: str) -> str:
    """Put the learner's newest code in the workspace file; returns what was done, as
    the start of a sentence that the file's path ends ("Wrote the starter code to").

    The draft (what the TUI's editor saved) and the file (what the learner's editor
    saved) may both exist: the newer one wins, and both end up the same."""
    draft = drafts.load(draft_key)
    draft_time = drafts.modified(draft_key)
    if path.exists():
        text = path.read_text(encoding="utf-8", errors="replace")
        if draft is not None and draft != text and (draft_time or 0) > path.stat().st_mtime:
            _write_atomically(path, draft)
            return "Wrote your draft from the app (newer than the file) to"
        if draft != text:
            drafts.save(draft_key, text)
        return "Kept your file as you left it:"
    if draft is not None and draft.strip():
        _write_atomically(path, draft)
        return "Wrote your draft from the app to"
    _write_atomically(path, starter or "")
    return "Wrote the starter code to"
