"""The /v1 meta endpoints: ``GET /v1/health`` (liveness, no upstream call) and ``GET /v1/providers``
(providers, their models, the default and the fallback order)."""

from __future__ import annotations

from grompt_gateway.server.http_port import RequestContext, ResponsePayload
from grompt_gateway.wiring import current_services


async def providers(ctx: RequestContext) -> ResponsePayload:
    services = current_services()
    multi = services.multi
    default_provider, default_model = multi.default
    return ResponsePayload(body={
        "default": {"provider": default_provider, "model": default_model},
        "fallback": list(multi.fallback),
        "providers": [{"id": p.id, "configured": p.configured, "models": list(p.models)}
                      for p in multi.providers()],
        "demo": services.settings.demo,
    })


async def health(ctx: RequestContext) -> ResponsePayload:
    return ResponsePayload(body={"status": "ok", "demo": current_services().settings.demo})
