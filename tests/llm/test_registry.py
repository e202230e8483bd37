"""ProviderRegistry: one lazily built SDK client per provider (per event loop), shared by every binding,
closed by ``aclose()`` (test_errors.py shows the SDKs never retry); and RetryPolicy, the numbers MultiAI waits by."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import anthropic
import openai
import pytest
from google import genai

from llm.errors import DeadlineExceeded, UpstreamBadRequest, UpstreamConnectionError, UpstreamError
from llm.registry import ProviderRegistry
from llm.retry import RetryPolicy
from llm.types import GenInput, ProviderId
from mockllm import MockLLMServer
from tests.llm.wiring import make_registry
from tests.support.process import python_prints

SDK_CLIENTS = {"openai": openai.AsyncOpenAI, "anthropic": anthropic.AsyncAnthropic, "gemini": genai.Client}


def sdk_client(registry: ProviderRegistry, pid: ProviderId, model: str) -> object:
    # The adapters keep their client private; reading it is how to see that it is shared.
    client: object = getattr(registry.bind(pid, model), "_client")  # noqa: B009
    return client


@pytest.mark.anyio
async def test_every_binding_shares_the_one_client_of_its_provider(
    mock: MockLLMServer, pid: ProviderId, model: str
) -> None:
    registry = make_registry(mock)

    first = sdk_client(registry, pid, model)
    assert isinstance(first, SDK_CLIENTS[pid])
    assert sdk_client(registry, pid, "another-model") is first
    for _ in range(3):
        await registry.bind(pid, model).generate(GenInput(user="hi"))
    assert sdk_client(registry, pid, model) is first
    assert len(mock.requests_for(pid)) == 3
    await registry.aclose()


@pytest.mark.anyio
async def test_aclose_closes_the_clients_and_a_later_bind_builds_new_ones(mock: MockLLMServer) -> None:
    registry = make_registry(mock)
    openai_client = sdk_client(registry, "openai", "gpt-4o-mini")
    anthropic_client = sdk_client(registry, "anthropic", "claude-haiku-4-5")
    assert isinstance(openai_client, openai.AsyncOpenAI)
    assert isinstance(anthropic_client, anthropic.AsyncAnthropic)
    sdk_client(registry, "gemini", "gemini-2.5-flash")

    await registry.aclose()

    assert openai_client.is_closed() and anthropic_client.is_closed()
    assert sdk_client(registry, "openai", "gpt-4o-mini") is not openai_client
    await registry.aclose()


def test_each_loop_gets_its_own_clients(mock: MockLLMServer) -> None:
    registry = make_registry(mock)

    async def use_in_a_new_loop() -> object:
        client = sdk_client(registry, "openai", "gpt-4o-mini")
        await registry.bind("openai", "gpt-4o-mini").generate(GenInput(user="hi"))
        assert sdk_client(registry, "openai", "gpt-4o-mini") is client
        assert isinstance(client, openai.AsyncOpenAI)
        await client.close()  # this loop ends here, so its pool must be closed on it
        return client

    first = asyncio.run(use_in_a_new_loop())
    second = asyncio.run(use_in_a_new_loop())  # a pool bound to the first (closed) loop is unusable

    assert first is not second
    assert len(mock.requests_for("openai")) == 2


def test_backoff_grows_with_jitter_and_stays_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.2, max_delay_s=0.3)
    failure = UpstreamError("x", upstream_status=503)

    first = [policy.delay_s(failure=failure, retries_done=0, remaining_s=10) for _ in range(50)]
    second = [policy.delay_s(failure=failure, retries_done=1, remaining_s=10) for _ in range(50)]

    assert all(d is not None and 0.1 <= d <= 0.2 for d in first)
    assert all(d is not None and 0.15 <= d <= 0.3 for d in second)
    assert len(set(first)) > 1


def test_retry_after_is_honoured_up_to_its_cap() -> None:
    policy = RetryPolicy(max_retry_after_s=2)

    assert policy.delay_s(failure=rate_limited(1.5), retries_done=0, remaining_s=10) == 1.5
    assert policy.delay_s(failure=rate_limited(60), retries_done=0, remaining_s=10) == 2


def test_no_retry_past_the_limit_the_deadline_or_for_what_cannot_succeed() -> None:
    policy = RetryPolicy()

    assert policy.delay_s(failure=rate_limited(0.1), retries_done=2, remaining_s=10) is None
    assert policy.delay_s(failure=rate_limited(1.0), retries_done=0, remaining_s=0.5) is None
    for failure in (
        UpstreamBadRequest("x", upstream_status=400),
        UpstreamError("x", upstream_status=401),
        UpstreamError("x"),  # an error event inside a stream, of unknown kind
        DeadlineExceeded("x"),
    ):
        assert policy.delay_s(failure=failure, retries_done=0, remaining_s=10) is None
    for failure in (UpstreamConnectionError("x"), UpstreamError("x", upstream_status=408)):
        assert policy.delay_s(failure=failure, retries_done=0, remaining_s=10) is not None


def rate_limited(retry_after_s: float) -> UpstreamError:
    return UpstreamError("x", upstream_status=429, retry_after_s=retry_after_s)


def test_building_a_registry_imports_only_the_sdks_of_configured_providers() -> None:
    code = (
        "import sys\n"
        "from llm.registry import ProviderConfig, ProviderRegistry\n"
        "before = sorted({'openai', 'anthropic', 'google.genai'} & set(sys.modules))\n"
        "configs = {'openai': ProviderConfig(id='openai', api_key='k'), 'gemini': ProviderConfig(id='gemini')}\n"
        "ProviderRegistry(configs)\n"
        "print(before, sorted({'openai', 'anthropic', 'google.genai'} & set(sys.modules)))\n"
    )
    assert python_prints(code) == ["[] ['openai']"]


@pytest.mark.anyio
async def test_a_registry_built_on_a_running_loop_has_its_clients_ready(mock: MockLLMServer) -> None:
    registry = make_registry(mock)
    try:
        # Built at construction (start-up), so a later bind gets the very same client.
        held = getattr(registry, "_clients")[asyncio.get_running_loop()]  # noqa: B009
        assert set(held) == {"openai", "anthropic", "gemini"}
        assert sdk_client(registry, "openai", "gpt-4o-mini") is held["openai"][0]
    finally:
        await registry.aclose()


@pytest.mark.anyio
async def test_the_clients_of_all_three_providers_load_the_trust_store_once(
    mock: MockLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each TLS context reads the CA store (~25 ms): one shared context instead of five (genai built three)."""
    loads: list[object] = []
    load = ssl.SSLContext.load_verify_locations

    def counted(context: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(context)
        load(context, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    registry = make_registry(mock)  # on a running loop: all three clients are built now
    try:
        assert len(loads) == 1
        assert loads[0] is registry.ssl_context()
        answer = await registry.bind("gemini", "gemini-2.5-flash").generate(GenInput(user="hi"))
        assert answer.text
    finally:
        await registry.aclose()
