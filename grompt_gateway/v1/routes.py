"""The /v1 operations, registered on the HTTP server port with their schemas and docs. Handlers
(generate.py, meta.py) take a ``RequestContext`` and return a ``ResponsePayload``; they never see Django."""

from __future__ import annotations

from grompt_gateway.server.django_adapter import DjangoHttpServer, RouteDoc
from grompt_gateway.v1 import generate, meta
from grompt_gateway.v1.schemas import ErrorOut, GenerateIn, GenResultOut, HealthOut, ProvidersOut, StreamQuery

_ERRORS = {code: ErrorOut for code in (400, 413, 422, 429, 502, 503, 504)}

_SSE_DESCRIPTION = (
    "Server-sent events, one `data:` JSON line each with an `id: <requestId>:<n>` line: "
    '`{"type":"start",…}`, `{"type":"chunk","text":…}`…, then `{"type":"done","finishReason":…,"usage":…}` '
    'or `{"type":"error","status":…,"error":{"code":…,"message":…}}`. `: ping` comments keep idle '
    "streams alive. A request carrying `Last-Event-ID` is answered 204 and never generates twice."
)
_SSE_CONTENT = {"text/event-stream": {"schema": {"type": "string"}, "example": (
    'id: 7f3a:1\ndata: {"type":"start","provider":"gemini","model":"gemini-2.5-flash","requestId":"7f3a"}\n\n'
    'id: 7f3a:2\ndata: {"type":"chunk","text":"Hel"}\n\n'
    'id: 7f3a:3\ndata: {"type":"done","finishReason":"stop","usage":{"prompt":5,"completion":2,"total":7}}\n\n'
)}}


def register_routes(server: DjangoHttpServer) -> None:
    server.route("GET", "/health", meta.health, doc=RouteDoc(
        summary="Liveness", tags=("meta",), response={200: HealthOut},
        description="Answers without calling any upstream; never rate limited."))
    server.route("GET", "/providers", meta.providers, doc=RouteDoc(
        summary="Providers, their models and the default", tags=("models",), response={200: ProvidersOut}))
    server.route("POST", "/generate", generate.generate, doc=RouteDoc(
        body=GenerateIn, summary="Generate text", tags=("models",), response={200: GenResultOut, **_ERRORS},
        description="Answers a `GenResult`. With `\"stream\": true` or `Accept: text/event-stream` it answers "
                    "the SSE stream of `GET /v1/generate/stream` instead. `Idempotency-Key` replays the first "
                    "answer for the same body.",
        openapi_extra={"responses": {"200": {"description": "A GenResult, or the SSE stream",
                                              "content": {**_SSE_CONTENT}}}}))
    server.sse("/generate/stream", generate.generate_stream, doc=RouteDoc(
        query=StreamQuery, summary="Generate text as server-sent events", tags=("models",),
        response={**_ERRORS}, description=_SSE_DESCRIPTION,
        openapi_extra={"responses": {"200": {"description": "The SSE stream", "content": _SSE_CONTENT},
                                     "204": {"description": "Reconnect refused (Last-Event-ID present)"}}}))
