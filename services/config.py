"""Settings: the TOML file in the config dir, overridden by environment variables.

    # ~/.config/learn/config.toml (see `learn config`)
    backend = "auto"                  # auto | local | supabase
    supabase_url = "https://abc.supabase.co"
    supabase_key = "sb_publishable_…"  # the project's publishable key (legacy: its anon key)
    database_url = "postgresql://…"   # local backend on your own PostgreSQL
    openai_base_url = "http://127.0.0.1:11434/v1"
    openai_api_key = "…"
    model = "qwen2.5-coder:7b"
    practice_dir = "~/learn"          # where `learn practice` writes your files
    theme = "nord"                    # the app's colour theme, saved when you change it

Environment variables win over the file: SUPABASE_URL, SUPABASE_PUBLISHABLE_KEY
(or SUPABASE_KEY, or the legacy SUPABASE_ANON_KEY), DATABASE_URL, OPENAI_API_KEY,
OPENAI_BASE_URL, LEARN_MODEL, LEARN_BACKEND. `supabase_anon_key` in the file is read as
`supabase_key`. With nothing configured the backend is the embedded local database; it
is Supabase when both the URL and the key are set (or `--supabase` is given).

The key is a client key: a publishable key (`sb_publishable_…`) or a legacy anon key.
A secret key (`sb_secret_…`) or a legacy service_role key bypasses RLS and must never
sit on a learner's machine: `key_kind` recognises them and `validate` refuses them.
Nothing relies on a key being a JWT: a legacy key's payload is read only to tell anon
from service_role (no signature check, no algorithm assumed).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from services import paths
from services.errors import ConfigError

BACKENDS = ("auto", "local", "supabase")

# key in the file → environment variable that overrides it
ENV = {
    "backend": "LEARN_BACKEND",
    "supabase_url": "SUPABASE_URL",
    "supabase_key": "SUPABASE_PUBLISHABLE_KEY",
    "database_url": "DATABASE_URL",
    "openai_api_key": "OPENAI_API_KEY",
    "openai_base_url": "OPENAI_BASE_URL",
    "model": "LEARN_MODEL",
    "practice_dir": "LEARN_PRACTICE_DIR",
    "theme": "LEARN_THEME",
}
# Further environment variables read (in this order, after the one above) for a key.
ENV_ALIASES = {"supabase_key": ("SUPABASE_KEY", "SUPABASE_ANON_KEY")}
# Older names of settings, accepted in the file and by `learn config`.
KEY_ALIASES = {"supabase_anon_key": "supabase_key"}
SECRETS = frozenset({"supabase_key", "openai_api_key"})
DESCRIPTIONS = {
    "backend": "auto (default), local or supabase",
    "supabase_url": "Supabase project URL, e.g. https://abc.supabase.co",
    "supabase_key": "Supabase publishable key (sb_publishable_…; a legacy anon key works)",
    "database_url": "PostgreSQL URL for the local backend instead of the embedded database",
    "openai_api_key": "API key for the AI tutor's OpenAI-compatible server",
    "openai_base_url": "OpenAI-compatible base URL (OpenAI, Ollama, LM Studio, vLLM)",
    "model": "model name for the AI tutor",
    "practice_dir": "folder `learn practice` writes assessments to (default ~/learn)",
    "theme": "the app's colour theme (ctrl+p → Change theme; kept across restarts)",
}


@dataclass(frozen=True)
class Settings:
    backend: str = "auto"
    supabase_url: str | None = None
    supabase_key: str | None = None
    database_url: str | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    model: str | None = None
    practice_dir: str | None = None
    theme: str | None = None
    # where each value came from: "env", "file" or "default"
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    path: Path | None = field(default=None, compare=False)

    @property
    def supabase_anon_key(self) -> str | None:
        """The old name of `supabase_key`."""
        return self.supabase_key

    @property
    def supabase_configured(self) -> bool:
        return bool(self.supabase_url and self.supabase_key)

    @property
    def backend_kind(self) -> str:
        """'local' or 'supabase' — what `backend_from_settings` will use."""
        if self.backend == "supabase":
            return "supabase"
        if self.backend == "local":
            return "local"
        return "supabase" if self.supabase_configured else "local"

    def require_supabase(self) -> None:
        missing = [ENV[k] for k in ("supabase_url", "supabase_key") if not getattr(self, k)]
        if missing:
            raise ConfigError(
                f"Supabase needs {' and '.join(missing)}: set them in the environment or "
                "with `learn config supabase_url …` / `learn config supabase_key …`."
            )

    def masked(self) -> dict[str, str | None]:
        """The settings for display: secrets and passwords hidden."""
        shown: dict[str, str | None] = {}
        for key in ENV:
            value = getattr(self, key)
            if value is None:
                shown[key] = None
            elif key in SECRETS:
                shown[key] = mask_secret(value)
            elif key == "database_url":
                shown[key] = mask_url(value)
            else:
                shown[key] = value
        return shown


def mask_secret(value: str) -> str:
    """Enough to recognise a key, not enough to use it."""
    for prefix in (PUBLISHABLE_PREFIX, SECRET_PREFIX):
        if value.startswith(prefix) and len(value) >= len(prefix) + 12:
            return f"{prefix}…{value[-4:]}"
    if len(value) < 16:
        return "****"
    return f"{value[:4]}…{value[-4:]}"


def mask_url(url: str) -> str:
    """A URL with any password (userinfo or `password=` parameter) replaced by ****."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "****"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":****"
        netloc = f"{userinfo}@{host}"
    query = re.sub(r"(?i)(password=)[^&]*", r"\1****", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# -- Supabase API keys ----------------------------------------------------------------

PUBLISHABLE_PREFIX = "sb_publishable_"
SECRET_PREFIX = "sb_secret_"

KEY_KINDS = {
    "publishable": "a publishable key",
    "secret": "a secret key",
    "legacy-anon": "a legacy anon key (JWT)",
    "legacy-service-role": "a legacy service_role key (JWT)",
    "unknown": "not a Supabase API key format learn recognises",
}


def _jwt_role(value: str) -> str | None:
    """The `role` claim of a legacy JWT key, read without verifying it; None if it is
    not shaped like one. Used only to tell anon from service_role."""
    parts = value.split(".")
    if len(parts) != 3 or not value.startswith("eyJ"):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    role = payload.get("role") if isinstance(payload, dict) else None
    return role if isinstance(role, str) else None


def key_kind(value: str) -> str:
    """One of KEY_KINDS for a Supabase API key."""
    if value.startswith(PUBLISHABLE_PREFIX):
        return "publishable"
    if value.startswith(SECRET_PREFIX):
        return "secret"
    role = _jwt_role(value)
    if role == "anon":
        return "legacy-anon"
    if role == "service_role":
        return "legacy-service-role"
    return "unknown"


def check_client_key(value: str) -> str:
    """`value` if it may sit in a client's settings; a one-line ConfigError if it is a
    key that bypasses RLS."""
    kind = key_kind(value)
    if kind in ("secret", "legacy-service-role"):
        raise ConfigError(
            f"supabase_key is {KEY_KINDS[kind]}, which bypasses Row Level Security and must "
            "never be on a learner's machine: use the project's publishable key "
            "(sb_publishable_…, dashboard → Project Settings → API Keys)."
        )
    return value


def _known_keys() -> list[str]:
    return [f.name for f in fields(Settings) if f.name in ENV]


def normalise_key(key: str) -> str:
    """A settings key from its name or its environment variable (any case)."""
    wanted = key.strip().lower().replace("-", "_")
    by_env = {env.lower(): name for name, env in ENV.items()}
    by_env.update({env.lower(): name for name, envs in ENV_ALIASES.items() for env in envs})
    wanted = by_env.get(wanted, wanted)
    wanted = KEY_ALIASES.get(wanted, wanted)
    if wanted not in ENV:
        raise ConfigError(f"Unknown setting {key!r}; known: {', '.join(_known_keys())}.")
    return wanted


def validate(key: str, value: str) -> str:
    value = value.strip()
    if key == "backend" and value not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, not {value!r}.")
    if key in ("supabase_url", "openai_base_url") and not re.match(r"^https?://[^\s/]+", value):
        raise ConfigError(f"{key} must be an http:// or https:// URL.")
    if key == "theme" and not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", value):
        raise ConfigError(f"theme must be a theme's name such as textual-dark, not {value!r}.")
    if key == "database_url" and not re.match(r"^postgres(ql)?://", value):
        raise ConfigError("database_url must start with postgresql:// (or postgres://).")
    if any(ord(c) < 32 and c != "\t" for c in value):
        raise ConfigError(f"{key} must be one line without control characters.")
    if key == "supabase_key":
        check_client_key(value)
    return value


def read_file(path: Path) -> dict[str, str]:
    """The file's settings; a clear ConfigError for bad TOML, unknown keys or types."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: can't read it ({exc.strerror}).") from None
    # Imported here: most starts have no settings file (~5 ms before the first frame).
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix or delete the file.") from None
    values: dict[str, str] = {}
    for key, value in data.items():
        key = KEY_ALIASES.get(key, key)
        if key not in ENV:
            raise ConfigError(
                f"{path}: unknown setting {key!r}; known: {', '.join(_known_keys())}."
            )
        if not isinstance(value, str):
            raise ConfigError(f"{path}: {key} must be a quoted string.")
        values[key] = value
    return values


def load(
    path: Path | None = None, env: Mapping[str, str] | None = None, *, supabase: bool = False
) -> Settings:
    """Settings from the file, then the environment; `supabase=True` is `--supabase`."""
    path = path or paths.config_file()
    env = os.environ if env is None else env
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for key, value in read_file(path).items():
        if value.strip():
            try:
                values[key] = validate(key, value)
            except ConfigError as exc:
                raise ConfigError(f"{path}: {exc}") from None
            sources[key] = "file"
    for key, primary in ENV.items():
        for var in (primary, *ENV_ALIASES.get(key, ())):
            set_to = env.get(var)
            if set_to is not None and set_to.strip():
                try:
                    values[key] = validate(key, set_to)
                except ConfigError as exc:
                    raise ConfigError(f"{var} (environment): {exc}") from None
                sources[key] = "env"
                break
    if supabase:
        values["backend"] = "supabase"
        sources["backend"] = "flag"
    for key in ENV:
        sources.setdefault(key, "default")
    return Settings(**values, sources=sources, path=path)


def _toml_string(value: str) -> str:
    """A TOML basic string."""
    out = ['"']
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def dumps(values: Mapping[str, str]) -> str:
    lines = ["# learn settings — edit with `learn config KEY VALUE`; see `learn config`."]
    for key in ENV:
        if key in values:
            lines.append(f"{key} = {_toml_string(values[key])}")
    return "\n".join(lines) + "\n"


def write_file(path: Path, values: Mapping[str, str]) -> None:
    """Write atomically with mode 0600 (the file may hold keys)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(dumps(values))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def set_value(key: str, value: str | None, path: Path | None = None) -> tuple[str, Path]:
    """Set (or, with None or "", remove) one setting in the file; returns (key, path)."""
    path = path or paths.config_file()
    key = normalise_key(key)
    values = read_file(path)
    if value is None or not value.strip():
        values.pop(key, None)
    else:
        values[key] = validate(key, value)
    write_file(path, values)
    return key, path
