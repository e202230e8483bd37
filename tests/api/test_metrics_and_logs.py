"""Prometheus metrics after known usage, bounded labels, and the enriched JSON access line."""

from __future__ import annotations

import json
import logging
import re
import socket
import time

import httpx
import pytest

from grompt_gateway.observability.log_json import JsonFormatter, RedactingFilter
from grompt_gateway.observability.one_line import OneLinePerRequest
from grompt_gateway.observability.request_context import ACCESS_FIELDS, LINE_WRITTEN
from mockllm import MockLLMServer
from tests.support.gateway import GatewayThread
from tests.support.sse import read_sse


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _scrape(gateway: GatewayThread) -> str:
    response = httpx.get(f"{gateway.url}/metrics")
    assert response.status_code == 200
    return response.text


def test_tokens_and_latency_are_counted_for_generate_and_stream(gateway: GatewayThread) -> None:
    before = _scrape(gateway)
    body = httpx.post(f"{gateway.url}/v1/generate", json={"provider": "openai", "user": "hi"}).json()
    with httpx.stream("GET", f"{gateway.url}/v1/generate/stream", params={"provider": "openai", "user": "hi"}) as r:
        done = read_sse(r).last("done")
    after = _scrape(gateway)
    labels = {"provider": "openai", "model": "gpt-5.4-mini"}
    for kind in ("prompt", "completion"):
        added = (_metric(after, "grompt_gateway_tokens_total", type=kind, **labels)
                 - _metric(before, "grompt_gateway_tokens_total", type=kind, **labels))
        assert added == body["usage"][kind] + done["usage"][kind]
    count = "grompt_gateway_job_latency_seconds_count"
    assert _metric(after, count, **labels) - _metric(before, count, **labels) == 2
    ttfc = "grompt_gateway_time_to_first_chunk_seconds_count"
    assert _metric(after, ttfc, **labels) - _metric(before, ttfc, **labels) == 1
    assert 'le="120.0"' in after and 'le="0.05"' in after
    assert _metric(after, "grompt_gateway_http_requests_total", route="/v1/generate", status="200") >= 1


def test_unlisted_models_share_one_label(gateway: GatewayThread) -> None:
    for name in ("my-model-1", "my-model-2"):
        httpx.post(f"{gateway.url}/v1/generate", json={"provider": "openai", "model": name, "user": "hi"})
    text = _scrape(gateway)
    assert "my-model" not in text
    assert _metric(text, "grompt_gateway_job_latency_seconds_count", provider="openai", model="other") >= 2


