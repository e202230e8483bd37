"""Run the soak and judge its end state: no upstream call still open at the mock, the gateway's file descriptors
and memory back near their idle values, every client a contract outcome, and no upstream call of a client that
left still running more than ``leave_grace_s`` after it left."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import orjson

from mockllm import MockLLMServer, RecordedRequest, start_mock
from soak.client import ClientResult, run_client
from soak.gateway import GatewayProcess
from soak.plan import PROVIDERS, make_plans


@dataclass(frozen=True, slots=True, kw_only=True)
class SoakConfig:
    clients: int = 600
    concurrency: int = 150
    leave_share: float = 0.3
    seed: int = 1
    chunk_delay_ms: float = 50.0
    answer_chunks: int = 60  # 3 s answers: a call left running after its client is gone shows as such
    request_timeout_ms: int = 1500
    leave_grace_s: float = 1.0
    ramp_s: float = 2.0  # clients arrive spread over this time (then as fast as ``concurrency`` lets them)
    settle_s: float = 10.0
    fd_slack: int = 10
    rss_slack_mb: float = 40.0


@dataclass(slots=True, kw_only=True)
class SoakReport:
    config: SoakConfig
    outcomes: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    upstream_calls: int = 0
    still_open: int = 0
    late: list[str] = field(default_factory=list)  # upstream calls of departed clients that ran on
    fds_idle: int = 0
    fds_end: int = 0
    rss_idle_mb: float = 0.0
    rss_end_mb: float = 0.0
    elapsed_s: float = 0.0

    @property
    def failures(self) -> list[str]:
        found = list(self.violations) + self.late
        if self.still_open:
            found.append(f"{self.still_open} upstream calls still open at the mock")
        if self.fds_end > self.fds_idle + self.config.fd_slack:
            found.append(f"open fds {self.fds_end}, idle {self.fds_idle}")
        if self.rss_end_mb > self.rss_idle_mb + self.config.rss_slack_mb:
            found.append(f"RSS {self.rss_end_mb:.1f} MB, idle {self.rss_idle_mb:.1f} MB")
        return found

    @property
    def ok(self) -> bool:
        return not self.failures

    def render(self) -> str:
        lines = [
            f"soak: {self.config.clients} clients, {self.config.concurrency} at a time, "
            f"{self.config.leave_share:.0%} leaving, seed {self.config.seed}: {self.elapsed_s:.1f} s",
            f"upstream calls {self.upstream_calls}, still open at the end {self.still_open}",
            f"open fds idle {self.fds_idle} -> end {self.fds_end}; RSS idle {self.rss_idle_mb:.1f} MB -> "
            f"end {self.rss_end_mb:.1f} MB",
            "outcomes: " + ", ".join(f"{name} {n}" for name, n in sorted(self.outcomes.items())),
        ]
        lines += [f"FAIL {failure}" for failure in self.failures[:50]]
        lines.append("OK" if self.ok else f"FAILED ({len(self.failures)})")
        return "\n".join(lines)


def run_soak(config: SoakConfig) -> SoakReport:
    report = SoakReport(config=config)
    with start_mock(chunk_delay_s=config.chunk_delay_ms / 1000, chunks=config.answer_chunks) as mock, \
            GatewayProcess(env=_gateway_env(mock, config)) as gateway:
        asyncio.run(_warm_up(gateway.url, concurrency=config.concurrency))
        time.sleep(0.5)
        report.fds_idle, report.rss_idle_mb = gateway.open_fds(), gateway.rss_mb()
        mock.reset()
        started = time.monotonic()
        results = asyncio.run(_clients(gateway.url, config))
        report.elapsed_s = time.monotonic() - started
        _settle(mock, gateway, report, config)
        _judge(results, mock.requests, report, config)
    return report


def _gateway_env(mock: MockLLMServer, config: SoakConfig) -> dict[str, str]:
    env = {"RATE_LIMIT_RPS": "0", "LOG_LEVEL": "WARNING", "REQUEST_TIMEOUT_MS": str(config.request_timeout_ms),
           "OPENAI_BASE_URL": mock.openai_base_url, "ANTHROPIC_BASE_URL": mock.anthropic_base_url,
           "GEMINI_BASE_URL": mock.gemini_base_url}
    return env | {f"{p.upper()}_API_KEY": f"soak-{p}-key" for p in PROVIDERS}


def _client(url: str, *, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency + 8, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(base_url=url, limits=limits, timeout=httpx.Timeout(30.0))


async def _warm_up(url: str, *, concurrency: int) -> None:
    """Fill the gateway's pools as the soak will, so that "idle" is measured warm (its outcomes are not judged)."""
    async with _client(url, concurrency=concurrency) as http:
        async def one(n: int) -> None:
            body = {"provider": PROVIDERS[n % len(PROVIDERS)], "user": "warm up", "stream": True}
            async with http.stream("POST", "/v1/generate", json=body) as response:
                await response.aread()

        await asyncio.gather(*(one(n) for n in range(concurrency)), return_exceptions=True)


