"""Fallback of the default route (llm.fallback via MultiAI), counted at the mock upstream per provider:
who is tried, how often (3 upstream calls per request in all), within one deadline, and who is named.
Streams: test_fallback_streams.py."""

from __future__ import annotations

import pytest

from llm.errors import (
    DeadlineExceeded,
    ProviderNotConfigured,
    UpstreamBadRequest,
    UpstreamError,
)
from llm.multi import MultiAIWrapper
from llm.registry import ProviderRegistry
from llm.retry import RetryPolicy
from llm.types import GenOptions, ProviderId
from mockllm import MockLLMServer, Scenario
from tests.llm.fallback_support import ANSWER, ANTHROPIC, DOWN, OPENAI, PROMPT, calls, default_route
from tests.llm.wiring import FailureLog, FallbackLog, make_multi, make_registry

pytestmark = pytest.mark.anyio


@pytest.fixture
def multi(registry: ProviderRegistry, failures: FailureLog, fallbacks: FallbackLog) -> MultiAIWrapper:
    return default_route(registry, failures=failures, fallbacks=fallbacks)


async def generate(multi: MultiAIWrapper, *, options: GenOptions | None = None) -> tuple[str, str, str]:
    result = await multi.generate(PROMPT, options, provider="gemini", model="gemini-2.5-flash", fallback=True)
    return result.text, result.provider, result.model

# --- JSON ---------------------------------------------------------------------------------------------

async def test_a_default_that_keeps_failing_gets_one_retry_then_the_next_provider_serves(
    multi: MultiAIWrapper, mock: MockLLMServer, fallbacks: FallbackLog, failures: FailureLog
) -> None:
    mock.enqueue(DOWN, provider="gemini", times=5)
    mock.enqueue(Scenario(text=ANSWER), provider="openai")

    assert await generate(multi) == (ANSWER, *OPENAI)

    assert calls(mock) == {"gemini": 2, "openai": 1, "anthropic": 0}
    assert fallbacks.moves == [("gemini", "gemini", *OPENAI)]
    assert failures.calls == [("gemini", "503"), ("gemini", "503")]


async def test_three_upstream_calls_at_most_then_the_last_failure_is_answered(
    multi: MultiAIWrapper, mock: MockLLMServer
) -> None:
    for pid in ("gemini", "openai", "anthropic"):
        mock.enqueue(DOWN, provider=pid, times=5)

    with pytest.raises(UpstreamError) as caught:
        await generate(multi)

    assert caught.value.upstream_status == 503
    assert calls(mock) == {"gemini": 2, "openai": 1, "anthropic": 0}


async def test_a_default_that_recovers_on_its_retry_keeps_the_request(
    multi: MultiAIWrapper, mock: MockLLMServer, fallbacks: FallbackLog
) -> None:
    mock.enqueue(DOWN, provider="gemini")
    mock.enqueue(Scenario(text=ANSWER), provider="gemini")

    assert await generate(multi) == (ANSWER, "gemini", "gemini-2.5-flash")
    assert calls(mock) == {"gemini": 2, "openai": 0, "anthropic": 0}
    assert fallbacks.moves == []


async def test_a_long_retry_after_moves_on_at_once_and_each_provider_gets_a_call(
    multi: MultiAIWrapper, mock: MockLLMServer, fallbacks: FallbackLog
) -> None:
    rate_limited = Scenario(status=429, retry_after_s=30)
    mock.enqueue(rate_limited, provider="gemini", times=3)
    mock.enqueue(rate_limited, provider="openai", times=3)
    mock.enqueue(Scenario(text=ANSWER), provider="anthropic")

    assert await generate(multi) == (ANSWER, *ANTHROPIC)

    assert calls(mock) == {"gemini": 1, "openai": 1, "anthropic": 1}
    assert fallbacks.moves == [("gemini", "gemini", *OPENAI), ("gemini", "openai", *ANTHROPIC)]


