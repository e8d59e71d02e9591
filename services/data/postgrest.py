"""How PostgREST runs a request, for code that talks to PostgreSQL directly.

Per request, in one transaction, PostgREST sets (all transaction-local): the role
(anon, or the JWT's role claim), `request.jwt.claims` (the JWT payload as JSON) and
a few request GUCs, then runs the query and commits. The local backend and the tests
use exactly this, so RLS and auth.uid() behave as on Supabase.
"""

from __future__ import annotations

import json
import time
from typing import Any

REQUEST_SETTINGS_SQL = (
    "select set_config('search_path', 'public, extensions', true),"
    " set_config('role', %(role)s, true),"
    " set_config('request.jwt.claims', %(claims)s, true),"
    " set_config('request.method', 'POST', true),"
    " set_config('request.path', %(path)s, true),"
    " set_config('request.headers', '{}', true)"
)

API_ROLES = frozenset({"anon", "authenticated", "service_role"})


def claims(
    user_id: str | None, *, email: str | None = None, role: str | None = None, ttl: int = 3600
) -> dict[str, Any]:
    """The JWT payload GoTrue would issue (or the anon key's, for no user)."""
    now = int(time.time())
    if user_id is None:
        return {"role": role or "anon", "iat": now, "exp": now + ttl}
    return {
        "sub": str(user_id),
        "role": role or "authenticated",
        "aud": "authenticated",
        "email": email or "",
        "iat": now,
        "exp": now + ttl,
        "is_anonymous": False,
    }


def request_params(payload: dict[str, Any], path: str = "/") -> dict[str, str]:
    role = payload.get("role") or "anon"
    if role not in API_ROLES:
        raise ValueError(f"unknown API role {role!r}")
    return {"role": role, "claims": json.dumps(payload), "path": path}
