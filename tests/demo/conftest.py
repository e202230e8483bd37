"""Demo-mode gateways, and the running mock LLM behind one (its recorder sees every upstream call)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from grompt_gateway.demo import DemoUpstream
from mockllm import MockLLMServer
from tests.support.gateway import GatewayThread

PROVIDERS = ("openai", "anthropic", "gemini")
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling out of this closed network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# The first /v1/providers of a process imports the three SDKs: seconds on a busy machine.
FIRST_LOAD_MS = 30_000


def demo_mock(gateway: GatewayThread) -> MockLLMServer:
    """The mock LLM that ``gateway`` started for demo mode."""
    handle = gateway.app.services.demo
    assert isinstance(handle, DemoUpstream), "the gateway is not in demo mode"
    return handle.mock


@pytest.fixture
def demo_gateway(start_gateway: Callable[..., GatewayThread]) -> GatewayThread:
    """A gateway in demo mode with no chunk delay (fast tests)."""
    return start_gateway(demo=True, demo_chunk_delay_ms=0)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing ({CHROMIUM}): run the README's test command (scripts/test), which "
                    "installs it with apt-get install chromium.", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
