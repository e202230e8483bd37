"""One mock upstream per test session, reset before each test; SDK clients pointed at it by base URL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
import httpx2
import openai
import pytest
from google import genai
from google.genai import types

from mockllm import MockLLMServer


@pytest.fixture
def mock(mock_llm: MockLLMServer) -> MockLLMServer:
    """The session's mock upstream (tests/conftest.py), reset for this test."""
    return mock_llm


@pytest.fixture
async def openai_client(mock: MockLLMServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(api_key="sk-test", base_url=mock.openai_base_url, max_retries=0) as client:
        yield client


@pytest.fixture
async def anthropic_client(mock: MockLLMServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        api_key="sk-ant-test", base_url=mock.anthropic_base_url, max_retries=0
    ) as client:
        yield client


@pytest.fixture
async def gemini_client(mock: MockLLMServer) -> AsyncIterator[genai.Client]:
    # httpx2, as the gateway gives genai (llm/registry.py); with aiohttp installed genai would pick aiohttp.
    async with httpx2.AsyncClient() as http:
        options = types.HttpOptions(base_url=mock.gemini_base_url, httpx_async_client=http)
        client = genai.Client(api_key="g-test", http_options=options)
        yield client
        await client.aio.aclose()
