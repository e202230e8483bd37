"""``HTTP_ADAPTER`` → the ``HttpServerPort`` implementation that serves the gateway, with the ``/v1`` API
(``runserver`` builds its server here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from starlette.types import ASGIApp

from grompt_gateway.config import HTTP_ADAPTERS, GatewaySettings, SettingsError
from grompt_gateway.server.django_adapter import DjangoHttpServer
from grompt_gateway.v1.api import api

ServerFactory = Callable[[GatewaySettings, ASGIApp], DjangoHttpServer]

ADAPTERS: Final[dict[str, ServerFactory]] = {
    "django": lambda settings, app: DjangoHttpServer(api=api, app=app, host=settings.host, port=settings.port),
}
assert set(ADAPTERS) == set(HTTP_ADAPTERS)


def build_http_server(settings: GatewaySettings, *, app: ASGIApp) -> DjangoHttpServer:
    try:
        factory = ADAPTERS[settings.http_adapter]
    except KeyError:
        raise SettingsError(f"HTTP_ADAPTER has value {settings.http_adapter!r}. Unknown adapter.") from None
    return factory(settings, app)
