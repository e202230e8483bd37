"""Demo mode (``GROMPT_DEMO=1`` or ``runserver --demo``): the built-in mock LLM on a free loopback port
backs all three providers, so the gateway streams through the real SDKs with no key and no network.

Only ``Services.start()`` calls this, and only when ``settings.demo`` is true.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Final

from grompt_gateway.config import GatewaySettings
from mockllm import MockLLMServer, start_mock

log = logging.getLogger("grompt_gateway.demo")

# The mock accepts any non-empty key; the SDKs refuse to start without one.
DEMO_API_KEY: Final = "demo"


class DemoUpstream:
    """The running mock, and the async stop function ``Services`` calls at shutdown.

    ``mock`` gives tests (and curious operators) its recorder: ``mock.requests``, ``mock.disconnects``,
    ``mock.wait_for_disconnect(timeout_s=…)``.
    """

    def __init__(self, mock: MockLLMServer) -> None:
        self.mock = mock

    async def __call__(self) -> None:
        # Joining the server thread blocks; keep it off the gateway's event loop.
        await asyncio.to_thread(self.mock.stop)

    def settings_for(self, settings: GatewaySettings) -> GatewaySettings:
        """Return ``settings`` with every provider pointed at the mock."""
        return dataclasses.replace(
            settings,
            openai_api_key=DEMO_API_KEY,
            anthropic_api_key=DEMO_API_KEY,
            gemini_api_key=DEMO_API_KEY,
            openai_base_url=self.mock.openai_base_url,
            anthropic_base_url=self.mock.anthropic_base_url,
            gemini_base_url=self.mock.gemini_base_url,
        )


def start_demo_upstream(settings: GatewaySettings) -> tuple[GatewaySettings, DemoUpstream]:
    """Start the mock LLM in its own thread; return the settings that use it and its stop function."""
    upstream = DemoUpstream(start_mock(chunk_delay_s=settings.demo_chunk_delay_ms / 1000))
    log.warning(
        "DEMO MODE: no real model is called. openai, anthropic and gemini are all answered by the "
        "built-in mock LLM; never use demo mode in production",
        extra={"demo": True, "mock_url": upstream.mock.url, "chunk_delay_ms": settings.demo_chunk_delay_ms},
    )
    return upstream.settings_for(settings), upstream
