"""``ProviderPort`` over Gemini through google-genai's async chats (``client.aio.chats.create``).

Imports google-genai, httpx2 and ``llm``: never django, ninja, grompt_gateway, proxy or guards.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from typing import Final, cast

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from llm.ports import GenStream, StreamOutcome
from llm.types import GenInput, GenOptions, GenResult, GenUsage, ProviderId
from llm.upstream import (
    Cause,
    bad_answer,
    ended_early,
    retry_after_s,
    status_error,
    stream_error,
    transport_error,
)

_ID: Final[ProviderId] = "gemini"

# Gemini's finish reasons in the gateway's vocabulary (OpenAI's); others pass lower-cased.
_FINISH: Final = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    **dict.fromkeys(
        (
            "SAFETY",
            "RECITATION",
            "BLOCKLIST",
            "PROHIBITED_CONTENT",
            "SPII",
            "IMAGE_SAFETY",
            "IMAGE_PROHIBITED_CONTENT",
            "IMAGE_RECITATION",
            "MODEL_ARMOR",
        ),
        "content_filter",
    ),
}


_UNSPECIFIED: Final = types.FinishReason.FINISH_REASON_UNSPECIFIED

# ``ErrorInfo.reason`` values of Google APIs that mean the gateway's key is wrong.
_KEY_REASONS: Final = frozenset({"API_KEY_INVALID", "API_KEY_SERVICE_BLOCKED", "API_KEY_HTTP_REFERRER_BLOCKED"})


class GeminiProvider:
    """Generate with one Gemini model through a one-turn chat. The client is built without retries."""

    def __init__(self, *, client: genai.Client, model: str) -> None:
        self._client = client
        self._model = model

    async def generate(self, input: GenInput, options: GenOptions | None = None) -> GenResult:
        """Return the whole answer of one chat turn."""
        with _translate_errors():
            response = await self._chat(input, options).send_message(input.user)
            outcome = StreamOutcome()
            text = _read(response, outcome=outcome)
            if outcome.finish_reason is None:  # no candidate that finished and no blocked prompt: not an answer
                raise bad_answer(provider=_ID)
        return GenResult(
            text=text,
            provider=_ID,
            model=self._model,
            usage=outcome.usage,
            finish_reason=outcome.finish_reason,
        )

    def stream(self, input: GenInput, options: GenOptions | None = None) -> GenStream:
        """Return the answer's text chunks; the request starts at the first iteration."""
        outcome = StreamOutcome()
        return GenStream(self._chunks(input, options, outcome=outcome), outcome)

    async def _chunks(
        self, input: GenInput, options: GenOptions | None, *, outcome: StreamOutcome
    ) -> AsyncGenerator[str, None]:
        # The chat's stream runs over ``LeanAsyncModels`` (llm/gemini_models.py), whose response stream
        # closes its HTTP response when closed, cancelled or dropped: closing the chat's generator drops
        # it, so leaving ``aclosing`` (exhausted, closed, cancelled) closes the upstream connection.
        with _translate_errors():
            responses = await self._chat(input, options).send_message_stream(input.user)
            # An async generator, typed as an iterator by genai.
            async with contextlib.aclosing(cast("AsyncGenerator[types.GenerateContentResponse, None]", responses)):
                seen = False
                async for response in responses:
                    seen = True
                    text = _read(response, outcome=outcome)
                    if text:
                        yield text
            if outcome.finish_reason is None:  # the provider's last event carries a candidate's finishReason
                raise ended_early(provider=_ID) if seen else bad_answer(provider=_ID)

    def _chat(self, input: GenInput, options: GenOptions | None) -> genai.chats.AsyncChat:
        options = options or GenOptions()
        config = types.GenerateContentConfig(
            system_instruction=input.system,
            temperature=options.temperature,
            top_p=options.top_p,
            max_output_tokens=options.max_tokens,
            stop_sequences=list(options.stop_sequences) if options.stop_sequences else None,
            # The gateway sends no tools: with function calling off at its source, genai skips its
            # function-calling loop and its "AFC is enabled" INFO line on every call.
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        return self._client.aio.chats.create(model=self._model, config=config)


def _read(response: types.GenerateContentResponse, *, outcome: StreamOutcome) -> str:
    """Return the text parts of the first candidate, and note usage and finish reason in ``outcome``."""
    if response.usage_metadata is not None:
        outcome.usage = _usage(response.usage_metadata)
    if not response.candidates:
        if response.prompt_feedback is not None and response.prompt_feedback.block_reason is not None:
            outcome.finish_reason = "content_filter"
        return ""
    candidate = response.candidates[0]
    reason = candidate.finish_reason
    if reason is not None and reason != _UNSPECIFIED:
        outcome.finish_reason = _FINISH.get(reason.value, reason.value.lower())
    parts = candidate.content.parts if candidate.content is not None else None
    # Thoughts and non-text parts (function calls) are not part of the answer text.
    if not parts:
        return ""
    if len(parts) == 1:  # a stream chunk's usual shape: runs for every chunk
        part = parts[0]
        return part.text if part.text and not part.thought else ""
    return "".join(part.text for part in parts if part.text and not part.thought)


def _usage(usage: types.GenerateContentResponseUsageMetadata) -> GenUsage:
    prompt = usage.prompt_token_count or 0
    # Thinking tokens are billed as output.
    completion = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
    total = usage.total_token_count if usage.total_token_count is not None else prompt + completion
    return GenUsage(prompt=prompt, completion=completion, total=total)


@contextmanager
def _translate_errors() -> Iterator[None]:
    """Re-raise genai's exceptions, and the raw ``httpx2`` ones it lets out, as ``llm.errors``."""
    try:
        yield
    except genai_errors.APIError as exc:
        if not isinstance(exc.code, int):
            raise stream_error(provider=_ID, status=None) from exc
        headers = getattr(exc.response, "headers", None)
        after_s = retry_after_s(headers) if isinstance(headers, httpx2.Headers | dict) else None
        cause = _cause(exc)
        raise status_error(provider=_ID, status=exc.code, retry_after_s=after_s, cause=cause) from exc
    except genai_errors.UnknownApiResponseError as exc:  # genai's word for a stream line that is not JSON
        raise bad_answer(provider=_ID) from exc
    except httpx2.RequestError as exc:
        raise transport_error(provider=_ID, exc=exc) from exc
    except (ValueError, TypeError, LookupError, AttributeError) as exc:  # not JSON, or JSON of another shape
        raise bad_answer(provider=_ID) from exc


def _cause(exc: genai_errors.APIError) -> Cause | None:
    """Whose fault a refusal is, from Google's structured error (llm/README.md § Errors): ``error.status``
    (``NOT_FOUND`` is Google's own "no such model"; a 404 page elsewhere has no such field) and the
    ``ErrorInfo.reason`` in ``error.details`` (Gemini answers a bad key with 400 ``API_KEY_INVALID``)."""
    error = exc.details.get("error") if isinstance(exc.details, dict) else None
    if not isinstance(error, dict):
        return None
    details = error.get("details")
    reasons = {d.get("reason") for d in details if isinstance(d, dict)} if isinstance(details, list) else set()
    if reasons & _KEY_REASONS:
        return "credentials"
    if error.get("status") == "NOT_FOUND":
        return "unknown_model"
    return None
