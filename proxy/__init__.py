"""GoBE pass-through for ``/v1/proxy/*``: a raw ASGI route in front of Django, streaming both ways.

May import django, ninja, httpx2 and the shared base of ``llm.errors`` (its own errors are in
``proxy.errors``); never ``guards``, ``grompt_gateway`` or the provider adapters (README.md).
``proxy.docs`` (Ninja, needs Django settings) is imported apart.
"""

from __future__ import annotations

from proxy.allow import AllowList, normalise_path
from proxy.client import GoBEClient
from proxy.routes import ProxyRoute

__all__ = ["AllowList", "GoBEClient", "ProxyRoute", "normalise_path"]
