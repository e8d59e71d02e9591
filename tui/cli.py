"""`learn` — the command line entry point: the parser, the app (`learn`), `learn status`,
and how every command runs (`_guarded`: a LearnError is one line, never a traceback).

The commands live beside it: tui/account_cli.py (doctor, config, login, logout,
courses), tui/offline_cli.py (sync, download), tui/author_cli.py (course, admin),
tui/review_cli.py (review, practice), tui/grader_cli.py (grader).

Public names: main, build_parser, run_app, backend_factory, load_settings,
seed_bundled_courses, APP_DEFAULTS.

Subcommands import only what they need: `learn --help` and `learn check` load
neither textual, supabase nor openai.
"""

from __future__ import annotations

import gc
import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING

from services import paths

if TYPE_CHECKING:
    import argparse

# Plain `learn` (the app, the common case) as the parser would give it: it needs no
# parser, and building every subcommand's costs ~20 ms before the first frame.
APP_DEFAULTS = SimpleNamespace(command=None, supabase=False, theme=None)


def _status(_args: argparse.Namespace) -> int:
    """Start the local database (creating and migrating it on first run); print its state."""
    from services.data.database import EmbeddedPostgres, MigrationError, migrate
    from services.data.seed import BUNDLED_AUTHOR_EMAIL

    server = EmbeddedPostgres()
    first = not server.is_initialised
    if first:
        print(f"Creating the local database in {server.pgdata} …", flush=True)
    try:
        url = server.start()
        applied = migrate(
            url,
            progress=lambda msg: print(f"  {msg}", flush=True),
            warn=lambda line: print(f"learn: warning: {line}", file=sys.stderr),
        )
    except MigrationError as exc:
        print(f"learn: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        print(
            f"learn: could not start the local database ({exc}); see {server.pgdata / 'log'}",
            file=sys.stderr,
        )
        return 1
    import psycopg

    with psycopg.connect(url) as conn:
        courses = conn.execute("select count(*) from public.courses").fetchone()[0]
        learners = conn.execute(  # not the account that owns the bundled courses
            "select count(*) from public.profiles where email is distinct from %s",
            (BUNDLED_AUTHOR_EMAIL,),
        ).fetchone()[0]
        version = conn.execute("show server_version").fetchone()[0]
    print(f"local database: PostgreSQL {version} at {server.pgdata}")
    print(f"migrations: {len(applied)} applied now, schema current")
    print(f"courses: {courses}   learners: {learners}")
    return 0


def run_app(args: argparse.Namespace) -> int:
    """The TUI. Start-up work (the database, the first run) happens inside it."""
    make_backend = backend_factory(load_settings(args))
    # Loading Textual makes ~60,000 objects that live as long as the app. Python's
    # cyclic collector scanned them again and again as they loaded, and once more in
    # full as the home screen was drawn (~40 ms in all, benchmarks/startup.py): collect
    # nothing while they load, then freeze them (later collections skip them).
    gc.disable()
    try:
        from tui.app import LearnApp
    finally:
        gc.freeze()
        gc.enable()

    app = LearnApp(
        make_backend, theme=getattr(args, "theme", None), start=getattr(args, "start", None)
    )
    app.run()
    return app.return_code or 0


def backend_factory(settings):
    """What LearnApp calls (from its boot worker, after the first frame) to make its
    backend. Call it before importing Textual: with the embedded database already
    running, it starts the head start (services.data.headstart) now."""
    head_start = None
    if settings.backend_kind == "local" and settings.database_url is None:
        from services.data import headstart

        head_start = headstart.launch(paths.embedded_pgdata(), paths.session_file())

    def make_backend(progress):
        # Imported here, after the first frame.
        from services.data.backend import backend_from_settings
        from services.offline.backend import OfflineBackend

        return OfflineBackend(
            backend_from_settings(
                settings, progress=progress, seed=seed_bundled_courses, head_start=head_start
            )
        )

    return make_backend


def seed_bundled_courses(url: str, progress) -> None:
    from services.data.seed import seed_bundled

    seed_bundled(url, progress)


def load_settings(args: argparse.Namespace):
    from services import config

    return config.load(supabase=getattr(args, "supabase", False))


