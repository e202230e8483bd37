"""URL map: the Ninja /v1 API, Prometheus /metrics, and JSON for everything unknown."""

from __future__ import annotations

from django.urls import include, path

from grompt_gateway.server.django_adapter import DjangoHttpServer
from grompt_gateway.v1.api import api
from grompt_gateway.v1.routes import register_routes
from proxy.docs import register_proxy_docs

register_routes(DjangoHttpServer(api=api))
register_proxy_docs(api)

urlpatterns = [
    path("v1/", api.urls),
    path("", include("django_prometheus.urls")),
]
