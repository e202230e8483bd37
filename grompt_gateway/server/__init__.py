"""The HTTP server port and its adapter: ``http_port`` (``HttpServerPort``, ``RequestContext``,
``ResponsePayload``; framework-free), ``django_adapter`` (the port on Django Ninja, served in-process
by uvicorn) and ``adapters`` (``HTTP_ADAPTER`` → the implementation).

``http_port`` imports nothing of ours; ``django_adapter`` imports ``http_port``, ``v1.openapi`` (the
shapes it documents), ``llm.errors`` and ``guards`` (the verified caller the bearer-token layer leaves
in the ASGI scope, for ``RequestContext.user``, and the client key, for ``RequestContext.client_key``);
``adapters`` also ``config`` and ``v1.api`` (the API object it serves).
"""
