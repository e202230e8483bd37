"""The gateway as a process: uvicorn and manage.py serve it, logs are JSON, bad settings fail fast."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from tests.support.process import ROOT, clean_env, free_port, start_process, stop_process, wait_healthy


def _json_lines(text: str) -> list[dict[str, object]]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line must parse


@pytest.mark.parametrize("level", ["INFO", "WARNING"])
def test_uvicorn_serves_the_app_and_every_log_line_is_json(level: str) -> None:
    port = free_port()
    process = start_process(
        ["-m", "uvicorn", "grompt_gateway.asgi:application", "--port", str(port), "--no-proxy-headers",
         "--no-access-log"], env={"LOG_LEVEL": level})
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        response = httpx.get(f"http://127.0.0.1:{port}/v1/health", headers={"X-Request-Id": "probe-1"})
        assert response.headers["x-request-id"] == "probe-1"
        httpx.get(f"http://127.0.0.1:{port}/v1/nowhere")
    finally:
        out, _ = stop_process(process)
    lines = _json_lines(out)
    access = [line for line in lines if line.get("logger") == "grompt_gateway.access"]
    if level == "INFO":
        probe = next(line for line in access if line["req_id"] == "probe-1")
        assert {"method", "path", "status", "lat_ms"} <= set(probe)
    else:
        assert access == []


def test_manage_py_runserver_serves_the_asgi_app_with_autoreload() -> None:
    port = free_port()
    process = start_process(["manage.py", "runserver", f"127.0.0.1:{port}"], env={})
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, timeout_s=30)
        assert httpx.get(f"http://127.0.0.1:{port}/v1/providers").status_code == 200
    finally:
        out, err = stop_process(process)
    assert "Will watch for changes" in out + err  # uvicorn's reloader, not Django's WSGI server


def test_manage_py_runserver_noreload_serves_through_the_http_adapter_and_stops_cleanly() -> None:
    port = free_port()
    process = start_process(["manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], env={})
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
    finally:
        out, _ = stop_process(process)
    assert "Application shutdown complete." in out  # lifespan ran: shared clients closed


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("RATE_LIMIT_RPS", "abc", "RATE_LIMIT_RPS has value 'abc'. Not a valid float."),
    ("DEFAULT_PROVIDER", "mistral", "DEFAULT_PROVIDER has value 'mistral'."),
    ("HTTP_ADAPTER", "fastify", "HTTP_ADAPTER has value 'fastify'."),
    ("REQUEST_TIMEOUT_MS", "-5", "REQUEST_TIMEOUT_MS has value -5."),
])
def test_a_bad_setting_stops_start_up_with_one_clear_line(name: str, value: str, expected: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import grompt_gateway.asgi"], cwd=ROOT, env=clean_env({name: value}),
        capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0]
