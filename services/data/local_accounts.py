"""Local accounts: rows of auth.users on a plain PostgreSQL, made and checked as GoTrue would.

    create            an account (email and scrypt password, or a passwordless profile);
                      the signup trigger makes its profile, as on Supabase
    check_password    the account an email and password sign in to (AuthError if none)
    profiles          the accounts on this database, for a "who's learning?" picker
    passwordless      the account of a profile without a password (single-user mode)
    still_there       the saved learner, if the database still has them

Each takes `su(query, params)`: a statement run as the connection's owner role in its own
transaction (services.data.local.LocalBackend._su), returning the rows. Passwords are
hashed with services.data.local_auth, in a thread (scrypt takes ~50-100 ms).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from services.data import local_auth
from services.data.protocol import CurrentUser, check_email
from services.errors import AuthError, Conflict, InvalidInput, NotFound
from services.text import terminal_safe

log = logging.getLogger("learn.backend")

Su = Callable[..., Awaitable[list[tuple]]]


async def create(
    su: Su, email: str | None, password: str | None, *, full_name: str | None, meta: dict[str, Any]
) -> CurrentUser:
    """An account in auth.users. `email=None, password=None` makes a local profile
    without a password (single-user mode: the first run only asks for a name)."""
    from psycopg.types.json import Jsonb

    if email is not None:
        email = check_email(email)
    if password is not None:
        if email is None:
            raise InvalidInput("An account with a password needs an email to sign in with.")
        local_auth.check_password(password)
    metadata = {**meta}
    if full_name:
        metadata["full_name"] = full_name.strip()
    hashed = await asyncio.to_thread(local_auth.hash_password, password) if password else None
    user_id = str(uuid.uuid4())
    try:
        await su(
            "insert into auth.users (instance_id, id, aud, role, email, encrypted_password,"
            " email_confirmed_at, raw_app_meta_data, raw_user_meta_data, last_sign_in_at,"
            " is_anonymous)"
            " values ('00000000-0000-0000-0000-000000000000', %s, 'authenticated',"
            " 'authenticated', %s, %s, case when %s::text is null then null else now() end,"
            " %s, %s, now(), false)",
            (
                user_id,
                email,
                hashed,
                email,
                Jsonb(
                    {
                        "provider": "email" if email else "local",
                        "providers": ["email" if email else "local"],
                    }
                ),
                Jsonb(metadata),
            ),
        )
    except Conflict:
        raise Conflict(
            "An account with this email already exists: sign in with `learn login`.",
            code="user_already_exists",
        ) from None
    log.info("local account created")
    return CurrentUser(user_id, email)


async def check_password(su: Su, email: str, password: str) -> CurrentUser:
    """The account `email` and `password` sign in to (its last sign-in noted)."""
    rows = await su(
        "select id::text, email, encrypted_password from auth.users"
        " where lower(email) = lower(%s) and deleted_at is null",
        (email.strip(),),
    )
    stored = rows[0][2] if rows else None
    ok = await asyncio.to_thread(local_auth.verify_password, password, stored)
    if not ok:
        raise AuthError("Wrong email or password.", code="invalid_credentials")
    await su("update auth.users set last_sign_in_at = now() where id = %s", (rows[0][0],))
    return CurrentUser(rows[0][0], rows[0][1])


async def profiles(su: Su) -> list[dict[str, Any]]:
    """Accounts on this database (for a "who's learning?" picker), their text cleaned."""
    rows = await su(
        "select u.id::text, u.email, p.full_name, u.encrypted_password is not null"
        " from auth.users u left join public.profiles p on p.id = u.id"
        " where u.deleted_at is null order by u.created_at"
    )
    return [
        {
            "id": r[0],
            "email": r[1] and terminal_safe(r[1]),  # others' text
            "full_name": r[2] and terminal_safe(r[2]),
            "has_password": r[3],
        }
        for r in rows
    ]


async def passwordless(su: Su, user_id: str) -> CurrentUser:
    """The local profile `user_id`, which must have no password (single-user mode)."""
    rows = await su(
        "select id::text, email, encrypted_password is not null"
        " from auth.users where id = %s and deleted_at is null",
        (str(uuid.UUID(user_id)),),
    )
    if not rows:
        raise NotFound("There is no such local profile.")
    if rows[0][2]:
        raise AuthError("That profile has a password: sign in with `learn login`.")
    return CurrentUser(rows[0][0], rows[0][1])


async def still_there(su: Su, user_id: str) -> CurrentUser | None:
    """The saved learner, or None when the database no longer has them (it was reset)."""
    rows = await su(
        "select id::text, email from auth.users where id = %s and deleted_at is null",
        (user_id,),
    )
    return CurrentUser(rows[0][0], rows[0][1]) if rows else None
