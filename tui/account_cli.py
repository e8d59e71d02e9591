"""`learn doctor`, `config`, `login`, `logout` and `courses`: the settings, the account
and the catalog, for people and scripts (services.config, services.doctor, the backend).

Public names: add_commands (the parser's entries), COMMANDS (name → handler).
Imports stay inside the handlers: `learn --help` loads none of this.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tui.cli import load_settings, seed_bundled_courses

if TYPE_CHECKING:
    import argparse


def _doctor(args: argparse.Namespace) -> int:
    """Print what is configured and reachable; exit 1 if anything failed."""
    import asyncio

    from services import doctor

    checks = asyncio.run(doctor.run(load_settings(args)))
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
        load_settings(args),
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

    backend = backend_from_settings(load_settings(args), auto_refresh=False)

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


def add_commands(sub, supabase_flag) -> None:
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
        load_settings(args),
        auto_refresh=False,
        seed=seed_bundled_courses,
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


COMMANDS = {
    "doctor": _doctor,
    "config": _config,
    "login": _login,
    "logout": _logout,
    "courses": _courses,
}
