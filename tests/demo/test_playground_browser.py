"""The playground in a real browser (Debian's Chromium, driven by Playwright): against a live gateway
in demo mode it streams chunk by chunk, shows usage when done, and Stop cancels the upstream request;
JSON errors are shown. Both transports: EventSource (GET) and fetch (POST, ``stream: true``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from itertools import pairwise
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.demo.conftest import ARTIFACTS, FIRST_LOAD_MS, demo_mock
from tests.guards.tokens import SECRET, sign
from tests.support.gateway import GatewayThread

pytestmark = pytest.mark.browser

CHUNK_DELAY_MS = 30
LONG_PROMPT = "[mock chunks=200 gap_ms=50] Keep talking about lighthouses"
MODES = ["eventsource", "fetch"]

# Records every state the answer goes through, with its time, so the test can see it grow.
WATCH_ANSWER = """() => {
  const answer = document.getElementById("answer");
  window.snapshots = [];
  new MutationObserver(() => window.snapshots.push({t: performance.now(), text: answer.textContent}))
    .observe(answer, {childList: true, characterData: true, subtree: true});
}"""


@pytest.fixture
def open_page(chromium: Browser) -> Iterator[Callable[[GatewayThread], Page]]:
    pages: list[Page] = []

    def open_(gateway: GatewayThread) -> Page:
        page = chromium.new_page(viewport={"width": 1280, "height": 1000})
        pages.append(page)
        page.goto(gateway.url + "/")
        expect(page.get_by_label("Provider")).to_be_enabled(timeout=FIRST_LOAD_MS)
        return page

    yield open_
    for page in pages:
        page.close()


def run_prompt(page: Page, *, mode: str, prompt: str) -> None:
    page.locator(f'input[name="mode"][value="{mode}"]').check()
    page.get_by_label("User prompt").fill(prompt)
    if mode == "fetch":
        page.get_by_label("User prompt").press("Control+Enter")  # the keyboard shortcut
    else:
        page.get_by_role("button", name="Run").click()


def growing_states(snapshots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    states = [s for s in snapshots if s["text"]]
    return [s for i, s in enumerate(states) if i == 0 or s["text"] != states[i - 1]["text"]]


@pytest.mark.parametrize("mode", MODES)
def test_playground_streams_then_stop_cancels_the_upstream(
    start_gateway: Callable[..., GatewayThread], open_page: Callable[[GatewayThread], Page], mode: str,
) -> None:
    gateway = start_gateway(demo=True, demo_chunk_delay_ms=CHUNK_DELAY_MS)
    mock = demo_mock(gateway)
    page = open_page(gateway)
    expect(page.locator("#demo-banner")).to_be_visible()
    expect(page.locator("#demo-banner")).to_contain_text("DEMO")

    page.evaluate(WATCH_ANSWER)
    run_prompt(page, mode=mode, prompt="Tell me about lighthouses and their keepers")
    expect(page.locator("#run-state")).to_have_attribute("data-state", "done", timeout=20_000)

    final = page.locator("#answer").text_content() or ""
    states = growing_states(page.evaluate("window.snapshots"))
    assert len(states) >= 5, "the answer should grow chunk by chunk"
    assert all(b["text"].startswith(a["text"]) for a, b in pairwise(states))
    assert final == states[-1]["text"] and "lighthouses" in final
    assert states[-1]["t"] - states[0]["t"] >= 5 * CHUNK_DELAY_MS, "chunks arrived in one burst"
    usage = re.fullmatch(r"(\d+) · (\d+) · (\d+)", page.locator("#usage").text_content() or "")
    assert usage is not None
    prompt_tokens, completion_tokens, total_tokens = map(int, usage.groups())
    assert completion_tokens == int(page.locator("#chunks").text_content() or 0) > 5
    assert total_tokens == prompt_tokens + completion_tokens
    expect(page.locator("#finish")).to_have_text("stop")
    expect(page.locator("#ttfc")).to_have_text(re.compile(r"^\d+ ms$|^\d+\.\d\d s$"))
    expect(page.locator("#served-by")).to_have_text(re.compile("Gemini · gemini-"))
    if mode == "eventsource":
        save_screenshots(page)

    run_prompt(page, mode=mode, prompt=LONG_PROMPT)
    expect(page.locator("#chunks")).to_have_text(re.compile(r"^([5-9]|\d{2,})$"), timeout=10_000)  # mid-stream
    page.get_by_role("button", name="Stop").click()
    expect(page.locator("#run-state")).to_have_attribute("data-state", "stopped")
    assert mock.wait_for_disconnect(timeout_s=5), "the mock upstream never saw the client go away"
    first, long = mock.requests
    assert first.outcome == "completed"
    assert long.outcome == "cancelled" and long.stream and 5 <= long.chunks_sent < 200
    expect(page.get_by_role("button", name="Run")).to_be_enabled()
    expect(page.get_by_role("button", name="Stop")).to_be_disabled()
    assert (page.locator("#answer").text_content() or "").strip(), "the partial answer stays on screen"


@pytest.mark.parametrize("mode", MODES)
def test_playground_shows_the_gateways_json_error(
    start_gateway: Callable[..., GatewayThread], open_page: Callable[[GatewayThread], Page], mode: str,
) -> None:
    page = open_page(start_gateway())  # no demo, no keys: every provider is unconfigured
    expect(page.locator("#demo-banner")).to_be_hidden()
    expect(page.locator("#provider-hint")).to_contain_text("GEMINI_API_KEY")
    run_prompt(page, mode=mode, prompt="hello")
    expect(page.locator("#run-state")).to_have_attribute("data-state", "error", timeout=10_000)
    expect(page.get_by_role("alert").filter(has_text="HTTP")).to_have_text(
        re.compile(r"^HTTP 503 provider_not_configured: .+ \(request \w+\)$"))


def test_playground_checks_the_form_before_sending(
    start_gateway: Callable[..., GatewayThread], open_page: Callable[[GatewayThread], Page],
) -> None:
    gateway = start_gateway(demo=True, demo_chunk_delay_ms=0)
    page = open_page(gateway)
    page.get_by_label("Temperature").fill("3")
    run_prompt(page, mode="eventsource", prompt="hello")
    expect(page.locator("#form-error")).to_have_text("Temperature must be between 0 and 2.")
    expect(page.get_by_label("Temperature")).to_be_focused()
    expect(page.get_by_label("Temperature")).to_have_attribute("aria-invalid", "true")
    assert demo_mock(gateway).requests == []


def save_screenshots(page: Page) -> None:
    """Desktop and phone views of a finished run, kept as test artifacts (git-ignored). The viewport
    grows to the whole page first, so the sticky Run/Stop bar sits where it belongs."""
    ARTIFACTS.mkdir(exist_ok=True)
    for name, width in (("playground.png", 1280), ("playground-mobile.png", 390)):
        page.set_viewport_size({"width": width, "height": 800})
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=ARTIFACTS / name)
    page.set_viewport_size({"width": 1280, "height": 1000})


def test_playground_sends_a_pasted_token_and_keeps_it_in_the_page_only(
    start_gateway: Callable[..., GatewayThread], open_page: Callable[[GatewayThread], Page],
) -> None:
    gateway = start_gateway(demo=True, demo_chunk_delay_ms=1, auth_jwt_secret=SECRET, auth_required=True)
    page = open_page(gateway)
    page.get_by_label("User prompt").fill("hello")
    page.get_by_role("button", name="Run").click()  # no token: AUTH_REQUIRED refuses
    expect(page.get_by_role("alert").filter(has_text="HTTP")).to_have_text(re.compile(r"^HTTP 401 unauthorized: "))

    page.get_by_label("Bearer token").fill(sign(SECRET, alg="HS256", iss=None, aud=None))
    expect(page.locator('input[name="mode"][value="eventsource"]')).to_be_disabled()  # cannot send headers
    expect(page.locator('input[name="mode"][value="fetch"]')).to_be_checked()
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#run-state")).to_have_attribute("data-state", "done", timeout=20_000)
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert page.evaluate("document.cookie") == ""

    page.get_by_label("Bearer token").fill(sign(SECRET, alg="HS256", iss=None, aud=None, exp=1))
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_role("alert").filter(has_text="HTTP")).to_have_text(
        re.compile(r"^HTTP 401 unauthorized: token expired \(request \w+\)$"))
    page.reload()
    expect(page.get_by_label("Bearer token")).to_have_value("")  # gone with the page


def test_playground_shows_the_token_budget_next_to_the_counts(
    start_gateway: Callable[..., GatewayThread], open_page: Callable[[GatewayThread], Page],
) -> None:
    page = open_page(start_gateway(demo=True, demo_chunk_delay_ms=0, token_budget_per_day=1_000_000))
    expect(page.locator("#budget")).to_have_text("0 / 1,000,000 per day")
    run_prompt(page, mode="fetch", prompt="hello")
    expect(page.locator("#run-state")).to_have_attribute("data-state", "done", timeout=20_000)
    total = int((page.locator("#usage").text_content() or "").split(" · ")[-1])
    expect(page.locator("#budget")).to_have_text(f"{total:,} / 1,000,000 per day")


def test_playground_hides_the_budget_when_there_is_none(
    start_gateway: Callable[..., GatewayThread], open_page: Callable[[GatewayThread], Page],
) -> None:
    page = open_page(start_gateway(demo=True, demo_chunk_delay_ms=0))
    page.wait_for_load_state("networkidle")
    expect(page.locator("#budget-box")).to_be_hidden()
