"""A gateway to fuzz: uvicorn on an ephemeral loopback port, its three providers on the mock LLM and the
proxy on the echo GoBE, rate limit off (a 429 would only hide what lies behind it)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from mockllm import ServerThread, start_mock
from tests.conftest import providers_on
from tests.proxy.echo_gobe import EchoGoBE
from tests.support.gateway import GatewayThread, settings

ALLOW = ("files", "status")


@contextlib.contextmanager
def fuzz_target() -> Iterator[GatewayThread]:
    with start_mock() as mock, ServerThread(EchoGoBE(), graceful_shutdown_s=0.2) as gobe:
        gateway_settings = settings(**providers_on(mock), gobe_base_url=gobe.url, gobe_proxy_allow=ALLOW,
                                    request_timeout_ms=5_000)
        gateway = GatewayThread(gateway_settings).start(timeout_s=60)
        try:
            yield gateway
        finally:
            gateway.stop()
