"""One API over two backends: the embedded (or any) PostgreSQL, or a Supabase project.

Every data operation is `await backend.call(fn, **args)`: one call of the SQL
function `public.<fn>` with named arguments, returning its JSON. Both backends run
it as PostgREST does — one transaction, role `anon` or `authenticated`,
`request.jwt.claims` of the signed-in user — so RLS and `auth.uid()` decide the
same things, and failures arrive as the same `LearnError` kinds (services.errors).

    backend_from_settings  the backend the settings select (defined here)

and, re-exported so `from services.data.backend import …` keeps working:

    Backend, BatchBackend, CurrentUser, call_batch, …   services.data.protocol
    Signature, choose_signature, call_statement, …      services.data.signatures
    LocalBackend                                        services.data.local
    SupabaseBackend                                     services.data.supabase
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from services.data.local import LocalBackend
from services.data.protocol import (
    Backend,
    BatchBackend,
    CurrentUser,
    Progress,
    call_batch,
    can_batch,
    check_email,
    check_identifier,
    json_default,
)
from services.data.session import file_session_storage
from services.data.signatures import (
    FUNCTION_LOOKUP_SQL,
    Signature,
    call_statement,
    choose_signature,
)
from services.data.supabase import SupabaseBackend

if TYPE_CHECKING:
    from services.config import Settings
    from services.data.headstart import HeadStart

__all__ = [
    "FUNCTION_LOOKUP_SQL",
    "Backend",
    "BatchBackend",
    "CurrentUser",
    "LocalBackend",
    "Progress",
    "Signature",
    "SupabaseBackend",
    "backend_from_settings",
    "call_batch",
    "call_statement",
    "can_batch",
    "check_email",
    "check_identifier",
    "choose_signature",
    "file_session_storage",
    "json_default",
]


def backend_from_settings(
    settings: Settings,
    *,
    progress: Progress | None = None,
    auto_refresh: bool = True,
    session_path: Path | None = None,
    seed: Callable[[str, Progress | None], None] | None = None,
    head_start: HeadStart | None = None,
) -> LocalBackend | SupabaseBackend:
    """The backend the settings select (see services.config); `head_start` is for the
    embedded database (LocalBackend)."""
    if settings.backend_kind == "supabase":
        settings.require_supabase()
        return SupabaseBackend(
            settings.supabase_url or "",
            settings.supabase_key or "",
            auto_refresh=auto_refresh,
            session_path=session_path,
        )
    return LocalBackend(
        settings.database_url,
        progress=progress,
        session_path=session_path,
        seed=seed,
        head_start=head_start,
    )
