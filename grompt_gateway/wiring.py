"""Composition root: the only place objects are built from settings (cosmicpython's bootstrap).

``Services`` holds what lives as long as the process: the provider registry and MultiAI wrapper
(one SDK client per provider), the GoBE client, the guards' cache and stores. The application binds
its services to each request through ``CURRENT`` and handlers read them with ``current_services()``:
the Ninja API is one per process and shared by every application in it, so services cannot be bound
when routes are registered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from functools import cached_property
from typing import TYPE_CHECKING, Final

from django.core.cache.backends.base import BaseCache
from django.utils.module_loading import import_string

from grompt_gateway.config import GatewaySettings, cache_config, parse_budget_overrides
from grompt_gateway.drain import Drain
from grompt_gateway.observability.metrics import BUDGET_REJECTIONS, FALLBACKS, UPSTREAM_ERRORS
from grompt_gateway.observability.request_context import annotate
from guards import BudgetLimits, ClientKeys, IdempotencyStore, RateLimiter, TokenBudget, budget_store_for
from guards.budget_store import BudgetStore
from llm.fallback import Candidate
from llm.multi import MultiAIWrapper
from llm.registry import ProviderConfig, ProviderRegistry
from llm.types import PROVIDER_IDS, ProviderId

if TYPE_CHECKING:
    from grompt_gateway.demo import DemoUpstream
    from guards.bearer_auth import TokenVerifier
    from guards.bearer_keys import KeySource
    from proxy import GoBEClient

log = logging.getLogger("grompt_gateway.wiring")


class Services:
    """Process-wide collaborators, built once from settings and closed at shutdown."""

    def __init__(self, settings: GatewaySettings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock  # wall-clock seconds for the guards' windows (rate limit, token budgets)
        self.started = False
        self.drain = Drain(grace_s=settings.shutdown_grace_s)  # graceful shutdown (stack/shutdown.py)
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._multi: MultiAIWrapper | None = None
        self._gobe: GoBEClient | None = None
        self.demo: DemoUpstream | None = None

    async def start(self) -> None:
        """Start the demo upstream when asked, and build the provider wrapper now rather than on the
        first request; idempotent."""
        if self.started:
            return
        self.started = True
        if self.settings.demo:
            from grompt_gateway.demo import start_demo_upstream

            self.settings, self.demo = start_demo_upstream(self.settings)
            self._closers.append(self.demo)
        self.multi  # noqa: B018 - built eagerly
        if self.token_verifier is not None:  # the JWKS is fetched now; a failure is logged, never fatal
            await self.token_verifier.keys.start()
            self._closers.append(self.token_verifier.keys.aclose)

    @property
    def multi(self) -> MultiAIWrapper:
        if self._multi is None:
            self._multi = build_multi(self.settings)
            self._closers.insert(0, self._multi.aclose)
        return self._multi

    @property
    def gobe(self) -> GoBEClient | None:
        """The GoBE pass-through client (one pool per process); ``None`` while GOBE_BASE_URL is unset."""
        if self._gobe is None and self.settings.gobe_base_url is not None:
            self._gobe = build_gobe(self.settings, trusted_peer=self.client_keys.is_trusted_peer)
            self._closers.insert(0, self._gobe.aclose)
        return self._gobe

    # The guards: built from the settings the app was configured with, on the cache CACHE_URL names
    # (LocMem: per process; Redis: shared by every process, guards/README.md). Nothing to close.
    @cached_property
    def cache(self) -> BaseCache:
        return build_cache(self.settings)

    @cached_property
    def client_keys(self) -> ClientKeys:
        return ClientKeys(trusted_proxies=self.settings.trusted_networks())

    @cached_property
    def token_verifier(self) -> TokenVerifier | None:
        """GoBE's bearer tokens (docs/api.md § Headers, § Who is counted); None while no key source is set."""
        settings = self.settings
        keys = build_key_source(settings)
        if keys is None:
            return None
        from guards.bearer_auth import TokenVerifier  # PyJWT and cryptography, only when tokens are checked

        return TokenVerifier(keys=keys, issuer=settings.auth_issuer, audience=settings.auth_audience,
                             org_claim=settings.auth_org_claim)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        return RateLimiter(rps=self.settings.rate_limit_rps, cache=self.cache, clock=self.clock)

    @cached_property
    def idempotency(self) -> IdempotencyStore:
        settings = self.settings
        return IdempotencyStore(cache=self.cache, ttl_s=settings.idempotency_ttl_s,
                                wait_s=settings.request_timeout_ms / 1000)

    @cached_property
    def budget(self) -> TokenBudget:
        return build_budget(self.settings, cache=self.cache, clock=self.clock)

    async def aclose(self) -> None:
        """Close every shared client; safe to call twice."""
        self.drain.close()
        closers, self._closers = self._closers, []
        for close in closers:
            try:
                await close()
            except Exception as exc:
                log.warning("close failed", exc_info=exc)
        self._multi = None
        self._gobe = None
        self.demo = None
        self.started = False


