"""LeanAsyncModels: genai's chats send through it, and its responses are genai's own types, built unvalidated."""

from __future__ import annotations

import warnings

import pytest
from google.genai import types

from llm.gemini_models import LeanAsyncModels, build
from llm.registry import ProviderRegistry


@pytest.mark.anyio
async def test_gemini_chats_send_through_the_lean_models(registry: ProviderRegistry) -> None:
    port = registry.bind("gemini", "gemini-2.5-flash")
    client = port._client  # type: ignore[attr-defined]

    assert isinstance(client.aio.models, LeanAsyncModels)
    chat = client.aio.chats.create(model="gemini-2.5-flash")
    assert chat._modules is client.aio.models


def test_a_response_is_built_as_genai_types_from_its_json() -> None:
    data = {
        "candidates": [{"content": {"parts": [{"text": "Hi", "thought": False}], "role": "model"},
                        "finishReason": "MAX_TOKENS", "index": 0, "someFutureField": {"x": 1}}],
        "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 5, "totalTokenCount": 8},
        "modelVersion": "gemini-2.5-flash",
    }

    response = build(types.GenerateContentResponse, data)

    assert isinstance(response, types.GenerateContentResponse)
    candidate = response.candidates[0]
    assert isinstance(candidate, types.Candidate)
    assert candidate.finish_reason is types.FinishReason.MAX_TOKENS
    assert isinstance(candidate.content.parts[0], types.Part)
    assert response.text == "Hi"
    assert response.usage_metadata.total_token_count == 8
    assert response.prompt_feedback is None  # unset fields have their defaults
    assert "someFutureField" not in candidate.__dict__  # unknown fields are dropped, as genai drops them
    assert response.model_dump(exclude_unset=True)["model_version"] == "gemini-2.5-flash"


def test_an_unknown_finish_reason_is_kept() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        response = build(types.GenerateContentResponse, {"candidates": [{"finishReason": "NEW_REASON"}]})

    assert response.candidates[0].finish_reason.value == "NEW_REASON"
