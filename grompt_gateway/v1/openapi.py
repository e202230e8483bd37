"""The OpenAPI 3.1 description of /v1 (``/v1/openapi.json``, rendered at ``/v1/docs``). Ninja builds it
from each route's schemas; this module adds what Ninja cannot know (the event stream's shapes, the error
codes behind each status) and keeps it valid: one key per status, whatever a route's extras said."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from pydantic import TypeAdapter

from grompt_gateway.http_errors import status_of
from grompt_gateway.v1.schemas import ErrorOut, StreamEvent
from llm.errors import GatewayError

_REF: Final = "#/components/schemas/{model}"
_ERROR_REF: Final = _REF.format(model=ErrorOut.__name__)

SSE_EXAMPLE: Final = (
    'id: 7f3a:1\ndata: {"type":"start","provider":"gemini","model":"gemini-2.5-flash","requestId":"7f3a"}\n\n'
    'id: 7f3a:2\ndata: {"type":"chunk","text":"Hel"}\n\n'
    'id: 7f3a:3\ndata: {"type":"done","finishReason":"stop","usage":{"prompt":5,"completion":2,"total":7}}\n\n'
)
# OpenAPI before 3.2 (which adds ``itemSchema``) reads an event stream's ``schema`` as the shape of one
# event: its ``id`` and its ``data``, a JSON ``StreamEvent`` (JSON Schema's contentMediaType/contentSchema).
SSE_CONTENT: Final = {"text/event-stream": {
    "schema": {
        "type": "object", "required": ["id", "data"],
        "description": "One event: an `id: <requestId>:<n>` line and one `data:` line holding a JSON "
                       "`StreamEvent`: `start` (with the first chunk), then `chunk`s, then `done` or `error` "
                       "(a stream that fails before any text sends only `error`). `: ping` comment lines "
                       "keep an idle stream open.",
        "properties": {
            "id": {"type": "string"},
            "data": {"type": "string", "contentMediaType": "application/json",
                     "contentSchema": {"$ref": _REF.format(model="StreamEvent")}},
        },
    },
    "example": SSE_EXAMPLE,
}}


class GatewayAPI(NinjaAPI):
    """``NinjaAPI`` whose OpenAPI description is finished by ``finish_openapi``."""

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> OpenAPISchema:
        return finish_openapi(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


def error_responses(errors: Iterable[type[GatewayError]]) -> dict[int, type[ErrorOut]]:
    """Ninja ``response`` entries for the errors a route can answer (their statuses, one schema)."""
    return {status_of(error): ErrorOut for error in errors}


def finish_openapi(schema: OpenAPISchema) -> OpenAPISchema:
    codes = _codes_by_status()
    for operation in _operations(schema):
        responses = _one_key_per_status(operation.get("responses", {}))
        for status, response in responses.items():
            if _is_error(response) and status.isdigit() and int(status) in codes:
                response["description"] = " or ".join(f"`{code}`" for code in codes[int(status)])
        operation["responses"] = dict(sorted(responses.items()))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(_stream_event_schemas())
    return schema


def _operations(schema: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for path_item in schema.get("paths", {}).values():
        yield from path_item.values()


def _one_key_per_status(responses: Mapping[Any, Any]) -> dict[str, Any]:
    """Ninja keys its responses by int and a route's extras may use strings: JSON would then hold the
    same key twice, which Swagger UI refuses ("duplicated mapping key"). Merge them under strings."""
    merged: dict[str, Any] = {}
    for key, value in responses.items():
        merged[str(key)] = _deep_merge(merged.get(str(key), {}), value)
    return merged


def _deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in extra.items():
        result[key] = _deep_merge(result[key], value) if isinstance(result.get(key), Mapping) and \
            isinstance(value, Mapping) else value
    return result


def _is_error(response: Mapping[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == _ERROR_REF)


def _codes_by_status() -> dict[int, list[str]]:
    """Every error code the gateway knows, by the status the one status table gives it."""
    codes: dict[int, list[str]] = {}
    pending: list[type[GatewayError]] = [GatewayError]
    while pending:
        error = pending.pop(0)
        pending.extend(error.__subclasses__())
        status = status_of(error)
        if error.code not in codes.setdefault(status, []):
            codes[status].append(error.code)
    return codes


def _stream_event_schemas() -> dict[str, Any]:
    schema = TypeAdapter(StreamEvent).json_schema(ref_template=_REF, mode="serialization")
    definitions: dict[str, Any] = schema.pop("$defs", {})
    definitions["StreamEvent"] = schema
    return definitions
