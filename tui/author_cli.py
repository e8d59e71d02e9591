"""`learn course …` and `learn admin report`: the authors' and operators' commands.

    learn course validate DIR          every problem as `path:line: message`; each reference
                                       solution must pass its tests, each starter fail one.
                                       Exit 0 valid, 1 invalid, 2 not a course folder.
    learn course preview DIR           the learner's screens on the folder (no database),
                                       reloading when a file changes
    learn course publish DIR [--draft] validate, then publish as the signed-in author
    learn course export COURSE DIR     the author's course back to a folder
    learn admin report [--json]        the operators' report: with SUPABASE_URL and
                                       SUPABASE_SERVICE_ROLE_KEY through the project's API,
                                       else from the local database (or DATABASE_URL)

Like the rest of tui/cli.py, nothing heavy is imported until a command needs it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from services.words import plural

SERVICE_ROLE_ENV = "SUPABASE_SERVICE_ROLE_KEY"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _settings(args: argparse.Namespace):
    from services import config

    return config.load(supabase=getattr(args, "supabase", False))


def _print_problems(problems) -> None:
    for problem in problems:
        print(problem)


def _load_checked(directory: str, run_code: bool):
    """(course, exit code or None): the validated course, or 1 / 2 after printing why."""
    from services.authoring.course import validate
    from services.authoring.model import ContentError

    try:
        course = validate(directory, run_code=run_code)
    except ContentError as exc:
        _print_problems(exc.problems)
        return None, 2
    _print_problems(course.problems)
    if course.errors:
        count = len(course.errors)
        _say(f"{directory}: {count} problem{'' if count == 1 else 's'}")
        return course, 1
    return course, None


# -- learn course … --------------------------------------------------------------------


def _validate(args: argparse.Namespace) -> int:
    course, code = _load_checked(args.dir, run_code=not args.no_run)
    if code is not None:
        return code
    checked = (
        "" if args.no_run else "; every reference solution passes and every starter fails a test"
    )
    print(
        f"ok: “{course.title}” ({course.slug}): {plural(len(course.lessons), 'lesson')}, "
        f"{plural(len(course.assessments), 'assessment')}{checked}"
    )
    return 0


def _preview(args: argparse.Namespace) -> int:
    from services.authoring.course import load_course
    from services.authoring.model import ContentError

    try:
        load_course(args.dir)
    except ContentError as exc:
        _print_problems(exc.problems)
        return 2
    from tui.preview import PreviewApp

    app = PreviewApp(args.dir, theme=getattr(args, "theme", None))
    app.run()
    return app.return_code or 0


def _backend(args: argparse.Namespace):
    from services.data.backend import backend_from_settings

    return backend_from_settings(_settings(args), auto_refresh=False, progress=_say)


def _publish(args: argparse.Namespace) -> int:
    from services.authoring.publishing import AuthoringAPI, require_author

    course, code = _load_checked(args.dir, run_code=True)
    if code is not None:
        _say("not published: fix the problems above first")
        return code
    backend = _backend(args)

    async def run():
        try:
            await backend.connect()
            require_author(backend)
            return await AuthoringAPI(backend).publish(course, draft=args.draft)
        finally:
            await backend.close()

    import asyncio

    result = asyncio.run(run())
    print(result.summary)
    return 0


def _export(args: argparse.Namespace) -> int:
    import asyncio

    from services.authoring.model import ContentError
    from services.authoring.publishing import export_folder

    backend = _backend(args)

    async def run() -> Path:
        try:
            return await export_folder(backend, args.course, args.dir, force=args.force)
        finally:
            await backend.close()

    try:
        target = asyncio.run(run())
    except ContentError as exc:
        _print_problems(exc.problems)
        return 1
    print(f"exported {args.course} to {target}")
    return 0


def _new(args: argparse.Namespace) -> int:
    from services.authoring.scaffold import new_course
    from services.errors import LearnError

    parent = Path(args.dir)
    try:
        files = new_course(parent, args.slug)
    except LearnError as exc:
        _say(f"learn course new: {exc}")
        return 2
    folder = parent / args.slug
    print(f"Created the course folder {folder}:")
    for path in files:
        print(f"  {path.relative_to(folder)}")
    print(
        f"\nNext: learn course preview {folder}   (it reloads as you edit)\n"
        f"      learn course validate {folder}\n"
        f"      learn course publish {folder}\n"
        "The folder format: docs/authoring.md."
    )
    return 0


COURSE_COMMANDS = {
    "validate": _validate,
    "preview": _preview,
    "publish": _publish,
    "export": _export,
    "new": _new,
}


def course_main(args: argparse.Namespace) -> int:
    return COURSE_COMMANDS[args.course_command](args)


# -- learn admin report ----------------------------------------------------------------


def _days(value: str) -> int:
    """--days: a whole number of days the report can show, or a one-line error."""
    import argparse

    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of days") from None
    if not 1 <= days <= 366:
        raise argparse.ArgumentTypeError(f"{days} is not between 1 and 366 days")
    return days


def admin_report_data(args: argparse.Namespace) -> dict:
    """The report: through the Supabase API with the service-role key when it and the
    project URL are set, else straight from the local database."""
    settings = _settings(args)
    key = os.environ.get(SERVICE_ROLE_ENV)
    if key and settings.supabase_url and not args.local:
        import asyncio

        return asyncio.run(_remote_report(settings.supabase_url, key, args.days))
    if getattr(args, "supabase", False):
        from services.errors import ConfigError

        raise ConfigError(
            f"The operators' report needs the project's service-role key in "
            f"{SERVICE_ROLE_ENV} (and SUPABASE_URL); keep it out of the "
            "config file."
        )
    return _local_report(settings.database_url, args.days)


async def _remote_report(url: str, key: str, days: int) -> dict:
    import tempfile

    from services.authoring.publishing import AuthoringAPI
    from services.data.backend import SupabaseBackend
    from services.errors import ConfigError, NotSignedIn, PermissionDenied

    with tempfile.TemporaryDirectory() as tmp:
        # Its own (empty) session file: a learner's saved session must not be used.
        backend = SupabaseBackend(
            url, key, auto_refresh=False, session_path=Path(tmp) / "session.json"
        )
        try:
            return await AuthoringAPI(backend).admin_report(days)
        except (NotSignedIn, PermissionDenied):
            raise ConfigError(
                f"{SERVICE_ROLE_ENV} is not this project's service-role key: "
                "the report is for the service role only."
            ) from None
        finally:
            await backend.close()


def _local_report(database_url: str | None, days: int) -> dict:
    import psycopg

    from services import errors
    from services.text import terminal_safe_json

    url = database_url
    if url is None:
        from services.data.database import EmbeddedPostgres, migrate

        server = EmbeddedPostgres()
        if not server.is_initialised:
            _say(f"Creating the local database in {server.pgdata} …")
        url = server.start()
        migrate(url, progress=lambda message: _say(f"  {message}"))
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            report = conn.execute("select public.admin_report(%s)", (days,)).fetchone()[0]
            return terminal_safe_json(report)  # course titles come from authors
    except psycopg.Error as exc:
        raise errors.from_psycopg(exc, signed_in=True) from exc


def admin_main(args: argparse.Namespace) -> int:
    import json

    from services.authoring.report import report_text

    report = admin_report_data(args)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(errors="replace")
        print(report_text(report))
    return 0


# -- the parser ------------------------------------------------------------------------


def add_commands(sub, supabase_flag) -> None:
    course = sub.add_parser(
        "course", help="write courses as folders: validate, preview, publish, export"
    )
    commands = course.add_subparsers(dest="course_command", metavar="COMMAND", required=True)
    new = commands.add_parser(
        "new",
        help="start a course: a folder with one lesson and one "
        "assessment that validates and previews as it is",
    )
    new.add_argument(
        "slug",
        metavar="SLUG",
        help="the course's slug and folder name (lowercase letters, digits, dashes)",
    )
    new.add_argument("--dir", default=".", help="where to create SLUG/ (default: here)")
    validate = commands.add_parser(
        "validate",
        help="check a course folder: every problem "
        "with its file and line (exit 0 valid, 1 invalid, 2 not "
        "a course folder)",
    )
    validate.add_argument("dir", metavar="DIR")
    validate.add_argument(
        "--no-run",
        action="store_true",
        help="check the files only, without running the reference solutions and starters",
    )
    preview = commands.add_parser(
        "preview",
        help="the course as learners will see it, without a database; reloads when a file changes",
    )
    preview.add_argument("dir", metavar="DIR")
    publish = commands.add_parser(
        "publish",
        help="validate, then publish as the signed-in "
        "author (again: updates it; nothing changed: no changes)",
    )
    publish.add_argument("dir", metavar="DIR")
    publish.add_argument(
        "--draft", action="store_true", help="publish as a draft that only you can see"
    )
    supabase_flag(publish)
    export = commands.add_parser("export", help="write one of your courses back to a folder")
    export.add_argument("course", metavar="COURSE", help="the course's slug")
    export.add_argument(
        "dir", metavar="DIR", help="the course folder, or the folder to create it in (DIR/COURSE)"
    )
    export.add_argument("--force", action="store_true", help="overwrite a non-empty folder")
    supabase_flag(export)

    admin = sub.add_parser("admin", help="operators: the platform report")
    admin_commands = admin.add_subparsers(dest="admin_command", metavar="COMMAND", required=True)
    report = admin_commands.add_parser(
        "report",
        help=f"active learners, completion, assessments, AI usage, streaks and "
        f"achievements (with {SERVICE_ROLE_ENV} through the Supabase API, else the local "
        "database)",
    )
    report.add_argument("--json", action="store_true", help="print the report as JSON")
    report.add_argument(
        "--days", type=_days, default=30, help="days of daily figures, 1 to 366 (default 30)"
    )
    report.add_argument(
        "--local",
        action="store_true",
        help="read the local database (or DATABASE_URL) even when a service-role key is set",
    )
    supabase_flag(report)


COMMANDS = {"course": course_main, "admin": admin_main}
