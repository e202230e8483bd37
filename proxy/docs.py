"""The OpenAPI description of ``/v1/proxy/{path}``: documentation-only Ninja operations.

``ProxyRoute`` answers these paths before Django sees them, so the views below never run in the
gateway; should the route be missing, they answer 404 rather than forward anything.
"""

from __future__ import annotations

from typing import Any, Final

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from proxy.routes import METHODS

_BINARY: Final = {"*/*": {"schema": {"type": "string", "format": "binary"}}}
_ERROR: Final = {
    "application/json": {"schema": {
        "type": "object", "required": ["error", "requestId"],
        "properties": {
            "error": {"type": "object", "required": ["code", "message"],
                      "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
            "requestId": {"type": "string"},
        },
    }},
}
_ERRORS: Final = {
    400: "`invalid_request`: the path tries to escape (`..`, encoded `.` `/` `\\`, empty segments, …).",
    403: "`path_not_allowed`: the path is outside `GOBE_PROXY_ALLOW`; GoBE is not called.",
    413: "`payload_too_large`: the body is over `PROXY_MAX_BODY_BYTES`.",
    502: "`upstream_error`: GoBE is unreachable or broke the connection.",
    503: "`provider_not_configured`: `GOBE_BASE_URL` is not set.",
    504: "`timeout`: GoBE did not connect or answer within the proxy timeouts.",
}
_DESCRIPTION: Final = (
    "Streams the request to `${GOBE_BASE_URL}/<path>` with its query string and body, and GoBE's "
    "status, headers and body back as they are (GoBE's own 4xx/5xx included). Forwarded: "
    "`Authorization`, `X-Request-Id`, `Content-Type`, `Accept*`, conditional and `Range` headers, "
    "`X-Org-Id` from a trusted proxy only; `X-Forwarded-For`/`-Proto` are set. Cookies travel only with "
    "`PROXY_FORWARD_COOKIES`."
)


async def _served_by_proxy_route(request: HttpRequest, path: str) -> HttpResponse:
    return HttpResponse(status=404)  # the gateway's middleware answers it as its JSON 404


def _operation_extra(method: str) -> dict[str, Any]:
    responses: dict[int, Any] = {200: {"description": "GoBE's answer, passed through.", "content": _BINARY}}
    responses |= {status: {"description": text, "content": _ERROR} for status, text in _ERRORS.items()}
    extra: dict[str, Any] = {"responses": responses}
    if method != "GET":
        extra["requestBody"] = {"required": False, "content": _BINARY}
    return extra


def register_proxy_docs(api: NinjaAPI) -> None:
    """Describe ``/proxy/{path}`` for every proxied method (call before ``api.urls`` is built)."""
    for method in METHODS:
        api.default_router.add_api_operation(
            "/proxy/{path:path}", [method], _served_by_proxy_route,
            operation_id=f"proxy_{method.lower()}", summary=f"{method} pass-through to GoBE",
            description=_DESCRIPTION, tags=["proxy"], openapi_extra=_operation_extra(method),
        )
