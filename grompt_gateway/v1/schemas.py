"""Ninja schemas of the /v1 API: the contract's JSON shapes, camelCase on the wire (docs/api.md)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, Literal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from llm.types import ProviderId

StopSequence = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:/@-]+$")]


class CamelSchema(Schema):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ErrorDetail(Schema):
    code: str
    message: str


class ErrorOut(CamelSchema):
    """Every error (docs/api.md § Errors)."""

    error: ErrorDetail
    request_id: str


class HealthOut(Schema):
    status: Literal["ok"]
    demo: bool


class StrictIn(BaseModel):
    """Input is taken as the JSON types it arrives in (docs/api.md § POST /v1/generate): no string to
    number, bool to int or string to bool coercion; an int is still a valid float. A plain pydantic
    model, not a Ninja ``Schema``, whose attribute getter would read any value (a string, a list) as an
    empty object."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, strict=True)


class OptionsIn(StrictIn):
    """``GenOptions``: ranges are checked here; ``maxTokens`` is also capped by MAX_OUTPUT_TOKENS."""

    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    stop_sequences: list[StopSequence] | None = Field(None, max_length=4)


class GenerateIn(StrictIn):
    """``POST /v1/generate``; ``user`` is also capped by MAX_PROMPT_CHARS."""

    provider: ProviderId | None = None
    model: ModelName | None = None
    system: str | None = None
    user: str = Field(min_length=1)
    options: OptionsIn | None = None
    stream: bool | None = None


# Query values are strings; these are the only spellings taken as numbers (JSON's number grammar).
_INTEGER: Final = re.compile(r"-?[0-9]{1,18}")
_NUMBER: Final = re.compile(r"-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,20})?(?:[eE][+-]?[0-9]{1,3})?")
_QUERY_NUMBERS: Final = (("temperature", _NUMBER, float), ("topP", _NUMBER, float), ("maxTokens", _INTEGER, int))


class StreamQuery(BaseModel):
    """``GET /v1/generate/stream``: the same input as query parameters (``stop`` may repeat; every other
    parameter at most once, see ``StrictQueryParser``)."""

    model_config = ConfigDict(strict=True)

    provider: ProviderId | None = None
    model: ModelName | None = None
    system: str | None = None
    user: str = Field(min_length=1)
    temperature: float | None = Field(None, ge=0, le=2)
    topP: float | None = Field(None, ge=0, le=1)
    maxTokens: int | None = Field(None, ge=1)
    stop: list[StopSequence] = Field(default_factory=list, max_length=4)

    @model_validator(mode="before")
    @classmethod
    def _numbers_from_text(cls, data: Any) -> Any:
        """Read numeric parameters written as numbers; anything else stays text and fails strict validation."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name, pattern, convert in _QUERY_NUMBERS:
            value = data.get(name)
            if isinstance(value, str) and pattern.fullmatch(value):
                data[name] = convert(value)
        return data


class UsageOut(Schema):
    prompt: int
    completion: int
    total: int


class GenResultOut(CamelSchema):
    """``GenResult``."""

    text: str
    provider: ProviderId
    model: str
    usage: UsageOut | None = None
    finish_reason: str | None = None


class DefaultOut(Schema):
    provider: ProviderId
    model: str


class ProviderOut(Schema):
    id: ProviderId
    configured: bool
    models: list[str]


class ProvidersOut(Schema):
    default: DefaultOut
    fallback: list[ProviderId] = Field(
        description="FALLBACK_PROVIDERS in order: tried (when configured) for requests that name no provider")
    providers: list[ProviderOut]
    demo: bool


class StreamStart(BaseModel):
    """The first event, sent with the first chunk: who serves the stream (after a fallback, the fallback)."""

    type: Literal["start"]
    provider: ProviderId
    model: str
    requestId: str


class StreamChunk(BaseModel):
    """A piece of text, sent as soon as the provider produced it."""

    type: Literal["chunk"]
    text: str


class StreamDone(BaseModel):
    """The provider finished: the last event."""

    type: Literal["done"]
    finishReason: str | None = None
    usage: UsageOut | None = None


class StreamError(BaseModel):
    """The stream failed after it began: the last event. ``status`` is what the status line would have said."""

    type: Literal["error"]
    status: int
    error: ErrorDetail


StreamEvent = Annotated[StreamStart | StreamChunk | StreamDone | StreamError, Field(discriminator="type")]


class BudgetWindowOut(CamelSchema):
    """One token budget window of the caller: tokens settled (``used``), held by calls in flight
    (``reserved``), and whole seconds until the window starts afresh (``resetS``)."""

    window: Literal["minute", "day"]
    limit: int
    used: int
    reserved: int
    reset_s: int


class BudgetOut(Schema):
    """``GET /v1/budget``: only the windows that are on; ``[]`` when the caller has no budget."""

    windows: list[BudgetWindowOut]
