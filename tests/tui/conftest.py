"""The TUI on the local backend with real PostgreSQL and the bundled courses."""

from __future__ import annotations

import pytest

from services.data.backend import LocalBackend
from services.data.seed import seed_bundled
from services.offline.backend import OfflineBackend
from tui.app import LearnApp


@pytest.fixture(scope="module")
def seeded_url(db_url) -> str:
    seed_bundled(db_url)
    return db_url


@pytest.fixture
def make_app(seeded_url, tmp_path, monkeypatch):
    """A LearnApp on the test database with its own session file (a new learner)."""
    monkeypatch.setenv("LEARN_HOME", str(tmp_path / "home"))

    def make(*, in_process_grader: bool = True, **kwargs) -> LearnApp:
        # As `learn` runs it: the backend behind the offline cache and outbox (in LEARN_HOME),
        # grading verified submissions in-process as on the embedded database.
        return LearnApp(
            lambda progress: OfflineBackend(
                LocalBackend(
                    seeded_url,
                    progress=progress,
                    session_path=tmp_path / "session.json",
                    in_process_grader=in_process_grader,
                )
            ),
            **kwargs,
        )

    return make
