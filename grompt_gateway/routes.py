"""The /v1 operations, registered on any ``HttpServerPort``: handlers take a ``RequestContext`` and
return a ``ResponsePayload``; they never see the framework."""

from __future__ import annotations

from grompt_gateway.django_adapter import DjangoHttpServer, RouteDoc
from grompt_gateway.http_port import RequestContext, ResponsePayload
from grompt_gateway.schemas import ErrorOut, HealthOut
from grompt_gateway.wiring import current_services


async def health(ctx: RequestContext) -> ResponsePayload:
    settings = current_services().settings
    return ResponsePayload(body={"status": "ok", "demo": settings.demo})


def register_routes(server: DjangoHttpServer) -> None:
    server.route("GET", "/health", health, doc=RouteDoc(
        summary="Liveness", tags=("meta",), response={200: HealthOut, 500: ErrorOut},
        description="Answers without calling any upstream; never rate limited."))
