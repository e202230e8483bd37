"""A GoBE call still waiting for GoBE when the shutdown grace period ends answers ``503 shutting_down``
(the proxy never listens for a disconnect while it waits, so it is cancelled outright), and the process
exits 0 without a traceback."""

from __future__ import annotations

import json
import signal
import subprocess
import threading

import httpx

from tests.proxy.echo_gobe import EchoGoBE
from tests.support.process import free_port, start_process, wait_healthy


def test_a_gobe_call_that_outlives_the_grace_period_is_503_shutting_down(gobe: EchoGoBE, gobe_url: str) -> None:
    port = free_port()
    process = start_process(["-m", "grompt_gateway.serve", "--port", str(port)], env={
        "GOBE_BASE_URL": gobe_url, "GOBE_PROXY_ALLOW": "slow", "SHUTDOWN_GRACE_S": "1", "RATE_LIMIT_RPS": "0"})
    url = f"http://127.0.0.1:{port}"
    answers: list[httpx.Response] = []
    try:
        wait_healthy(url, process, timeout_s=60)
        call = threading.Thread(target=lambda: answers.append(httpx.get(f"{url}/v1/proxy/slow/20", timeout=30)))
        call.start()
        for _ in range(200):  # bounded: until GoBE has the request
            if gobe.seen:
                break
            threading.Event().wait(0.05)
        process.send_signal(signal.SIGTERM)
        call.join(timeout=20)
    finally:
        try:
            out, err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
    (answer,) = answers
    assert (answer.status_code, answer.json()["error"]["code"]) == (503, "shutting_down")
    assert process.returncode == 0
    assert "Traceback" not in out + err
    for line in out.splitlines():
        json.loads(line)
