"""The ``/v1`` API: the Ninja ``api`` object and its exception handlers (``api``), the operations and
their docs (``routes``), the handlers (``generate``: POST /v1/generate and GET /v1/generate/stream;
``meta``: /v1/health and /v1/providers; ``budget``: a model call's token reservation and GET /v1/budget),
SSE framing and relay (``sse``), request/response schemas (``schemas``), what a model call records in
metrics and on the access line (``call_metrics``), the OpenAPI description (``openapi``).

Handlers take a ``server.http_port.RequestContext`` and return a ``ResponsePayload``; they never see
Django. May import: ``grompt_gateway.server`` (port, adapter), ``observability``, ``http_errors``,
``config``, ``wiring``, ``guards`` and ``llm`` (errors, types, ports). Never ``grompt_gateway.stack``.
"""
