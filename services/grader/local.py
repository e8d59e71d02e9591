"""The in-process grader: on the embedded database, the app and `learn practice` grade
verified submissions themselves, as the role learn_grader (exactly what `learn grader`
may do), so that nobody has to start a grader to see a verified score.

    local_grader(backend, name)        a Grader for the backend's embedded database, or
                                       None when the backend does not grade in-process
                                       (blocking: call it from a thread)
    start_local_grader(backend, name)  a LocalGrader: that Grader working on a daemon
                                       thread until `stop()`, woken by NOTIFY
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from .worker import Grader

log = logging.getLogger("learn.grader")


def local_grader(backend: Any, name: str, *, poll_s: float = 2.0) -> Grader | None:
    """A Grader named `name:<pid>` on the backend's `grading_url()`; None when the backend
    has none (a remote backend, or `in_process_grader` off)."""
    grading_url = getattr(backend, "grading_url", None)
    url = grading_url() if callable(grading_url) else None
    return None if url is None else Grader(url, poll_s=poll_s, name=f"{name}:{os.getpid()}")


class LocalGrader:
    """`local_grader(backend, name)` running on a daemon thread; `stop()` ends it, even
    before the thread has found the URL (which takes a handle on the embedded server)."""

    def __init__(self, backend: Any, name: str = "in-process", *, poll_s: float = 1.0):
        self.grader: Grader | None = None
        self._stopped = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(backend, name, poll_s), daemon=True, name="local-grader"
        )

    def _run(self, backend: Any, name: str, poll_s: float) -> None:
        try:
            self.grader = local_grader(backend, name, poll_s=poll_s)
            if self.grader is not None and not self._stopped.is_set():
                self.grader.run()
        except Exception:
            log.exception("the in-process grader stopped")

    def stop(self) -> None:
        self._stopped.set()
        if self.grader is not None:
            self.grader.stop()


def start_local_grader(backend: Any, name: str = "in-process") -> LocalGrader:
    """Grade verified submissions on the backend's embedded database until `stop()`."""
    handle = LocalGrader(backend, name)
    handle.thread.start()
    return handle
