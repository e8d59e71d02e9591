"""How PostgREST calls a function, for the backends that emulate it.

    FUNCTION_LOOKUP_SQL  the catalog query that finds a function's overloads
    Signature            one overload: its input arguments, which are required, what it returns
    choose_signature     the one overload PostgREST would call (or PGRST202/203)
    call_statement       the SQL that calls it with one JSON parameter, cast to the
                         declared argument types as PostgREST does (`json_to_record`),
                         so `["a", "b"]` can fill a text[] or uuid[]

Used by LocalBackend and by the tests' PostgREST stand-in (tests/stack).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.errors import NotFound, ServerError

FUNCTION_LOOKUP_SQL = """
select p.proname as name,
       p.pronargs as nargs,
       p.pronargdefaults as ndefaults,
       p.proretset as returns_set,
       t.typname = 'void' as returns_void,
       (t.typtype = 'c' or t.oid = 'record'::regtype) as returns_row,
       coalesce(p.proargnames, '{}') as argnames,
       coalesce(p.proargmodes::text[], '{}') as argmodes,
       array(select format_type(a, null) from unnest(p.proargtypes) a) as argtypes
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
join pg_catalog.pg_type t on t.oid = p.prorettype
where n.nspname = %s and p.proname = %s and p.prokind = 'f'
"""


@dataclass(frozen=True)
class Signature:
    schema: str
    name: str
    args: tuple[tuple[str, str], ...]  # (name, type) of the input arguments, in order
    required: frozenset[str]
    returns_set: bool
    returns_void: bool
    returns_row: bool

    @classmethod
    def from_row(cls, schema: str, row: dict[str, Any]) -> Signature:
        names, modes = list(row["argnames"]), list(row["argmodes"])
        if modes:  # OUT/TABLE arguments are listed in argnames but not in argtypes
            names = [n for n, m in zip(names, modes, strict=False) if m in ("i", "b", "v")]
        names = (names + [""] * row["nargs"])[: row["nargs"]]
        args = tuple(zip(names, row["argtypes"], strict=True))
        n_required = row["nargs"] - row["ndefaults"]
        return cls(
            schema,
            row["name"],
            args,
            frozenset(n for n, _ in args[:n_required]),
            row["returns_set"],
            row["returns_void"],
            row["returns_row"],
        )

    def accepts(self, given: set[str]) -> bool:
        names = {n for n, _ in self.args}
        return all(names) and given <= names and self.required <= given


def choose_signature(
    schema: str, fn: str, rows: list[dict[str, Any]], given: set[str]
) -> Signature:
    """The one overload PostgREST would call, or NotFound / ServerError like PGRST202/203."""
    candidates = [s for s in (Signature.from_row(schema, r) for r in rows) if s.accepts(given)]
    if not candidates:
        listed = ", ".join(sorted(given))
        raise NotFound(
            f"The server has no function {schema}.{fn}({listed}): the database may "
            "need the latest migrations — run `learn doctor`.",
            code="PGRST202",
        )
    if len(candidates) > 1:
        raise ServerError(
            f"Several functions {schema}.{fn} match these arguments; the migrations need fixing.",
            code="PGRST203",
        )
    return candidates[0]


def call_statement(sig: Signature, given: list[str]) -> tuple[Any, bool]:
    """(SQL taking one JSON parameter with the arguments, True if it returns nothing)."""
    from psycopg import sql

    types = dict(sig.args)
    named = sql.SQL(", ").join(
        sql.SQL("{} := _a.{}").format(sql.Identifier(n), sql.Identifier(n)) for n in given
    )
    call = sql.SQL("{}.{}({})").format(sql.Identifier(sig.schema), sql.Identifier(sig.name), named)
    if given:
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(types[n])) for n in given
        )
        source: sql.Composable = sql.SQL(" from json_to_record(%s::json) as _a({})").format(columns)
    else:
        source = sql.SQL(" from (select %s::json) as _a")
    if sig.returns_set:
        query = sql.SQL(
            "select coalesce(json_agg(_s._v), '[]'::json) from (select {} as _v{}) as _s"
        ).format(call, source)
    elif sig.returns_void:
        query = sql.SQL("select {}{}").format(call, source)
    else:
        query = sql.SQL("select to_json({}){}").format(call, source)
    return query, sig.returns_void
