"""How each server under test is started: the fake upstream, the gateway under uvicorn, and the peers
(LiteLLM's proxy, Portkey's gateway), each pointed at the fake upstream on loopback for every provider.

The peers are installed on demand into git-ignored folders of their own, never into our venv:
LiteLLM into ``bench/.peer-venv`` (pip), Portkey into ``bench/.portkey`` (npm, run with the machine's node).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from bench.procs import Proc, free_port, pinned, start
from bench.targets import API_KEY, MODELS
from bench.wire import PROTOCOLS, Protocol

REPO: Final = Path(__file__).resolve().parents[1]
PEER_VENV: Final = REPO / "bench" / ".peer-venv"
PORTKEY_DIR: Final = REPO / "bench" / ".portkey"
LITELLM_SPEC: Final = "litellm[proxy]"
PORTKEY_SPEC: Final = "@portkey-ai/gateway@1.15.2"
PEERS: Final = ("litellm", "portkey")
PORTKEY_LOOPBACK: Final = REPO / "bench" / "portkey_loopback.mjs"

# The gateway as the issue benchmarks it. INFO keeps the JSON access line on: it is part of the real
# cost of every request, and production runs with it.
GATEWAY_ENV: Final = {"DEFAULT_PROVIDER": "openai", "DEFAULT_MODEL": MODELS["openai"], "RATE_LIMIT_RPS": "0",
                      "LOG_LEVEL": "INFO"}
_KEY_VAR: Final[dict[Protocol, str]] = {p: f"{p.upper()}_API_KEY" for p in PROTOCOLS}


def gateway_env(*, upstream_url: str, providers: Sequence[Protocol] = PROTOCOLS) -> dict[str, str]:
    """The gateway's settings: ``providers`` configured (key ``x``), all pointed at the fake upstream."""
    bases: dict[Protocol, str] = {"openai": f"{upstream_url}/v1", "anthropic": upstream_url,
                                  "gemini": f"{upstream_url}/"}
    env = dict(GATEWAY_ENV)
    first = providers[0]
    env.update(DEFAULT_PROVIDER=first, DEFAULT_MODEL=MODELS[first])
    for p in providers:
        env[_KEY_VAR[p]] = "x"
        env[f"{p.upper()}_BASE_URL"] = bases[p]
    return env


async def upstream(*, cpus: str | None, logs: Path) -> Proc:
    port = free_port()
    argv = pinned([sys.executable, "-m", "bench.upstream", "--port", str(port)], cpus=cpus)
    return await start("upstream", argv, port=port, log_path=logs / "upstream.log",
                       env={**os.environ, "PYTHONPATH": str(REPO)})


async def gateway(*, upstream_url: str, workers: int, cpus: str | None, logs: Path,
                  providers: Sequence[Protocol] = PROTOCOLS, name: str = "gateway") -> Proc:
    """uvicorn as the README starts it in production, with ``--loop auto --http auto`` (uvloop, httptools)."""
    port = free_port()
    argv = pinned([
        sys.executable, "-m", "uvicorn", "grompt_gateway.asgi:application", "--app-dir", str(REPO),
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--lifespan", "on",
        "--no-access-log", "--no-proxy-headers", "--timeout-graceful-shutdown", "2",
    ], cpus=cpus)
    clean = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env = {**clean, **gateway_env(upstream_url=upstream_url, providers=providers), "PYTHONPATH": str(REPO)}
    # The working directory holds no .env file, so only the values above configure the gateway.
    return await start(name, argv, port=port, log_path=logs / f"{name}.log", env=env, cwd=logs,
                       health_path="/v1/health")


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


# LiteLLM's model names in its config: one per provider, each routed to the fake upstream.
LITELLM_MODELS: Final[dict[Protocol, str]] = {p: f"bench-{p}" for p in PROTOCOLS}


async def litellm(*, upstream_url: str, workers: int, cpus: str | None, logs: Path) -> Proc:
    """LiteLLM's proxy with one model per provider routed to the same upstream, no database, default logging."""
    command = ensure_litellm()
    config = logs / "litellm.yaml"
    routes: dict[Protocol, tuple[str, str]] = {
        "openai": (f"openai/{MODELS['openai']}", f"{upstream_url}/v1"),
        "anthropic": (f"anthropic/{MODELS['anthropic']}", upstream_url),
        "gemini": (f"gemini/{MODELS['gemini']}", f"{upstream_url}/v1beta"),
    }
    config.write_text("model_list:\n" + "".join(
        f"  - model_name: {LITELLM_MODELS[p]}\n    litellm_params:\n      model: {model}\n"
        f"      api_base: {base}\n      api_key: x\n" for p, (model, base) in routes.items()))
    port = free_port()
    argv = pinned([str(command), "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
                   "--num_workers", str(workers)], cpus=cpus)
    # The local cost map: the proxy would otherwise fetch it from the internet at start-up.
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False",
           "LITELLM_MASTER_KEY": API_KEY}
    return await start("litellm", argv, port=port, log_path=logs / "litellm.log", env=env, cwd=logs,
                       ready_timeout_s=180.0, health_path="/health/liveliness")


def ensure_portkey(*, spec: str = PORTKEY_SPEC) -> Path:
    """Return Portkey's start script, installing ``spec`` with npm into ``bench/.portkey`` the first time."""
    script = PORTKEY_DIR / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"
    if script.exists():
        return script
    if shutil.which("npm") is None or shutil.which("node") is None:
        raise RuntimeError("Portkey needs node and npm (apt-get install nodejs npm)")
    print(f"installing {spec} into {PORTKEY_DIR} (once)", file=sys.stderr, flush=True)
    PORTKEY_DIR.mkdir(parents=True, exist_ok=True)
    (PORTKEY_DIR / "package.json").write_text('{"private": true}\n')
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--omit=dev", spec], cwd=PORTKEY_DIR,
                   check=True, timeout=1800)
    return script


def portkey_version() -> str:
    import json

    path = PORTKEY_DIR / "node_modules" / "@portkey-ai" / "gateway" / "package.json"
    try:
        return str(json.loads(path.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "?"


# Portkey routes by headers: a provider and a custom host (the fake upstream) per request.
PORTKEY_PROVIDERS: Final[dict[Protocol, str]] = {"openai": "openai", "anthropic": "anthropic", "gemini": "google"}


def portkey_headers(provider: Protocol, *, upstream_url: str) -> tuple[tuple[str, str], ...]:
    host = {"openai": f"{upstream_url}/v1", "anthropic": f"{upstream_url}/v1",
            "gemini": f"{upstream_url}/v1beta"}[provider]
    return (("x-portkey-provider", PORTKEY_PROVIDERS[provider]), ("x-portkey-custom-host", host))


async def portkey(*, upstream_url: str, workers: int, cpus: str | None, logs: Path) -> Proc:
    """Portkey's Node gateway (one process: it has no worker option), headless (no UI, no log stream),
    NODE_ENV=production, on loopback."""
    del upstream_url, workers  # routed per request by headers (portkey_headers)
    script = ensure_portkey()
    port = free_port()
    argv = pinned(["node", "--import", PORTKEY_LOOPBACK.as_uri(), str(script), f"--port={port}", "--headless"],
                  cpus=cpus)
    env = {**os.environ, "NODE_ENV": "production"}
    return await start("portkey", argv, port=port, log_path=logs / "portkey.log", env=env, cwd=logs,
                       health_path="/")