async def test_a_retry_after_longer_than_the_time_left_moves_on_rather_than_waits(
    registry: ProviderRegistry, mock: MockLLMServer
) -> None:
    # The cap would allow the wait, but the default's share of a 4 s deadline would not.
    multi = make_multi(registry, request_timeout_ms=4_000, retry=RetryPolicy(max_retry_after_s=60),
                       fallback=("openai",))
    mock.enqueue(Scenario(status=429, retry_after_s=5), provider="gemini", times=3)
    mock.enqueue(Scenario(text=ANSWER), provider="openai")

    assert await generate(multi) == (ANSWER, *OPENAI)
    assert calls(mock) == {"gemini": 1, "openai": 1, "anthropic": 0}


async def test_a_silent_default_gets_half_the_deadline_then_the_next_provider_serves(
    registry: ProviderRegistry, mock: MockLLMServer, failures: FailureLog
) -> None:
    multi = make_multi(registry, failures=failures, request_timeout_ms=3_000, fallback=("openai",))
    mock.enqueue(Scenario(hang=True), provider="gemini")
    mock.enqueue(Scenario(text=ANSWER), provider="openai")

    assert await generate(multi) == (ANSWER, *OPENAI)

    assert calls(mock) == {"gemini": 1, "openai": 1, "anthropic": 0}
    assert failures.calls == [("gemini", "timeout")]
    assert await mock.wait_for_disconnect_async(timeout_s=3)  # the silent call was aborted
    assert mock.requests_for("gemini")[0].disconnected


async def test_a_silent_last_provider_ends_at_the_request_deadline(
    registry: ProviderRegistry, mock: MockLLMServer
) -> None:
    multi = make_multi(registry, request_timeout_ms=800, fallback=("openai",))
    mock.enqueue(Scenario(hang=True), provider="gemini")
    mock.enqueue(Scenario(hang=True), provider="openai")

    with pytest.raises(DeadlineExceeded):
        await generate(multi)
    assert calls(mock) == {"gemini": 1, "openai": 1, "anthropic": 0}


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_credentials_move_on_without_a_retry(
    multi: MultiAIWrapper, mock: MockLLMServer, status: int
) -> None:
    mock.enqueue(Scenario(status=status), provider="gemini", times=3)
    mock.enqueue(Scenario(text=ANSWER), provider="openai")

    assert await generate(multi) == (ANSWER, *OPENAI)
    assert calls(mock) == {"gemini": 1, "openai": 1, "anthropic": 0}


@pytest.mark.parametrize("broken", [Scenario(body="html"), Scenario(body="garbage"), Scenario(body="shape"),
                                    Scenario(status=502, body="html")], ids=["html", "garbage", "shape", "502-html"])
async def test_a_broken_answer_falls_back(multi: MultiAIWrapper, mock: MockLLMServer, broken: Scenario) -> None:
    mock.enqueue(broken, provider="gemini", times=3)
    mock.enqueue(Scenario(text=ANSWER), provider="openai")

    assert await generate(multi) == (ANSWER, *OPENAI)
    assert calls(mock)["openai"] == 1 and calls(mock)["gemini"] in (1, 2)  # a 502 is retried once


async def test_a_credentials_refusal_with_its_cause_moves_on(multi: MultiAIWrapper, mock: MockLLMServer) -> None:
    mock.enqueue(Scenario(status=400, reason="API_KEY_INVALID"), provider="gemini", times=3)
    mock.enqueue(Scenario(text=ANSWER), provider="openai")

    assert await generate(multi) == (ANSWER, *OPENAI)
    assert calls(mock) == {"gemini": 1, "openai": 1, "anthropic": 0}


@pytest.mark.parametrize("status", [400, 404, 422])
async def test_a_request_the_provider_refuses_never_falls_back(
    multi: MultiAIWrapper, mock: MockLLMServer, fallbacks: FallbackLog, status: int
) -> None:
    mock.enqueue(Scenario(status=status), provider="gemini", times=3)

    with pytest.raises(UpstreamBadRequest):
        await generate(multi)
    assert calls(mock) == {"gemini": 1, "openai": 0, "anthropic": 0}
    assert fallbacks.moves == []


