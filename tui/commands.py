"""Command palette: jump to any course or lesson, and run app commands."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class LearnCommands(Provider):
    """App commands: screens, theme, sign out, settings."""

    def _commands(self):
        """The commands that do something now: before anyone is signed in (the welcome
        screen) only help, theme, settings and quit."""
        app = self.app
        signed_in = app.backend.current_user is not None
        every = self._every_command()
        if signed_in:
            return every
        return [c for c in every if c[0] in ("Toggle light/dark theme", "Settings", "Help", "Quit")]

    def _every_command(self):
        app = self.app
        goto = app.action_goto
        return [
            ("Go to dashboard", "Your streak, activity and courses", partial(goto, "dashboard")),
            ("Go to catalog", "Browse and search courses", partial(goto, "catalog")),
            ("Go to profile", "Edit your profile, see achievements", partial(goto, "profile")),
            ("Go to notifications", "Unread first", partial(goto, "notifications")),
            ("Review", "Spaced review of the key points you learned", app.open_review),
            (
                "Toggle light/dark theme",
                "Switch between the light and dark theme",
                app.action_toggle_theme,
            ),
            (
                "Author studio",
                "Your courses, drafts included: publish, preview, analytics",
                app.action_studio,
            ),
            (
                "Sync status",
                "Changes waiting to be sent, and any the server refused",
                app.action_sync,
            ),
            ("Settings", "Show the effective configuration", app.action_settings),
            ("Sign out", "Forget this session on this machine", app.action_sign_out),
            ("Help", "Every key of the current screen", app.action_help),
            ("Quit", "Leave learn", app.action_quit),
        ]

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class ContentCommands(Provider):
    """Every course and lesson the learner can open, by title."""

    async def startup(self) -> None:
        self.entries: list[tuple[str, str, str, str]] = []
        api = getattr(self.app, "api", None)
        if api is None:
            return
        try:
            self.entries = await api.navigation_index()
        except Exception:
            self.entries = []

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for kind, ident, title, context in self.entries:
            label = f"{title}" if kind == "course" else f"{title} — {context}"
            score = matcher.match(label)
            if score > 0:
                opener = {
                    "course": self.app.open_course,
                    "lesson": self.app.open_lesson,
                    "assessment": self.app.open_assessment,
                }[kind]
                yield Hit(
                    score, matcher.highlight(label), partial(opener, ident), help=f"Open {kind}"
                )
