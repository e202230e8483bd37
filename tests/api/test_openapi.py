"""/v1/openapi.json is a valid OpenAPI 3.1 description (checked by openapi-spec-validator, on the raw text
so that a key written twice cannot hide), and every operation carries its real request and response
schemas, the event stream included."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from ninja import Schema
from openapi_spec_validator import validate

from grompt_gateway.server.django_adapter import DjangoHttpServer, RouteDoc
from grompt_gateway.server.http_port import RequestContext, ResponsePayload
from grompt_gateway.v1.openapi import GatewayAPI, error_responses
from guards.errors import RateLimited
from llm.errors import InvalidRequest
from tests.support.gateway import GatewayThread

EVENT_TYPES = {"start", "chunk", "done", "error"}


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicated = {key for key in keys if keys.count(key) > 1}
    assert not duplicated, f"duplicated mapping keys: {duplicated}"
    return dict(pairs)


def load_spec(text: str) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    return spec


@pytest.fixture
def spec(gateway: GatewayThread) -> dict[str, Any]:
    response = httpx.get(f"{gateway.url}/v1/openapi.json")
    assert response.status_code == 200
    return load_spec(response.text)


def test_the_description_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_duplicate_keys_are_caught_by_the_check() -> None:
    with pytest.raises(AssertionError, match="duplicated"):
        load_spec('{"responses": {"200": {}, "200": {}}}')


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]


def test_every_operation_documents_its_answers_with_schemas(spec: dict[str, Any]) -> None:
    operations = _operations(spec)
    assert {(path, method) for path, method, _ in operations} >= {
        ("/v1/health", "get"), ("/v1/providers", "get"), ("/v1/generate", "post"),
        ("/v1/generate/stream", "get"), *(("/v1/proxy/{path}", m) for m in ("get", "post", "put", "patch", "delete"))}
    for path, method, op in operations:
        assert op["operationId"] and op["summary"], (path, method)
        success = op["responses"]["200"]
        assert success["content"], (path, method)
        for media in success["content"].values():
            assert media["schema"], (path, method)
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                assert "application/json" in response["content"], (path, method, status)


def test_json_answers_and_bodies_name_their_schemas(spec: dict[str, Any]) -> None:
    paths = spec["paths"]

    def ref(response: dict[str, Any], media: str = "application/json") -> str:
        return str(response["content"][media]["schema"]["$ref"]).rsplit("/", 1)[-1]

    assert ref(paths["/v1/health"]["get"]["responses"]["200"]) == "HealthOut"
    assert ref(paths["/v1/providers"]["get"]["responses"]["200"]) == "ProvidersOut"
    assert ref(paths["/v1/budget"]["get"]["responses"]["401"]) == "ErrorOut"  # a bad bearer token
    generate = paths["/v1/generate"]["post"]
    assert ref(generate["requestBody"]) == "GenerateIn"
    assert ref(generate["responses"]["200"]) == "GenResultOut"
    assert ref(generate["responses"]["400"]) == "ErrorOut"
    assert "`invalid_request`" in generate["responses"]["400"]["description"]
    stream = paths["/v1/generate/stream"]["get"]
    parameters = {p["name"]: p for p in stream["parameters"]}
    assert parameters["user"]["required"] is True
    assert parameters["stop"]["schema"]["type"] == "array"
    assert "content" not in stream["responses"]["204"]


@pytest.mark.parametrize(("path", "method"), [("/v1/generate", "post"), ("/v1/generate/stream", "get")])
def test_the_event_stream_is_text_event_stream_with_its_event_schemas(spec: dict[str, Any], path: str,
                                                                      method: str) -> None:
    media = spec["paths"][path][method]["responses"]["200"]["content"]["text/event-stream"]
    data = media["schema"]["properties"]["data"]
    assert data["contentMediaType"] == "application/json"
    assert data["contentSchema"]["$ref"] == "#/components/schemas/StreamEvent"
    schemas = spec["components"]["schemas"]
    event = schemas["StreamEvent"]
    assert event["discriminator"]["propertyName"] == "type"
    assert set(event["discriminator"]["mapping"]) == EVENT_TYPES
    by_type = {schemas[name.rsplit("/", 1)[-1]]["properties"]["type"]["const"]: schemas[name.rsplit("/", 1)[-1]]
               for name in event["discriminator"]["mapping"].values()}
    assert set(by_type["start"]["required"]) == {"type", "provider", "model", "requestId"}
    assert set(by_type["chunk"]["required"]) == {"type", "text"}
    assert {"finishReason", "usage"} <= set(by_type["done"]["properties"])
    assert set(by_type["error"]["required"]) == {"type", "status", "error"}


class _ThingOut(Schema):
    thing: int


async def _thing(ctx: RequestContext) -> ResponsePayload:
    return ResponsePayload(body={"thing": 1})


def test_a_new_route_documents_itself_from_its_route_doc() -> None:
    api = GatewayAPI(urls_namespace="test-self-documenting")
    server = DjangoHttpServer(api=api)
    server.route("GET", "/thing", _thing, doc=RouteDoc(
        summary="A thing", response=_ThingOut, errors=error_responses((InvalidRequest, RateLimited)),
        openapi_extra={"responses": {"200": {"description": "The thing"}}}))
    spec = load_spec(json.dumps(api.get_openapi_schema(path_prefix="/v1/")))
    validate(spec)
    responses = spec["paths"]["/v1/thing"]["get"]["responses"]
    assert set(responses) == {"200", "400", "429"}
    assert responses["200"]["description"] == "The thing"  # merged, not a second "200"
    assert responses["200"]["content"]["application/json"]["schema"]["$ref"].endswith("_ThingOut")
    assert responses["429"]["description"] == "`rate_limited` or `budget_exceeded`"
