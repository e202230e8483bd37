"""The HTTP server port and its adapter: ``http_port`` (``HttpServerPort``, ``RequestContext``,
``ResponsePayload``; framework-free) and ``django_adapter`` (the port on Django Ninja, served in-process
by uvicorn). ``grompt_gateway.http_server`` picks the implementation ``HTTP_ADAPTER`` names.

``http_port`` imports nothing of ours; ``django_adapter`` imports ``http_port`` and ``guards`` (the
verified caller the bearer-token layer leaves in the ASGI scope, for ``RequestContext.user``, and the
client key, for ``RequestContext.client_key``). Neither imports ``v1``: the API hands its docs in
(``RouteDoc``), so the arrows run one way, ``v1`` → ``server``.
"""
