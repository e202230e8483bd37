"""``python manage.py mockllm --port 8787 --chunk-delay-ms 40``: the built-in mock LLM upstream on its
own, in the foreground, speaking the OpenAI, Anthropic and Gemini wire protocols, for other tools."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from mockllm import run


class Command(BaseCommand):
    help = "Run the mock LLM upstream (OpenAI, Anthropic and Gemini wire protocols) until Ctrl-C."
    requires_system_checks = ()  # nothing of Django runs here

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback)")
        parser.add_argument("--port", type=int, default=8787)
        parser.add_argument("--chunk-delay-ms", type=float, default=settings.GATEWAY.demo_chunk_delay_ms,
                            help="pause before each streamed chunk (default: DEMO_CHUNK_DELAY_MS)")
        parser.add_argument("--chunks", type=int, default=None,
                            help="answer length in chunks (default: natural)")
        parser.add_argument("--api-key", default=None, help="require this key (default: any non-empty key)")

    def handle(self, *args: Any, **options: Any) -> None:
        run(host=options["host"], port=options["port"], chunk_delay_s=options["chunk_delay_ms"] / 1000,
            chunks=options["chunks"], api_key=options["api_key"], log_level="info")
