"""``HttpServerPort`` on Django Ninja and uvicorn: ``route``/``sse`` register framework-agnostic
handlers as Ninja operations under ``/v1``; ``start``/``stop`` run uvicorn in-process (port 0 gives
an ephemeral port, reported by ``port``)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from ninja import Body, NinjaAPI, Query
from pydantic import BaseModel
from starlette.types import ASGIApp

from grompt_gateway.server.http_port import (
    Handler,
    HttpMethod,
    RawExchange,
    RequestContext,
    RequestUser,
    ResponsePayload,
)
from guards import CALLER_SCOPE, CLIENT_KEY_SCOPE, Caller


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteDoc:
    """Optional schemas and text for validation and the OpenAPI description of one operation."""

    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    # The 200 answer's schema (or Ninja's ``{status: schema}``), and the errors the route can answer
    # (status → Ninja response schema, as the API documents its errors: ``v1.openapi.error_responses``).
    response: Any = None
    errors: Mapping[int, Any] = field(default_factory=dict)
    # The 200 answer may be the event stream (OpenAPI ``content``, by media type); a reconnect
    # (``Last-Event-ID``) is answered 204.
    streams: bool = False
    stream_content: Mapping[str, Any] = field(default_factory=dict)
    summary: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    openapi_extra: Mapping[str, Any] = field(default_factory=dict)


def to_django(payload: ResponsePayload) -> HttpResponseBase:
    """Render a ``ResponsePayload``: async iterators stream, bytes pass, anything else is JSON."""
    body = payload.body
    response: HttpResponseBase
    if isinstance(body, AsyncIterator):
        response = StreamingHttpResponse(body, status=payload.status)
    elif isinstance(body, bytes):
        response = HttpResponse(body, status=payload.status)
    elif body is None and payload.status == 204:
        response = HttpResponse(status=204)
        del response["Content-Type"]  # no body, so no type (RFC 9110 §15.3.5); Django adds text/html
    else:
        response = HttpResponse(orjson.dumps(body), status=payload.status, content_type="application/json")
    for name, value in payload.headers.items():
        response[name] = value
    return response


def to_context(request: HttpRequest, *, body: Any, params: Mapping[str, str]) -> RequestContext:
    query: dict[str, str | list[str]] = {}
    if request.META.get("QUERY_STRING"):  # parsing ``GET`` costs even when the query is empty
        query = {key: (values if len(values) > 1 else values[0]) for key, values in request.GET.lists()}
    return RequestContext(
        method=request.method,  # type: ignore[arg-type]  # Ninja only routes the declared methods
        path=request.path,
        params=params,
        query=query,
        headers=_headers(request),
        body=body,
        raw=RawExchange(req=request),
        user=_user(request),
        client_key=_scope(request).get(CLIENT_KEY_SCOPE),
    )


def _scope(request: HttpRequest) -> dict[str, Any]:
    scope: dict[str, Any] = getattr(request, "scope", None) or {}
    return scope


def _user(request: HttpRequest) -> RequestUser | None:
    """The caller the bearer-token layer verified (``guards.CALLER_SCOPE``), if any."""
    caller: Caller | None = _scope(request).get(CALLER_SCOPE)
    return None if caller is None else RequestUser(id=caller.id, org=caller.org)


def _headers(request: HttpRequest) -> dict[str, str]:
    """Lower-case names; a repeated header's values joined with "," as Django does. Read from the ASGI
    scope when there is one: Django's ``request.headers`` rebuilds them from ``META`` (measured: 2 % of
    a request's CPU)."""
    scope = getattr(request, "scope", None)
    if scope is None:
        return {key.lower(): value for key, value in request.headers.items()}
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


def _responses(doc: RouteDoc) -> dict[int, Any]:
    """Ninja's ``response``: status → schema (``None``: no JSON body)."""
    if isinstance(doc.response, Mapping):
        responses = dict(doc.response)
    else:
        responses = {200: doc.response if doc.response is not None or doc.streams else Any}
    if doc.streams:
        responses.setdefault(204, None)
    return {**responses, **doc.errors}


