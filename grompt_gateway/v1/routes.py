"""The /v1 operations, registered on the HTTP server port with their schemas and docs. Handlers
(generate.py, budget.py, meta.py) take a ``RequestContext`` and return a ``ResponsePayload``; they never see Django."""

from __future__ import annotations

from typing import Final

from grompt_gateway.server.django_adapter import DjangoHttpServer, RouteDoc
from grompt_gateway.v1 import budget, generate, meta
from grompt_gateway.v1.openapi import SSE_CONTENT, error_responses
from grompt_gateway.v1.schemas import BudgetOut, GenerateIn, GenResultOut, HealthOut, ProvidersOut, StreamQuery
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

# What a model call can answer besides its result (docs/api.md § Errors); 401 and its 503 only while
# GoBE's tokens are checked (AUTH_*).
MODEL_CALL_ERRORS: Final[tuple[type[GatewayError], ...]] = (
    InvalidRequest, Unauthorized, RateLimited, BudgetExceeded, UpstreamError, ProviderNotConfigured,
    AuthUnavailable, DeadlineExceeded)

_SSE_DESCRIPTION: Final = (
    "The event stream, for `EventSource`: `start`, then `chunk`s as the provider produces them, then "
    "`done` or `error` (see the `StreamEvent` schema). Failures known before the stream begins are JSON "
    "errors. A request carrying `Last-Event-ID` is a browser reconnect: 204, nothing generated again. "
    "`stop` may repeat; every other parameter may appear once, and numbers must be written as numbers."
)


def register_routes(server: DjangoHttpServer) -> None:
    server.route("GET", "/health", meta.health, doc=RouteDoc(
        summary="Liveness", tags=("meta",), response=HealthOut,
        description="Answers without calling any upstream; never rate limited."))
    server.route("GET", "/providers", meta.providers, doc=RouteDoc(
        summary="Providers, their models and the default", tags=("models",), response=ProvidersOut))
    server.route("POST", "/generate", generate.generate, doc=RouteDoc(
        body=GenerateIn, summary="Generate text", tags=("models",), response=GenResultOut, streams=True,
        stream_content=SSE_CONTENT, errors=error_responses((*MODEL_CALL_ERRORS, PayloadTooLarge, IdempotencyKeyReused)),
        description="Answers a `GenResult`. With `\"stream\": true` or `Accept: text/event-stream` it answers "
                    "the event stream of `GET /v1/generate/stream` instead. `Idempotency-Key` replays the "
                    "first answer for the same body. JSON types are taken as they are: no string is read "
                    "as a number or a boolean."))
    server.route("GET", "/budget", budget.budget, doc=RouteDoc(
        summary="The caller's token budget", tags=("models",), response=BudgetOut,
        errors=error_responses((Unauthorized, BudgetUnavailable)),
        description="Per window that is on (`minute`, `day`: UTC): the limit, tokens used, tokens reserved by "
                    "calls in flight, and seconds until it resets. Never rate limited nor budgeted."))
    server.sse("/generate/stream", generate.generate_stream, doc=RouteDoc(
        query=StreamQuery, summary="Generate text as server-sent events", tags=("models",),
        stream_content=SSE_CONTENT, errors=error_responses(MODEL_CALL_ERRORS), description=_SSE_DESCRIPTION))
