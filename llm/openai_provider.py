"""``ProviderPort`` over OpenAI Chat Completions (``AsyncOpenAI.chat.completions.create``).

Also serves any OpenAI-compatible server reached through the client's base URL.
Imports the openai SDK, httpx2 and ``llm``: never django, ninja, grompt_gateway, proxy or guards.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from typing import Any, Final

import httpx2
import openai
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionMessageParam

from llm.ports import GenStream, StreamOutcome
from llm.types import GenInput, GenOptions, GenResult, GenUsage, ProviderId
from llm.upstream import (
    connection_error,
    deadline_error,
    retry_after_s,
    status_error,
    stream_error,
    transport_error,
)

_ID: Final[ProviderId] = "openai"
# The status each error type comes with, for errors sent inside a 200 stream (which carry no status).
_ERROR_TYPE_STATUS: Final = {"invalid_request_error": 400, "rate_limit_error": 429, "server_error": 500}


class OpenAIProvider:
    """Generate with one OpenAI model. Retries are not done here (the client has ``max_retries=0``)."""

    def __init__(self, *, client: openai.AsyncOpenAI, model: str) -> None:
        self._client = client
        self._model = model

    async def generate(self, input: GenInput, options: GenOptions | None = None) -> GenResult:
        """Return the whole answer of one chat completion."""
        with _translate_errors():
            completion = await self._client.chat.completions.create(**self._params(input, options))
        choice = completion.choices[0] if completion.choices else None
        return GenResult(
            text=(choice.message.content if choice else None) or "",
            provider=_ID,
            model=self._model,
            usage=_usage(completion.usage),
            finish_reason=choice.finish_reason if choice else None,
        )

    def stream(self, input: GenInput, options: GenOptions | None = None) -> GenStream:
        """Return the answer's text chunks; the request starts at the first iteration."""
        outcome = StreamOutcome()
        return GenStream(self._chunks(self._params(input, options), outcome=outcome), outcome)

    async def _chunks(self, params: dict[str, Any], *, outcome: StreamOutcome) -> AsyncGenerator[str, None]:
        with _translate_errors():
            # The final usage chunk is opt-in; it arrives last with ``choices == []``.
            chunks = await self._client.chat.completions.create(
                **params, stream=True, stream_options={"include_usage": True}
            )
            # Leaving ``async with`` (exhausted, closed, cancelled) closes the HTTP response at once.
            async with chunks:
                async for chunk in chunks:
                    if chunk.usage is not None:
                        outcome.usage = _usage(chunk.usage)
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    if choice.finish_reason is not None:
                        outcome.finish_reason = choice.finish_reason
                    if choice.delta.content:
                        yield choice.delta.content

    def _params(self, input: GenInput, options: GenOptions | None) -> dict[str, Any]:
        messages: list[ChatCompletionMessageParam] = []
        if input.system is not None:
            messages.append({"role": "system", "content": input.system})
        messages.append({"role": "user", "content": input.user})
        params: dict[str, Any] = {"model": self._model, "messages": messages}
        if options is not None:
            if options.temperature is not None:
                params["temperature"] = options.temperature
            if options.top_p is not None:
                params["top_p"] = options.top_p
            if options.max_tokens is not None:
                # ``max_tokens`` is deprecated and refused by reasoning models; this one works everywhere.
                params["max_completion_tokens"] = options.max_tokens
            if options.stop_sequences:
                params["stop"] = list(options.stop_sequences)
        return params


def _usage(usage: CompletionUsage | None) -> GenUsage | None:
    if usage is None:
        return None
    return GenUsage(prompt=usage.prompt_tokens, completion=usage.completion_tokens, total=usage.total_tokens)


@contextmanager
def _translate_errors() -> Iterator[None]:
    """Re-raise the SDK's exceptions as ``llm.errors`` (timeouts first: they are connection errors too)."""
    try:
        yield
    except openai.APITimeoutError as exc:
        if isinstance(exc.__cause__, httpx2.ConnectTimeout):
            raise connection_error(provider=_ID) from exc
        raise deadline_error(provider=_ID) from exc
    except openai.APIConnectionError as exc:
        raise connection_error(provider=_ID) from exc
    except openai.APIStatusError as exc:
        after_s = retry_after_s(exc.response.headers)
        raise status_error(provider=_ID, status=exc.status_code, retry_after_s=after_s) from exc
    except openai.APIError as exc:  # an error event inside a 200 stream
        in_band = _ERROR_TYPE_STATUS.get(exc.type) if exc.type else None
        raise stream_error(provider=_ID, status=in_band) from exc
    except httpx2.RequestError as exc:
        raise transport_error(provider=_ID, exc=exc) from exc
