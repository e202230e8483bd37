"""Which providers are configured, and one SDK client per provider, built at start-up and closed at shutdown.

Clients are kept per event loop (under uvicorn: one loop, so one client per provider per process), since
an async HTTP pool cannot move between loops. Imports the SDKs of configured providers only, and ``llm``:
never django, ninja, grompt_gateway, proxy or guards, nor the environment (every value is passed).
"""

from __future__ import annotations

import asyncio
import importlib
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, cast

import httpx2

from llm.errors import ProviderNotConfigured
from llm.ports import ProviderPort
from llm.types import PROVIDER_IDS, ProviderId

if TYPE_CHECKING:  # each SDK costs 48-75 MB of RSS: it is imported only when its provider is configured
    import anthropic
    import openai
    from google import genai

_Close = Callable[[], Awaitable[None]]

# Explicit, so an SDK never falls back to OPENAI_BASE_URL & co. from the environment on its own.
DEFAULT_BASE_URLS: Final[Mapping[ProviderId, str]] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com/",
}
# What the Stainless-generated SDKs (OpenAI, Anthropic) say about themselves on every request: language,
# version, OS, architecture, runtime, and Anthropic's retry count and timeouts. No provider needs them, and
# building and sending them was ~20 % of the SDK's request building (callgrind): each is left out with the
# SDKs' own ``omit``. OpenAI adds its retry count and read timeout after the client's defaults, so those two
# are left out per request (``openai_provider.py``).
SDK_TELEMETRY_HEADERS: Final = (
    "X-Stainless-Lang", "X-Stainless-Package-Version", "X-Stainless-OS", "X-Stainless-Arch", "X-Stainless-Runtime",
    "X-Stainless-Runtime-Version", "X-Stainless-Async", "X-Stainless-Retry-Count", "X-Stainless-Read-Timeout",
    "X-Stainless-Timeout",
)

