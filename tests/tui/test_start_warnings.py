"""Pilot: what the database says at start reaches the learner as one line."""

from __future__ import annotations

import psycopg

from tests.tui.helpers import first_run, wait_for_toast


async def test_an_edited_migration_is_named_in_a_toast_at_start_and_the_app_runs(
    make_app, seeded_url
):
    with psycopg.connect(seeded_url, autocommit=True) as conn:
        checksum = conn.execute(
            "select checksum from learn_meta.schema_migrations where version = '20261124000700'"
        ).fetchone()[0]
        conn.execute(
            "update learn_meta.schema_migrations set checksum = 'x'"
            " where version = '20261124000700'"
        )
        try:
            async with make_app().run_test(size=(120, 40)) as pilot:
                await wait_for_toast(
                    pilot, lambda n: "20261124000700_api.sql" in str(n.message), "warning"
                )
                await first_run(pilot)  # and the app carries on
        finally:
            conn.execute(
                "update learn_meta.schema_migrations set checksum = %s"
                " where version = '20261124000700'",
                (checksum,),
            )
    message = next(
        str(n.message)
        for n in pilot.app._notifications
        if "20261124000700_api.sql" in str(n.message)
    )
    assert (
        message.startswith(
            "Migration 20261124000700_api.sql was edited after this database applied it"
        )
        and "\n" not in message
    )
