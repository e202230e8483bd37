"""What google-genai's chats send through: ``LeanAsyncModels``, genai's ``AsyncModels`` with a lean
``generate_content`` and ``generate_content_stream`` (the only two methods its chats call).

genai builds, checks and validates a pydantic tree of every response (and of every stream chunk) with
per-field ``typing`` introspection: ~0.2 ms per chunk, most of a Gemini stream's CPU (bench/README.md).
Here the request is built from the chat's ``Content`` and config, URL and headers come from genai's own
API client, the body goes out on our httpx2 client, errors are genai's (``APIError.raise_for_async_response``)
and httpx2's as before, and each response is parsed with orjson and built as genai's own types without
validation. Imports google-genai, httpx2, orjson and ``llm``: never django, ninja, grompt_gateway,
proxy or guards.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

import httpx2
import orjson
import pydantic
from google.genai import errors as genai_errors
from google.genai import types
from google.genai.models import AsyncModels

_RESPONSE: Final = types.GenerateContentResponse


class LeanAsyncModels(AsyncModels):
    """genai's async models over ``http``; only what a text chat turn uses is sent."""

    def __init__(self, api_client: Any, *, http: httpx2.AsyncClient) -> None:
        super().__init__(api_client)
        self._http = http

    async def generate_content(  # type: ignore[override]
        self, *, model: str, contents: list[types.Content], config: types.GenerateContentConfig | None = None
    ) -> types.GenerateContentResponse:
        request = self._request(model, "generateContent", contents, config)
        response = await self._http.send(request)
        await genai_errors.APIError.raise_for_async_response(response)
        result: types.GenerateContentResponse = build(_RESPONSE, orjson.loads(response.content))
        return result

    async def generate_content_stream(  # type: ignore[override]
        self, *, model: str, contents: list[types.Content], config: types.GenerateContentConfig | None = None
    ) -> AsyncIterator[types.GenerateContentResponse]:
        request = self._request(model, "streamGenerateContent?alt=sse", contents, config)
        response = await self._http.send(request, stream=True)
        try:
            await genai_errors.APIError.raise_for_async_response(response)
        except BaseException:
            await response.aclose()
            raise
        return self._responses(response)

    async def _responses(self, response: httpx2.Response) -> AsyncIterator[types.GenerateContentResponse]:
        # One ``data:`` line per event (Gemini ends events with CRLF CRLF); other lines are not used.
        try:
            rest = b""
            async for block in response.aiter_bytes():
                *lines, rest = (rest + block).split(b"\n")
                for line in lines:
                    if line.startswith(b"data:"):
                        event = orjson.loads(line[5:])
                        if "error" in event:
                            await _raise_error(event)
                        yield build(_RESPONSE, event)
            # A line cut by the end of the body is dropped: the missing finish reason tells the stream was cut.
        finally:
            await response.aclose()

    def _request(
        self, model: str, method: str, contents: list[types.Content], config: types.GenerateContentConfig | None
    ) -> httpx2.Request:
        api = self._api_client
        path = f"{model if model.startswith(('models/', 'tunedModels/')) else 'models/' + model}:{method}"
        http_request = api._build_request("post", path, _body(contents, config), None)
        return self._http.build_request(
            "POST", http_request.url, content=orjson.dumps(http_request.data), headers=http_request.headers
        )


def _body(contents: list[types.Content], config: types.GenerateContentConfig | None) -> dict[str, object]:
    """The generateContent body for text turns: contents, system instruction and generation config."""
    body: dict[str, object] = {"contents": [_content(c) for c in contents]}
    if config is None:
        return body
    if config.system_instruction is not None:
        system = config.system_instruction
        body["systemInstruction"] = (
            {"parts": [{"text": system}], "role": "user"} if isinstance(system, str) else _content(system)
        )
    generation: dict[str, object] = {}
    for name, alias in _GENERATION_FIELDS:
        value = getattr(config, name)
        if value is not None:
            generation[alias] = value
    if generation:
        body["generationConfig"] = generation
    return body


_GENERATION_FIELDS: Final = (("temperature", "temperature"), ("top_p", "topP"),
                             ("max_output_tokens", "maxOutputTokens"), ("stop_sequences", "stopSequences"))


def _content(content: Any) -> dict[str, object]:
    parts = [part.model_dump(mode="json", by_alias=True, exclude_none=True) if part.text is None
             else {"text": part.text} for part in content.parts or ()]
    return {"parts": parts, "role": content.role} if content.role else {"parts": parts}