async def _clients(url: str, config: SoakConfig) -> list[ClientResult]:
    plans = make_plans(count=config.clients, leave_share=config.leave_share, seed=config.seed)
    gate = asyncio.Semaphore(config.concurrency)
    async with _client(url, concurrency=config.concurrency) as http:
        async def one(plan_index: int) -> ClientResult:
            await asyncio.sleep(config.ramp_s * plan_index / len(plans))
            async with gate:
                return await run_client(http, plans[plan_index])

        return await asyncio.gather(*(one(i) for i in range(len(plans))))


def _settle(mock: MockLLMServer, gateway: GatewayProcess, report: SoakReport, config: SoakConfig) -> None:
    """Wait (bounded) for the end state: every upstream call closed, fds back near idle."""
    deadline = time.monotonic() + config.settle_s
    while time.monotonic() < deadline:
        open_calls = sum(1 for r in mock.requests if r.outcome == "pending")
        if open_calls == 0 and gateway.open_fds() <= report.fds_idle + config.fd_slack:
            break
        time.sleep(0.1)
    report.fds_end, report.rss_end_mb = gateway.open_fds(), gateway.rss_mb()


def _judge(results: list[ClientResult], calls: list[RecordedRequest], report: SoakReport,
           config: SoakConfig) -> None:
    report.upstream_calls = len(calls)
    report.still_open = sum(1 for r in calls if r.outcome == "pending")
    by_marker: dict[str, list[RecordedRequest]] = {}
    for call in calls:
        text = orjson.dumps(call.body).decode()
        start = text.find("soakclient")
        if start >= 0:
            by_marker.setdefault(text[start: text.index("x", start) + 1], []).append(call)
    for result in results:
        kind = result.outcome.split(":", 1)[0] if not result.violation else "violation"
        report.outcomes[kind if kind != "error" else result.outcome] += 1
        if result.violation:
            report.violations.append(f"client {result.plan} -> {result.outcome}")
        if result.left_s is not None:
            report.late += _ran_on(result, by_marker.get(result.plan.marker, []), grace_s=config.leave_grace_s)


def _ran_on(result: ClientResult, calls: list[RecordedRequest], *, grace_s: float) -> list[str]:
    assert result.left_s is not None
    late = []
    for call in calls:
        end = call.finished_s
        if end is None or end > result.left_s + grace_s:
            ran = "still open" if end is None else f"ended {end - result.left_s:.2f} s after"
            late.append(f"client {result.plan.n} ({result.plan.provider} {result.plan.mode} "
                        f"'{result.plan.fault}') left; its upstream call {call.seq} {ran} "
                        f"({call.outcome}, {call.chunks_sent} chunks, arrived "
                        f"{call.arrived_s - result.left_s:+.2f} s from the client leaving)")
    return late
