"""Passwords of local accounts: scrypt with a random salt (stdlib only).

Stored in auth.users.encrypted_password as `scrypt$<n>$<r>$<p>$<salt>$<hash>`
(salt and hash base64, no padding). The parameters travel with each hash, so they
can be raised later without breaking existing accounts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from services.errors import InvalidInput

# n=2**15, r=8: 32 MiB and ~50-100 ms per hash — slow for guessing, fine for signing in.
N, R, P = 2**15, 8, 1
MIN_PASSWORD_LENGTH = 6  # GoTrue's default minimum, so both backends accept the same
MAX_PASSWORD_LENGTH = 1024
_MAXMEM = 64 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def check_password(password: str) -> None:
    """InvalidInput unless the password is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Password should be at least {MIN_PASSWORD_LENGTH} characters.", code="weak_password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Password should be at most {MAX_PASSWORD_LENGTH} characters.", code="weak_password"
        )


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=32
    )
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when `password` matches `stored`; False for no or malformed hashes."""
    if not stored:
        # Same work as a real check, so timing does not reveal unknown accounts.
        hashlib.scrypt(b"", salt=b"0" * 16, n=N, r=R, p=P, maxmem=_MAXMEM, dklen=32)
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
