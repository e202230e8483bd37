"""The gateway as one ASGI application: lifespan, then the edge, then the HTTP chain, then Django.

Built from a ``GatewaySettings`` so tests can run several gateways with different settings in one
process; ``asgi.py`` builds the production one from the environment.
"""

from __future__ import annotations

from typing import Final

from grompt_gateway.asgi_types import ASGIApp, Receive, Scope, Send
from grompt_gateway.config import GatewaySettings
from grompt_gateway.django_handler import GatewayASGIHandler
from grompt_gateway.edge import Edge
from grompt_gateway.lifespan import Lifespan
from grompt_gateway.request_scope import annotate
from grompt_gateway.static_files import StaticFiles
from grompt_gateway.wiring import CURRENT, Services
from guards import BodyLimit, Deadline, RateLimit
from proxy.routes import PREFIX as PROXY_PREFIX
from proxy.routes import ProxyRoute

# The paid routes: model calls and the GoBE pass-through (API.md § Endpoints); never health, metrics, docs.
RATE_LIMITED_PREFIXES: Final = ("/v1/generate", PROXY_PREFIX)


class GatewayApplication:
    """ASGI callable; ``services`` are shared by every request it serves."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.services = Services(settings)
        self._http: ASGIApp = Edge(_http_chain(self.services, django=GatewayASGIHandler()))
        self._app = Lifespan(self._serve, on_startup=self.services.start, on_shutdown=self.services.aclose)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        CURRENT.set(self.services)
        if not self.services.started:  # servers run without lifespan (lifespan="off", test drivers)
            await self.services.start()
        await self._http(scope, receive, send)


def _http_chain(services: Services, *, django: ASGIApp) -> ASGIApp:
    """The guards and routes in front of Django, outermost first."""
    app: ASGIApp = StaticFiles(django, playground_enabled=services.configured_settings.playground_enabled)
    app = ProxyRoute(app, gobe=lambda: services.gobe, allow=services.configured_settings.gobe_proxy_allow,
                     max_body_bytes=services.configured_settings.proxy_max_body_bytes, annotate=annotate)
    # Guards (guards/README.md): rate limit → body limit → deadline, all outside the proxy route.
    settings = services.configured_settings
    app = Deadline(app, timeout_ms=settings.request_timeout_ms)
    app = BodyLimit(app, max_body_bytes=settings.max_body_bytes, exempt=(PROXY_PREFIX,))
    app = RateLimit(app, limiter=services.rate_limiter, client_keys=services.client_keys,
                    prefixes=RATE_LIMITED_PREFIXES)
    return app
