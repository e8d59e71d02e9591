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
