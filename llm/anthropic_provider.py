"""``ProviderPort`` over the Anthropic Messages API (``AsyncAnthropic.messages.create``).

Imports the anthropic SDK, httpx2 and ``llm``: never django, ninja, grompt_gateway, proxy or guards.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from typing import Any, Final

import anthropic
import httpx2
from anthropic.types import Message, MessageDeltaUsage, Usage

from llm.ports import GenStream, StreamOutcome
from llm.types import GenInput, GenOptions, GenResult, GenUsage, ProviderId
from llm.upstream import (
    Cause,
    bad_answer,
    connection_error,
    deadline_error,
    ended_early,
    retry_after_s,
    status_error,
    stream_error,
    transport_error,
)

_ID: Final[ProviderId] = "anthropic"
DEFAULT_MAX_TOKENS: Final = 4096
logger = logging.getLogger(__name__)

# Anthropic's stop reasons in the gateway's vocabulary (OpenAI's finish reasons); others pass as they are.
_FINISH: Final = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# The status each documented error type comes with, for errors sent inside a 200 stream.
_ERROR_TYPE_STATUS: Final = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
# Whose fault a refusal is, from the ``error.type`` of Anthropic's structured error (llm/README.md § Errors).
# Anthropic answers an unknown model with 404 ``not_found_error``; it has no structured "prompt too long".
_CAUSES: Final[dict[str, Cause]] = {
    "not_found_error": "unknown_model",
    "authentication_error": "credentials",
    "permission_error": "credentials",
    "billing_error": "credentials",
}


class AnthropicProvider:
    """Generate with one Claude model. Retries are not done here (the client has ``max_retries=0``).

    ``temperature`` and ``top_p`` are not sent: API version 2026-10-21, the one this SDK speaks, answers
    400 to any sampling parameter on every model (llm/README.md § Anthropic sampling).
    ``max_tokens`` is required by the API: ``default_max_tokens`` fills in when the client gives none.
    """

    def __init__(
        self, *, client: anthropic.AsyncAnthropic, model: str, default_max_tokens: int = DEFAULT_MAX_TOKENS
    ) -> None:
        self._client = client
        self._model = model
        self._default_max_tokens = default_max_tokens

    async def generate(self, input: GenInput, options: GenOptions | None = None) -> GenResult:
        """Return the whole answer of one message."""
        with _translate_errors():
            message: Message = await self._client.messages.create(**self._params(input, options))
            if not isinstance(message, Message):  # the SDK hands back the text of a 200 that is not JSON
                raise bad_answer(provider=_ID)
            # The SDK builds the model without validating it: a 200 of another shape raises here, in
            # ``_translate_errors``, which makes it a 502.
            text = "".join(block.text for block in message.content if block.type == "text")
            return GenResult(
                text=text,
                provider=_ID,
                model=self._model,
                usage=_usage(message.usage),
                finish_reason=_finish(message.stop_reason),
            )

    def stream(self, input: GenInput, options: GenOptions | None = None) -> GenStream:
        """Return the answer's text chunks; the request starts at the first iteration."""
        outcome = StreamOutcome()
        return GenStream(self._chunks(self._params(input, options), outcome=outcome), outcome)

    async def _chunks(self, params: dict[str, Any], *, outcome: StreamOutcome) -> AsyncGenerator[str, None]:
        prompt_tokens = 0
        with _translate_errors():
            events = await self._client.messages.create(**params, stream=True)
            # Leaving ``async with`` (exhausted, closed, cancelled) closes the HTTP response at once.
            async with events:
                finished = seen = False  # the provider's last event (``message_stop``); any event at all
                async for event in events:
                    seen = True
                    if event.type == "message_stop":
                        finished = True
                    elif event.type == "message_start":
                        prompt_tokens = _prompt_tokens(event.message.usage)
                        outcome.usage = _usage(event.message.usage)
                    elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                        if event.delta.text:
                            yield event.delta.text
                    elif event.type == "message_delta":
                        # ``output_tokens`` is cumulative; the input count came with message_start.
                        if event.usage.input_tokens is not None:
                            prompt_tokens = _prompt_tokens(event.usage)
                        completion = event.usage.output_tokens
                        total = prompt_tokens + completion
                        outcome.usage = GenUsage(prompt=prompt_tokens, completion=completion, total=total)
                        outcome.finish_reason = _finish(event.delta.stop_reason)
                if not finished:
                    raise ended_early(provider=_ID) if seen else bad_answer(provider=_ID)

    def _params(self, input: GenInput, options: GenOptions | None) -> dict[str, Any]:
        options = options or GenOptions()
        max_tokens = self._default_max_tokens if options.max_tokens is None else options.max_tokens
        params: dict[str, Any] = {
            "model": self._model,
            "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": input.user}],
        }
        if input.system is not None:
            params["system"] = input.system
        if options.stop_sequences:
            params["stop_sequences"] = list(options.stop_sequences)
        if options.temperature is not None or options.top_p is not None:
            logger.debug("anthropic: temperature/top_p not sent (refused by API version 2026-10-21)")
        return params


def _prompt_tokens(usage: Usage | MessageDeltaUsage) -> int:
    # Cached prompt tokens are counted apart from ``input_tokens``; they are still prompt tokens.
    return (usage.input_tokens or 0) + (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)


def _usage(usage: Usage) -> GenUsage:
    prompt = _prompt_tokens(usage)
    return GenUsage(prompt=prompt, completion=usage.output_tokens, total=prompt + usage.output_tokens)


def _finish(stop_reason: str | None) -> str | None:
    return None if stop_reason is None else _FINISH.get(stop_reason, stop_reason)


@contextmanager
def _translate_errors() -> Iterator[None]:
    """Re-raise the SDK's exceptions as ``llm.errors`` (timeouts first: they are connection errors too).

    Mid-stream the SDK lets raw ``httpx2`` errors out, and reports an ``error`` event as a status error
    carrying the stream's own 200.
    """
    try:
        yield
    except anthropic.APITimeoutError as exc:
        if isinstance(exc.__cause__, httpx2.ConnectTimeout):
            raise connection_error(provider=_ID) from exc
        raise deadline_error(provider=_ID) from exc
    except anthropic.APIConnectionError as exc:
        raise connection_error(provider=_ID) from exc
    except anthropic.APIStatusError as exc:
        if exc.status_code == 200:
            in_band = _ERROR_TYPE_STATUS.get(exc.type) if exc.type else None
            raise stream_error(provider=_ID, status=in_band) from exc
        after_s = retry_after_s(exc.response.headers)
        cause = _CAUSES.get(exc.type) if exc.type else None
        raise status_error(provider=_ID, status=exc.status_code, retry_after_s=after_s, cause=cause) from exc
    except anthropic.APIResponseValidationError as exc:
        raise bad_answer(provider=_ID) from exc
    except anthropic.APIError as exc:
        raise stream_error(provider=_ID, status=None) from exc
    except httpx2.RequestError as exc:
        raise transport_error(provider=_ID, exc=exc) from exc
    except (ValueError, TypeError, LookupError, AttributeError) as exc:  # not JSON, or JSON of another shape
        raise bad_answer(provider=_ID) from exc