# Each adapter imports its SDK.
_ADAPTER_MODULES: Final[Mapping[ProviderId, str]] = {
    "openai": "llm.openai_provider",
    "anthropic": "llm.anthropic_provider",
    "gemini": "llm.gemini_provider",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderConfig:
    """One provider's settings; without ``api_key`` the provider is not configured."""

    id: ProviderId
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None


class ProviderRegistry:
    """Bind a provider and a model to a ``ProviderPort`` that shares the provider's one SDK client.

    OpenAI and Anthropic send through ``DefaultAioHttpClient``, the aiohttp transport both SDKs ship:
    their default httpx2/httpcore2/anyio stack was the largest part of a request's CPU (bench/README.md).
    Gemini keeps an httpx2 pool of ours (see ``_new_gemini``).
    SDK-internal retries are off (``MultiAIWrapper`` owns retries). ``timeout_ms`` bounds each read,
    write and pool wait of one HTTP request (a backstop: MultiAI's deadlines are the real bound).
    The pools are sized for a gateway: every open stream holds a connection, and keeping them all alive
    spares new connections under load. Every client verifies TLS with one shared context, the one each
    would build by default (``httpx2.create_ssl_context()``): each context loads the trust store, ~25 ms,
    and genai alone built three (``ssl_context``). Building the registry imports the SDKs of the configured
    providers (and only those); on a running loop it also builds their clients (``warm()``), so that
    the first request pays for neither (an SDK import takes ~0.4 s, a client ~50 ms).
    """

    def __init__(
        self,
        configs: Mapping[ProviderId, ProviderConfig],
        *,
        timeout_ms: int = 60_000,
        connect_timeout_ms: int = 5_000,
        max_connections: int = 1000,
        max_keepalive_connections: int = 1000,
        anthropic_max_tokens: int | None = None,  # None: the adapter's default
    ) -> None:
        self._configs = dict(configs)
        self._timeout = httpx2.Timeout(timeout_ms / 1000, connect=min(connect_timeout_ms, timeout_ms) / 1000)
        self._timeout_ms = timeout_ms
        self._limits = httpx2.Limits(
            max_connections=max_connections, max_keepalive_connections=max_keepalive_connections
        )
        self._anthropic_max_tokens = anthropic_max_tokens
        self._ssl_context: ssl.SSLContext | None = None
        self._clients: dict[asyncio.AbstractEventLoop, dict[ProviderId, tuple[object, _Close]]] = {}
        for pid in self._configured():
            importlib.import_module(_ADAPTER_MODULES[pid])
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: clients are built on the first ``bind`` of each loop
        self.warm()

    def warm(self) -> None:
        """Build the clients of the configured providers for the running loop, if not built yet."""
        for pid in self._configured():
            self._client(pid)

    def configured(self, pid: ProviderId) -> bool:
        """Tell whether ``pid`` has an API key."""
        config = self._configs.get(pid)
        return config is not None and bool(config.api_key)

    def _configured(self) -> list[ProviderId]:
        return [pid for pid in PROVIDER_IDS if self.configured(pid)]

    def bind(self, pid: ProviderId, model: str) -> ProviderPort:
        """Return ``pid``'s adapter for ``model``; raise ``ProviderNotConfigured`` when it has no key."""
        if not self.configured(pid):
            raise ProviderNotConfigured(f"{pid} is not configured on this gateway (no API key)")
        if pid == "openai":
            from llm.openai_provider import OpenAIProvider

            return OpenAIProvider(client=cast("openai.AsyncOpenAI", self._client(pid)), model=model)
        if pid == "anthropic":
            from llm.anthropic_provider import DEFAULT_MAX_TOKENS, AnthropicProvider

            client = cast("anthropic.AsyncAnthropic", self._client(pid))
            max_tokens = self._anthropic_max_tokens or DEFAULT_MAX_TOKENS
            return AnthropicProvider(client=client, model=model, default_max_tokens=max_tokens)
        from llm.gemini_provider import GeminiProvider

        return GeminiProvider(client=cast("genai.Client", self._client(pid)), model=model)

    async def aclose(self) -> None:
        """Close the clients built on the running loop; forget those of loops already closed."""
        held = self._clients.pop(asyncio.get_running_loop(), {})
        self._forget_closed_loops()
        for _, close in held.values():
            await close()

    def _client(self, pid: ProviderId) -> object:
        loop = asyncio.get_running_loop()
        held = self._clients.get(loop)
        if held is None:
            self._forget_closed_loops()
            held = self._clients[loop] = {}
        if pid not in held:
            builders: dict[ProviderId, Callable[[ProviderConfig], tuple[object, _Close]]] = {
                "openai": self._new_openai,
                "anthropic": self._new_anthropic,
                "gemini": self._new_gemini,
            }
            held[pid] = builders[pid](self._configs[pid])
        return held[pid][0]

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context every client verifies with, built on first use (it honours SSL_CERT_FILE and
        SSL_CERT_DIR, as the SDKs' own default does)."""
        if self._ssl_context is None:
            self._ssl_context = httpx2.create_ssl_context()
        return self._ssl_context

    def _forget_closed_loops(self) -> None:
        # A closed loop's clients can never be used or closed again: let them go.
        self._clients = {loop: held for loop, held in self._clients.items() if not loop.is_closed()}

    def _new_openai(self, config: ProviderConfig) -> tuple[openai.AsyncOpenAI, _Close]:
        import openai

        client = openai.AsyncOpenAI(
            api_key=config.api_key,
            base_url=config.base_url or DEFAULT_BASE_URLS["openai"],
            max_retries=0,
            timeout=self._timeout,
            default_headers=_omitted(SDK_TELEMETRY_HEADERS, omit=openai.omit),
            http_client=openai.DefaultAioHttpClient(limits=self._limits, timeout=self._timeout,
                                                    verify=self.ssl_context()),
        )
        return client, client.close

    def _new_anthropic(self, config: ProviderConfig) -> tuple[anthropic.AsyncAnthropic, _Close]:
        import anthropic

        client = anthropic.AsyncAnthropic(
            api_key=config.api_key,
            base_url=config.base_url or DEFAULT_BASE_URLS["anthropic"],
            max_retries=0,
            timeout=self._timeout,
            default_headers=_omitted(SDK_TELEMETRY_HEADERS, omit=anthropic.omit),
            http_client=anthropic.DefaultAioHttpClient(limits=self._limits, timeout=self._timeout,
                                                       verify=self.ssl_context()),
        )
        return client, client.close

    def _new_gemini(self, config: ProviderConfig) -> tuple[genai.Client, _Close]:
        from google import genai
        from google.genai import types as genai_types
        from httpx_aiohttp.httpx2 import Httpx2AiohttpClient

        from llm.gemini_models import LeanAsyncModels

        # Our own pool, an httpx2 client over aiohttp (what the other two SDKs ship as their aiohttp
        # transport): genai's own aiohttp path (taken when it gets no client) retries a failed connect
        # after sleeping 1-10 s; and we close the pool ourselves.
        tls = self.ssl_context()
        http = Httpx2AiohttpClient(limits=self._limits, timeout=self._timeout, verify=tls)
        options = genai_types.HttpOptions(
            base_url=config.base_url or DEFAULT_BASE_URLS["gemini"],
            timeout=self._timeout_ms,  # milliseconds; genai applies it to each request
            httpx_async_client=http,
            # genai still builds a sync client and a websocket context, unused: with our context, not theirs.
            client_args={"verify": tls}, async_client_args={"ssl": tls},
            retry_options=None,  # one attempt
        )
        client = genai.Client(vertexai=False, api_key=config.api_key, http_options=options)
        # The chats (``client.aio.chats``) send through lean models: see llm/gemini_models.py.
        client.aio._models = LeanAsyncModels(client._api_client, http=http)

        async def close() -> None:
            await client.aio.aclose()
            client.close()
            await http.aclose()

        return client, close


def _omitted(names: tuple[str, ...], *, omit: object) -> Mapping[str, str]:
    """``default_headers`` that leave ``names`` out (the SDKs take ``omit`` there, though typed ``str``)."""
    return cast("Mapping[str, str]", dict.fromkeys(names, omit))
