"""Cadence and cost guards in front of Django: rate limit, body limit, deadline (pure ASGI), the
idempotency store used by ``POST /v1/generate``, and the token budgets of model calls. Its errors:
``guards.errors``. Imports django, redis errors, the shared base of ``llm.errors``; never
``grompt_gateway``, ``proxy`` or the provider adapters (see README.md)."""

from __future__ import annotations

from guards.body_limit import BodyLimit
from guards.budget import BudgetLimits, TokenBudget, WindowState, budget_store_for
from guards.budget_store import Reservation
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
    "BudgetLimits",
    "Caller",
    "ClientKeys",
    "Deadline",
    "IdempotencyStore",
    "Rate",
    "RateLimit",
    "RateLimiter",
    "Reservation",
    "StoredResponse",
    "TokenBudget",
    "Usage",
    "WindowState",
    "budget_store_for",
    "fingerprint",
    "parse_trusted_proxies",
    "validate_key",
]
