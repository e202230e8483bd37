"""The guards' errors, on the shared base in ``llm.errors`` (the gateway maps them to statuses).

    GatewayError (llm.errors)
     ├── InvalidRequest (llm.errors)
     │    └── IdempotencyKeyReused   idempotency_key_reused   same key, another body
     ├── PayloadTooLarge             payload_too_large        body over MAX_BODY_BYTES
     ├── RateLimited                 rate_limited             over RATE_LIMIT_RPS; carries Retry-After
     ├── BudgetExceeded              budget_exceeded          a token reservation does not fit; Retry-After
     ├── BudgetUnavailable           budget_unavailable       the shared store behind the budgets cannot be read
     ├── Unauthorized                unauthorized             bad bearer token (or none with AUTH_REQUIRED)
     └── AuthUnavailable             auth_unavailable         AUTH_JWKS_URL cannot be fetched
"""

from __future__ import annotations

from typing import Final

from llm.errors import GatewayError, InvalidRequest

# RFC 6750 §3: a request without credentials gets the bare challenge; a bad token names the error.
CHALLENGE: Final = "Bearer"
INVALID_TOKEN_CHALLENGE: Final = 'Bearer error="invalid_token"'  # noqa: S105 - a challenge, not a secret


class IdempotencyKeyReused(InvalidRequest):
    code = "idempotency_key_reused"


class PayloadTooLarge(GatewayError):
    code = "payload_too_large"


class RateLimited(GatewayError):
    code = "rate_limited"


class BudgetExceeded(GatewayError):
    """The call's token reservation does not fit what is left of the client's budget (429)."""

    code = "budget_exceeded"


class BudgetUnavailable(GatewayError):
    """The budget's state cannot be read (Redis down): 503 for ``GET /v1/budget``; calls fail open."""

    code = "budget_unavailable"


class Unauthorized(GatewayError):
    """A bearer token that is invalid or expired, or none where ``AUTH_REQUIRED`` wants one: 401."""

    code = "unauthorized"

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message, headers={"WWW-Authenticate": CHALLENGE if missing else INVALID_TOKEN_CHALLENGE})


class AuthUnavailable(GatewayError):
    """The keys that verify tokens (``AUTH_JWKS_URL``) cannot be fetched: 503, never an open door."""

    code = "auth_unavailable"


__all__ = ["AuthUnavailable", "BudgetExceeded", "BudgetUnavailable", "IdempotencyKeyReused", "PayloadTooLarge",
           "RateLimited", "Unauthorized"]
