"""Start-up runs without the cyclic garbage collector (stack/lifespan.py ``collector_paused``): importing the
app and, at the lifespan start, the configured SDKs allocate only objects that live as long as the process,
and the collector walking them took ~20 % of the start-up. Each check runs in a fresh process, where the
collector's passes can be counted (``gc.callbacks``)."""

from __future__ import annotations

import subprocess
import sys

from tests.support.process import ROOT, clean_env

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


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", _COUNT + code], cwd=ROOT, env=clean_env({}), capture_output=True,
                         text=True, check=True, timeout=120)
    return out.stdout.strip().splitlines()[-1]


def test_importing_the_app_runs_no_collection_and_leaves_the_collector_on() -> None:
    # The standard library's first imports (logging, typing, re) may see a pass, and so may the first
    # allocation after the pause; from Django's import to the application built, none.
    assert _run("import grompt_gateway.asgi\nprint(any(importing), gc.isenabled())") == "False True"


def test_the_lifespan_start_imports_the_sdks_without_collections_then_collects_once_and_freezes() -> None:
    code = (
        "import asyncio, django\n"
        "django.setup()\n"
        "from grompt_gateway.application import GatewayApplication\n"
        "from grompt_gateway.config import GatewaySettings\n"
        "app = GatewayApplication(GatewaySettings(openai_api_key='k', anthropic_api_key='k', gemini_api_key='k'))\n"
        "sent = []\n"
        "async def start():\n"
        "    messages = [{'type': 'lifespan.shutdown'}, {'type': 'lifespan.startup'}]\n"
        "    async def receive():\n"
        "        if len(messages) == 1:\n"
        "            print(passes, gc.isenabled(), gc.get_freeze_count() > 0, 'anthropic' in sys.modules)\n"
        "        return messages.pop()\n"
        "    async def send(message):\n"
        "        sent.append(message['type'])\n"
        "    await app({'type': 'lifespan', 'asgi': {'version': '3.0'}, 'state': {}}, receive, send)\n"
        "passes.clear()\n"
        "asyncio.run(start())\n"
    )
    # One pass: the full collection (generation 2) just before gc.freeze(), none while importing the SDKs.
    assert _run(code) == "[2] True True True"
