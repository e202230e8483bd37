"""The ASGI stack in front of Django, in the order ``application.py`` composes it (outermost first):
``lifespan`` (and ``websocket``, which refuses every handshake) → ``cors`` → ``access`` (request id,
access line, request metrics, early errors) → ``shutdown`` (draining) → the guards and the GoBE route
(``guards/``, ``proxy/``) → ``static_files`` → ``django_handler``; inside Django, the one
async-only middleware ``json_errors``.

May import: starlette's types and CORS, Django, ``grompt_gateway.observability``,
``grompt_gateway.http_errors`` (errors become responses there), ``grompt_gateway.drain``, ``guards``
(``asgi``, ``errors``) and ``llm.errors``. Never ``grompt_gateway.v1``, ``grompt_gateway.server`` or the
model layer's providers.
"""
