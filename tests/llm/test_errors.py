"""Every failure each SDK raises comes out of its adapter as one of llm/errors.py, with a short message
that carries no key, no prompt and no upstream body; SDK-internal retries are off."""

from __future__ import annotations

import socket

import pytest

from llm.errors import (
    DeadlineExceeded,
    GatewayError,
    ProviderMisconfigured,
    ProviderNotConfigured,
    UpstreamBadRequest,
    UpstreamConnectionError,
    UpstreamError,
)
from llm.registry import ProviderConfig, ProviderRegistry
from llm.types import GenInput, ProviderId
from mockllm import MockLLMServer, Scenario
from tests.llm.wiring import MODELS, drain, make_registry

pytestmark = pytest.mark.anyio

SECRET_PROMPT = GenInput(system="secret system words", user="secret user words")


async def fail_generate(registry: ProviderRegistry, pid: ProviderId) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        await registry.bind(pid, MODELS[pid][0]).generate(SECRET_PROMPT)
    return caught.value


async def fail_stream(registry: ProviderRegistry, pid: ProviderId) -> tuple[GatewayError, list[str]]:
    chunks: list[str] = []
    with pytest.raises(GatewayError) as caught:
        await drain(registry.bind(pid, MODELS[pid][0]).stream(SECRET_PROMPT), into=chunks)
    return caught.value, chunks


def assert_clean(exc: GatewayError, pid: ProviderId) -> None:
    assert pid in exc.message
    for leak in ("secret", "key-", "mockllm", "Bearer"):
        assert leak not in exc.message


@pytest.mark.parametrize("status", [400, 404, 422])
async def test_a_refused_request_is_an_upstream_bad_request(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, status: int
) -> None:
    mock.enqueue(Scenario(status=status))

    exc = await fail_generate(registry, pid)

    assert isinstance(exc, UpstreamBadRequest)
    assert exc.upstream_status == status
    assert_clean(exc, pid)


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_credentials_are_the_gateways_misconfiguration(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, status: int
) -> None:
    mock.enqueue(Scenario(status=status))

    exc = await fail_generate(registry, pid)

    assert type(exc) is ProviderMisconfigured
    assert exc.upstream_status == status
    assert_clean(exc, pid)
    assert len(mock.requests_for(pid)) == 1  # the SDK did not retry


@pytest.mark.parametrize("status", [500, 503])
async def test_server_failures_are_upstream_errors_with_the_status(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, status: int
) -> None:
    mock.enqueue(Scenario(status=status))

    exc = await fail_generate(registry, pid)

    assert type(exc) is UpstreamError
    assert exc.upstream_status == status
    assert_clean(exc, pid)
    assert len(mock.requests_for(pid)) == 1  # the SDK did not retry


async def test_rate_limit_keeps_the_retry_after_hint(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId
) -> None:
    mock.enqueue(Scenario(status=429, retry_after_s=7))

    exc = await fail_generate(registry, pid)

    assert type(exc) is UpstreamError
    assert (exc.upstream_status, exc.retry_after_s) == (429, 7.0)
    assert_clean(exc, pid)
    assert len(mock.requests_for(pid)) == 1


async def test_a_stream_refused_by_status_fails_at_the_first_iteration(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId
) -> None:
    mock.enqueue(Scenario(status=429))

    exc, chunks = await fail_stream(registry, pid)

    assert (type(exc), exc.upstream_status, chunks) == (UpstreamError, 429, [])


async def test_an_error_event_inside_the_stream_is_an_upstream_error(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId
) -> None:
    mock.enqueue(Scenario(midstream_error=2, chunks=10))

    exc, chunks = await fail_stream(registry, pid)

    assert isinstance(exc, UpstreamError)
    assert len(chunks) == 2
    assert_clean(exc, pid)


async def test_a_connection_reset_mid_stream_is_a_connection_error(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId
) -> None:
    mock.enqueue(Scenario(reset_after=3, chunks=10))

    exc, chunks = await fail_stream(registry, pid)

    assert isinstance(exc, UpstreamConnectionError)
    assert len(chunks) == 3
    assert_clean(exc, pid)


async def test_an_unreachable_provider_is_a_connection_error(pid: ProviderId) -> None:
    with socket.socket() as sock:  # a port nobody listens on once it is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}" + ("/v1" if pid == "openai" else "")
    registry = ProviderRegistry({pid: ProviderConfig(id=pid, api_key="k", base_url=base_url)})
    try:
        exc = await fail_generate(registry, pid)
    finally:
        await registry.aclose()

    assert type(exc) is UpstreamConnectionError
    assert exc.upstream_status is None


async def test_the_sdk_timeout_is_a_deadline_exceeded(mock: MockLLMServer, pid: ProviderId) -> None:
    registry = make_registry(mock, timeout_ms=200)
    mock.enqueue(Scenario(hang=True))
    try:
        exc = await fail_generate(registry, pid)
    finally:
        await registry.aclose()

    assert type(exc) is DeadlineExceeded
    assert_clean(exc, pid)


async def test_a_provider_without_a_key_is_not_configured(mock: MockLLMServer, pid: ProviderId) -> None:
    registry = make_registry(mock, keys=False)

    assert not registry.configured(pid)
    with pytest.raises(ProviderNotConfigured):
        registry.bind(pid, MODELS[pid][0])
    assert mock.requests == []