def build_multi(settings: GatewaySettings) -> MultiAIWrapper:
    configs = {
        pid: ProviderConfig(id=pid, api_key=settings.api_key(pid), base_url=settings.base_url(pid))
        for pid in PROVIDER_IDS
    }
    return MultiAIWrapper(
        registry=ProviderRegistry(configs, timeout_ms=settings.request_timeout_ms,
                                  anthropic_max_tokens=min(4096, settings.max_output_tokens)),
        models={pid: settings.models(pid) for pid in PROVIDER_IDS},
        default_provider=settings.default_provider,
        default_model=settings.default_model,
        request_timeout_ms=settings.request_timeout_ms,
        stream_timeout_ms=settings.stream_timeout_ms,
        on_upstream_error=_count_upstream_error,
        fallback=settings.fallback_providers,
        on_fallback=_record_fallback,
    )


def build_budget(settings: GatewaySettings, *, cache: BaseCache | None = None,
                 clock: Callable[[], float] | None = None, store: BudgetStore | None = None) -> TokenBudget:
    """Token budgets on the guards' cache (``CACHE_URL``). A reservation outlives the longest call (a whole
    stream, or a request with its retries) by a minute, then stops counting: its process must have died."""
    cache = cache if cache is not None else build_cache(settings)
    overrides = {key: BudgetLimits(per_minute=minute, per_day=day)
                 for key, (minute, day) in parse_budget_overrides(settings.token_budget_overrides).items()}
    longest_s = max(settings.stream_timeout_ms, settings.request_timeout_ms) / 1000
    return TokenBudget(
        store=store or budget_store_for(cache), cache=cache,
        default=BudgetLimits(per_minute=settings.token_budget_per_minute or None,
                             per_day=settings.token_budget_per_day or None),
        overrides=overrides, reservation_ttl_s=longest_s + 60,
        on_rejected=_budget_rejected,
        **({"clock": clock} if clock is not None else {}),
    )


def build_cache(settings: GatewaySettings) -> BaseCache:
    """The guards' cache, from ``CACHE_URL`` (as Django builds a ``CACHES`` entry). Local-memory caches
    with one name share their data within a process, as Django's own default cache does."""
    params = dict(cache_config(settings.cache_url))
    backend = import_string(params.pop("BACKEND"))
    cache: BaseCache = backend(params.pop("LOCATION"), params)
    return cache


def build_gobe(settings: GatewaySettings, *, trusted_peer: Callable[[str], bool]) -> GoBEClient:
    from proxy import GoBEClient

    assert settings.gobe_base_url is not None
    return GoBEClient(
        base_url=settings.gobe_base_url,
        connect_timeout_s=settings.proxy_connect_timeout_ms / 1000,
        read_timeout_s=settings.proxy_read_timeout_ms / 1000,
        forward_cookies=settings.proxy_forward_cookies,
        trusted_peer=trusted_peer,
    )


def _budget_rejected(window: str) -> None:
    BUDGET_REJECTIONS.labels(window).inc()
    annotate(budget_rejected=window)


def build_key_source(settings: GatewaySettings) -> KeySource | None:
    """The keys that verify GoBE's tokens, or None while no AUTH_* key is set (then PyJWT is never imported)."""
    if settings.auth_jwks_url is not None:
        from guards.jwks import JwksKeys

        return JwksKeys(url=settings.auth_jwks_url)
    if settings.auth_jwt_secret is not None or settings.auth_jwt_public_key is not None:
        from guards.bearer_keys import StaticKey

        return StaticKey(secret=settings.auth_jwt_secret, public_key_pem=settings.auth_jwt_public_key)
    return None


def _record_fallback(*, origin: ProviderId, from_provider: ProviderId, to: Candidate) -> None:
    """A request moved to the next provider of its route: count it, and say so on the access line
    (``fallback_from``: the provider the request was routed to first; ``provider``/``model``: the one
    tried now, so the line names who served, or who failed last)."""
    FALLBACKS.labels(from_provider, to.provider).inc()
    annotate(fallback_from=origin, provider=to.provider, model=to.model)


def _count_upstream_error(provider: str, code: str) -> None:
    UPSTREAM_ERRORS.labels(provider, code).inc()


CURRENT: Final[ContextVar[Services]] = ContextVar("grompt_services")


def current_services() -> Services:
    """Return the services of the application serving this request."""
    return CURRENT.get()