def _openapi_extra(doc: RouteDoc) -> dict[str, Any]:
    """What Ninja cannot describe: the event stream as ``text/event-stream`` beside any JSON answer."""
    extra = dict(doc.openapi_extra)
    if doc.streams:
        stream: dict[int, Any] = {200: {"content": dict(doc.stream_content)}} if doc.stream_content else {}
        stream[204] = {"description": "A reconnect (`Last-Event-ID`): nothing is generated again."}
        extra["responses"] = {**stream, **extra.get("responses", {})}
    return extra


def _ninja_view(handler: Handler, doc: RouteDoc, path: str) -> Any:
    """Build an async view whose signature tells Ninja what to validate and document."""
    path_params = [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]

    async def view(request: HttpRequest, **values: Any) -> HttpResponseBase:
        params = {name: str(values.pop(name)) for name in path_params}
        data = values.get("payload", values.get("q"))
        return to_django(await handler(to_context(request, body=data, params=params)))

    kind = inspect.Parameter.KEYWORD_ONLY
    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    parameters += [inspect.Parameter(name, kind, annotation=str) for name in path_params]
    if doc.body is not None:
        parameters.append(inspect.Parameter("payload", kind, annotation=Body[doc.body]))  # type: ignore[misc,name-defined]
    if doc.query is not None:
        parameters.append(inspect.Parameter("q", kind, annotation=Query[doc.query]))  # type: ignore[misc,name-defined]
    view.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    view.__name__ = handler.__name__
    return view


class DjangoHttpServer:
    """The default ``HTTP_ADAPTER``."""

    def __init__(self, *, api: NinjaAPI, app: ASGIApp | None = None, host: str = "127.0.0.1",
                 port: int = 0, graceful_shutdown_s: int = 2) -> None:
        self.api = api
        self.app = app
        self.host = host
        self.requested_port = port
        self.graceful_shutdown_s = graceful_shutdown_s
        self.port: int | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    def route(self, method: HttpMethod, path: str, handler: Handler, *, doc: RouteDoc | None = None) -> None:
        doc = doc or RouteDoc()
        self.api.default_router.add_api_operation(
            path, [method], _ninja_view(handler, doc, path),
            response=_responses(doc), summary=doc.summary, description=doc.description,
            tags=list(doc.tags) or None, openapi_extra=_openapi_extra(doc) or None, by_alias=True,
            operation_id=f"{method.lower()}_{handler.__name__}",
        )

    def sse(self, path: str, handler: Handler, *, doc: RouteDoc | None = None) -> None:
        self.route("GET", path, handler, doc=dataclasses.replace(doc or RouteDoc(), streams=True))

    async def start(self) -> None:
        """Serve ``app`` under uvicorn on this loop; return once the socket listens."""
        if self.app is None:
            raise RuntimeError("DjangoHttpServer.start() needs an ASGI app")
        config = uvicorn.Config(
            self.app, host=self.host, port=self.requested_port, lifespan="on", log_config=None,
            access_log=False, proxy_headers=False, timeout_graceful_shutdown=self.graceful_shutdown_s,
        )
        self._server = server = uvicorn.Server(config)
        self._task = asyncio.create_task(server.serve())
        while not server.started:
            if self._task.done():
                # uvicorn exits the process (SystemExit) when it cannot bind: report it as an error instead.
                with contextlib.suppress(BaseException):
                    self._task.result()
                self._server = self._task = None
                raise RuntimeError(f"uvicorn could not start on {self.host}:{self.requested_port}")
            await asyncio.sleep(0.005)
        self.port = server.servers[0].sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop accepting, let open requests finish (bounded), close the shared clients."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server = self._task = None

    async def wait_closed(self) -> None:
        """Return once the server has stopped (``stop()``, or uvicorn's own SIGINT/SIGTERM handling)."""
        if self._task is not None:
            await self._task

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"
