"""Observability: Prometheus metrics (``metrics``), a model call's metrics and access-line fields
(``llm_metrics``), JSON log lines with redaction (``log_json``) and the per-request ContextVars that
carry the request id and the access-line fields across the stack (``request_context``).

May import ``prometheus_client``, ``orjson`` and ``llm`` types; nothing else of ours except, for type
checking only, ``v1.sse`` and ``wiring``. Every other layer may import it.
"""
