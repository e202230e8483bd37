"""Provider refusals mapped by whose fault they are (llm/README.md § Errors), decided on each provider's
structured error (status, error type/code/reason) as the mock sends it in that provider's shape, never on its
message: the client's mistakes are ``UpstreamBadRequest`` naming the cause; the gateway's own credentials or base
URL are ``ProviderMisconfigured`` with one WARNING line telling the operator what to fix."""

from __future__ import annotations

import logging

import pytest

from llm.errors import GatewayError, ProviderMisconfigured, UpstreamBadRequest
from llm.registry import ProviderConfig, ProviderRegistry
from llm.types import GenInput, ProviderId
from mockllm import MockLLMServer, Scenario
from tests.llm.wiring import MODELS, base_urls, drain

pytestmark = pytest.mark.anyio

KEY = "sk-secret-gateway-key"


@pytest.fixture
async def keyed(mock: MockLLMServer) -> ProviderRegistry:
    urls = base_urls(mock)
    registry = ProviderRegistry({pid: ProviderConfig(id=pid, api_key=KEY, base_url=urls[pid]) for pid in urls})
    yield registry  # type: ignore[misc]
    await registry.aclose()


async def refusal(registry: ProviderRegistry, pid: ProviderId, *, stream: bool = False) -> GatewayError:
    port = registry.bind(pid, MODELS[pid][0])
    call = drain(port.stream(GenInput(user="secret prompt")), into=[]) if stream else port.generate(
        GenInput(user="secret prompt"))
    with pytest.raises(GatewayError) as caught:
        await call
    return caught.value


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "llm.upstream" and r.levelno == logging.WARNING]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_unknown_model_is_the_clients_400_naming_the_cause(
    keyed: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    mock.enqueue(Scenario(status=404))  # each provider's structured "model not found"

    exc = await refusal(keyed, pid, stream=stream)

    assert type(exc) is UpstreamBadRequest
    assert "unknown model" in exc.message
    assert warnings(caplog) == []


@pytest.mark.parametrize(
    ("pid", "reason", "cause"),
    [("openai", "context_length_exceeded", "prompt too long for the model's context"),
     ("anthropic", None, "anthropic refused the request (400)"),  # Anthropic has no structured code for it
     ("gemini", None, "gemini refused the request (400)")],
)
async def test_a_400_names_the_cause_its_structure_gives(
    keyed: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, reason: str | None, cause: str
) -> None:
    mock.enqueue(Scenario(status=400, reason=reason))

    exc = await refusal(keyed, pid)

    assert type(exc) is UpstreamBadRequest
    assert cause in exc.message


@pytest.mark.parametrize("status", [413, 422])
async def test_too_large_and_unprocessable_are_the_clients_400(
    keyed: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, status: int
) -> None:
    mock.enqueue(Scenario(status=status))

    exc = await refusal(keyed, pid)

    assert type(exc) is UpstreamBadRequest
    assert exc.upstream_status == status


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_refused_credentials_are_502_and_tell_the_operator_to_check_the_key(
    keyed: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, status: int, stream: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mock.enqueue(Scenario(status=status))

    exc = await refusal(keyed, pid, stream=stream)

    assert type(exc) is ProviderMisconfigured
    assert warnings(caplog) == [f"{pid} refused the gateway's credentials ({status}): check {pid.upper()}_API_KEY"]
    assert KEY not in caplog.text and "secret prompt" not in caplog.text


@pytest.mark.parametrize("page", ["json", "html"])
async def test_a_404_that_is_not_model_not_found_is_a_wrong_base_url(
    mock: MockLLMServer, pid: ProviderId, page: str, caplog: pytest.LogCaptureFixture
) -> None:
    # JSON from a server that is not the provider's API (a wrong path), or a web server's HTML 404 page.
    url = base_urls(mock)[pid] + ("/wrong" if page == "json" else "")
    registry = ProviderRegistry({pid: ProviderConfig(id=pid, api_key=KEY, base_url=url)})
    if page == "html":
        mock.enqueue(Scenario(status=404, body="html"))
    try:
        exc = await refusal(registry, pid)
    finally:
        await registry.aclose()

    assert type(exc) is ProviderMisconfigured
    assert exc.upstream_status == 404
    assert warnings(caplog) == [f"{pid} refused the gateway's API path (404): check {pid.upper()}_BASE_URL"]


@pytest.mark.parametrize(("pid", "reason"), [("openai", "unknown_url"), ("anthropic", "invalid_request_error")])
async def test_a_404_whose_code_is_not_model_not_found_is_not_the_clients(
    keyed: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, reason: str
) -> None:
    mock.enqueue(Scenario(status=404, reason=reason))

    assert type(await refusal(keyed, pid)) is ProviderMisconfigured


async def test_gemini_400_with_an_invalid_key_reason_is_the_gateways_key(
    keyed: ProviderRegistry, mock: MockLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    mock.enqueue(Scenario(status=400, reason="API_KEY_INVALID"))

    exc = await refusal(keyed, "gemini")

    assert type(exc) is ProviderMisconfigured
    assert warnings(caplog) == ["gemini refused the gateway's credentials (400): check GEMINI_API_KEY"]


async def test_anthropic_billing_error_tells_the_operator_to_check_billing(
    keyed: ProviderRegistry, mock: MockLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    mock.enqueue(Scenario(status=402, reason="billing_error"))

    assert type(await refusal(keyed, "anthropic")) is ProviderMisconfigured
    fix = "check the anthropic account's billing"
    assert warnings(caplog) == [f"anthropic refused the gateway's credentials (402): {fix}"]
