"""Counted nouns: "1 lesson", "2 lessons" (every count the program prints goes here)."""

from __future__ import annotations

IRREGULAR = {"day": "days", "entry": "entries", "summary": "summaries"}


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`count` and the noun in the form the count needs: plural(1, "lesson") is
    "1 lesson", plural(0, "lesson") "0 lessons"."""
    if count == 1:
        return f"{count} {singular}"
    return f"{count} {plural_form or IRREGULAR.get(singular) or singular + 's'}"


def counted(count: int, singular: str, plural_form: str | None = None) -> str:
    """The noun alone, as `count` needs it ("last 1 day" → "day")."""
    return plural(count, singular, plural_form).split(" ", 1)[1]
