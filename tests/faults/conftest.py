"""Gateways in front of the session's mock LLM for the fault suite: one patient (a fault must show as itself,
not as a timeout) and one impatient (silences and stalls end in a deadline quickly)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockllm import MockLLMServer
from tests.conftest import providers_on
from tests.support.gateway import GatewayThread, settings

PATIENT_TIMEOUT_MS = 10_000
IMPATIENT_TIMEOUT_MS = 300


@pytest.fixture(scope="session")
def patient_gateway(mock_llm_server: MockLLMServer) -> Iterator[GatewayThread]:
    with GatewayThread(settings(**providers_on(mock_llm_server), request_timeout_ms=PATIENT_TIMEOUT_MS)) as gateway:
        yield gateway


@pytest.fixture(scope="session")
def impatient_gateway(mock_llm_server: MockLLMServer) -> Iterator[GatewayThread]:
    with GatewayThread(settings(**providers_on(mock_llm_server), request_timeout_ms=IMPATIENT_TIMEOUT_MS)) as gateway:
        yield gateway
