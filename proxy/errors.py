"""The GoBE pass-through's errors, on the shared base in ``llm.errors``. A GoBE failure is named as
one: it is not a provider failure. The contract codes are the same as the model layer's.

    GatewayError (llm.errors)
     ├── PathNotAllowed              path_not_allowed         outside GOBE_PROXY_ALLOW; GoBE not called
     ├── ProxyMethodNotAllowed       method_not_allowed       not one of the proxied methods
     ├── ProxyBodyTooLarge           payload_too_large        body over PROXY_MAX_BODY_BYTES
     ├── GoBENotConfigured           provider_not_configured  GOBE_BASE_URL is unset
     ├── GoBEConnectionError         upstream_error           GoBE unreachable, or it closed the connection
     └── DeadlineExceeded (llm.errors)
          └── GoBETimeout            timeout                  GoBE did not connect or answer in time
"""

from __future__ import annotations

from llm.errors import DeadlineExceeded, GatewayError


class PathNotAllowed(GatewayError):
    code = "path_not_allowed"


class ProxyMethodNotAllowed(GatewayError):
    code = "method_not_allowed"


class ProxyBodyTooLarge(GatewayError):
    code = "payload_too_large"


class GoBENotConfigured(GatewayError):
    code = "provider_not_configured"


class GoBEConnectionError(GatewayError):
    code = "upstream_error"


class GoBETimeout(DeadlineExceeded):
    pass


__all__ = ["GoBEConnectionError", "GoBENotConfigured", "GoBETimeout", "PathNotAllowed", "ProxyBodyTooLarge",
           "ProxyMethodNotAllowed"]
