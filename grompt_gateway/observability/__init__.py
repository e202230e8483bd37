"""Observability: Prometheus metrics (``metrics``), a model call's metrics and access-line fields
(``llm_metrics``), JSON log lines with redaction (``log_json``), one line per request (``one_line``: other
records logged during a request join its access line), Python's plain-text stderr output routed through
logging (``log_capture``) and the per-request ContextVars that carry the request id and the access-line
fields across the stack (``request_context``).

May import ``prometheus_client``, ``orjson`` and ``llm`` types; nothing else of ours except, for type
checking only, ``v1.sse`` and ``wiring``. Every other layer may import it.
"""
