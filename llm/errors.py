"""The gateway's one exception tree. Every package may raise these; ``grompt_gateway.http_errors``
alone maps them to HTTP statuses and the contract's JSON shape (API.md § Errors).

    GatewayError                     internal_error
     ├── InvalidRequest              invalid_request
     │    ├── UpstreamBadRequest     invalid_request (the provider refused the request: unknown model, …)
     │    └── IdempotencyKeyReused   idempotency_key_reused
     ├── NotFound                    not_found
     ├── MethodNotAllowed            method_not_allowed
     ├── PathNotAllowed              path_not_allowed
     ├── PayloadTooLarge             payload_too_large
     ├── RateLimited                 rate_limited
     ├── ProviderNotConfigured       provider_not_configured
     ├── UpstreamError               upstream_error (``upstream_status`` keeps the provider's status)
     │    └── UpstreamConnectionError  upstream_error (no connection, or it broke mid-answer)
     └── DeadlineExceeded            timeout

Imports only the standard library: never django, ninja or the SDKs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

_MAX_MESSAGE_CHARS = 200


class GatewayError(Exception):
    """Base of every error the gateway reports to a client. Messages are short and carry no secret."""

    code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float | None = None,
        headers: Mapping[str, str] | None = None,
        upstream_status: int | None = None,
    ) -> None:
        if len(message) > _MAX_MESSAGE_CHARS:
            message = message[: _MAX_MESSAGE_CHARS - 1] + "…"
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s
        self.headers: Mapping[str, str] = headers or {}
        self.upstream_status = upstream_status


class InvalidRequest(GatewayError):
    code = "invalid_request"


class IdempotencyKeyReused(InvalidRequest):
    code = "idempotency_key_reused"


class NotFound(GatewayError):
    code = "not_found"


class MethodNotAllowed(GatewayError):
    code = "method_not_allowed"


class PathNotAllowed(GatewayError):
    code = "path_not_allowed"


class PayloadTooLarge(GatewayError):
    code = "payload_too_large"


class RateLimited(GatewayError):
    code = "rate_limited"


class ProviderNotConfigured(GatewayError):
    code = "provider_not_configured"


class UpstreamError(GatewayError):
    """The provider or GoBE failed (after the short retries)."""

    code = "upstream_error"


class UpstreamConnectionError(UpstreamError):
    """The provider could not be reached, or the connection broke before the answer was complete."""


class UpstreamBadRequest(InvalidRequest):
    """The provider refused the request itself (400/404/422), e.g. an unknown model."""


class DeadlineExceeded(GatewayError):
    code = "timeout"


__all__ = [
    "DeadlineExceeded",
    "GatewayError",
    "IdempotencyKeyReused",
    "InvalidRequest",
    "MethodNotAllowed",
    "NotFound",
    "PathNotAllowed",
    "PayloadTooLarge",
    "ProviderNotConfigured",
    "RateLimited",
    "UpstreamBadRequest",
    "UpstreamConnectionError",
    "UpstreamError",
]
