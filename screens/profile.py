"""Profile: name, bio, learning goals, language, time zone, streak counting;
achievements with points and dates."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Header, Input, Label, Select, Static, TextArea

from screens.base import DataScreen
from services.data.api import ProfilePage
from services.timezones import timezone_problem
from services.words import plural
from widgets.cards import AchievementList
from widgets.keybar import KeyBar
from widgets.panels import ScrollPanel

LANGUAGES = [
    ("English", "en"),
    ("Deutsch", "de"),
    ("Español", "es"),
    ("Français", "fr"),
    ("Italiano", "it"),
    ("Português", "pt"),
    ("Nederlands", "nl"),
    ("Polski", "pl"),
    ("Türkçe", "tr"),
    ("日本語", "ja"),
    ("한국어", "ko"),
    ("中文", "zh"),
]


class ProfileScreen(DataScreen):
    BINDINGS = [Binding("ctrl+s", "save", "Save", id="profile.save")]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with ScrollPanel(id="profile-form", classes="panel"):
                yield Label("Name")
                yield Input(id="full_name", max_length=200)
                yield Label("Bio")
                yield TextArea(id="bio", soft_wrap=True)
                yield Label("Learning goals (one per line)")
                yield TextArea(id="learning_goals", soft_wrap=True)
                yield Label("Preferred language")
                yield Select(LANGUAGES, allow_blank=False, value="en", id="preferred_language")
                yield Label("Time zone (your streak's day starts at your midnight)")
                yield Input(id="timezone", max_length=64, placeholder="e.g. Europe/Berlin")
                yield Label("Streak counts")
                yield Select(
                    [("Days", "daily"), ("Weeks", "weekly")],
                    allow_blank=False,
                    value="daily",
                    id="streak_type",
                )
                yield Button("Save  (ctrl+s)", variant="primary", id="save")
            with Vertical(id="profile-side", classes="panel"):
                yield Static(id="points")
                yield AchievementList([], with_dates=True, id="achievements")
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = "Profile"
        self.query_one("#profile-form").border_title = "You"
        self.query_one("#profile-side").border_title = "Achievements"

    async def fetch(self) -> ProfilePage:
        return await self.api.my_profile()

    def show(self, data: ProfilePage) -> None:
        p = data.profile
        self.query_one("#full_name", Input).value = p.full_name or ""
        self.query_one("#bio", TextArea).text = p.bio or ""
        self.query_one("#learning_goals", TextArea).text = "\n".join(p.learning_goals)
        language = self.query_one("#preferred_language", Select)
        if p.preferred_language not in {code for _, code in LANGUAGES}:
            language.set_options([*LANGUAGES, (p.preferred_language, p.preferred_language)])
        language.value = p.preferred_language
        self.query_one("#timezone", Input).value = p.timezone
        self.query_one("#streak_type", Select).value = data.streak.streak_type
        self.query_one("#points", Static).update(
            f"[b]{data.points}[/b] {'point' if data.points == 1 else 'points'} · "
            f"{plural(len(data.achievements), 'achievement')} · "
            f"longest streak {data.streak.longest}\n"
        )
        self.query_one(AchievementList).show(data.achievements)

    def changes(self) -> dict:
        goals = [g.strip() for g in self.query_one("#learning_goals", TextArea).text.splitlines()]
        return {
            "full_name": self.query_one("#full_name", Input).value.strip() or None,
            "bio": self.query_one("#bio", TextArea).text.strip() or None,
            "learning_goals": [g for g in goals if g],
            "preferred_language": self.query_one("#preferred_language", Select).value,
            "timezone": self.query_one("#timezone", Input).value.strip() or "UTC",
            "streak_type": self.query_one("#streak_type", Select).value,
        }

    def action_save(self) -> None:
        changes = self.changes()
        problem = timezone_problem(changes["timezone"])
        if problem:
            self.notify(problem, title="Not saved", severity="error")
            self.query_one("#timezone", Input).focus()
            return
        self.write(
            lambda: self.api.update_profile(changes),
            success="Profile saved.",
            then=lambda _r: self.reload(quiet=True),
        )

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.action_save()
