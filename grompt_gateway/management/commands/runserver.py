"""``manage.py runserver``: the same ASGI app as production, under uvicorn, with autoreload.

Django's own runserver is WSGI: it buffers SSE, misses client disconnects and breaks shared async
clients, so development would not behave like production.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from pathlib import Path
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from grompt_gateway.application import GatewayApplication
from grompt_gateway.config import GatewaySettings
from grompt_gateway.http_server import build_http_server
from grompt_gateway.observability.log_json import logging_config

BASE_DIR = Path(__file__).resolve().parents[3]


class Command(BaseCommand):
    help = "Serve the gateway (ASGI, uvicorn) with autoreload; --demo backs all providers with the mock LLM."
    requires_system_checks = ()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", help="[host:]port, default HOST:PORT from the settings")
        parser.add_argument("--demo", action="store_true", help="built-in mock LLM upstream, no API keys")
        parser.add_argument("--noreload", action="store_false", dest="reload", help="no autoreload")

    def handle(self, *args: Any, **options: Any) -> None:
        gateway = settings.GATEWAY
        host, port = gateway.host, gateway.port
        if options["addrport"]:
            head, _, tail = str(options["addrport"]).rpartition(":")
            host, port = head or host, int(tail)
        if options["demo"]:
            os.environ["GROMPT_DEMO"] = "1"  # read by the reloaded worker process
            gateway = dataclasses.replace(gateway, demo=True)
        if options["reload"]:
            uvicorn.run(
                "grompt_gateway.asgi:application", host=host, port=port, reload=True,
                reload_dirs=[str(BASE_DIR / d) for d in ("grompt_gateway", "llm", "proxy", "guards", "mockllm")],
                lifespan="on", proxy_headers=False, access_log=False, timeout_graceful_shutdown=3,
                log_config=logging_config(gateway.log_level),
            )
            return
        asyncio.run(_serve(dataclasses.replace(gateway, host=host, port=port)))


async def _serve(gateway: GatewaySettings) -> None:
    """Serve through the HTTP_ADAPTER's start(); uvicorn stops it on SIGINT or SIGTERM."""
    server = build_http_server(gateway, app=GatewayApplication(gateway))
    await server.start()
    await server.wait_closed()
