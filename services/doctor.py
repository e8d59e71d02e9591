"""`learn doctor`: what is configured and what is reachable, one line per check.

Each check says ok, warn (works, but something is missing) or fail (something
configured is broken), and what to do about it. Probes are short (a few seconds)
and never print secrets. Imports neither textual, openai nor supabase. It stays one
module (~500 lines): it is the one list of what `learn doctor` checks, each check a short
function, and `run` reads them in display order.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from services import paths
from services.config import KEY_KINDS, Settings, key_kind, mask_url
from services.tutor.endpoint import OLLAMA_URL, OPENAI_URL, probe_ollama


@dataclass(frozen=True)
class Check:
    status: str  # "ok" | "warn" | "fail"
    name: str
    detail: str
    fix: str | None = None

    def line(self) -> str:
        text = f"{self.status:<5} {self.name:<11} {self.detail}"
        return f"{text} — {self.fix}" if self.fix else text


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


# -- database ------------------------------------------------------------------------


def _local_checks(settings: Settings) -> list[Check]:
    import psycopg

    from services.data import database

    checks: list[Check] = []
    if settings.database_url:
        url = settings.database_url
        checks.append(Check("ok", "backend", f"local, PostgreSQL at {mask_url(url)}"))
    else:
        server = database.EmbeddedPostgres()
        checks.append(Check("ok", "backend", f"local, embedded PostgreSQL in {server.pgdata}"))
        if not server.is_initialised:
            checks.append(
                Check(
                    "warn",
                    "database",
                    "not created yet",
                    "start `learn` (or run `learn status`) to create it",
                )
            )
            return checks
        try:
            url = server.start()
        except Exception as exc:
            checks.append(
                Check(
                    "fail",
                    "database",
                    f"the embedded server did not start ({_first_line(exc)})",
                    f"see {server.pgdata / 'log'}; moving the folder away starts afresh",
                )
            )
            return checks
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            row = conn.execute("show server_version").fetchone()
            assert row is not None  # show: always one row
            version = row[0]
            checks.append(Check("ok", "database", f"PostgreSQL {version} reachable"))
            done = database.applied_versions(conn)
            pending = database.pending(conn)
            edited = database.changed(conn, done=done)
    except psycopg.Error as exc:
        checks.append(
            Check(
                "fail",
                "database",
                f"can't connect ({_first_line(exc)})",
                "is the server running? check DATABASE_URL (`learn config`)",
            )
        )
        return checks
    if pending:
        names = ", ".join(m.version for m in pending[:3]) + ("…" if len(pending) > 3 else "")
        checks.append(
            Check(
                "warn",
                "migrations",
                f"{len(pending)} pending ({names})",
                "start `learn` (or run `learn status`) to apply them",
            )
        )
    else:
        checks.append(Check("ok", "migrations", f"schema current ({len(done)} applied)"))
        try:
            with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
                row = conn.execute("select private.grading_overview()").fetchone()
                assert row is not None  # a select without from: one row
                overview = row[0]
            checks.append(grader_check(overview, in_process=not settings.database_url))
        except psycopg.Error as exc:
            checks.append(Check("warn", "grader", f"could not be asked ({_first_line(exc)})"))
    if edited:
        checks.append(
            Check(
                "warn",
                "migrations",
                database.changed_message(edited),
                "the app still runs: your data is untouched",
            )
        )
    return checks


GRADER_RECENT_S = 60  # a heartbeat (every claim, ~2 s when idle) this recent: running


def grader_check(overview: dict[str, Any], *, in_process: bool = False) -> Check:
    """Whether a grader (`learn grader`) has been seen recently, from grading_status()."""
    from datetime import datetime, timezone

    pending = int(overview.get("pending") or 0)
    waiting = f"; {pending} submission{'s' if pending != 1 else ''} waiting" if pending else ""
    seen = overview.get("grader_seen_at")
    if in_process:
        return Check("ok", "grader", f"in-process: the app grades verified submissions{waiting}")
    if not seen:
        return Check(
            "warn",
            "grader",
            f"none seen yet{waiting}",
            "verified courses wait for one: run `learn grader` (see README)",
        )
    when = datetime.fromisoformat(str(seen).replace("Z", "+00:00"))
    ago = (datetime.now(timezone.utc) - when).total_seconds()
    if ago <= GRADER_RECENT_S:
        return Check("ok", "grader", f"seen {ago:.0f} s ago{waiting}")
    return Check(
        "warn",
        "grader",
        f"last seen {_ago(ago)} ago{waiting}",
        "verified courses wait for one: run `learn grader` (see README)",
    )


def _ago(seconds: float) -> str:
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


async def _supabase_checks(settings: Settings, timeout: float) -> list[Check]:
    import httpx

    url = (settings.supabase_url or "").rstrip("/")
    checks = [Check("ok", "backend", f"supabase, {url}"), _key_check(settings.supabase_key or "")]
    # As supabase-py sends it signed out: a publishable key may be the bearer only because
    # it equals the apikey header.
    headers = {
        "apikey": settings.supabase_key or "",
        "Authorization": f"Bearer {settings.supabase_key}",
    }
    async with httpx.AsyncClient(timeout=timeout) as http:
        try:
            health = await http.get(f"{url}/auth/v1/health", headers=headers)
        except httpx.HTTPError as exc:
            checks.append(
                Check(
                    "fail",
                    "auth",
                    f"unreachable ({type(exc).__name__})",
                    "check SUPABASE_URL and your connection",
                )
            )
            return checks
        if health.status_code == 401:
            checks.append(
                Check(
                    "fail",
                    "auth",
                    "the API key was rejected",
                    "check supabase_key (`learn config supabase_key …`)",
                )
            )
            return checks
        if health.status_code != 200:
            checks.append(
                Check("fail", "auth", f"answered HTTP {health.status_code}", "check SUPABASE_URL")
            )
            return checks
        checks.append(Check("ok", "auth", "Supabase Auth reachable"))
        try:
            probe = await http.post(
                f"{url}/rest/v1/rpc/catalog", json={"p_limit": 1}, headers=headers
            )
        except httpx.HTTPError as exc:
            checks.append(
                Check(
                    "fail",
                    "database",
                    f"unreachable ({type(exc).__name__})",
                    "try again; see the project's status in the dashboard",
                )
            )
            return checks
    code = _json(probe).get("code") if probe.status_code >= 400 else None
    if probe.status_code == 200:
        checks.append(Check("ok", "database", "API functions answer"))
        checks.append(await _supabase_grader_check(url, headers, timeout))
    elif code == "PGRST202":
        checks.append(
            Check(
                "fail",
                "migrations",
                "the API functions are missing",
                "push the migrations: `supabase link` then `supabase db push`",
            )
        )
    else:
        checks.append(
            Check(
                "fail",
                "database",
                f"the API answered HTTP {probe.status_code}{f' ({code})' if code else ''}",
                "check the project's logs in the Supabase dashboard",
            )
        )
    return checks


def _key_check(key: str) -> Check:
    """Which kind of API key is configured (config.load has refused the RLS-bypassing
    ones already, so a secret key never gets this far)."""
    kind = key_kind(key)
    if kind == "publishable":
        return Check("ok", "api key", KEY_KINDS[kind])
    if kind == "legacy-anon":
        return Check(
            "warn",
            "api key",
            f"{KEY_KINDS[kind]}: Supabase retires legacy keys by the end of 2026",
            "create a publishable key (dashboard → Project Settings → API Keys), "
            "then `learn config supabase_key sb_publishable_…`",
        )
    return Check(
        "warn",
        "api key",
        KEY_KINDS.get(kind, kind),
        "use the project's publishable key (sb_publishable_…)",
    )


async def _supabase_grader_check(url: str, headers: dict[str, str], timeout: float) -> Check:
    import httpx

    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            answer = await http.post(f"{url}/rest/v1/rpc/grading_status", json={}, headers=headers)
    except httpx.HTTPError as exc:
        return Check("warn", "grader", f"could not be asked ({type(exc).__name__})")
    if answer.status_code != 200:
        return Check(
            "warn",
            "grader",
            f"could not be asked (HTTP {answer.status_code})",
            "push the migrations: `supabase db push`",
        )
    return grader_check(_json(answer))


def _json(response: Any) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _session_check(settings: Settings) -> Check:
    import json

    from services.data.session import SessionStore

    store = SessionStore()
    if settings.backend_kind == "supabase":
        raw = store.get(
            f"supabase:{(settings.supabase_url or '').rstrip('/')}", "supabase.auth.token"
        )
        try:
            email = json.loads(raw)["user"].get("email") if raw else None
        except (ValueError, KeyError, TypeError, AttributeError):
            email = None
        if raw:
            return Check("ok", "session", f"signed in{f' as {email}' if email else ''}")
        return Check("warn", "session", "not signed in", "run `learn login`")
    from services.data.backend import LocalBackend

    signed_in = store.get(LocalBackend(settings.database_url).namespace, "user") is not None
    if signed_in:
        return Check("ok", "session", "a local profile is signed in")
    return Check(
        "warn",
        "session",
        "no local profile yet",
        "start `learn` and give your name, or `learn login --new`",
    )


# -- files on this machine ----------------------------------------------------------------


def _files_checks() -> list[Check]:
    """The offline queue and read cache (opening them moves a damaged one aside, and
    says so), and the log file."""
    from services import logs
    from services.errors import LearnError
    from services.offline.cache import ReadCache
    from services.offline.outbox import Outbox
    from services.offline.store import take_notices

    checks: list[Check] = []
    try:
        outbox = Outbox()
        try:
            rows = outbox.count_by_status()
        finally:
            outbox.close()
        ReadCache().close()
    except LearnError as exc:
        checks.append(Check("fail", "offline", str(exc)))
    else:
        waiting, refused = rows.get("queued", 0), rows.get("refused", 0)
        fix = "run `learn sync`" if waiting or refused else None
        checks.append(
            Check(
                "warn" if fix else "ok",
                "offline",
                f"{waiting} changes waiting, {refused} refused ({outbox.path})",
                fix,
            )
        )
    for line in take_notices():
        checks.append(Check("warn", "repaired", line))
    where = logs.current_file() or logs.log_file()
    checks.append(Check("ok", "log", f"{where} (unexpected errors, with a reference)"))
    return checks


# -- sandbox ---------------------------------------------------------------------------


def _sandbox_check() -> Check:
    try:
        from services.runner import available_languages, sandbox_strength
    except ImportError:
        return Check(
            "warn",
            "sandbox",
            "the code runner is not installed in this build",
            "assessments can't be graded until it is",
        )
    try:
        strength = sandbox_strength()
        languages = ", ".join(available_languages())
    except Exception as exc:
        return Check("warn", "sandbox", f"could not be determined ({_first_line(exc)})")
    if strength == "strong":
        return Check("ok", "sandbox", f"strong: own user, PID and network namespaces ({languages})")
    return Check(
        "warn",
        "sandbox",
        f"{strength}: process group and resource limits only, network reachable ({languages})",
        "for the strong sandbox allow unprivileged user namespaces "
        "(Linux: `unshare --user --map-root-user true` must work)",
    )


# -- AI model ----------------------------------------------------------------------------


async def _ai_check(settings: Settings, timeout: float, *, ollama_url: str = OLLAMA_URL) -> Check:
    import httpx

    base = settings.openai_base_url or (OPENAI_URL if settings.openai_api_key else None)
    model = settings.model
    async with httpx.AsyncClient(timeout=timeout) as http:
        if base is None:
            # As the tutor finds a model with nothing configured (Tutor.endpoint).
            names = await probe_ollama(ollama_url, timeout=min(timeout, 1.5))
            if names is None:
                return Check(
                    "warn",
                    "ai model",
                    "none configured: the tutor shows matching course passages instead",
                    f"set openai_base_url + model (`learn config`), e.g. Ollama at {OLLAMA_URL}/v1",
                )
            if not names:
                return Check(
                    "warn",
                    "ai model",
                    f"Ollama is running at {ollama_url} but has no models",
                    "`ollama pull qwen2.5-coder` (or any chat model)",
                )
            chosen = model if model in names else names[0]
            return Check(
                "ok",
                "ai model",
                f"{chosen} on Ollama at {ollama_url}, found "
                f"without configuration ({len(names)} models)",
            )
        headers = (
            {"Authorization": f"Bearer {settings.openai_api_key}"}
            if settings.openai_api_key
            else {}
        )
        try:
            response = await http.get(f"{base.rstrip('/')}/models", headers=headers)
        except httpx.HTTPError as exc:
            return Check(
                "fail",
                "ai model",
                f"{base} unreachable ({type(exc).__name__})",
                "is the model server running? check openai_base_url",
            )
    if response.status_code in (401, 403):
        return Check(
            "fail",
            "ai model",
            f"{base} rejected the API key",
            "check OPENAI_API_KEY (`learn config openai_api_key …`)",
        )
    if response.status_code != 200:
        return Check(
            "fail",
            "ai model",
            f"{base} answered HTTP {response.status_code}",
            "check openai_base_url",
        )
    offered = [
        str(m["id"]) for m in _json(response).get("data", []) if isinstance(m, dict) and m.get("id")
    ]
    if not model:
        return Check(
            "warn",
            "ai model",
            f"{base} reachable but no model chosen",
            f"`learn config model {offered[0] if offered else '<model>'}`",
        )
    if offered and model not in offered:
        return Check(
            "fail",
            "ai model",
            f"{base} does not offer {model!r}",
            f"choose one of: {', '.join(offered[:5])}",
        )
    return Check("ok", "ai model", f"{model} at {base}")


# ---------------------------------------------------------------------------------------


async def run(settings: Settings, *, timeout: float = 3.0) -> list[Check]:
    """Every check, in display order."""
    path = settings.path or paths.config_file()
    checks = [
        Check(
            "ok",
            "config",
            f"{path}" + ("" if path.exists() else " (none yet: defaults and environment)"),
        )
    ]
    if settings.backend_kind == "supabase":
        if not settings.supabase_configured:
            checks.append(
                Check(
                    "fail",
                    "backend",
                    "supabase chosen but not configured",
                    "set SUPABASE_URL and SUPABASE_PUBLISHABLE_KEY (`learn config`)",
                )
            )
        else:
            checks += await _supabase_checks(settings, timeout)
    else:
        checks += await asyncio.to_thread(_local_checks, settings)
    checks.append(_session_check(settings))
    checks += _files_checks()
    checks.append(_sandbox_check())
    checks.append(await _ai_check(settings, timeout))
    return checks
