"""How the /v1 API reads input strictly (docs/api.md § POST /v1/generate): bodies are RFC 8259 JSON (no
``NaN``, no lone surrogates), a query parameter given more than once is refused unless it is a list, and
a refusal names the field and the rule, never the value (which may be prompt text)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson
from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser

from llm.errors import InvalidRequest

# Wrappers Ninja puts around the operation's own fields in an error location.
_WRAPPERS: Final = frozenset({"body", "query", "payload", "q"})

_BY_TYPE: Final = {
    "missing": "required",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "list_type": "must be an array",
}


class StrictParser(Parser):
    """Ninja's parser with orjson for bodies (Python's ``json`` takes ``NaN`` and lone surrogates, which
    no provider accepts), refusing a repeated single-valued query parameter instead of keeping the last.
    A body that does not parse is answered "malformed request body" by the API's error handler."""

    def parse_body(self, request: HttpRequest) -> Any:
        return orjson.loads(request.body)

    def parse_querydict(self, data: MultiValueDict[str, Any], list_fields: list[str],
                        request: HttpRequest) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, values in data.lists():
            if key in list_fields:
                result[key] = values
            elif len(values) > 1:
                raise InvalidRequest(f"{_printable(key)}: given more than once")
            else:
                result[key] = values[0]
        return result


def validation_message(errors: Sequence[Mapping[str, Any]]) -> str:
    """Name the first offending field and why, in the API's words (pydantic's messages never hold the input)."""
    if not errors:
        return "invalid request"
    first = errors[0]
    location = ".".join(str(part) for part in first.get("loc", ()) if part not in _WRAPPERS)
    kind = str(first.get("type", ""))
    if not location:
        # The body itself: missing, or a JSON value that is not an object.
        return "body: must be a JSON object"
    reason = _BY_TYPE.get(kind) or str(first.get("msg", "invalid")).replace("Input should be", "must be")
    return f"{location}: {reason}"


def _printable(name: str) -> str:
    """A parameter name is the client's text too: keep it short and printable."""
    return name if name.isidentifier() and len(name) <= 32 else "a query parameter"
