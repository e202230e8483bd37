"""ASGI entry point: ``uvicorn grompt_gateway.asgi:application``.

Built with the cyclic garbage collector paused, then frozen (``stack.lifespan``): importing Django, Ninja
and the app allocates only objects that live as long as the process.
"""

from __future__ import annotations

import gc
import os

from grompt_gateway.stack.lifespan import collector_paused

with collector_paused():
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grompt_gateway.settings")
    django.setup(set_prefix=False)

    from django.conf import settings
    from django.urls import get_resolver

    from grompt_gateway.application import GatewayApplication

    get_resolver().url_patterns  # noqa: B018 - build the URL map (and the /v1 routes) now, not on the first request

    application = GatewayApplication(settings.GATEWAY)
    # Else the collector's first pass, once on again, walks all of it (~30-60 ms): its garbage (~800
    # objects of class building) is kept instead; the lifespan start freezes the rest (freeze_start_up).
    gc.freeze()
