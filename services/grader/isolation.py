"""Keep the grader's database credentials out of learner code's reach.

Learner code runs as the grader's OS user, in the runner's sandbox: its environment is
scrubbed (services.runner.sandbox: PATH, LANG, HOME, TMPDIR only) and its HOME and
working folder are its own. What the same user could still read is the grader itself:
`/proc/<grader>/environ` (DATABASE_URL) and `/proc/<grader>/cmdline` (--database-url).
So the grader

* moves a URL given on the command line into the environment and re-executes itself
  without it (`cmdline` is readable by every process of the user, whatever else we do);
* marks itself not dumpable (prctl PR_SET_DUMPABLE 0): the kernel then makes its
  /proc files (environ, mem, fds) root's and refuses ptrace from the same user;
* removes DATABASE_URL from its own environment once read, so no child inherits it.

Run the grader as its own OS user where you can, with the URL in the environment (or an
environment file only that user reads), never in config files learner code could open.
"""

from __future__ import annotations

import ctypes
import os
import sys

ENV_KEY = "DATABASE_URL"
_PR_SET_DUMPABLE = 4


def reexec_without_url_argument(argv: list[str]) -> None:
    """If `--database-url URL` (or `--database-url=URL`) is in argv, re-exec this process
    with the URL in DATABASE_URL instead. Returns only when there is nothing to move."""
    url, rest, i = None, [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--database-url" and i + 1 < len(argv):
            url, i = argv[i + 1], i + 2
            continue
        if arg.startswith("--database-url="):
            url, i = arg.split("=", 1)[1], i + 1
            continue
        rest.append(arg)
        i += 1
    if url is None or not sys.platform.startswith("linux"):
        return
    env = dict(os.environ, **{ENV_KEY: url})
    os.execve(sys.executable, [sys.executable, "-m", "tui.cli", *rest], env)


def hide_credentials() -> str | None:
    """Make this process's /proc files unreadable to its own user and take DATABASE_URL
    out of the environment; returns the URL (or None). Linux only; elsewhere only the
    environment is cleaned."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    return os.environ.pop(ENV_KEY, None)
