"""Start-up runs without the cyclic garbage collector and ends frozen (stack/lifespan.py ``collector_paused``,
``freeze_start_up``): importing the app and, at the lifespan start, the configured SDKs allocate only objects
that live as long as the process, and the collector walking them took ~20 % of the start-up, its final full
pass another ~0.1-0.2 s. Each check runs in a fresh process, where the collector's passes can be counted
(``gc.callbacks``)."""

from __future__ import annotations

from tests.support.process import python_prints

# Notes the collector's passes from here on: the generation of each, and whether it ran while the app was
# being imported (Django imported, the application not yet built).
_COUNT = (
    "import gc, sys\n"
    "passes, importing = [], []\n"
    "def note(phase, info):\n"
    "    if phase == 'start':\n"
    "        passes.append(info['generation'])\n"
    "        app = sys.modules.get('grompt_gateway.asgi')\n"
    "        importing.append('django' in sys.modules and not hasattr(app, 'application'))\n"
    "gc.callbacks.append(note)\n"
)


def _run(code: str, *, lines: int = 1) -> list[str]:
    return python_prints(_COUNT + code)[-lines:]


def test_importing_the_app_runs_no_collection_and_leaves_the_collector_on_and_the_app_frozen() -> None:
    # The standard library's first imports (logging, typing, re) may see a pass; from Django's import to
    # the application built, none. What the import built is frozen, so no later pass walks it.
    code = "import grompt_gateway.asgi\nprint(any(importing), gc.isenabled(), gc.get_freeze_count() > 50_000)"
    assert _run(code) == ["False True True"]


def test_the_lifespan_start_imports_the_sdks_without_collections_and_freezes() -> None:
    code = (
        "import asyncio, django\n"
        "django.setup()\n"
        "from grompt_gateway.application import GatewayApplication\n"
        "from grompt_gateway.config import GatewaySettings\n"
        "settings = GatewaySettings(openai_api_key='k', anthropic_api_key='k', gemini_api_key='k')\n"
        "async def start(app):\n"
        "    messages = [{'type': 'lifespan.shutdown'}, {'type': 'lifespan.startup'}]\n"
        "    async def receive():\n"
        "        if len(messages) == 1:\n"
        "            print(passes, gc.isenabled(), gc.get_freeze_count() > 100_000, 'anthropic' in sys.modules)\n"
        "        return messages.pop()\n"
        "    async def send(message):\n"
        "        pass\n"
        "    await app({'type': 'lifespan', 'asgi': {'version': '3.0'}, 'state': {}}, receive, send)\n"
        "for _ in range(2):\n"
        "    passes.clear()\n"
        "    asyncio.run(start(GatewayApplication(settings)))\n"
    )
    first, second = _run(code, lines=2)
    # The first start of a process: no pass at all, what the imports left is frozen with the rest.
    assert first == "[] True True True"
    # A later one (tests run many gateways in one process): one full collection (generation 2) first.
    assert second == "[2] True True True"
