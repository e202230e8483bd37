"""The one place an error becomes an HTTP status and the contract's JSON body (API.md § Errors).

Used by the Ninja exception handlers, the ASGI access layer (errors raised before Django) and the SSE
``error`` event, so every path answers the same shape.
"""

from __future__ import annotations

import math
from typing import Final

import orjson

from llm.errors import (
    DeadlineExceeded,
    GatewayError,
    IdempotencyKeyReused,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PathNotAllowed,
    PayloadTooLarge,
    ProviderNotConfigured,
    RateLimited,
    UpstreamError,
)

HTTP_STATUS: Final[dict[type[GatewayError], int]] = {
    InvalidRequest: 400,
    PathNotAllowed: 403,
    NotFound: 404,
    MethodNotAllowed: 405,
    PayloadTooLarge: 413,
    IdempotencyKeyReused: 422,
    RateLimited: 429,
    UpstreamError: 502,
    ProviderNotConfigured: 503,
    DeadlineExceeded: 504,
}

INTERNAL_ERROR: Final = GatewayError("internal error")


def status_for(exc: GatewayError) -> int:
    """Return the status of the most specific class in the table (starlette's MRO walk)."""
    return next((HTTP_STATUS[c] for c in type(exc).__mro__ if c in HTTP_STATUS), 500)


def error_body(exc: GatewayError, *, request_id: str) -> dict[str, object]:
    return {"error": {"code": exc.code, "message": exc.message}, "requestId": request_id}


def error_json(exc: GatewayError, *, request_id: str) -> bytes:
    return orjson.dumps(error_body(exc, request_id=request_id))


def error_headers(exc: GatewayError) -> dict[str, str]:
    """Headers an error carries: ``Retry-After`` (whole seconds, RFC 9110 §10.2.3) and its own extras."""
    headers = dict(exc.headers)
    if exc.retry_after_s is not None:
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
    return headers
