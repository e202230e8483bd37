"""ASGI entry point: ``uvicorn grompt_gateway.asgi:application``."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grompt_gateway.settings")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from grompt_gateway.application import GatewayApplication  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - build the URL map (and the /v1 routes) now, not on the first request

application = GatewayApplication(settings.GATEWAY)