async def _raise_error(event: dict[str, Any]) -> None:
    """Raise an error sent inside the 200 stream as genai raises it."""
    error = event["error"]
    code = error.get("code") if isinstance(error, dict) else None
    if not isinstance(code, int):
        raise genai_errors.APIError(code, event, None)  # type: ignore[arg-type]
    await genai_errors.APIError.raise_error_async(code, event, None)


# --- genai's response types, built without validation ---------------------------------------------------

_Convert = Callable[[Any], Any]


# How a field's JSON value becomes its Python value: as is, a nested model, a list of models, or a converter.
_AS_IS, _MODEL, _MODELS, _CONVERT = 0, 1, 2, 3


class _Plan:
    """How to build one pydantic model from its JSON: per wire key, the field, how to convert its value and
    into what (a model class, or a converter)."""

    __slots__ = ("defaults", "factories", "fields")

    def __init__(self, model: type[pydantic.BaseModel]) -> None:
        model.model_rebuild(raise_errors=False)
        self.fields: dict[str, tuple[str, int, Any]] = {}
        self.defaults: dict[str, object] = {}
        self.factories: list[tuple[str, Callable[[], object]]] = []
        for name, info in model.model_fields.items():
            target = (name, *_conversion(info.annotation))
            self.fields[name] = target
            if info.alias:
                self.fields[info.alias] = target
            if info.default_factory is not None:
                self.factories.append((name, info.default_factory))  # type: ignore[arg-type]
            else:
                self.defaults[name] = info.default


_PLANS: dict[type[pydantic.BaseModel], _Plan] = {}


def build(model: type[pydantic.BaseModel], data: dict[str, Any]) -> Any:
    """Build ``model`` from its JSON (camelCase or snake_case keys) as ``model_construct`` would, converting
    nested models and enums; unknown keys are dropped, as genai drops them. Runs for every stream chunk:
    nested models and lists of them are built here, without a converter call per level."""
    plan = _PLANS.get(model)
    if plan is None:
        plan = _PLANS[model] = _Plan(model)
    values = plan.defaults.copy()
    if plan.factories:
        for name, factory in plan.factories:
            values[name] = factory()
    fields = plan.fields
    fields_set = set()
    for key, value in data.items():
        target = fields.get(key)
        if target is None:
            continue
        name, how, into = target
        if how and value is not None:
            if how == _MODELS:
                if type(value) is list:
                    value = [build(into, item) if type(item) is dict else item for item in value]
            elif how == _MODEL:
                if type(value) is dict:
                    value = build(into, value)
            else:
                value = into(value)
        values[name] = value
        fields_set.add(name)
    obj = _new(model)
    _set(obj, "__dict__", values)
    _set_fields_set(obj, fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


_new = object.__new__
_set = object.__setattr__
# pydantic's own slots, set through their descriptors as ``model_construct`` sets them (without the name lookup).
_set_fields_set = pydantic.BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = pydantic.BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = pydantic.BaseModel.__dict__["__pydantic_private__"].__set__


def _conversion(annotation: Any) -> tuple[int, Any]:
    """How to convert a JSON value of ``annotation`` (see ``build``)."""
    model = _model_of(annotation)
    if model is not None:
        return _MODEL, model
    inner = _unwrap(annotation)
    if typing.get_origin(inner) is list:
        item = _model_of((typing.get_args(inner) or (None,))[0])
        if item is not None:
            return _MODELS, item
    convert = _converter(annotation)
    return (_AS_IS, None) if convert is None else (_CONVERT, convert)


def _unwrap(annotation: Any) -> Any:
    """``annotation`` without ``Optional`` and ``Annotated``; a union of several types stays as it is."""
    while typing.get_origin(annotation) in (typing.Union, typing.Annotated) or type(annotation).__name__ == "UnionType":
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if typing.get_origin(annotation) is typing.Annotated or len(args) == 1:
            annotation = args[0]
        else:
            return annotation
    return annotation


def _model_of(annotation: Any) -> type[pydantic.BaseModel] | None:
    inner = _unwrap(annotation)
    return inner if isinstance(inner, type) and issubclass(inner, pydantic.BaseModel) else None


def _converter(annotation: Any) -> _Convert | None:
    """A converter for a JSON value of ``annotation``: nested models, lists of them, and enums."""
    annotation = _unwrap(annotation)
    if typing.get_origin(annotation) in (typing.Union,) or type(annotation).__name__ == "UnionType":
        return None
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation) or (None,)
        convert = _converter(item)
        if convert is None:
            return None
        return lambda values: [convert(v) for v in values] if type(values) is list else values
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        model = annotation
        return lambda value: build(model, value) if type(value) is dict else value
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        enum_type = annotation
        return lambda value: _enum(enum_type, value)
    return None


def _enum(enum_type: type[enum.Enum], value: Any) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        return value
