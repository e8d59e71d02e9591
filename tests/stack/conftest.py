"""`standin`: the Supabase stand-in (PostgREST RPC + GoTrue) over the module's database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.stack.supabase_standin import SupabaseStandIn


@pytest.fixture(scope="module")
def standin(db_url) -> Iterator[SupabaseStandIn]:
    with SupabaseStandIn(db_url) as api:
        yield api
