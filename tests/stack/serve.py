"""Run the Supabase stand-in by hand, to try `learn --supabase` as a person would.

    .venv/bin/python -m tests.stack.serve [--keys new|legacy] [--ttl SECONDS]
        [--identity you@example.test] [--port N]

Starts an embedded PostgreSQL in a temporary folder, applies the migrations, loads the
bundled courses, and serves the stand-in (REST, Auth, the fake OAuth provider and
Realtime) on loopback. It prints the environment to export. Then, on stdin:

    notify EMAIL TITLE…     the database writes a notification for that learner
    achieve EMAIL TITLE…    the same, as an achievement
    expire                  every access token issued so far counts as expired
    quit

A TEST STAND-IN (see supabase_standin.py): never point it at real data.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import psycopg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", choices=("new", "legacy"), default="new")
    parser.add_argument("--ttl", type=int, default=3600, help="access token lifetime (s)")
    parser.add_argument(
        "--identity", default="you@example.test", help="who the fake OAuth provider signs in"
    )
    args = parser.parse_args(argv)

    from services.data import database
    from services.data.seed import seed_bundled
    from tests.pg.servers import EmbeddedServer
    from tests.stack import SupabaseStandIn

    server = EmbeddedServer(Path("."))
    try:
        database.migrate(server.url)
        seed_bundled(server.url)
        with SupabaseStandIn(server.url, keys=args.keys, access_token_ttl=args.ttl) as api:
            api.oauth_identity = args.identity
            print(f"export SUPABASE_URL={api.url}")
            print(f"export SUPABASE_PUBLISHABLE_KEY={api.client_key}")
            print(
                f"# keys={args.keys}, token lifetime {args.ttl} s, provider github signs "
                f"in as {args.identity}",
                flush=True,
            )
            for line in sys.stdin:
                words = shlex.split(line)
                if not words:
                    continue
                if words[0] == "quit":
                    break
                if words[0] == "expire":
                    api.expire_access_tokens()
                    print("expired", flush=True)
                elif words[0] in ("notify", "achieve") and len(words) >= 3:
                    kind = "achievement" if words[0] == "achieve" else "info"
                    with psycopg.connect(server.url, autocommit=True) as conn:
                        done = conn.execute(
                            "insert into public.notifications (user_id, title, type)"
                            " select id, %s, %s from auth.users where lower(email) = lower(%s)"
                            " returning id",
                            (" ".join(words[2:]), kind, words[1]),
                        ).fetchall()
                    print(f"written: {len(done)}", flush=True)
                else:
                    print("notify EMAIL TITLE… | achieve EMAIL TITLE… | expire | quit", flush=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
