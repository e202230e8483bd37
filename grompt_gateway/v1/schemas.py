"""Ninja schemas of the /v1 API: the contract's JSON shapes, camelCase on the wire (API.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints
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
    """Every error (API.md § Errors)."""

    error: ErrorDetail
    request_id: str


class HealthOut(Schema):
    status: Literal["ok"]
    demo: bool


class OptionsIn(CamelSchema):
    """``GenOptions``: ranges are checked here; ``maxTokens`` is also capped by MAX_OUTPUT_TOKENS."""

    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    stop_sequences: list[StopSequence] | None = Field(None, max_length=4)


class GenerateIn(CamelSchema):
    """``POST /v1/generate``; ``user`` is also capped by MAX_PROMPT_CHARS."""

    provider: ProviderId | None = None
    model: ModelName | None = None
    system: str | None = None
    user: str = Field(min_length=1)
    options: OptionsIn | None = None
    stream: bool = False


class StreamQuery(Schema):
    """``GET /v1/generate/stream``: the same input as query parameters (``stop`` may repeat)."""

    provider: ProviderId | None = None
    model: ModelName | None = None
    system: str | None = None
    user: str = Field(min_length=1)
    temperature: float | None = Field(None, ge=0, le=2)
    topP: float | None = Field(None, ge=0, le=1)
    maxTokens: int | None = Field(None, ge=1)
    stop: list[StopSequence] = Field(default_factory=list, max_length=4)


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
    providers: list[ProviderOut]
    demo: bool
