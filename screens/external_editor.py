"""Handing the terminal to the learner's own editor and taking it back."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from textual.app import SuspendNotSupported

from services.errors import LearnError


def editor_command() -> list[str]:
    """$VISUAL, then $EDITOR (either may carry arguments: "code --wait"), then the
    first of nano, vim, vi on PATH."""
    for name in ("VISUAL", "EDITOR"):
        value = os.environ.get(name, "").strip()
        if value:
            return shlex.split(value)
    for fallback in ("nano", "vim", "vi"):
        if shutil.which(fallback):
            return [fallback]
    raise LearnError("No editor found: set EDITOR (for example `export EDITOR=nano`).")


def edit_in_external_editor(app, text: str, *, suffix: str = ".txt") -> str | None:
    """Suspend `app`, run the editor on a private temporary copy of `text`, and return
    what was saved (None if the editor failed)."""
    command = editor_command()
    with tempfile.TemporaryDirectory(prefix="learn-edit-") as folder:
        path = Path(folder) / f"solution{suffix}"
        path.write_text(text, encoding="utf-8")
        try:
            with app.suspend():
                completed = subprocess.run([*command, str(path)], check=False)
        except SuspendNotSupported:
            raise LearnError(
                "This terminal cannot be handed to another program: "
                "edit here, or run learn in a real terminal."
            ) from None
        except FileNotFoundError:
            raise LearnError(
                f"{command[0]} was not found: set EDITOR to an editor you have."
            ) from None
        if completed.returncode != 0:
            raise LearnError(
                f"{command[0]} exited with status {completed.returncode}; "
                "your code in learn is unchanged."
            )
        return path.read_text(encoding="utf-8")
