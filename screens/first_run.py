"""First run and sign in.

Local: create a profile (name; time zone detected and editable) — no password, the
database lives on this machine. Supabase: email + password, or a one-time code by
email; "forgot password" sends the reset mail. The backend remembers the session.
"""

from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, LoadingIndicator, Static

from screens.base import friendly, host
from services.timezones import detect_timezone, timezone_problem
from widgets.keybar import KeyBar


class _Title(Static):
    """The boot screen's title; says when it is first drawn."""

    def render(self):
        screen = self.screen
        if isinstance(screen, BootScreen):
            screen.drawn.set()
        return super().render()


class BootScreen(Screen):
    """Shown while the backend starts (the first run creates the database). The
    spinner comes after SPINNER_AFTER: a warm start is over by then, and animating
    it would cost the start ~15 ms."""

    SPINNER_AFTER = 0.3

    def __init__(self) -> None:
        super().__init__()
        self.drawn = asyncio.Event()  # set as the first frame is drawn

    def compose(self) -> ComposeResult:
        with Center(id="boot"):
            yield _Title("[b]learn[/b]", id="boot-title")
            yield Static("Starting…", id="boot-status")

    def on_mount(self) -> None:
        self.set_timer(self.SPINNER_AFTER, self._spin)

    def _spin(self) -> None:
        self.query_one("#boot").mount(LoadingIndicator(), before="#boot-status")

    def progress(self, message: str) -> None:
        self.query_one("#boot-status", Static).update(message)


class LocalProfileScreen(Screen[None]):
    """Create the local learner profile."""

    BINDINGS = [Binding("ctrl+s", "create", "Create profile", id="first_run.create")]

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="first-run", classes="dialog"):
            yield Label("Welcome to learn", classes="dialog-title")
            yield Static(
                "Your progress is kept in a database on this machine. Tell us what to call you.",
                classes="dim",
            )
            yield Label("Your name")
            yield Input(placeholder="e.g. Ada Lovelace", max_length=200, id="name")
            yield Label("Time zone (a streak day starts at your midnight)")
            yield Input(detect_timezone(), max_length=64, id="timezone")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start learning", variant="primary", id="create")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "name":
            self.query_one("#timezone", Input).focus()
        else:
            self.action_create()

    @on(Button.Pressed, "#create")
    def action_create(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        timezone = self.query_one("#timezone", Input).value.strip() or "UTC"
        if not name:
            self.notify("Type your name first.", severity="warning")
            self.query_one("#name", Input).focus()
            return
        problem = timezone_problem(timezone)
        if problem:  # the database would use UTC without a word: say it now
            self.notify(problem, title="Time zone", severity="error")
            self.query_one("#timezone", Input).focus()
            return
        self._create(name, timezone)

    @work(exclusive=True)
    async def _create(self, name: str, timezone: str) -> None:
        try:
            await host(self).backend.sign_up(None, None, full_name=name, timezone=timezone)
        except Exception as exc:
            self.notify(friendly(exc), title="Could not create your profile", severity="error")
            return
        self.dismiss(None)


class SignInScreen(Screen[None]):
    """Supabase: email + password, a one-time code, or a password reset mail."""

    BINDINGS = [
        Binding("ctrl+s", "sign_in", "Sign in", id="sign_in.submit"),
        Binding("ctrl+o", "send_code", "Email me a code", id="sign_in.otp"),
        Binding("ctrl+r", "reset", "Forgot password", id="sign_in.reset"),
    ]

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="sign-in", classes="dialog"):
            yield Label("Sign in to learn", classes="dialog-title")
            yield Label("Email")
            yield Input(placeholder="you@example.com", id="email")
            yield Label("Password (or leave empty and press ctrl+o for a code by email)")
            yield Input(password=True, id="password")
            yield Label("One-time code", id="code-label")
            yield Input(placeholder="123456", id="code", max_length=10)
            yield Label("Name (only when creating an account)")
            yield Input(id="full_name", max_length=200)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Sign in", variant="primary", id="sign-in-button")
                yield Button("Create account", id="sign-up-button")
                yield Button("Email me a code", id="otp-button")
                yield Button("Forgot password", id="reset-button")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#code-label").display = False
        self.query_one("#code").display = False
        self.query_one("#email", Input).focus()

    def _email(self) -> str | None:
        email = self.query_one("#email", Input).value.strip()
        if "@" not in email:
            self.notify("Type your email address first.", severity="warning")
            self.query_one("#email", Input).focus()
            return None
        return email

    @on(Button.Pressed, "#sign-in-button")
    def action_sign_in(self) -> None:
        email = self._email()
        if email is None:
            return
        code = self.query_one("#code", Input).value.strip()
        if self.query_one("#code").display and code:
            self._run(host(self).backend.verify_otp(email, code))
            return
        password = self.query_one("#password", Input).value
        if not password:
            self.notify(
                "Type your password, or press ctrl+o for a code by email.", severity="warning"
            )
            return
        self._run(host(self).backend.sign_in(email, password))

    @on(Button.Pressed, "#sign-up-button")
    def _sign_up(self) -> None:
        email = self._email()
        password = self.query_one("#password", Input).value
        if email is None:
            return
        if len(password) < 8:
            self.notify("Choose a password of at least 8 characters.", severity="warning")
            return
        name = self.query_one("#full_name", Input).value.strip() or None
        self._run(host(self).backend.sign_up(email, password, full_name=name))

    @on(Button.Pressed, "#otp-button")
    def action_send_code(self) -> None:
        email = self._email()
        if email is None:
            return
        self.query_one("#code-label").display = True
        self.query_one("#code").display = True
        self._run(
            host(self).backend.sign_in_with_otp(email),
            done=False,
            success=f"We sent a code to {email}. Type it and press enter.",
        )
        self.query_one("#code", Input).focus()

    @on(Button.Pressed, "#reset-button")
    def action_reset(self) -> None:
        email = self._email()
        if email is None:
            return
        self._run(
            host(self).backend.reset_password(email),
            done=False,
            success=f"If {email} has an account, a reset link is on its way.",
        )

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_sign_in()

    @work(exclusive=True)
    async def _run(self, awaitable, *, done: bool = True, success: str | None = None) -> None:
        try:
            await awaitable
        except Exception as exc:
            self.notify(friendly(exc), title="Sign in", severity="error")
            return
        if success:
            self.notify(success)
        if done:
            self.dismiss(None)
