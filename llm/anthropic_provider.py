"""``ProviderPort`` over the Anthropic Messages API (``AsyncAnthropic.messages.create``).

The SDK builds and sends the request (auth, base URL, version header, timeouts, typed status errors);
the body is read raw (``with_raw_response`` / ``with_streaming_response``) and parsed with orjson, as in
the OpenAI adapter: the SDK's parsing builds a pydantic model per event (bench/README.md).
Imports the anthropic SDK, httpx2, orjson and ``llm``: never django, ninja, grompt_gateway, proxy or guards.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from typing import Any, Final

import anthropic
import httpx2
import orjson

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
            response = await self._client.messages.with_raw_response.create(**self._params(input, options))
            # Indexed, not ``.get``: a 200 of another shape raises, and ``_translate_errors`` makes it a 502.
            message = orjson.loads(await response.read())
            text = "".join(_text(block["text"]) for block in message["content"] if block["type"] == "text")
            return GenResult(
                text=text,
                provider=_ID,
                model=self._model,
                usage=_usage(message["usage"]),
                finish_reason=_finish(message.get("stop_reason")),
            )

    def stream(self, input: GenInput, options: GenOptions | None = None) -> GenStream:
        """Return the answer's text chunks; the request starts at the first iteration."""
        outcome = StreamOutcome()
        return GenStream(self._chunks(self._params(input, options), outcome=outcome), outcome)

    async def _chunks(self, params: dict[str, Any], *, outcome: StreamOutcome) -> AsyncGenerator[str, None]:
        prompt_tokens = 0
        with _translate_errors():
            request = self._client.messages.with_streaming_response.create(**params, stream=True)
            # Leaving ``async with`` (exhausted, closed, cancelled) closes the HTTP response at once.
            async with request as response:
                finished = seen = False  # the provider's last event (``message_stop``); any event at all
                async for name, data in _sse_events(response.http_response):
                    seen = True
                    if name == b"error":
                        raise self._error_event(data, response=response.http_response)
                    event = orjson.loads(data)
                    kind = event["type"]
                    if kind == "content_block_delta":
                        delta = event["delta"]
                        if delta["type"] == "text_delta" and (text := delta.get("text")) is not None:
                            if not isinstance(text, str):  # ``_text`` inlined: this runs for every chunk
                                raise TypeError("not a text field")
                            if text:
                                yield text
                    elif kind == "message_stop":
                        finished = True
                    elif kind == "message_start":
                        usage = event["message"]["usage"]
                        prompt_tokens = _prompt_tokens(usage)
                        outcome.usage = _usage(usage)
                    elif kind == "message_delta":
                        # ``output_tokens`` is cumulative; the input count came with message_start.
                        usage = event["usage"]
                        if usage.get("input_tokens") is not None:
                            prompt_tokens = _prompt_tokens(usage)
                        completion = usage["output_tokens"]
                        total = prompt_tokens + completion
                        outcome.usage = GenUsage(prompt=prompt_tokens, completion=completion, total=total)
                        outcome.finish_reason = _finish(event["delta"].get("stop_reason"))
                if not finished:
                    raise ended_early(provider=_ID) if seen else bad_answer(provider=_ID)

    def _error_event(self, data: bytes, *, response: httpx2.Response) -> anthropic.APIStatusError:
        # The SDK's own exception for an ``error`` event, made as its stream makes it (a status error
        # carrying the stream's 200), so ``_translate_errors`` handles it as before.
        try:
            body: object = orjson.loads(data)
        except orjson.JSONDecodeError:
            body = data.decode(errors="replace")
        return self._client._make_status_error(f"{body}", body=body, response=response)

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


def _prompt_tokens(usage: dict[str, Any]) -> int:
    # Cached prompt tokens are counted apart from ``input_tokens``; they are still prompt tokens.
    return (
        (usage.get("input_tokens") or 0)
        + (usage.get("cache_creation_input_tokens") or 0)
        + (usage.get("cache_read_input_tokens") or 0)
    )


def _usage(usage: dict[str, Any]) -> GenUsage:
    prompt = _prompt_tokens(usage)
    completion = usage["output_tokens"]
    return GenUsage(prompt=prompt, completion=completion, total=prompt + completion)


def _text(value: object) -> str:
    """A text field of the answer: a string, or absent (None); anything else is not the provider's answer."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError("not a text field")
    return value


async def _sse_events(response: httpx2.Response) -> AsyncGenerator[tuple[bytes, bytes], None]:
    """Yield (event name, data) of each complete server-sent event line; ``ping`` is skipped. Messages
    events carry one ``data:`` line each; a line cut by the end of the body is dropped (the missing
    ``message_stop`` then tells that the stream was cut)."""
    rest = b""
    name = b""
    async for block in response.aiter_bytes():
        *lines, rest = (rest + block).split(b"\n")
        for line in lines:
            if line.startswith(b"data:"):
                if name != b"ping":
                    yield name, line[5:].strip()
            elif line.startswith(b"event:"):
                name = line[6:].strip()
            elif not line.strip():
                name = b""


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
