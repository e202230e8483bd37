"""Run the gateway as a real process (uvicorn or manage.py), as an operator would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment minus provider keys and gateway settings the developer may have set."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env.update({"PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "grompt_gateway.settings", **extra})
    return env


def python_prints(code: str, *, env: Mapping[str, str] | None = None, timeout_s: float = 120.0) -> list[str]:
    """Run ``code`` in a fresh interpreter at the repository root (what a new process imports or does is what
    the test looks at) and return the lines it printed; a non-zero exit fails the test."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean_env(env or {}), capture_output=True,
                         text=True, check=True, timeout=timeout_s)
    return out.stdout.strip().splitlines()


def start_process(args: Sequence[str], *, env: Mapping[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=clean_env(env), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def wait_healthy(url: str, process: subprocess.Popen[str], *, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            errors = process.stderr.read() if process.stderr else ""
            raise RuntimeError(f"gateway exited with {process.returncode}: {errors}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} not healthy after {timeout_s} s")


def stop_process(process: subprocess.Popen[str], *, timeout_s: float = 10.0) -> tuple[str, str]:
    process.terminate()
    try:
        return process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()
