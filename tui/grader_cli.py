"""`learn grader`: the long-running worker that grades submissions of verified courses.

    learn grader [--database-url URL] [--once] [--concurrency N] [--lease SECONDS]

The URL comes from --database-url, else DATABASE_URL (environment or config), else the
embedded database. The grader connects, switches to the role learn_grader and does
nothing else: see services/grader and docs in README ("Verified grading").
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading


def add_command(sub) -> None:
    grader = sub.add_parser(
        "grader",
        help="grade submissions of verified courses: a worker "
        "on the database's job queue (several may run)",
    )
    grader.add_argument(
        "--database-url",
        help="the database (default: DATABASE_URL, else "
        "the embedded database); moved out of the command line at start",
    )
    grader.add_argument(
        "--once",
        action="store_true",
        help="grade everything pending, then exit (for cron and tests)",
    )
    grader.add_argument(
        "--concurrency", type=int, default=1, metavar="N", help="sandboxes run at once (default 1)"
    )
    grader.add_argument(
        "--lease",
        type=int,
        default=60,
        metavar="SECONDS",
        help="how long a claimed job is held before another grader may take "
        "it, should this one die (default 60; longer than a run)",
    )
    grader.add_argument("--name", help="this grader's name in the database (default host:pid)")
    grader.add_argument("--quiet", action="store_true", help="print nothing per job")


def sandbox_refusal() -> str | None:
    """Why this grader must not run learners' code here, if it must not: as root without
    the namespace sandbox, learner code could read every process's memory and files,
    the grader's credentials included."""
    import os

    from services.runner import sandbox_strength

    if sandbox_strength() == "basic" and hasattr(os, "geteuid") and os.geteuid() == 0:
        return (
            "the grader will not run learners' code as root without the namespace "
            "sandbox (`unshare` missing or refused): run it as its own non-root user, "
            "or where unprivileged user namespaces work"
        )
    return None


def run(args: argparse.Namespace) -> int:
    from services.errors import ConfigError
    from services.grader import Grader, hide_credentials

    url = hide_credentials()
    refusal = sandbox_refusal()
    if refusal:
        raise ConfigError(refusal)
    if url is None:
        from services import config

        url = config.load().database_url
    if args.concurrency < 1 or args.concurrency > 64:
        raise ConfigError("--concurrency must be between 1 and 64")
    if not 1 <= args.lease <= 3600:
        raise ConfigError("--lease must be between 1 and 3600 seconds")
    if url is None:
        from services.data import database

        server = database.EmbeddedPostgres(keep_running=True)
        url = server.start()
        database.migrate(url)

    printing = threading.Lock()

    def say(event) -> None:
        # Called from each sandbox's thread: one whole line at a time (print writes the
        # text and the newline separately, so two threads' lines could run together).
        if not args.quiet:
            with printing:
                sys.stdout.write(event.line() + "\n")
                sys.stdout.flush()

    grader = Grader(
        url, concurrency=args.concurrency, lease_s=args.lease, name=args.name, on_event=say
    )
    try:
        grader.check()
    except Exception as e:
        raise ConfigError(
            f"the grader cannot work on this database: {str(e).splitlines()[0][:200]}"
        ) from None
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_a: grader.stop())
    if not args.once:
        print(
            f"grader {grader.name}: waiting for submissions "
            f"({args.concurrency} at a time; ctrl+c stops)",
            file=sys.stderr,
            flush=True,
        )
    n = grader.run(once=args.once)
    if args.once and not args.quiet:
        print(f"graded {n}", file=sys.stderr, flush=True)
    if grader.problem:
        print(f"learn: the grader lost the database: {grader.problem}", file=sys.stderr)
        return 1
    return 0
