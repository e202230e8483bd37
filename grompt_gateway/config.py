"""GatewaySettings: every setting of docs/api.md, typed, read once from the environment and an optional
``.env`` file (the process environment wins). Django-free, so tests build it directly.

A bad value stops start-up with one line naming the variable, in starlette's wording:
``RATE_LIMIT_RPS has value 'abc'. Not a valid float.``
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar, get_args

from llm.types import PROVIDER_IDS, ProviderId

T = TypeVar("T")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_MODELS: Final[Mapping[ProviderId, tuple[str, ...]]] = {
    "openai": ("gpt-5.4-mini", "gpt-5.5", "gpt-4.1-mini"),
    "anthropic": ("claude-sonnet-4-6", "claude-opus-4-8", "claude-haiku-4-5"),
    "gemini": ("gemini-2.5-flash", "gemini-3.5-flash", "gemini-2.5-pro"),
}


# RFC 7518 §3.2: an HS256 key at least as long as its hash.
AUTH_MIN_SECRET_BYTES: Final = 32

# HTTP_ADAPTER values: each names an HttpServerPort implementation (server/django_adapter.py).
HTTP_ADAPTERS: Final = ("django",)


class SettingsError(ValueError):
    """A setting has a value the gateway cannot start with; the message names the variable."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewaySettings:
    # Providers. Keys never appear in repr, logs or errors.
    openai_api_key: str | None = field(default=None, repr=False)
    anthropic_api_key: str | None = field(default=None, repr=False)
    gemini_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    anthropic_base_url: str | None = None
    gemini_base_url: str | None = None
    openai_models: tuple[str, ...] = DEFAULT_MODELS["openai"]
    anthropic_models: tuple[str, ...] = DEFAULT_MODELS["anthropic"]
    gemini_models: tuple[str, ...] = DEFAULT_MODELS["gemini"]
    default_provider: ProviderId = "gemini"
    default_model: str = "gemini-2.5-flash"
    max_output_tokens: int = 16_384
    max_prompt_chars: int = 200_000
    # Providers tried, in order, when the default provider is unavailable (requests naming no provider).
    fallback_providers: tuple[ProviderId, ...] = ()
    # GoBE pass-through.
    gobe_base_url: str | None = None
    gobe_proxy_allow: tuple[str, ...] = ()
    proxy_connect_timeout_ms: int = 5_000
    proxy_read_timeout_ms: int = 30_000
    proxy_max_body_bytes: int = 100 * 1024 * 1024
    proxy_forward_cookies: bool = False
    # Server.
    host: str = "127.0.0.1"
    port: int = 3000
    http_adapter: str = "django"
    trusted_proxies: tuple[str, ...] = ()
    cors_allowed_origins: tuple[str, ...] = ()
    playground_enabled: bool = True
    log_level: str = "INFO"
    shutdown_grace_s: float = 10.0
    # Guards.
    rate_limit_rps: float = 3.0
    request_timeout_ms: int = 30_000
    stream_timeout_ms: int = 300_000
    idempotency_ttl_s: int = 600
    max_body_bytes: int = 1024 * 1024
    sse_heartbeat_s: float = 15.0
    cache_url: str | None = None
    # Token budgets per client key (0 = off); overrides: "org:acme=200000/5000000,org:blocked=0/0".
    token_budget_per_minute: int = 0
    token_budget_per_day: int = 0
    token_budget_overrides: str = ""
    # Callers: GoBE's bearer tokens, verified on the paid routes once one key source is set (off by default).
    auth_jwks_url: str | None = None
    auth_jwt_secret: str | None = field(default=None, repr=False)
    auth_jwt_public_key: str | None = field(default=None, repr=False)
    auth_issuer: str | None = None
    auth_audience: str | None = None
    auth_org_claim: str = "org"
    auth_required: bool = False
    # Demo mode: a built-in mock LLM on loopback backs all three providers.
    demo: bool = False
    demo_chunk_delay_ms: int = 40

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def budgets_on(self) -> bool:
        """Whether any client key has a token budget (then every provider call carries a completion cap)."""
        return bool(self.token_budget_per_minute or self.token_budget_per_day or self.token_budget_overrides)

    def trusted_networks(self) -> tuple[IPNetwork, ...]:
        """``TRUSTED_PROXIES`` as networks (validated at start-up): what wiring hands the guards."""
        return tuple(_network(entry) for entry in self.trusted_proxies)

    def api_key(self, provider: ProviderId) -> str | None:
        return {"openai": self.openai_api_key, "anthropic": self.anthropic_api_key,
                "gemini": self.gemini_api_key}[provider]

    def base_url(self, provider: ProviderId) -> str | None:
        return {"openai": self.openai_base_url, "anthropic": self.anthropic_base_url,
                "gemini": self.gemini_base_url}[provider]

    def models(self, provider: ProviderId) -> tuple[str, ...]:
        return {"openai": self.openai_models, "anthropic": self.anthropic_models,
                "gemini": self.gemini_models}[provider]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, env_file: str | None = ".env") -> GatewaySettings:
        """Read every field from ``env`` (default ``os.environ``) over the ``.env`` file."""
        merged = {**read_env_file(env_file), **(os.environ if env is None else env)}
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            name = env_name(f.name)
            raw = merged.get(name)
            if raw is None or (raw.strip() == "" and f.type != "str"):
                continue
            values[f.name] = _parse(name, raw.strip(), str(f.type))
        try:
            return cls(**values)
        except SettingsError:
            raise
        except (TypeError, ValueError) as exc:  # pragma: no cover - every field has a parser
            raise SettingsError(str(exc)) from exc