async def test_a_request_off_the_default_route_never_falls_back(
    multi: MultiAIWrapper, mock: MockLLMServer, fallbacks: FallbackLog
) -> None:
    mock.enqueue(DOWN, provider="gemini", times=5)

    with pytest.raises(UpstreamError):
        await multi.generate(PROMPT, provider="gemini", model="gemini-2.5-flash")  # fallback=False
    assert calls(mock) == {"gemini": 3, "openai": 0, "anthropic": 0}  # today's retries, unchanged
    assert fallbacks.moves == []


async def test_an_unconfigured_default_goes_to_the_first_configured_fallback(
    mock: MockLLMServer, fallbacks: FallbackLog
) -> None:
    registry = make_registry(mock, without=("gemini", "openai"))
    try:
        multi = make_multi(registry, fallback=("openai", "anthropic"), fallbacks=fallbacks)
        mock.enqueue(Scenario(text=ANSWER), provider="anthropic")

        assert await generate(multi) == (ANSWER, *ANTHROPIC)
        assert calls(mock) == {"gemini": 0, "openai": 0, "anthropic": 1}
        assert fallbacks.moves == [("gemini", "gemini", *ANTHROPIC)]
    finally:
        await registry.aclose()


async def test_an_unconfigured_single_fallback_gets_all_three_calls(mock: MockLLMServer) -> None:
    registry = make_registry(mock, without=("gemini",))
    try:
        multi = make_multi(registry, fallback=("openai",))
        mock.enqueue(DOWN, provider="openai", times=5)

        with pytest.raises(UpstreamError):
            await generate(multi)
        assert calls(mock) == {"gemini": 0, "openai": 3, "anthropic": 0}
    finally:
        await registry.aclose()


async def test_nothing_configured_is_provider_not_configured_before_any_call(mock: MockLLMServer) -> None:
    registry = make_registry(mock, keys=False)
    multi = make_multi(registry, fallback=("openai",))

    with pytest.raises(ProviderNotConfigured):
        await generate(multi)
    with pytest.raises(ProviderNotConfigured):
        multi.stream(PROMPT, provider="gemini", model="gemini-2.5-flash", fallback=True)
    assert mock.requests == []


async def test_every_attempt_carries_the_same_completion_cap(multi: MultiAIWrapper, mock: MockLLMServer) -> None:
    mock.enqueue(DOWN, provider="gemini", times=2)

    await generate(multi, options=GenOptions(max_tokens=42))

    caps = [r.body["generationConfig"]["maxOutputTokens"] for r in mock.requests_for("gemini")]
    caps += [r.body["max_completion_tokens"] for r in mock.requests_for("openai")]
    assert caps == [42, 42, 42]


# --- the route --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("provider", "model", "expected"), [
    (None, None, True),
    (None, "", True),
    (None, "gemini-2.5-flash", True),  # the default model, named: still the default route
    (None, "gemini-2.5-pro", False),  # another model the user picked: never substituted
    ("gemini", None, False),  # a named provider, even the default one
    ("openai", None, False),
])
async def test_only_the_default_route_falls_back(
    registry: ProviderRegistry, provider: str | None, model: str | None, expected: bool
) -> None:
    assert make_multi(registry, fallback=("openai",)).is_default_route(provider=provider, model=model) is expected
    assert make_multi(registry).is_default_route(provider=provider, model=model) is False  # no fallback set


@pytest.mark.parametrize("fallback", [("openai", "openai"), ("gemini",), ("mistral",)])
async def test_a_bad_fallback_list_is_refused(registry: ProviderRegistry, fallback: tuple[ProviderId, ...]) -> None:
    with pytest.raises(ValueError, match="fallback"):
        make_multi(registry, fallback=fallback)
