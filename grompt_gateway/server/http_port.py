"""The HTTP server port (``HttpServerPort``, docs/api.md), translated one to one from
the front end's TypeScript. Framework-free: handlers written against it never see Django.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestUser:
    id: str
    org: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RawExchange:
    """The framework's own request and response objects, for the rare handler that needs them."""

    req: Any
    res: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestContext:
    """What a handler sees of a request. ``headers`` keys are lower-case.

    ``body`` is the validated input: the JSON body, or for a GET route declared with a query schema,
    the validated query (``query`` keeps the raw values, repeated keys as lists). ``client_key`` is the
    key the guards count this client under (rate limit, idempotency), when a guard has set one.
    """

    method: HttpMethod
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str | list[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    raw: RawExchange | None = None
    user: RequestUser | None = None
    client_key: str | None = None


@dataclass(slots=True, kw_only=True)
class ResponsePayload:
    """A handler's answer. ``body``: a JSON-able value, ``bytes``, or an async iterator of ``bytes``
    (streamed as it is produced, e.g. an SSE stream)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


Handler = Callable[[RequestContext], Awaitable[ResponsePayload]]


class HttpServerPort(Protocol):
    """Register framework-agnostic handlers, then serve them."""

    def route(self, method: HttpMethod, path: str, handler: Handler) -> None: ...

    def sse(self, path: str, handler: Handler) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
