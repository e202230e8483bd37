"""How each server under test is started: the fake upstream, the gateway under uvicorn, the LiteLLM peer.

The peer is installed on demand into its own virtualenv (``bench/.peer-venv``), never into ours.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Final

from bench.procs import Proc, free_port, pinned, start
from bench.targets import API_KEY, MODEL

REPO: Final = Path(__file__).resolve().parents[1]
PEER_VENV: Final = REPO / "bench" / ".peer-venv"
LITELLM_SPEC: Final = "litellm[proxy]"

# The gateway as the issue benchmarks it. INFO keeps the JSON access line on: it is part of the real
# cost of every request, and production runs with it.
GATEWAY_ENV: Final = {
    "OPENAI_API_KEY": "x", "DEFAULT_PROVIDER": "openai", "DEFAULT_MODEL": MODEL, "RATE_LIMIT_RPS": "0",
    "LOG_LEVEL": "INFO",
}


async def upstream(*, cpus: str | None, logs: Path) -> Proc:
    port = free_port()
    argv = pinned([sys.executable, "-m", "bench.upstream", "--port", str(port)], cpus=cpus)
    return await start("upstream", argv, port=port, log_path=logs / "upstream.log",
                       env={**os.environ, "PYTHONPATH": str(REPO)})


async def gateway(*, upstream_url: str, workers: int, cpus: str | None, logs: Path) -> Proc:
    """uvicorn as the README starts it in production, with ``--loop auto --http auto`` (uvloop, httptools)."""
    port = free_port()
    argv = pinned([
        sys.executable, "-m", "uvicorn", "grompt_gateway.asgi:application", "--app-dir", str(REPO),
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--lifespan", "on",
        "--no-access-log", "--no-proxy-headers", "--timeout-graceful-shutdown", "2",
    ], cpus=cpus)
    env = {**os.environ, **GATEWAY_ENV, "OPENAI_BASE_URL": f"{upstream_url}/v1", "PYTHONPATH": str(REPO)}
    # The working directory holds no .env file, so only the values above configure the gateway.
    return await start("gateway", argv, port=port, log_path=logs / "gateway.log", env=env, cwd=logs)


def ensure_litellm(*, spec: str = LITELLM_SPEC) -> Path:
    """Return the ``litellm`` command, installing ``spec`` into the peer virtualenv the first time."""
    command = PEER_VENV / "bin" / "litellm"
    if command.exists():
        return command
    print(f"installing {spec} into {PEER_VENV} (once)", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run([str(PEER_VENV / "bin" / "python"), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", spec], check=True, timeout=1800)
    return command


def litellm_version() -> str:
    out = subprocess.run([str(PEER_VENV / "bin" / "python"), "-c",
                          "import importlib.metadata as m; print(m.version('litellm'))"],
                         capture_output=True, text=True, check=False)
    return out.stdout.strip() or "?"


async def litellm(*, upstream_url: str, workers: int, cpus: str | None, logs: Path) -> Proc:
    """LiteLLM's proxy with one model routed to the same upstream, no database, default logging."""
    command = ensure_litellm()
    config = logs / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{MODEL}\n"
        f"      api_base: {upstream_url}/v1\n"
        "      api_key: x\n"
    )
    port = free_port()
    argv = pinned([str(command), "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
                   "--num_workers", str(workers)], cpus=cpus)
    # The local cost map: the proxy would otherwise fetch it from the internet at start-up.
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False",
           "LITELLM_MASTER_KEY": API_KEY}
    return await start("litellm", argv, port=port, log_path=logs / "litellm.log", env=env, cwd=logs,
                       ready_timeout_s=180.0)
