"""A client that never reads a long stream does not make the gateway buffer it: uvicorn's flow control
stops the response writes, the relay's queue (64 chunks) fills, the producer stops reading the provider,
and the provider's own writes stop. What waits in between is bounded, whatever the stream's length."""

from __future__ import annotations

import socket
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mockllm import MockLLMServer
from tests.conftest import providers_on
from tests.support.gateway import GatewayThread, settings

CHUNKS = 100_000  # ~20 MB from the provider: more than the socket buffers on the way hold


def _plateau(mock: MockLLMServer, *, rounds: int = 100) -> int:
    """Poll (bounded) until the provider has stopped sending; return how many chunks it sent."""
    readings: list[int] = []
    for _ in range(rounds):
        time.sleep(0.2)
        (request,) = mock.requests
        readings.append(request.chunks_sent)
        if request.outcome != "pending" or readings[-3:] == [readings[-1]] * 3:
            return request.chunks_sent
    raise AssertionError("the provider never stopped sending")


def _cancelled_streams(gateway: GatewayThread) -> float:
    text = httpx.get(f"{gateway.url}/metrics", timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "grompt_gateway_cancelled_streams_total")


def test_a_client_that_never_reads_stalls_the_provider_instead_of_filling_memory(mock_llm: MockLLMServer) -> None:
    with GatewayThread(settings(**providers_on(mock_llm), sse_heartbeat_s=0.0)) as gateway, \
            socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(10)
        sock.connect(("127.0.0.1", gateway.port))
        sock.sendall(f"GET /v1/generate/stream?provider=openai&user=%5Bmock+chunks%3D{CHUNKS}+gap_ms%3D0%5D+hi "
                     "HTTP/1.1\r\nHost: gw\r\n\r\n".encode())  # and never read
        assert mock_llm.wait_for_requests(count=1, timeout_s=10)
        sent = _plateau(mock_llm)
        (request,) = mock_llm.requests
        # Stalled mid-stream: what was sent waits in socket buffers (loopback autotunes them to a few MB,
        # ~30,000-60,000 of these small events) and in the relay's bounded queue, not in a growing buffer.
        assert request.outcome == "pending" and sent < CHUNKS, sent
        before = _cancelled_streams(gateway)
        sock.close()
        # Leaving still cancels the relay (and with it the provider call). The mock cannot tell here: at
        # gap_ms=0 its sends after a disconnect return at once, so it "completes" before noticing.
        for _ in range(100):
            if _cancelled_streams(gateway) == before + 1:
                break
            time.sleep(0.1)
        assert _cancelled_streams(gateway) == before + 1
