"""`learn` — the command line entry point.

Subcommands import only what they need: `learn --help` and `learn check` load
neither textual, supabase nor openai.
"""

from __future__ import annotations

import gc
import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING

from services import paths
from services.words import plural

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


def _run_app(args: argparse.Namespace) -> int:
    """The TUI. Start-up work (the database, the first run) happens inside it."""
    make_backend = backend_factory(_settings(args))
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
                settings, progress=progress, seed=_seed_bundled, head_start=head_start
            )
        )

    return make_backend


def _seed_bundled(url: str, progress) -> None:
    from services.data.seed import seed_bundled

    seed_bundled(url, progress)


# -- doctor, config, login, logout (services.config / backend / doctor) -----------------


def _settings(args: argparse.Namespace):
    from services import config

    return config.load(supabase=getattr(args, "supabase", False))


def _doctor(args: argparse.Namespace) -> int:
    """Print what is configured and reachable; exit 1 if anything failed."""
    import asyncio

    from services import doctor

    checks = asyncio.run(doctor.run(_settings(args)))
    for check in checks:
        print(check.line())
    return 1 if any(c.status == "fail" for c in checks) else 0


def _config(args: argparse.Namespace) -> int:
    """Show the effective settings (secrets masked), or set / unset one."""
    from services import config

    if args.unset:
        key, path = config.set_value(args.unset, None)
        print(f"removed {key} from {path}")
        return 0
    if args.key and args.value is not None:
        value = sys.stdin.readline().rstrip("\n") if args.value == "-" else args.value
        key, path = config.set_value(args.key, value)
        shown = "(hidden)" if key in config.SECRETS or key == "database_url" else value
        print(f"{key} = {shown} saved in {path}")
        return 0
    settings = config.load(supabase=getattr(args, "supabase", False))
    shown = settings.masked()
    if args.key:
        key = config.normalise_key(args.key)
        print(shown[key] if shown[key] is not None else "")
        return 0
    print(
        f"# {settings.path}"
        + ("" if settings.path and settings.path.exists() else " (not created yet)")
    )
    for key, value in shown.items():
        source = settings.sources.get(key, "default")
        where = f"env {config.ENV[key]}" if source == "env" else source
        print(f"{key:<18} = {value if value is not None else '(not set)'}   [{where}]")
    print(f"# backend in use: {settings.backend_kind}")
    return 0


def _read_password(args: argparse.Namespace, prompt: str = "Password: ") -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    return getpass.getpass(prompt)


def _show_sign_in_url(provider: str, url: str, browser: bool) -> None:
    """Print where to sign in, and open it in the browser (in a thread: a console
    browser may hold on until it exits, and the loopback redirect must be served)."""
    print(
        f"Sign in with {provider} in your browser. If it does not open, visit:\n  {url}",
        file=sys.stderr,
        flush=True,
    )
    if browser:
        import threading
        import webbrowser

        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()


def _login(args: argparse.Namespace) -> int:
    """Sign in (or up, with --new) with email + password, an emailed code (--otp), or an
    OAuth provider (--provider github: PKCE through the browser, loopback redirect)."""
    import asyncio

    from services.data.backend import backend_from_settings

    backend = backend_from_settings(
        _settings(args),
        auto_refresh=False,
        progress=lambda msg: print(msg, file=sys.stderr, flush=True),
    )

    async def run() -> int:
        try:
            if args.provider:
                user = await backend.sign_in_with_provider(
                    args.provider,
                    lambda url: _show_sign_in_url(args.provider, url, not args.no_browser),
                )
                print(f"Signed in as {user.email or user.id} ({backend.describe()}).")
                return 0
            email = args.email or input("Email: ").strip()
            if args.otp:
                await backend.sign_in_with_otp(email)
                print(f"We sent a code to {email}.", file=sys.stderr)
                code = (
                    sys.stdin.readline() if args.password_stdin else input("Code from the email: ")
                ).strip()
                user = await backend.verify_otp(email, code)
            elif args.new:
                user = await backend.sign_up(email, _read_password(args), full_name=args.name)
                if user is None:
                    print(f"Check {email} for a confirmation link, then `learn login`.")
                    return 0
            else:
                user = await backend.sign_in(email, _read_password(args))
        finally:
            await backend.close()
        print(f"Signed in as {user.email or user.id} ({backend.describe()}).")
        return 0

    return asyncio.run(run())


def _logout(args: argparse.Namespace) -> int:
    import asyncio

    from services.data.backend import backend_from_settings

    backend = backend_from_settings(_settings(args), auto_refresh=False)

    async def run() -> int:
        try:
            await backend.connect()
            was = backend.current_user
            await backend.sign_out(everywhere=args.everywhere)
        finally:
            await backend.close()
        print("Signed out." if was else "Not signed in.")
        return 0

    return asyncio.run(run())


# -- sync, download (services.offline.backend) ----------------------------------------------------


