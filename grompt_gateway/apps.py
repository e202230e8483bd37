"""Django app config, so ``grompt_gateway`` can ship management commands (runserver, mockllm)."""

from __future__ import annotations

from django.apps import AppConfig


class GromptGatewayConfig(AppConfig):
    name = "grompt_gateway"
    verbose_name = "Grompt gateway"

    def ready(self) -> None:
        from grompt_gateway.observability.metrics import drop_unused_families

        drop_unused_families()
