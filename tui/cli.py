"""`learn` — the command line entry point.

Subcommands import only what they need: `learn --help` and `learn check` load
neither textual, supabase nor openai.
"""

from __future__ import annotations

import argparse
import sys

from services import paths


def _status(_args: argparse.Namespace) -> int:
    """Start the local database (creating and migrating it on first run); print its state."""
    from services.database import EmbeddedPostgres, MigrationError, migrate

    server = EmbeddedPostgres()
    first = not server.is_initialised
    if first:
        print(f"Creating the local database in {server.pgdata} …", flush=True)
    try:
        url = server.start()
        applied = migrate(url, progress=lambda msg: print(f"  {msg}", flush=True))
    except MigrationError as exc:
        print(f"learn: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"learn: could not start the local database ({exc}); "
              f"see {server.pgdata / 'log'}", file=sys.stderr)
        return 1
    import psycopg

    with psycopg.connect(url) as conn:
        courses = conn.execute("select count(*) from public.courses").fetchone()[0]
        learners = conn.execute("select count(*) from public.profiles").fetchone()[0]
        version = conn.execute("show server_version").fetchone()[0]
    print(f"local database: PostgreSQL {version} at {server.pgdata}")
    print(f"migrations: {len(applied)} applied now, schema current")
    print(f"courses: {courses}   learners: {learners}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="learn", description="Learn in your terminal: courses, lessons, coding "
        "assessments and an AI tutor.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("status", help="start the local database and print its state")
    check = sub.add_parser("check", help="grade a solution: learn check ASSESSMENT.toml FILE",
                           add_help=False)
    check.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["check"]:
        from services.runner.check import main as check_main

        return check_main(argv[1:])
    args = build_parser().parse_args(argv)
    paths.data_dir()
    return _status(args)


if __name__ == "__main__":
    sys.exit(main())
