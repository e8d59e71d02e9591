"""The machine's IANA time zone, for a new learner's profile."""

from __future__ import annotations

import os
from pathlib import Path


def detect_timezone() -> str:
    """TZ, then /etc/timezone, then the /etc/localtime link; UTC when unknown."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if (tz and "/" in tz) or tz == "UTC":
        return tz
    try:
        name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
        if name:
            return name
    except OSError:
        pass
    try:
        target = os.readlink("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return "UTC"


def timezone_problem(name: str) -> str | None:
    """Why `name` cannot be a profile's time zone, in the database's words (its
    profiles_check trigger decides for every write; this only says it before one):
    None when it is a time zone this machine knows, or when it knows none at all."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    if name == "UTC":
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if available_timezones():  # no tz database on this machine: the server decides
            return f'unknown time zone "{name}": use an IANA name such as Europe/Berlin or UTC'
    return None
