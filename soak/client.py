"""One soak client: sends its request, reads the answer as the PWA would, or leaves when its plan says, and tells
whether what it got is a contract outcome (a JSON answer, a JSON error status, or a stream ending in done/error)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Final

import httpx
import orjson

from soak.plan import ClientPlan

# Statuses an error may have (the contract's error table); anything else, a 500 above all, is a violation.
CONTRACT_STATUSES: Final = frozenset({400, 401, 403, 413, 422, 429, 502, 503, 504})


@dataclass(slots=True)
class ClientResult:
    plan: ClientPlan
    outcome: str  # "answer", "done", "error:<status>:<code>", "left", or "violation: <why>"
    left_s: float | None = None  # time.monotonic() when the client left

    @property
    def violation(self) -> bool:
        return self.outcome.startswith("violation")


async def run_client(http: httpx.AsyncClient, plan: ClientPlan) -> ClientResult:
    """Run ``plan``; a client that leaves by time is cancelled mid-request (httpx then closes its connection)."""
    result = ClientResult(plan=plan, outcome="violation: never finished")
    task = asyncio.ensure_future(_exchange(http, plan, result))
    done, _ = await asyncio.wait({task}, timeout=plan.leave_after_s)
    if not done:
        task.cancel()
        result.left_s = time.monotonic()
        result.outcome = "left"
        await asyncio.wait({task})
        return result
    try:
        task.result()
    except httpx.HTTPError as exc:
        result.outcome = f"violation: {type(exc).__name__}"
    return result


async def _exchange(http: httpx.AsyncClient, plan: ClientPlan, result: ClientResult) -> None:
    body: dict[str, Any] = {"provider": plan.provider, "user": plan.prompt}
    if plan.mode == "json":
        response = await http.post("/v1/generate", json=body)
        result.outcome = _json_outcome(response.status_code, response.content)
        return
    if plan.mode == "stream_get":
        request = http.build_request("GET", "/v1/generate/stream", params=body)
    else:
        request = http.build_request("POST", "/v1/generate", json={**body, "stream": True})
    response = await http.send(request, stream=True)
    try:
        if response.status_code != 200:
            result.outcome = _json_outcome(response.status_code, await response.aread())
            return
        await _read_events(response, plan, result)
    finally:
        await response.aclose()


async def _read_events(response: httpx.Response, plan: ClientPlan, result: ClientResult) -> None:
    types: list[str] = []
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue
        event = orjson.loads(line[5:])
        types.append(event["type"])
        if event["type"] == "chunk" and plan.leave_after_chunks is not None \
                and types.count("chunk") >= plan.leave_after_chunks:
            result.left_s, result.outcome = time.monotonic(), "left"
            return  # the caller closes the response unread: the gateway sees the client go
        if event["type"] in ("done", "error"):
            result.outcome = _final_outcome(types, event)
            return
    result.outcome = f"violation: the stream ended without done or error after {types}"


def _final_outcome(types: list[str], event: dict[str, Any]) -> str:
    if types[0] != "start" or set(types[1:-1]) - {"chunk"}:
        return f"violation: events out of order {types}"
    if event["type"] == "done":
        return "done"
    if event.get("status") not in CONTRACT_STATUSES:
        return f"violation: error event with status {event.get('status')}"
    return f"error:{event['status']}:{event['error']['code']}"


def _json_outcome(status: int, content: bytes) -> str:
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        return f"violation: {status} that is not JSON"
    if status == 200 and isinstance(body.get("text"), str):
        return "answer"
    if status in CONTRACT_STATUSES and isinstance(body.get("error"), dict):
        return f"error:{status}:{body['error'].get('code')}"
    return f"violation: status {status}"
