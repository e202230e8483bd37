"""Observability: Prometheus metrics (``metrics``), JSON log lines with redaction (``log_json``), one line
per request (``one_line``: other records logged during a request join its access line), Python's
plain-text stderr output routed through logging (``log_capture``) and the per-request ContextVars that
carry the request id and the access-line fields across the stack (``request_context``).

May import ``prometheus_client`` and ``orjson``; nothing else of ours. Every other layer may import it.
"""