def env_name(field_name: str) -> str:
    """The environment variable of a field: its name in capitals (``demo`` is ``GROMPT_DEMO``)."""
    return "GROMPT_DEMO" if field_name == "demo" else field_name.upper()


def read_env_file(path: str | None) -> dict[str, str]:
    """Parse a ``KEY=value`` file (comments, blank lines, optional quotes); a missing file is empty."""
    if path is None or not Path(path).is_file():
        return {}
    values: dict[str, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _convert(name: str, raw: str, kind: str, convert: Callable[[str], T]) -> T:
    try:
        return convert(raw)
    except ValueError:
        raise SettingsError(f"{name} has value {raw!r}. Not a valid {kind}.") from None


def _boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(raw)


def _comma_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


_PARSERS: Final[Mapping[str, tuple[str, Callable[[str], Any]]]] = {
    "int": ("int", int),
    "float": ("float", float),
    "bool": ("bool", _boolean),
    "tuple[str, ...]": ("list", _comma_list),
    "tuple[ProviderId, ...]": ("list", _comma_list),  # checked in _validate
}


def _parse(name: str, raw: str, type_name: str) -> Any:
    if type_name in _PARSERS:
        kind, convert = _PARSERS[type_name]
        return _convert(name, raw, kind, convert)
    return raw  # str, str | None, ProviderId (checked in _validate)


def _validate(s: GatewaySettings) -> None:
    def fail(name: str, value: object, why: str) -> None:
        raise SettingsError(f"{name} has value {value!r}. {why}")

    if s.default_provider not in PROVIDER_IDS:
        fail("DEFAULT_PROVIDER", s.default_provider, f"Must be one of {', '.join(PROVIDER_IDS)}.")
    _validate_fallback(s, fail)
    for name in ("rate_limit_rps", "sse_heartbeat_s", "token_budget_per_minute", "token_budget_per_day",
                 "shutdown_grace_s"):
        if getattr(s, name) < 0:
            fail(name.upper(), getattr(s, name), "Must not be negative.")
    positive = ("request_timeout_ms", "stream_timeout_ms", "idempotency_ttl_s", "max_body_bytes",
                "max_output_tokens", "max_prompt_chars", "proxy_connect_timeout_ms",
                "proxy_read_timeout_ms", "proxy_max_body_bytes")
    for name in positive:
        if getattr(s, name) <= 0:
            fail(name.upper(), getattr(s, name), "Must be positive.")
    if s.http_adapter not in HTTP_ADAPTERS:
        fail("HTTP_ADAPTER", s.http_adapter, f"Must be one of {', '.join(HTTP_ADAPTERS)}.")
    if not 0 <= s.port <= 65535:
        fail("PORT", s.port, "Not a valid port.")
    if s.shutdown_grace_s > 3600:
        fail("SHUTDOWN_GRACE_S", s.shutdown_grace_s, "Must be at most 3600.")
    if s.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        fail("LOG_LEVEL", s.log_level, "Must be DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    for name in ("openai_base_url", "anthropic_base_url", "gemini_base_url", "gobe_base_url"):
        url = getattr(s, name)
        if url is not None and not _is_http_url(url):
            fail(name.upper(), url, "Must be an http:// or https:// URL.")
    if s.cache_url is not None and not s.cache_url.startswith(("redis://", "rediss://", "locmem://")):
        fail("CACHE_URL", s.cache_url, "Must be redis://…, rediss://… or locmem://.")
    for entry in s.trusted_proxies:
        try:
            _network(entry)
        except ValueError:
            fail("TRUSTED_PROXIES", entry, "Not a valid IP address or network.")
    try:
        parse_budget_overrides(s.token_budget_overrides)
    except ValueError as exc:
        fail("TOKEN_BUDGET_OVERRIDES", s.token_budget_overrides, str(exc))
    for origin in s.cors_allowed_origins:
        if not origin.startswith(("http://", "https://")) or origin.endswith("/"):
            fail("CORS_ALLOWED_ORIGINS", origin, "Each origin is scheme://host[:port], no path.")
    _validate_auth(s, fail)


def _validate_auth(s: GatewaySettings, fail: Callable[[str, object, str], None]) -> None:
    sources = {"AUTH_JWKS_URL": s.auth_jwks_url, "AUTH_JWT_SECRET": s.auth_jwt_secret,
               "AUTH_JWT_PUBLIC_KEY": s.auth_jwt_public_key}
    named = [name for name, value in sources.items() if value is not None]
    if len(named) > 1:
        fail(named[1], "…", f"Set only one of {', '.join(sources)}.")
    for name, value in (("AUTH_ISSUER", s.auth_issuer), ("AUTH_AUDIENCE", s.auth_audience),
                        ("AUTH_REQUIRED", s.auth_required or None)):
        if value is not None and not named:
            fail(name, value, f"Needs one of {', '.join(sources)}.")
    if not s.auth_org_claim.strip():
        fail("AUTH_ORG_CLAIM", s.auth_org_claim, "Must name a claim.")
    if s.auth_jwks_url is not None and not s.auth_jwks_url.startswith(("http://", "https://")):
        fail("AUTH_JWKS_URL", s.auth_jwks_url, "Must be an http:// or https:// URL.")
    if s.auth_jwt_secret is not None and len(s.auth_jwt_secret.encode()) < AUTH_MIN_SECRET_BYTES:
        fail("AUTH_JWT_SECRET", "…", f"Must be at least {AUTH_MIN_SECRET_BYTES} bytes (HS256).")
    if s.auth_jwt_public_key is not None:
        from guards.bearer_keys import public_key  # cryptography, imported only when a key is set

        try:
            public_key(s.auth_jwt_public_key)
        except (ValueError, TypeError) as exc:
            fail("AUTH_JWT_PUBLIC_KEY", "…", f"Not a PEM public key: {exc}")


def parse_budget_overrides(raw: str) -> dict[str, tuple[int | None, int | None]]:
    """``key=<per minute>/<per day>,…`` → {key: (per minute, per day)}; ``off`` is no limit, 0 is none.

    A key is a client key as the gateway counts it: ``org:<id>``, ``user:<id>`` or ``ip:<address>``.
    """
    overrides: dict[str, tuple[int | None, int | None]] = {}
    for entry in _comma_list(raw):
        key, sep, limits = (part.strip() for part in entry.partition("="))
        minute, slash, day = (part.strip() for part in limits.partition("/"))
        if not sep or not slash or ":" not in key or key in overrides:
            raise ValueError(f"Each entry is <client key>=<per minute>/<per day>, once per key ({entry!r}).")
        overrides[key] = (_budget_limit(minute), _budget_limit(day))
    return overrides


def _budget_limit(raw: str) -> int | None:
    if raw.lower() == "off":
        return None
    if not raw.isdigit():
        raise ValueError(f"A limit is a whole number of tokens or off ({raw!r}).")
    return int(raw)


def _validate_fallback(s: GatewaySettings, fail: Callable[[str, object, str], None]) -> None:
    """FALLBACK_PROVIDERS: known ids, each once, and not DEFAULT_PROVIDER (always tried first anyway:
    listing it again is a mistake worth a clear refusal rather than a silent skip)."""
    raw = ",".join(s.fallback_providers)
    for pid in s.fallback_providers:
        if pid not in PROVIDER_IDS:
            fail("FALLBACK_PROVIDERS", raw, f"Unknown provider {pid!r}; expected {', '.join(PROVIDER_IDS)}.")
    if len(set(s.fallback_providers)) != len(s.fallback_providers):
        fail("FALLBACK_PROVIDERS", raw, "Lists a provider twice.")
    if s.default_provider in s.fallback_providers:
        fail("FALLBACK_PROVIDERS", raw, f"Lists DEFAULT_PROVIDER ({s.default_provider}), which is always tried first.")


def _is_http_url(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _network(entry: str) -> IPNetwork:
    return ipaddress.ip_network(entry.strip(), strict=False)


def cache_config(cache_url: str | None) -> dict[str, Any]:
    """The Django cache entry for ``CACHE_URL``: Redis (shared by every process), else local memory."""
    if cache_url and cache_url.startswith(("redis://", "rediss://")):
        # redis-py has no connect timeout by default: an unreachable Redis would hold requests for minutes.
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": cache_url,
                "KEY_PREFIX": "grompt", "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5}}
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "grompt-gateway",
            "OPTIONS": {"MAX_ENTRIES": 100_000}}


assert set(get_args(ProviderId)) == set(DEFAULT_MODELS)