def _guarded(handler, args: argparse.Namespace) -> int:
    """Run a command: a LearnError is one line on stderr and exit 1, never a traceback."""
    import os

    from services import logs
    from services.errors import LearnError, unexpected

    logs.setup()
    try:
        return handler(args)
    except LearnError as exc:
        print(f"learn: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except EOFError:
        print("learn: no input", file=sys.stderr)
        return 1
    except Exception as exc:
        if os.environ.get("LEARN_DEBUG"):
            raise
        print(f"learn: {unexpected(exc)}", file=sys.stderr)  # traceback → the log file
        return 1
    finally:
        _print_notices()


def _print_notices() -> None:
    """What the shared files said (a damaged queue moved aside, …): one line each."""
    store = sys.modules.get("services.offline.store")
    if store is not None:
        for line in store.take_notices():
            print(f"learn: {line}", file=sys.stderr)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("learn-terminal")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _VersionAction(*args, **kwargs):
    """argparse's "version" action, asking the installed package only when used."""
    import argparse

    class Action(argparse.Action):
        def __init__(self, option_strings, dest, help=None):
            super().__init__(option_strings, dest, nargs=0, help=help, default=argparse.SUPPRESS)

        def __call__(self, parser, namespace, values, option_string=None):
            print(f"learn {_version()}")
            parser.exit()

    return Action(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="learn",
        description="Learn in your terminal: courses, lessons, coding assessments and an AI tutor.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("status", help="start the local database and print its state")
    courses = sub.add_parser(
        "courses",
        help="the catalog: learn courses [--json] [--search TEXT] [--tag TAG] [--difficulty LEVEL]",
    )
    courses.add_argument("--json", action="store_true", help="a JSON list of course objects")
    courses.add_argument("--search", help="full-text search")
    courses.add_argument("--tag")
    courses.add_argument("--difficulty", choices=["Beginner", "Intermediate", "Advanced"])
    courses.add_argument(
        "--supabase",
        action="store_true",
        default=argparse.SUPPRESS,
        help="use the Supabase project",
    )
    check = sub.add_parser(
        "check", help="grade a solution: learn check ASSESSMENT.toml FILE", add_help=False
    )
    check.add_argument("rest", nargs=argparse.REMAINDER)
    supabase_help = "use the Supabase project (SUPABASE_URL + SUPABASE_PUBLISHABLE_KEY)"
    parser.add_argument("--supabase", action="store_true", help=supabase_help)
    parser.add_argument(
        "--theme",
        choices=["textual-dark", "textual-light"],
        help="the colour theme (ctrl+t switches it in the app)",
    )
    from tui.account_cli import add_commands as add_account_commands
    from tui.author_cli import add_commands as add_author_commands
    from tui.offline_cli import add_commands as add_offline_commands
    from tui.review_cli import add_commands as add_review_commands

    def supabase_flag(command: argparse.ArgumentParser) -> None:
        """`--supabase` after a subcommand too (`learn sync --supabase`); SUPPRESS keeps
        the top-level flag's value when the subcommand's is not given."""
        command.add_argument(
            "--supabase", action="store_true", default=argparse.SUPPRESS, help=supabase_help
        )

    for add_commands in (
        add_account_commands,
        add_offline_commands,
        add_review_commands,
        add_author_commands,
    ):
        add_commands(sub, supabase_flag)
    from tui.grader_cli import add_command as add_grader_command

    add_grader_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    import warnings

    # pgserver asks platformdirs for a runtime dir, which warns on hosts without XDG.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    whole_process = argv is None
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["grader"] and whole_process:
        from services.grader.isolation import reexec_without_url_argument

        reexec_without_url_argument(argv)  # the URL must not stay in /proc/<pid>/cmdline
    args = None
    if argv[:1] != ["check"]:
        args = build_parser().parse_args(argv) if argv else APP_DEFAULTS
    if args is not None and _is_app(args):
        return _dispatch(argv, args)
    # Commands print others' text (titles, names, program output, server messages):
    # what reaches the terminal is made terminal_safe here, whatever printed it.
    from services.text import TerminalSafeWriter

    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = TerminalSafeWriter(stdout), TerminalSafeWriter(stderr)
    try:
        return _dispatch(argv, args)
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _is_app(args: argparse.Namespace) -> bool:
    """The app and `learn course preview` run Textual, which owns the terminal."""
    return args.command is None or getattr(args, "course_command", None) == "preview"


def _dispatch(argv: list[str], args: argparse.Namespace | None) -> int:
    if args is None:
        from services.runner.check import main as check_main

        return check_main(argv[1:])
    paths.data_dir()
    from tui.account_cli import COMMANDS as ACCOUNT_COMMANDS

    if args.command in ACCOUNT_COMMANDS:
        return _guarded(ACCOUNT_COMMANDS[args.command], args)
    from tui.offline_cli import COMMANDS as OFFLINE_COMMANDS

    if args.command in OFFLINE_COMMANDS:
        return _guarded(OFFLINE_COMMANDS[args.command], args)
    from tui.author_cli import COMMANDS as AUTHOR_COMMANDS

    if args.command in AUTHOR_COMMANDS:
        return _guarded(AUTHOR_COMMANDS[args.command], args)
    from tui.review_cli import COMMANDS as REVIEW_COMMANDS

    if args.command in REVIEW_COMMANDS:
        return _guarded(REVIEW_COMMANDS[args.command], args)
    if args.command == "status":
        return _status(args)
    if args.command == "grader":
        from tui.grader_cli import run as run_grader

        return _guarded(run_grader, args)
    return _guarded(run_app, args)


if __name__ == "__main__":
    sys.exit(main())
