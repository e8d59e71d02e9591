"""Offline and sync state, shown to the learner.

- `SyncIndicator`: "offline — as of 14:05 · 2 waiting · 1 refused" at the right of
  the Header. The app mounts it into each screen's Header (every screen has one), so no
  screen composes it, and screens keep their own sub-titles (timers, unread counts).
- `SyncDialog`: what is waiting and what the server refused, with the reasons; it
  dismisses with what the learner chose ("sync", "retry", "dismiss" or None) and the
  app acts on it.
- `DownloadBar`: "Make available offline" progress, docked at the bottom of a screen.

Widgets get data (services.offline.status.SyncStatus, services.offline.outbox.OutboxEvent)
and never fetch.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar, Static

from services.offline.outbox import OutboxEvent
from services.offline.status import SyncStatus


class SyncIndicator(Static):
    """ "offline — as of 14:05 · 2 waiting · 1 refused", docked at the right of a Header;
    hidden while online with nothing waiting."""

    DEFAULT_CSS = """
    SyncIndicator { dock: right; width: auto; height: 1; padding: 0 1; display: none;
                    background: $warning 30%; color: $text; }
    SyncIndicator.-shown { display: block; }
    SyncIndicator.-online { background: $primary 30%; }
    SyncIndicator.-refused { background: $error 40%; }
    """

    def show_status(self, status: SyncStatus | None) -> None:
        text = status.describe() if status is not None else ""
        self.update(text)
        self.set_class(bool(text), "-shown")
        self.set_class(bool(status and status.online), "-online")
        self.set_class(bool(status and status.refused), "-refused")


class SyncDialog(ModalScreen[str | None]):
    """Waiting and refused changes, with the server's reasons."""

    BINDINGS = [
        Binding("escape", "choose(None)", "Close", id="sync.close"),
        Binding("s", "choose('sync')", "Sync now", id="sync.now"),
        Binding("r", "choose('retry')", "Send refused again", id="sync.retry"),
        Binding("x", "choose('dismiss')", "Forget refused", id="sync.dismiss"),
    ]

    DEFAULT_CSS = """
    SyncDialog #sync { width: 90; max-height: 80%; }
    SyncDialog #sync-events { height: auto; max-height: 20; }
    SyncDialog .refused { color: $error; }
    """

    def __init__(self, status: SyncStatus, refused: list[OutboxEvent]) -> None:
        super().__init__()
        self.status = status
        self.refused_events = refused

    def compose(self) -> ComposeResult:
        status = self.status
        with Vertical(id="sync", classes="dialog"):
            yield Label("Sync", classes="dialog-title")
            summary = Text()
            if status.online:
                summary.append("Online.", style="green")
            else:
                summary.append("Offline", style="bold yellow")
                if status.as_of:
                    summary.append(
                        f" — showing what was saved at {status.as_of.astimezone():%Y-%m-%d %H:%M}"
                    )
                summary.append(".")
            if status.sign_in_needed:
                summary.append(
                    "\nYour session has ended: sign in again to send your "
                    "changes (nothing is lost).",
                    style="yellow",
                )
            summary.append(f"\n{status.pending} change(s) waiting to be sent.")
            if status.last_error and not status.online:
                summary.append(f"\nLast try: {status.last_error}", style="dim")
            yield Static(summary, id="sync-summary")
            with VerticalScroll(id="sync-events"):
                if not self.refused_events:
                    yield Static("Nothing was refused.", classes="dim")
                for event in self.refused_events:
                    when = event.occurred_at.astimezone().strftime("%Y-%m-%d %H:%M")
                    line = Text.assemble(
                        (f"{event.label}", "bold"),
                        f"  {when}\n",
                        (f"  {event.reason or 'refused'}", "red"),
                    )
                    yield Static(line, classes="refused")
            yield Static(
                "s sync now · r send refused again · x forget refused · esc close", classes="dim"
            )

    def action_choose(self, choice: str | None) -> None:
        self.dismiss(choice)


class DownloadBar(Horizontal):
    """Progress of "make available offline"; `advance(done, total, what)`."""

    DEFAULT_CSS = """
    DownloadBar { height: 1; padding: 0 1; background: $panel; }
    DownloadBar Label { width: 1fr; color: $text-muted; }
    DownloadBar ProgressBar { width: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Label("Making available offline…")
        yield ProgressBar(total=None, show_eta=False)

    def advance(self, done: int, total: int, what: str) -> None:
        self.query_one(Label).update(Text(f"Making available offline: {what}"))
        self.query_one(ProgressBar).update(total=total, progress=done)
