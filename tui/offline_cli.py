"""`learn sync` and `learn download`: the offline outbox and courses kept for offline use
(services.offline.backend).

Public names: offline_backend (the backend these and `learn review --due` use),
add_commands (the parser's entries), COMMANDS (name → handler).
Imports stay inside the handlers: `learn --help` loads none of this.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from services.words import plural
from tui.cli import load_settings

if TYPE_CHECKING:
    import argparse


def offline_backend(args: argparse.Namespace):
    from services.data.backend import backend_from_settings
    from services.offline.backend import OfflineBackend

    return OfflineBackend(
        backend_from_settings(
            load_settings(args),
            auto_refresh=False,
            progress=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    )


def _sync(args: argparse.Namespace) -> int:
    """Send the writes queued while offline; print sent, already applied, refused, waiting.
    Exit 0 when nothing is left refused or waiting, 1 otherwise."""
    import asyncio

    from services.offline.status import events_summary

    backend = offline_backend(args)

    async def run() -> int:
        try:
            await backend.connect()
            if args.retry:
                backend.retry_refused()
            report = await backend.flush()
            refused = backend.refused
            if args.dismiss:
                backend.dismiss_refused([e.event_id for e in refused])
            user = backend.current_user
            others = backend.outbox.count(backend.namespace) - report.waiting
        finally:
            await backend.close()
        print(
            f"sent {report.sent} · already applied {report.already_applied} · "
            f"refused {len(refused)} · waiting {report.waiting}"
        )
        for line in events_summary(refused):
            print(f"  refused: {line}")
        if refused and not args.dismiss:
            print(
                "  (learn sync --retry sends them again; learn sync --dismiss stops listing them)"
            )
        if report.stopped:
            print(f"stopped: {report.stopped}")
        if user is None and others:
            waits = "waits" if others == 1 else "wait"
            print(
                f"{plural(others, 'change')} {waits} for an account that is not signed in here: "
                "sign in (learn login) to send them."
            )
        left = report.waiting + (0 if args.dismiss else len(refused))
        return 1 if left or (user is None and others) else 0

    return asyncio.run(run())


def _download(args: argparse.Namespace) -> int:
    """Make a course available offline: the course, every lesson and assessment."""
    import asyncio

    from services.errors import NotSignedIn
    from services.offline.download import download_course

    backend = offline_backend(args)

    def progress(done: int, total: int, what: str) -> None:
        filled = round(20 * done / total)
        print(f"[{'#' * filled}{'.' * (20 - filled)}] {done}/{total} {what}", flush=True)

    async def run() -> int:
        try:
            await backend.connect()
            if backend.current_user is None:
                raise NotSignedIn(
                    "Sign in first (learn login): a download is kept for your account."
                )
            report = await download_course(backend, args.course, progress)
        finally:
            await backend.close()
        print(
            f"Available offline: {report.title} — {plural(report.lessons, 'lesson')}, "
            f"{plural(report.assessments, 'assessment')}."
        )
        return 0

    return asyncio.run(run())


COMMANDS = {"sync": _sync, "download": _download}


def add_commands(sub, supabase_flag) -> None:
    sync = sub.add_parser(
        "sync", help="send the changes made offline; exit 1 if any are refused or still waiting"
    )
    sync.add_argument("--retry", action="store_true", help="send refused changes again")
    sync.add_argument(
        "--dismiss",
        action="store_true",
        help="stop listing the refused changes (they are kept in the outbox)",
    )
    supabase_flag(sync)
    download = sub.add_parser(
        "download", help="make a course available offline: learn download COURSE (slug or id)"
    )
    download.add_argument("course", help="the course's slug or id")
    supabase_flag(download)
