"""`learn course preview DIR`: the learner's screens on a course folder, no database,
no sign-in, reloading when a file changes (services.authoring.preview.FolderBackend)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import work

from screens.base import DataScreen
from screens.course import CourseScreen
from services.authoring.model import ContentError, Problem
from services.authoring.preview import FolderBackend, PreviewReadOnly, folder_snapshot
from services.text import terminal_safe
from tui.app import LearnApp

POLL_SECONDS = 1.0


class PreviewApp(LearnApp):
    """LearnApp on a FolderBackend, starting on the course screen."""

    TITLE = "learn — preview"
    SAVES = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The dashboard, catalog, studio and sync are not part of a preview."""
        if action in ("goto", "studio", "sync"):
            return False
        return super().check_action(action, parameters)

    def __init__(self, directory: Path | str, *, theme: str | None = None) -> None:
        self.directory = Path(directory)
        super().__init__(lambda _progress: FolderBackend(self.directory), theme=theme)
        self._snapshot = folder_snapshot(self.directory)

    def on_mount(self) -> None:
        self.set_interval(POLL_SECONDS, self._poll, name="preview-poll")

    async def show_home(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()
        await self.push_screen(CourseScreen(self.backend.course_id))
        self._report(self.backend.problems)

    def _report(self, problems: list[Problem]) -> None:
        errors = [p for p in problems if not p.warning]
        where = terminal_safe(str(self.directory))  # a folder name is anyone's text
        self.sub_title = (
            f"{where} · {len(errors)} problem{'' if len(errors) == 1 else 's'}" if errors else where
        )
        if errors:
            self.notify(
                f"{errors[0]}\nRun `learn course validate {self.directory}` to see every problem.",
                title=f"{len(errors)} problem"
                f"{'' if len(errors) == 1 else 's'} in the course folder",
                severity="warning",
                timeout=10,
            )

    # Reloading ----------------------------------------------------------------

    def _poll(self) -> None:
        snapshot = folder_snapshot(self.directory)
        if snapshot != self._snapshot:
            self._snapshot = snapshot
            self.reload_folder()

    @work(exclusive=True, group="preview-reload")
    async def reload_folder(self) -> None:
        """Read the folder again and refresh the screen on top."""
        try:
            problems = await asyncio.to_thread(self.backend.reload)
        except ContentError as exc:
            self.notify(str(exc), title="The folder no longer loads", severity="error")
            return
        self._report(problems)
        screen = self.screen
        if isinstance(screen, DataScreen):
            screen.reload(quiet=True)
        self.notify("Reloaded the course folder.", timeout=2)

    # What a preview does not do ------------------------------------------------

    def action_goto(self, name: str) -> None:
        self.notify("A preview shows one course, its lessons and assessments (q quits).")

    def action_pop_screen(self) -> None:
        if len(self.screen_stack) <= 2:
            self.notify("This is the course's first screen: q quits the preview.")
            return
        self.pop_screen()

    def write_failed(self, exc: Exception) -> None:
        """Writes: the folder backend refuses them with "preview: nothing is saved"."""
        if isinstance(exc, PreviewReadOnly):
            self.notify(str(exc), title="Preview")
            return
        super().write_failed(exc)
