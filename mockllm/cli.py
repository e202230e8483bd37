"""Foreground entry point: `python -m mockllm --port 8787`; the `manage.py mockllm` command calls `run()`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import uvicorn

from mockllm.app import MockLLM

__all__ = ["main", "run"]


def run(
    *,
    host: str = "127.0.0.1",
    port: int = 8787,
    chunk_delay_s: float = 0.04,
    chunks: int | None = None,
    api_key: str | None = None,
    log_level: str = "info",
) -> None:
    """Serve a `MockLLM` in the foreground until Ctrl-C (uvicorn installs the signal handlers)."""
    app = MockLLM(chunk_delay_s=chunk_delay_s, chunks=chunks, api_key=api_key)
    url = f"http://{host}:{port}"
    print(f"mockllm on {url}  base URLs: OpenAI {url}/v1 | Anthropic {url} | Gemini {url}", flush=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, lifespan="off", access_log=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mockllm", description="Mock OpenAI/Anthropic/Gemini upstream.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--chunk-delay-ms", type=float, default=40.0, help="pause before each streamed chunk")
    parser.add_argument("--chunks", type=int, default=None, help="answer length in chunks (default: natural)")
    parser.add_argument("--api-key", default=None, help="require this key (default: any non-empty key)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    run(
        host=args.host,
        port=args.port,
        chunk_delay_s=args.chunk_delay_ms / 1000,
        chunks=args.chunks,
        api_key=args.api_key,
        log_level=args.log_level,
    )
    return 0