def test_upstream_errors_and_cancelled_streams_are_counted(gateway: GatewayThread,
                                                           mock_llm: MockLLMServer) -> None:
    before = _scrape(gateway)
    httpx.post(f"{gateway.url}/v1/generate", json={"provider": "gemini", "user": "x [mock status=500]"},
               timeout=20)
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        sock.sendall(b"GET /v1/generate/stream?provider=gemini&user=hi%20%5Bmock%20chunks%3D50%20gap_ms%3D50%5D"
                     b" HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while b'"type":"chunk"' not in received:
            received += sock.recv(65536)
    assert mock_llm.wait_for_disconnect(timeout_s=3)
    deadline = time.monotonic() + 3
    name = "grompt_gateway_cancelled_streams_total"
    while _metric(_scrape(gateway), name, provider="gemini") <= _metric(before, name, provider="gemini"):
        assert time.monotonic() < deadline, "cancelled stream not counted"
        time.sleep(0.05)
    after = _scrape(gateway)
    errors = "grompt_gateway_upstream_errors_total"
    assert _metric(after, errors, provider="gemini", code="500") - _metric(before, errors, provider="gemini",
                                                                          code="500") == 3


def test_access_line_carries_model_call_fields_but_no_prompt(gateway: GatewayThread,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="grompt_gateway.access")
    secret_prompt = "my-very-private-prompt"
    with httpx.stream("GET", f"{gateway.url}/v1/generate/stream",
                      params={"provider": "anthropic", "user": secret_prompt}) as response:
        read_sse(response)
    deadline = time.monotonic() + 3
    while not [r for r in caplog.records if getattr(r, "route", "") == "/v1/generate/stream"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    record = next(r for r in caplog.records if getattr(r, "route", "") == "/v1/generate/stream")
    line = json.loads(JsonFormatter().format(record))
    assert line["provider"] == "anthropic" and line["model"] == "claude-sonnet-4-6"
    assert line["status"] == 200 and line["lat_ms"] > 0 and line["ttfc_ms"] > 0
    assert line["prompt_tokens"] > 0 and line["completion_tokens"] > 0 and line["finish_reason"]
    assert line["req_id"] and line["path"] == "/v1/generate/stream"
    assert secret_prompt not in json.dumps(line)


@pytest.mark.parametrize("secret", [
    "Authorization: Bearer sk-proj-abcdefghijklmnop",
    "key=sk-ant-api03-abcdefghijkl",
    "api_key='AIzaSyA-abcdefghijklmnop'",
    '{"x-api-key": "abcdefgh12345678"}',
])
def test_redaction_filter_removes_credentials_from_any_line(secret: str) -> None:
    record = logging.makeLogRecord({"msg": "upstream said %s", "args": (secret,), "levelno": logging.ERROR,
                                    "levelname": "ERROR", "detail": secret})
    RedactingFilter().filter(record)
    line = JsonFormatter().format(record)
    payload = json.loads(line)
    assert "[redacted]" in payload["msg"] and "[redacted]" in payload["detail"]
    for fragment in ("abcdefghijkl", "abcdefgh12345678"):
        assert fragment not in line


def test_metrics_hold_no_families_of_subsystems_the_gateway_does_not_run(gateway: GatewayThread) -> None:
    text = _scrape(gateway)
    families = re.findall(r"^# TYPE (\S+) ", text, flags=re.MULTILINE)
    samples = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    empty = [f for f in families if not any(s == f or s.startswith(f + "_") for s in samples)]
    # Our own labelled families are empty until their first event; nobody else's may be.
    assert [f for f in empty if not f.startswith("grompt_gateway_")] == []
    assert "django_model_" not in text and "django_migrations_" not in text


def test_a_record_logged_during_a_request_joins_its_access_line() -> None:
    record = logging.makeLogRecord({"name": "django.request", "levelname": "ERROR", "msg": "boom %s",
                                    "args": ("/v1/x",), "exc_info": (ValueError, ValueError(), None)})
    fields: dict[str, object] = {}
    token = ACCESS_FIELDS.set(fields)
    try:
        assert OneLinePerRequest().filter(record) is False
        fields[LINE_WRITTEN] = True  # a task that outlives its request logs a line of its own
        assert OneLinePerRequest().filter(record) is True
    finally:
        ACCESS_FIELDS.reset(token)
    assert fields["logs"] == [{"logger": "django.request", "level": "error", "msg": "boom /v1/x",
                               "exc_type": "ValueError"}]
    assert OneLinePerRequest().filter(record) is True  # outside any request: start-up, shutdown


def test_log_lines_hold_plain_values_only() -> None:
    class Request:
        def __str__(self) -> str:
            return "<ASGIRequest: GET '/v1/generate/stream?user=secret-prompt'>"

    record = logging.makeLogRecord({"name": "django.request", "msg": "Bad Gateway", "request": Request(),
                                    "status_code": 502, "color_message": "\x1b[1mBad\x1b[0m"})
    line = json.loads(JsonFormatter().format(record))
    assert line["status_code"] == 502
    assert "request" not in line and "color_message" not in line


def test_query_strings_never_reach_a_line() -> None:
    record = logging.makeLogRecord({"name": "uvicorn.error", "msg": '%s - "WebSocket %s" 403',
                                    "args": ("127.0.0.1:5", "/v1/generate/stream?user=my+secret+prompt&x=1")})
    assert RedactingFilter().filter(record)
    assert record.getMessage() == '127.0.0.1:5 - "WebSocket /v1/generate/stream?[query]" 403'
