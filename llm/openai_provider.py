"""``ProviderPort`` over OpenAI Chat Completions (``AsyncOpenAI.chat.completions.create``).

Also serves any OpenAI-compatible server reached through the client's base URL.
Imports the openai SDK, httpx2, orjson and ``llm``: never django, ninja, grompt_gateway, proxy or guards.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from typing import Any, Final

import httpx2
import openai
import orjson
from openai.types.chat import ChatCompletionMessageParam

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

_ID: Final[ProviderId] = "openai"
# The status each error type comes with, for errors sent inside a 200 stream (which carry no status).
_ERROR_TYPE_STATUS: Final = {"invalid_request_error": 400, "rate_limit_error": 429, "server_error": 500}
# Whose fault a refusal is, from the ``error.code`` of OpenAI's structured error (llm/README.md § Errors).
_CAUSES: Final[dict[str | None, Cause]] = {
    "model_not_found": "unknown_model",
    "context_length_exceeded": "context_too_long",
    "invalid_api_key": "credentials",
}

# The SDK builds and sends the request (auth, base URL, params, timeouts, typed status errors), but the
# body is read raw and parsed with orjson: the SDK's parsing builds a pydantic model per chunk, with
# typing/``isinstance`` checks, and was most of the gateway's CPU. Measured (callgrind, in process):
# a 50-chunk stream went from 56.5 M to 17.6 M instructions.
# Likewise the SDK runs every named argument through its TypedDict transform, an identity for our plain
# JSON that cost ~450 µs per request (measured; 15 % of a request's CPU), most of it hashing the
# ``Literal`` of known model names once per request: the whole body, model included, goes in
# ``extra_body``, which the SDK sends as it is; the named ``model`` and ``messages`` that the signature
# requires are ``omit`` (left out of the body) and ``[]`` (overridden by ``extra_body``).
_MODEL_IN_BODY: Final[Any] = openai.omit  # typed ``Any``: the signature wants a model name here
# The SDK's telemetry that the client's ``default_headers`` cannot leave out (registry.py).
_NO_TELEMETRY: Final = {"X-Stainless-Retry-Count": openai.omit, "X-Stainless-Read-Timeout": openai.omit}


class OpenAIProvider:
    """Generate with one OpenAI model. Retries are not done here (the client has ``max_retries=0``)."""

    def __init__(self, *, client: openai.AsyncOpenAI, model: str) -> None:
        self._client = client
        self._model = model

    async def generate(self, input: GenInput, options: GenOptions | None = None) -> GenResult:
        """Return the whole answer of one chat completion."""
        with _translate_errors():
            response = await self._client.chat.completions.with_raw_response.create(
                model=_MODEL_IN_BODY, messages=[], extra_body=self._body(input, options), extra_headers=_NO_TELEMETRY
            )
            # Indexed, not ``.get``: a 200 of another shape raises, and ``_translate_errors`` makes it a 502.
            completion = orjson.loads(response.content)
            choice = completion["choices"][0]
            return GenResult(
                text=_text(choice["message"].get("content")),
                provider=_ID,
                model=self._model,
                usage=_usage(completion.get("usage")),
                finish_reason=_text(choice.get("finish_reason")) or None,
            )

    def stream(self, input: GenInput, options: GenOptions | None = None) -> GenStream:
        """Return the answer's text chunks; the request starts at the first iteration."""
        outcome = StreamOutcome()
        return GenStream(self._chunks(self._body(input, options), outcome=outcome), outcome)

    async def _chunks(self, body: dict[str, Any], *, outcome: StreamOutcome) -> AsyncGenerator[str, None]:
        with _translate_errors():
            # The final usage chunk is opt-in; it arrives last with ``choices == []``.
            body["stream_options"] = {"include_usage": True}
            request = self._client.chat.completions.with_streaming_response.create(
                model=_MODEL_IN_BODY, messages=[], stream=True, extra_body=body, extra_headers=_NO_TELEMETRY
            )
            # Leaving ``async with`` (exhausted, closed, cancelled) closes the HTTP response at once.
            async with request as response:
                finished = seen = False  # the provider's last event (``[DONE]``); any data line at all
                async for data in _sse_data(response.http_response):
                    seen = True
                    if data == b"[DONE]":
                        finished = True
                        continue  # read on to the end: that returns the connection to the pool
                    chunk = orjson.loads(data)
                    if chunk.get("error"):
                        raise _error_event(chunk["error"], request=response.http_response.request)
                    if chunk.get("usage"):
                        outcome.usage = _usage(chunk["usage"])
                    if not chunk.get("choices"):
                        continue
                    choice = chunk["choices"][0]
                    if choice.get("finish_reason") is not None:
                        outcome.finish_reason = choice["finish_reason"]
                    text = (choice.get("delta") or {}).get("content")
                    if text is not None:  # ``_text`` inlined: this runs for every chunk
                        if not isinstance(text, str):
                            raise TypeError("not a text field")
                        if text:
                            yield text
                if not finished:
                    raise ended_early(provider=_ID) if seen else bad_answer(provider=_ID)

    def _body(self, input: GenInput, options: GenOptions | None) -> dict[str, Any]:
        """The request's JSON body, in Chat Completions' own field names."""
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


async def _sse_data(response: httpx2.Response) -> AsyncGenerator[bytes, None]:
    """Yield the payload of each complete ``data:`` line, ``[DONE]`` included; a line cut by the end of the
    body is dropped (the missing ``[DONE]`` then tells that the stream was cut)."""
    rest = b""
    async for block in response.aiter_bytes():
        *lines, rest = (rest + block).split(b"\n")
        for line in lines:  # other fields (``event:``, ``id:``, comments) are not used by Chat Completions
            if line.startswith(b"data:"):
                yield line[5:].strip()


def _text(value: object) -> str:
    """A text field of the answer: a string, or absent (None); anything else is not the provider's answer."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError("not a text field")
    return value


def _usage(usage: dict[str, Any] | None) -> GenUsage | None:
    if not usage:
        return None
    counts = usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]
    if not all(type(n) is int for n in counts):  # budgets do arithmetic on these: not the provider's answer
        raise TypeError("token counts must be integers")
    return GenUsage(prompt=counts[0], completion=counts[1], total=counts[2])


def _error_event(error: object, *, request: httpx2.Request) -> openai.APIError:
    # The SDK's own exception for an in-band error event, so ``_translate_errors`` handles it as before.
    return openai.APIError("error event in the stream", request, body=error if isinstance(error, dict) else None)


@contextmanager
def _translate_errors() -> Iterator[None]:
    """Re-raise the SDK's and httpx2's exceptions as ``llm.errors`` (timeouts first: they are connection
    errors too)."""
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
        cause = _CAUSES.get(exc.code)
        raise status_error(provider=_ID, status=exc.status_code, retry_after_s=after_s, cause=cause) from exc
    except openai.APIError as exc:  # an error event inside a 200 stream
        in_band = _ERROR_TYPE_STATUS.get(exc.type) if exc.type else None
        raise stream_error(provider=_ID, status=in_band) from exc
    except httpx2.RequestError as exc:  # the body is read by httpx2 itself, so its errors come out bare
        raise transport_error(provider=_ID, exc=exc) from exc
    except (ValueError, TypeError, LookupError, AttributeError) as exc:  # not JSON, or JSON of another shape
        raise bad_answer(provider=_ID) from exc
