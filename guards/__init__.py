"""Cadence and cost guards in front of Django: rate limit, body limit, deadline (pure ASGI), and the
idempotency store used by ``POST /v1/generate``. Its errors: ``guards.errors``. Imports django, redis
errors, the shared base of ``llm.errors``; never ``grompt_gateway``, ``proxy`` or the provider
adapters (see README.md)."""

from __future__ import annotations

from guards.body_limit import BodyLimit
from guards.caller import CALLER_SCOPE, Caller
from guards.client_key import CLIENT_KEY_SCOPE, ClientKeys, parse_trusted_proxies
from guards.deadline import Deadline
from guards.idempotency import REPLAYED_HEADER, IdempotencyStore, StoredResponse, fingerprint, validate_key
from guards.rate_limit import Rate, RateLimit, RateLimiter, Usage

__all__ = [
    "CALLER_SCOPE",
    "CLIENT_KEY_SCOPE",
    "REPLAYED_HEADER",
    "BodyLimit",
    "Caller",
    "ClientKeys",
    "Deadline",
    "IdempotencyStore",
    "Rate",
    "RateLimit",
    "RateLimiter",
    "StoredResponse",
    "Usage",
    "fingerprint",
    "parse_trusted_proxies",
    "validate_key",
]
