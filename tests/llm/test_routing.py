"""MultiAI's choice of provider and model (docs/api.md: request, then defaults), and what it lists."""

from __future__ import annotations

import pytest

from llm.errors import InvalidRequest
from llm.multi import MultiAIWrapper, ProviderInfo
from llm.registry import ProviderConfig, ProviderRegistry
from llm.types import ProviderId
from tests.llm.wiring import MODELS


def routing(*, default_provider: ProviderId = "gemini", default_model: str = "gemini-2.5-flash") -> MultiAIWrapper:
    registry = ProviderRegistry({"openai": ProviderConfig(id="openai", api_key="sk-hidden")})
    return MultiAIWrapper(
        registry=registry,
        models=MODELS,
        default_provider=default_provider,
        default_model=default_model,
        request_timeout_ms=1_000,
        stream_timeout_ms=1_000,
    )


def test_a_request_without_provider_or_model_gets_the_defaults() -> None:
    assert routing().resolve(provider=None, model=None) == ("gemini", "gemini-2.5-flash")
    assert routing().default == ("gemini", "gemini-2.5-flash")


def test_another_provider_gets_its_own_first_model_when_the_default_model_is_not_its_own() -> None:
    multi = routing()

    assert multi.resolve(provider="openai", model=None) == ("openai", "gpt-4o-mini")
    assert multi.resolve(provider="anthropic", model="") == ("anthropic", "claude-sonnet-4-6")


def test_the_default_model_is_used_by_the_provider_that_lists_it() -> None:
    multi = routing(default_provider="gemini", default_model="gpt-4o")

    assert multi.resolve(provider="openai", model=None) == ("openai", "gpt-4o")
    # gpt-4o is OpenAI's: the default provider falls back to its own first model.
    assert multi.default == ("gemini", "gemini-2.5-flash")


def test_an_unlisted_default_model_belongs_to_the_default_provider() -> None:
    multi = routing(default_provider="openai", default_model="gpt-5-preview")

    assert multi.default == ("openai", "gpt-5-preview")
    assert multi.resolve(provider="gemini", model=None) == ("gemini", "gemini-2.5-flash")


def test_a_model_outside_the_list_is_allowed_but_not_listed() -> None:
    multi = routing()

    assert multi.resolve(provider="openai", model="meta-llama/Llama-3.1-8B") == (
        "openai",
        "meta-llama/Llama-3.1-8B",
    )
    assert not multi.is_listed("openai", "meta-llama/Llama-3.1-8B")
    assert multi.is_listed("openai", "gpt-4o")
    assert not multi.is_listed("gemini", "gpt-4o")


@pytest.mark.parametrize("provider", ["mistral", "OpenAI", " openai"])
def test_an_unknown_provider_is_an_invalid_request(provider: str) -> None:
    with pytest.raises(InvalidRequest, match="unknown provider"):
        routing().resolve(provider=provider, model=None)


@pytest.mark.parametrize("model", ["../../files", "gpt 4o", "x" * 201, "gpt-4o\n", "/abs"])
def test_a_malformed_model_name_is_an_invalid_request(model: str) -> None:
    with pytest.raises(InvalidRequest, match="model"):
        routing().resolve(provider="gemini", model=model)


@pytest.mark.parametrize("model", ["0LgAvJHA/kOtlaC@af/", "gemini-2.5-flash:streamGenerateContent", "a/b",
                                   "models/x/y", "gemini@1"])
def test_a_gemini_model_is_one_url_path_segment(model: str) -> None:
    with pytest.raises(InvalidRequest, match="not a valid Gemini model name"):
        routing().resolve(provider="gemini", model=model)


@pytest.mark.parametrize("model", ["gemini-2.5-flash", "models/gemini-2.5-pro", "tunedModels/my-model-7"])
def test_gemini_model_names_and_resource_names_are_taken(model: str) -> None:
    assert routing().resolve(provider="gemini", model=model) == ("gemini", model)
    assert routing().resolve(provider="openai", model="meta-llama/Llama-3.1-8B")[1] == "meta-llama/Llama-3.1-8B"


def test_providers_lists_all_three_with_configured_and_models() -> None:
    infos = routing().providers()

    assert [info.id for info in infos] == ["openai", "anthropic", "gemini"]
    assert infos[0] == ProviderInfo(id="openai", configured=True, models=MODELS["openai"])
    assert [info.configured for info in infos] == [True, False, False]
    assert infos[2].to_json() == {"id": "gemini", "configured": False, "models": list(MODELS["gemini"])}


def test_every_provider_needs_a_model_list() -> None:
    with pytest.raises(ValueError, match="models"):
        MultiAIWrapper(
            registry=ProviderRegistry({}),
            models={"openai": ("gpt-4o",)},
            default_provider="openai",
            default_model="gpt-4o",
            request_timeout_ms=1,
            stream_timeout_ms=1,
        )


def test_provider_config_never_shows_its_key() -> None:
    config = ProviderConfig(id="openai", api_key="sk-very-secret", base_url="http://127.0.0.1:9")

    assert "sk-very-secret" not in repr(config)
