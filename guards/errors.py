"""The guards' errors, on the shared base in ``llm.errors`` (the gateway maps them to statuses).

    GatewayError (llm.errors)
     ├── InvalidRequest (llm.errors)
     │    └── IdempotencyKeyReused   idempotency_key_reused   same key, another body
     ├── PayloadTooLarge             payload_too_large        body over MAX_BODY_BYTES
     ├── RateLimited                 rate_limited             over RATE_LIMIT_RPS; carries Retry-After
     └── BudgetExceeded              budget_exceeded          a token reservation does not fit; Retry-After
"""

from __future__ import annotations

from llm.errors import GatewayError, InvalidRequest


class IdempotencyKeyReused(InvalidRequest):
    code = "idempotency_key_reused"


class PayloadTooLarge(GatewayError):
    code = "payload_too_large"


class RateLimited(GatewayError):
    code = "rate_limited"


class BudgetExceeded(GatewayError):
    """The call's token reservation does not fit what is left of the client's budget (429)."""

    code = "budget_exceeded"


__all__ = ["BudgetExceeded", "IdempotencyKeyReused", "PayloadTooLarge", "RateLimited"]
