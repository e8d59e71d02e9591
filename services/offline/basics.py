"""What every offline module shares: how values are written to the SQLite files, and how a
failure is re-raised.

    canonical_json(value)   one text per value (sorted keys, no spaces): cache keys, stored
                            arguments and results
    utcnow(), iso(moment)   the time now in UTC; a moment as ISO 8601 text in UTC
    is_unreachable(error)   the backend could not answer: try again later
    reraise(error, exc)     raise the mapped LearnError, chained to the original
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, NoReturn

from services import errors
from services.data.backend import json_default
from services.errors import LearnError


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces (the cache key of a call's arguments)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=json_default
    )


def is_unreachable(error: LearnError) -> bool:
    """The backend could not answer (network, DNS, timeouts, HTTP 5xx, a lost PostgreSQL
    connection): try again later. A bug of ours (UnexpectedError) is not."""
    return errors.is_unreachable(error)


def reraise(error: LearnError, exc: BaseException) -> NoReturn:
    """Raise the mapped error, chained to the original unless it is the original."""
    if error is exc:
        raise error
    raise error from exc