def _offline_backend(args: argparse.Namespace):
    from services.data.backend import backend_from_settings
    from services.offline.backend import OfflineBackend

    return OfflineBackend(
        backend_from_settings(
            _settings(args),
            auto_refresh=False,
            progress=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    )


def _sync(args: argparse.Namespace) -> int:
    """Send the writes queued while offline; print sent, already applied, refused, waiting.
    Exit 0 when nothing is left refused or waiting, 1 otherwise."""
    import asyncio

    from services.offline.status import events_summary

    backend = _offline_backend(args)

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

    backend = _offline_backend(args)

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


OFFLINE_COMMANDS = {"sync": _sync, "download": _download}


def _add_offline_commands(sub, supabase_flag) -> None:
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


def _add_account_commands(sub, supabase_flag) -> None:
    doctor = sub.add_parser("doctor", help="check what is configured and reachable")
    supabase_flag(doctor)
    cfg = sub.add_parser(
        "config",
        help="show the settings (secrets masked) or set one: "
        "learn config KEY VALUE ('-' reads VALUE from stdin)",
    )
    cfg.add_argument("key", nargs="?")
    cfg.add_argument("value", nargs="?")
    cfg.add_argument("--unset", metavar="KEY", help="remove a setting from the file")
    supabase_flag(cfg)
    for name, text in (
        ("login", "sign in (Supabase, or a local account)"),
        ("logout", "sign out and forget the saved session"),
    ):
        cmd = sub.add_parser(name, help=text)
        supabase_flag(cmd)
        if name == "login":
            cmd.add_argument("--email")
            cmd.add_argument(
                "--otp", action="store_true", help="sign in with a code sent by email (Supabase)"
            )
            cmd.add_argument(
                "--provider",
                metavar="NAME",
                help="sign in with an OAuth provider the project enables, e.g. github (Supabase)",
            )
            cmd.add_argument(
                "--no-browser",
                action="store_true",
                help="with --provider: only print the address to open",
            )
            cmd.add_argument("--new", action="store_true", help="create the account")
            cmd.add_argument("--name", help="your name, with --new")
            cmd.add_argument(
                "--password-stdin",
                action="store_true",
                help="read the password (or the --otp code) from stdin",
            )
        else:
            cmd.add_argument(
                "--everywhere",
                action="store_true",
                help="end your sessions on every machine (Supabase), not only this one",
            )


def _courses(args: argparse.Namespace) -> int:
    """The catalog, for scripts: a table, or with --json a list of course objects."""
    import asyncio
    import collections
    import dataclasses
    import json

    from services.data.api import LearningAPI
    from services.data.backend import backend_from_settings

    backend = backend_from_settings(
        _settings(args),
        auto_refresh=False,
        seed=_seed_bundled,
        progress=lambda msg: print(msg, file=sys.stderr, flush=True),
    )

    async def fetch():
        try:
            await backend.connect()
            return await LearningAPI(backend).catalog(
                search=args.search,
                tags=[args.tag] if args.tag else None,
                difficulty=args.difficulty,
                limit=200,
            )
        finally:
            await backend.close()

    catalog = asyncio.run(fetch())
    if args.json:
        print(json.dumps([dataclasses.asdict(c) for c in catalog.courses], indent=2))
        return 0
    if not catalog.courses:
        print("No course matches.")
        return 0
    # A slug is unique per author: where several courses share one, the id (which
    # `learn download` takes as well) is the address.
    slugs = collections.Counter(c.slug for c in catalog.courses)

    def address(c) -> str:
        return c.slug if c.slug and slugs[c.slug] == 1 else c.id

    width = max(len(address(c)) for c in catalog.courses)
    for c in catalog.courses:
        hours = f"{c.estimated_hours:g} h" if c.estimated_hours else ""
        mine = ("  (yours)" if c.is_mine else "") + ("  (enrolled)" if c.enrolled else "")
        unit = f"{c.lesson_count:>3} {'lesson ' if c.lesson_count == 1 else 'lessons'}"
        print(
            f"{address(c):<{width}}  {c.difficulty_level:<12} {unit}  {hours:>6}  {c.title}{mine}"
        )
    return 0


ACCOUNT_COMMANDS = {
    "doctor": _doctor,
    "config": _config,
    "login": _login,
    "logout": _logout,
    "courses": _courses,
}


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
    _add_account_commands(
        sub,
        lambda cmd: cmd.add_argument(
            "--supabase", action="store_true", default=argparse.SUPPRESS, help=supabase_help
        ),
    )
    _add_offline_commands(
        sub,
        lambda cmd: cmd.add_argument(
            "--supabase", action="store_true", default=argparse.SUPPRESS, help=supabase_help
        ),
    )
    from tui.author_cli import add_commands as add_author_commands
    from tui.review_cli import add_commands as add_review_commands

    add_review_commands(
        sub,
        lambda cmd: cmd.add_argument(
            "--supabase", action="store_true", default=argparse.SUPPRESS, help=supabase_help
        ),
    )

    add_author_commands(
        sub,
        lambda cmd: cmd.add_argument(
            "--supabase", action="store_true", default=argparse.SUPPRESS, help=supabase_help
        ),
    )
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
    if args.command in ACCOUNT_COMMANDS:
        return _guarded(ACCOUNT_COMMANDS[args.command], args)
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
    return _guarded(_run_app, args)


if __name__ == "__main__":
    sys.exit(main())
