"""App internals: `CrashHookApp`, an App whose unhandled exceptions reach a public
`crashed(error)` method first (tests/tui/test_textual_adapter_app.py).

Textual has no public hook for "the app is about to exit with an unhandled
exception": App._handle_exception is the single path every such exception takes
(a handler, a worker with exit_on_error, a timer callback). learn writes the
traceback to learn.log under a reference the learner can quote; without the hook a
crash would leave only Textual's own traceback on the terminal.

Checked against Textual 8.2.x (App._handle_exception(self, error: Exception) -> None;
pyproject pins textual>=8.2,<9).
"""

from __future__ import annotations

from textual.app import App, ReturnType

CHECKED_TEXTUAL = (">=8.2", "<9")  # the range the private names below were checked in


class CrashHookApp(App[ReturnType]):
    """An App whose unhandled exceptions are passed to `crashed(error)` before Textual's
    own handling (which shows the traceback and exits, as always)."""

    def crashed(self, error: Exception) -> None:
        """Override: record a crash (it must not raise; whatever it raises is ignored,
        so that Textual's own handling still runs)."""

    def _handle_exception(self, error: Exception) -> None:  # Textual's private hook
        try:
            self.crashed(error)
        except Exception:  # recording it failed: the crash itself must still be shown
            pass
        super()._handle_exception(error)
