"""Where the model is, and the client that talks to it.

    Endpoint                      a server's base URL, key, model and where it was set
    probe_ollama(url)             the models of an Ollama running there, or None
    origin_of(settings)           where the AI server's address was set, for messages
    load_module(name)             a heavy module imported in a thread the first time
    load_openai()                 the openai module, the same way
    make_client(base_url, …)      an openai.AsyncOpenAI with learn's timeouts
    OLLAMA_URL, OPENAI_URL, OPENAI_DEFAULT_MODEL

Discovery itself (configuration first, then Ollama) is `Tutor.endpoint()`.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from services.tutor.errors import where

if TYPE_CHECKING:
    from services.config import Settings

OLLAMA_URL = "http://127.0.0.1:11434"  # Ollama's default; found without configuration
OPENAI_URL = "https://api.openai.com/v1"  # when only an API key is configured
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"


def origin_of(settings: Settings) -> str:
    """Where the AI server's address was set: the environment or the config file."""
    source = settings.sources.get("openai_base_url") if settings.sources else None
    if source == "env":
        return "set by OPENAI_BASE_URL in the environment"
    if source == "file":
        return f"set in {settings.path or 'the config file'}"
    return ""  # OpenAI's own address, the default


@dataclass(frozen=True)
class Endpoint:
    """A model server to ask: its base URL (ending in /v1), key and model."""

    base_url: str
    api_key: str = field(repr=False)
    model: str
    source: str  # "config" (file or environment) | "ollama"
    origin: str = ""  # where the address was set, for error messages

    def describe(self) -> str:
        place = "Ollama" if self.source == "ollama" else where(self.base_url)
        return f"{self.model} · {place}"


_loaded: dict[str, Any] = {}


async def load_module(name: str) -> Any:
    """A heavy module, imported in a thread the first time (never blocking the UI)."""
    module = _loaded.get(name)
    if module is None:
        module = _loaded[name] = await asyncio.to_thread(importlib.import_module, name)
    return module


async def load_openai() -> Any:
    return await load_module("openai")


def make_client(
    base_url: str, api_key: str, *, timeout: float, connect_timeout: float, max_retries: int
) -> Any:
    import openai

    return openai.AsyncOpenAI(
        base_url=base_url,
        api_key=api_key,
        max_retries=max_retries,
        timeout=openai.Timeout(timeout, connect=connect_timeout),
    )


async def probe_ollama(url: str = OLLAMA_URL, *, timeout: float = 0.5) -> list[str] | None:
    """The models of an Ollama running at `url`, or None when nothing answers there."""
    httpx = await load_module("httpx")
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            response = await http.get(f"{url.rstrip('/')}/api/tags")
            if response.status_code == 200:
                return [
                    str(m.get("name") or m.get("model"))
                    for m in response.json().get("models") or []
                    if isinstance(m, Mapping)
                ]
            response = await http.get(f"{url.rstrip('/')}/v1/models")
            if response.status_code == 200:
                return [
                    str(m.get("id"))
                    for m in response.json().get("data") or []
                    if isinstance(m, Mapping)
                ]
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return None
