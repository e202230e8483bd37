"""Async-only Django middleware: answers Django's and Ninja's own non-JSON errors (400 bad host, 404,
405, 413, 500) in the contract's JSON shape. Async-only, so it adds no thread hop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import async_only_middleware

from grompt_gateway.http_errors import INTERNAL_ERROR, MethodNotAllowed, NotFound, django_response
from grompt_gateway.observability.request_context import REQUEST_ID
from guards.errors import PayloadTooLarge
from llm.errors import GatewayError, InvalidRequest

_REWRITES: dict[int, Callable[[], GatewayError]] = {
    400: lambda: InvalidRequest("bad request"),
    404: lambda: NotFound("no such route"),
    405: lambda: MethodNotAllowed("method not allowed"),
    413: lambda: PayloadTooLarge("request body too large"),
    500: lambda: INTERNAL_ERROR,
}

GetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


@async_only_middleware
def json_errors(get_response: GetResponse) -> Callable[[HttpRequest], Awaitable[HttpResponseBase]]:
    async def middleware(request: HttpRequest) -> HttpResponseBase:
        response = await get_response(request)
        status = response.status_code
        if status in _REWRITES and not response.get("Content-Type", "").startswith("application/json"):
            rewritten = django_response(_REWRITES[status](), request_id=REQUEST_ID.get())
            if "Allow" in response:
                rewritten["Allow"] = response["Allow"]
            return rewritten
        return response

    return middleware
