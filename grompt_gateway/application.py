"""The gateway as one ASGI application, outermost first (each layer is one hop from here):

    stack.lifespan.Lifespan        start and close the shared services (wiring.Services)
    stack.websocket                every WebSocket handshake refused (403)
    stack.cors.cors                CORS on every answer, preflights answered
    stack.access.AccessLayer       request id, access line, request metrics, errors before a response
    stack.shutdown.ShutdownLayer   503 shutting_down while draining; ends what outlives the grace period
    guards.BearerAuth              GoBE's bearer tokens on the paid routes (only when AUTH_* keys are set)
    guards.RateLimit → BodyLimit → Deadline
    proxy.routes.ProxyRoute        /v1/proxy/* to GoBE, raw ASGI
    stack.static_files.StaticFiles the playground and /static/
    stack.django_handler.GatewayASGIHandler
        Django: stack.json_errors middleware, urls.py → v1.api (Ninja) → v1.routes → v1.generate / v1.meta

Built from a ``GatewaySettings`` so tests can run several gateways with different settings in one
process; ``asgi.py`` builds the production one from the environment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from grompt_gateway.config import GatewaySettings
from grompt_gateway.observability.metrics import forget_this_process
from grompt_gateway.observability.request_context import annotate
from grompt_gateway.stack.access import AccessLayer
from grompt_gateway.stack.cors import cors
from grompt_gateway.stack.django_handler import GatewayASGIHandler
from grompt_gateway.stack.lifespan import Lifespan, collector_paused, freeze_start_up
from grompt_gateway.stack.shutdown import ShutdownLayer, drain_on_signals
from grompt_gateway.stack.static_files import StaticFiles
from grompt_gateway.stack.websocket import refuse_websocket
from grompt_gateway.wiring import CURRENT, Services
from guards import BodyLimit, Deadline, RateLimit
from proxy.routes import PREFIX as PROXY_PREFIX
from proxy.routes import ProxyRoute

# The paid routes: model calls and the GoBE pass-through (docs/api.md § Endpoints); never health, metrics, docs.
RATE_LIMITED_PREFIXES: Final = ("/v1/generate", PROXY_PREFIX)
# The gateway's own paid routes, where GoBE's bearer tokens are verified (docs/api.md § Headers, § Who is counted).
# Not the proxy: it forwards Authorization untouched and GoBE checks its own routes.
AUTHENTICATED_PREFIXES: Final = ("/v1/generate", "/v1/budget")


class GatewayApplication:
    """ASGI callable; ``services`` are shared by every request it serves."""

    def __init__(self, settings: GatewaySettings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.services = Services(settings, clock=clock)
        chain = AccessLayer(_http_chain(self.services, django=GatewayASGIHandler()))
        self._http: ASGIApp = cors(chain, allowed_origins=settings.cors_allowed_origins)
        self._app = Lifespan(self._serve, on_startup=self._start, on_shutdown=self._stop)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    async def _start(self) -> None:
        with collector_paused():  # the configured SDKs are imported now: ~20 % faster without passes
            await self.services.start()
            drain_on_signals(self.services.drain)
            # What start-up built (modules, SDK types, clients: ~300,000 objects) lives as long as the
            # process. Frozen, it is left out of the collector's full passes, which otherwise walked it all
            # and stalled every request in flight for ~90 ms each time (measured: the JSON p99 outliers).
            freeze_start_up()

    async def _stop(self) -> None:
        await self.services.aclose()
        forget_this_process()

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await refuse_websocket(scope, receive, send)
            return
        CURRENT.set(self.services)
        if not self.services.started:  # servers run without lifespan (lifespan="off", test drivers)
            await self.services.start()
        await self._http(scope, receive, send)


def _http_chain(services: Services, *, django: ASGIApp) -> ASGIApp:
    """The guards and routes in front of Django, outermost first."""
    app: ASGIApp = StaticFiles(django, playground_enabled=services.settings.playground_enabled)
    app = ProxyRoute(app, gobe=lambda: services.gobe, allow=services.settings.gobe_proxy_allow,
                     max_body_bytes=services.settings.proxy_max_body_bytes, annotate=annotate)
    # Guards (guards/README.md): bearer auth → rate limit → body limit → deadline, outside the proxy route.
    settings = services.settings
    app = Deadline(app, timeout_ms=settings.request_timeout_ms)
    app = BodyLimit(app, max_body_bytes=settings.max_body_bytes, exempt=(PROXY_PREFIX,))
    app = RateLimit(app, limiter=services.rate_limiter, client_keys=services.client_keys,
                    prefixes=RATE_LIMITED_PREFIXES)
    # Bearer tokens before the rate limit, so limits are keyed on the verified caller.
    if services.token_verifier is not None:
        # Imported only when tokens are checked: PyJWT and cryptography cost ~20 MB of RSS.
        from guards.bearer_auth import BearerAuth

        app = BearerAuth(app, verifier=services.token_verifier, required=settings.auth_required,
                         prefixes=AUTHENTICATED_PREFIXES, annotate=annotate)
    # Outermost of the chain: while draining, nothing new reaches the guards (stack/shutdown.py).
    return ShutdownLayer(app, drain=services.drain)

