"""The gateway's CPU per request, in process: the ASGI application called directly (no uvicorn, no sockets
on our side), against the fake upstream in a child process. For deterministic comparisons and profiles:

    .venv/bin/python -m bench.inproc --provider gemini --stream -n 500          # CPU µs per request
    .venv/bin/python -m bench.inproc --provider gemini --stream --cprofile out.prof
    .venv/bin/python -m bench.inproc --default-route --set TOKEN_BUDGET_PER_MINUTE=9999999
    valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python -m bench.inproc ... -n 200
        (run with -n N and -n 2N: the difference of the totals / N is the instructions per request)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

import orjson

from bench.procs import free_port
from bench.targets import MODELS, directive
from bench.wire import PROTOCOLS

REPO: Final = Path(__file__).resolve().parents[1]


def gateway_env(upstream_url: str) -> dict[str, str]:
    """All three providers configured, pointed at the fake upstream (as the benchmark runs the gateway)."""
    return {
        "OPENAI_API_KEY": "x", "ANTHROPIC_API_KEY": "x", "GEMINI_API_KEY": "x",
        "OPENAI_BASE_URL": f"{upstream_url}/v1", "ANTHROPIC_BASE_URL": upstream_url,
        "GEMINI_BASE_URL": f"{upstream_url}/",
        "DEFAULT_PROVIDER": "openai", "DEFAULT_MODEL": MODELS["openai"], "RATE_LIMIT_RPS": "0", "LOG_LEVEL": "INFO",
    }


class _Call:
    """One ASGI request: a body in, the response's messages counted."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self._sent = False
        self.status = 0
        self.bytes_out = 0
        self.done = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        if not self._sent:
            self._sent = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        await self.done.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.bytes_out += len(message.get("body", b""))
            if not message.get("more_body"):
                self.done.set()


def _scope(body: bytes, *, stream: bool) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if stream:
        headers.append((b"accept", b"text/event-stream"))
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": "/v1/generate", "raw_path": b"/v1/generate",
            "query_string": b"", "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000), "state": {}}


async def _lifespan(app: Any) -> None:
    events = [{"type": "lifespan.startup"}]

    async def receive() -> dict[str, Any]:
        return events.pop() if events else await asyncio.Event().wait()  # type: ignore[func-returns-value]

    sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    asyncio.get_running_loop().create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                               receive, sent.put))
    message = await sent.get()
    assert message["type"] == "lifespan.startup.complete", message


async def _run(args: argparse.Namespace) -> None:
    from grompt_gateway.asgi import application

    await _lifespan(application)
    prompt = "Say hello to the benchmark." + (f" {directive(chunks=args.chunks, gap_ms=0)}" if args.stream else "")
    route = {} if args.default_route else {"provider": args.provider, "model": MODELS[args.provider]}
    body = orjson.dumps({**route, "user": prompt, "stream": args.stream})
    scope = _scope(body, stream=args.stream)

    async def one() -> None:
        call = _Call(body)
        await application(dict(scope), call.receive, call.send)
        if call.status != 200:
            raise RuntimeError(f"status {call.status}")

    for _ in range(args.warm):
        await one()
    profiler = cProfile.Profile(time.process_time) if args.cprofile else None
    if args.callgrind:  # run under valgrind --tool=callgrind --instr-atstart=no: count the loop only
        subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)  # noqa: ASYNC221
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for _ in range(args.n):
        await one()
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.cprofile)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if args.callgrind:
        subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)  # noqa: ASYNC221
    kind = "stream" if args.stream else "JSON"
    print(f"{args.provider} {kind}: {cpu / args.n * 1e6:.0f} µs CPU per request ({wall / args.n * 1e6:.0f} µs wall),"
          f" n={args.n}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inproc", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provider", choices=PROTOCOLS, default="openai")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--chunks", type=int, default=50)
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--warm", type=int, default=50)
    parser.add_argument("--cprofile", default=None, help="write a cProfile of the measured requests here")
    parser.add_argument("--callgrind", action="store_true",
                        help="under valgrind --tool=callgrind --instr-atstart=no: instrument the measured loop only")
    parser.add_argument("--upstream", default=None, help="URL of a running fake upstream (else one is started)")
    parser.add_argument("--set", action="append", default=[], metavar="SETTING=VALUE",
                        help="a gateway setting on top of the benchmark's (e.g. TOKEN_BUDGET_PER_MINUTE=1000000)")
    parser.add_argument("--default-route", action="store_true",
                        help="requests name no provider (DEFAULT_PROVIDER serves; FALLBACK_PROVIDERS may)")
    args = parser.parse_args(argv)
    upstream = None
    url = args.upstream
    if url is None:
        port = free_port()
        upstream = subprocess.Popen([sys.executable, "-m", "bench.upstream", "--port", str(port)],
                                    env={**os.environ, "PYTHONPATH": str(REPO)})
        url = f"http://127.0.0.1:{port}"
        _wait_port(port)
    os.environ.update(gateway_env(url))
    os.environ.update(setting.split("=", 1) for setting in args.set)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grompt_gateway.settings")
    try:
        import uvloop

        uvloop.run(_run(args))
    finally:
        if upstream is not None:
            upstream.terminate()
            upstream.wait()
    return 0


def _wait_port(port: int) -> None:
    import socket

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"upstream did not listen on {port}")


if __name__ == "__main__":
    raise SystemExit(main())
