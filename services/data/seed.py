"""Bundled courses in the local database: published through the same API an author
uses (`publish_course`), as a local "learn" author account, whenever the bundled
content differs from what was loaded last."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from services.data import postgrest
from services.paths import bundled_courses

# The account that owns the bundled courses in a local database.
BUNDLED_AUTHOR_ID = "00000000-0000-4000-8000-00000000c0de"
BUNDLED_AUTHOR_EMAIL = "courses@learn.local"


def content_digest(folders: list[Path]) -> str:
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(folder.parent)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def seed_bundled(url: str, progress: Callable[[str], None] | None = None) -> int:
    """Publish every bundled course that changed; returns how many rows changed."""
    import psycopg

    from services.authoring.course import load_course
    from services.authoring.model import ContentError

    say = progress or (lambda _m: None)
    folders = bundled_courses()
    digest = content_digest(folders)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "create table if not exists learn_meta.bundled_content ("
            " digest text primary key, loaded_at timestamptz not null default now())"
        )
        if conn.execute(
            "select 1 from learn_meta.bundled_content where digest = %s", (digest,)
        ).fetchone():
            return 0
        conn.execute(
            "insert into auth.users (id, email, aud, role, raw_user_meta_data)"
            " values (%s, %s, 'authenticated', 'authenticated', %s) on conflict (id) do nothing",
            (
                BUNDLED_AUTHOR_ID,
                BUNDLED_AUTHOR_EMAIL,
                json.dumps({"full_name": "learn bundled courses"}),
            ),
        )
        claims = postgrest.claims(BUNDLED_AUTHOR_ID, email=BUNDLED_AUTHOR_EMAIL)
        changed = 0
        for folder in folders:
            try:
                course = load_course(folder)
            except ContentError as exc:
                say(f"skipping {folder.name}: {exc}")
                continue
            say(f"Loading the course “{course.title}” …")
            with conn.transaction():
                conn.execute(postgrest.REQUEST_SETTINGS_SQL, postgrest.request_params(claims))
                row = conn.execute(
                    "select public.publish_course(%s::jsonb)", (json.dumps(course.payload()),)
                ).fetchone()
                assert row is not None  # a select without from: one row
                result = row[0]
                changed += int(result["changed"])
                conn.execute(
                    "select public.set_course_grading(%s, %s)",
                    (result["course_id"], course.grading),
                )
        conn.execute(
            "insert into learn_meta.bundled_content (digest) values (%s) on conflict do nothing",
            (digest,),
        )
    return changed
