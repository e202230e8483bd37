"""``python manage.py mockllm``: the mock LLM upstream runs on its own and answers real SDKs."""

from __future__ import annotations

import time

import httpx
import openai

from tests.support.process import free_port, start_process, stop_process


def test_mockllm_command_serves_the_mock_until_stopped() -> None:
    port = free_port()
    process = start_process(["manage.py", "mockllm", "--port", str(port), "--chunk-delay-ms", "0"], env={})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, "manage.py mockllm exited"
            try:
                health = httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "manage.py mockllm did not answer within 20 s"
                time.sleep(0.05)
        assert health.json()["service"] == "mockllm"
        client = openai.OpenAI(api_key="any", base_url=f"{url}/v1", max_retries=0, timeout=10)
        with client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Tell me about lighthouses"}],
            stream=True, stream_options={"include_usage": True},
        ) as stream:
            chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert "lighthouses" in text
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 5
    finally:
        out, _ = stop_process(process)
    assert f"mockllm on {url}" in out
