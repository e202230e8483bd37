"""The one place an error becomes a response: the status table, the contract's JSON body and the
headers, rendered for Django (Ninja handlers, the Django middleware), for raw ASGI (the access layer:
errors raised before Django) and as the SSE ``error`` event, so every path answers the same shape.

The whole error tree, by home (code → status in ``HTTP_STATUS``):

    GatewayError                     internal_error            500  llm.errors, the shared base
     ├── InvalidRequest              invalid_request           400  llm.errors (shared)
     │    ├── UpstreamBadRequest     invalid_request           400  llm.errors
     │    └── IdempotencyKeyReused   idempotency_key_reused    422  guards.errors
     ├── DeadlineExceeded            timeout                   504  llm.errors (shared)
     │    └── GoBETimeout            timeout                   504  proxy.errors
     ├── ProviderNotConfigured       provider_not_configured   503  llm.errors
     ├── UpstreamError               upstream_error            502  llm.errors
     │    ├── UpstreamConnectionError  upstream_error          502  llm.errors
     │    ├── UpstreamBadAnswer      upstream_error            502  llm.errors
     │    └── ProviderMisconfigured  upstream_error            502  llm.errors
     ├── PayloadTooLarge             payload_too_large         413  guards.errors
     ├── RateLimited                 rate_limited              429  guards.errors
     ├── BudgetExceeded              budget_exceeded           429  guards.errors
     ├── BudgetUnavailable           budget_unavailable        503  guards.errors
     ├── Unauthorized                unauthorized              401  guards.errors (WWW-Authenticate)
     ├── AuthUnavailable             auth_unavailable          503  guards.errors
     ├── PathNotAllowed              path_not_allowed          403  proxy.errors
     ├── ProxyMethodNotAllowed       method_not_allowed        405  proxy.errors
     ├── ProxyBodyTooLarge           payload_too_large         413  proxy.errors
     ├── GoBENotConfigured           provider_not_configured   503  proxy.errors
     ├── GoBEConnectionError         upstream_error            502  proxy.errors
     ├── ShuttingDown                shutting_down             503  grompt_gateway.drain
     ├── NotFound                    not_found                 404  here (static files, routing)
     └── MethodNotAllowed            method_not_allowed        405  here (static files, routing)
"""

from __future__ import annotations

import logging
import math
from typing import Any, Final

import orjson
from django.http import HttpResponse
from starlette.types import Send

from grompt_gateway.drain import ShuttingDown
from guards.errors import (
    AuthUnavailable,
    BudgetExceeded,
    BudgetUnavailable,
    IdempotencyKeyReused,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
)
from llm.errors import DeadlineExceeded, GatewayError, InvalidRequest, ProviderNotConfigured, UpstreamError
from proxy.errors import (
    GoBEConnectionError,
    GoBENotConfigured,
    PathNotAllowed,
    ProxyBodyTooLarge,
    ProxyMethodNotAllowed,
)

log = logging.getLogger("grompt_gateway.errors")


class NotFound(GatewayError):
    code = "not_found"


class MethodNotAllowed(GatewayError):
    code = "method_not_allowed"


HTTP_STATUS: Final[dict[type[GatewayError], int]] = {
    InvalidRequest: 400,
    Unauthorized: 401,
    PathNotAllowed: 403,
    NotFound: 404,
    MethodNotAllowed: 405,
    ProxyMethodNotAllowed: 405,
    PayloadTooLarge: 413,
    ProxyBodyTooLarge: 413,
    IdempotencyKeyReused: 422,
    RateLimited: 429,
    BudgetExceeded: 429,
    UpstreamError: 502,
    GoBEConnectionError: 502,
    ProviderNotConfigured: 503,
    GoBENotConfigured: 503,
    ShuttingDown: 503,
    AuthUnavailable: 503,
    BudgetUnavailable: 503,
    DeadlineExceeded: 504,
}

INTERNAL_ERROR: Final = GatewayError("internal error")


def status_for(exc: GatewayError) -> int:
    """Return the status of the most specific class in the table (starlette's MRO walk)."""
    return status_of(type(exc))


def status_of(error_type: type[GatewayError]) -> int:
    """``status_for`` of a class (the OpenAPI description asks before anything is raised)."""
    return next((HTTP_STATUS[c] for c in error_type.__mro__ if c in HTTP_STATUS), 500)


def unhandled(exc: BaseException) -> GatewayError:
    """``exc`` itself when it is in the tree; anything else is logged and answered ``internal_error``."""
    if isinstance(exc, GatewayError):
        return exc
    log.error("unhandled error", exc_info=exc)
    return INTERNAL_ERROR


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


def django_response(exc: GatewayError, *, request_id: str) -> HttpResponse:
    """The error as a Django response (Ninja's exception handlers, the Django middleware)."""
    response = HttpResponse(error_json(exc, request_id=request_id), status=status_for(exc),
                            content_type="application/json")
    for name, value in error_headers(exc).items():
        response[name] = value
    return response


async def send_error(send: Send, exc: GatewayError, *, request_id: str) -> None:
    """Answer ``exc`` on a raw ASGI ``send`` (the caller ensures nothing was sent yet)."""
    body = error_json(exc, request_id=request_id)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in error_headers(exc).items()]
    await send({"type": "http.response.start", "status": status_for(exc), "headers": headers})
    await send({"type": "http.response.body", "body": body})


def error_event(exc: GatewayError) -> dict[str, Any]:
    """The SSE ``error`` event's data: once a stream has started, its status line cannot change."""
    return {"type": "error", "status": status_for(exc), "error": {"code": exc.code, "message": exc.message}}
