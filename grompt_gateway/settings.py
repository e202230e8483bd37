"""Django settings, derived from the one typed GatewaySettings read at start-up (config.py).

There is no database and there are no models: the gateway keeps state only in the cache.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from grompt_gateway.config import GatewaySettings, SettingsError, cache_config
from grompt_gateway.observability.log_capture import capture_plain_text_output
from grompt_gateway.observability.log_json import logging_config

try:
    GATEWAY = GatewaySettings.from_env(os.environ)
except SettingsError as exc:
    # One clear line and a non-zero exit, whichever entry point imported us (uvicorn, manage.py, pytest).
    sys.stderr.write(f"grompt-gateway: bad setting: {exc}\n")
    raise SystemExit(2) from None

# The gateway has no sessions, no forms and no signed data; Django still insists on a key.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "grompt-gateway-has-no-signed-state"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "grompt_gateway.urls"
ASGI_APPLICATION = "grompt_gateway.asgi.application"
USE_TZ = True
DATABASES: dict[str, Any] = {}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "grompt_gateway",  # first: its runserver (uvicorn, ASGI) wins over staticfiles' one
    "django.contrib.staticfiles",
    "django_prometheus",
    "ninja",
]

# Async-only middleware: every MiddlewareMixin hook would be a thread hop per request
# (measured: a third fewer requests per second).
# Request ids, access log, CORS, limits and error shapes live in the ASGI stack (application.py).
MIDDLEWARE = [
    "grompt_gateway.stack.json_errors.json_errors",
]


# What Django itself would use; the gateway builds its own cache from the same settings (wiring.py).
CACHES = {"default": cache_config(GATEWAY.cache_url)}

# MAX_BODY_BYTES is the one body limit: the ASGI guard enforces it exactly (Content-Length and chunked),
# and Django's own check (2.5 MB by default, which answered below a larger MAX_BODY_BYTES) follows it.
DATA_UPLOAD_MAX_MEMORY_SIZE = GATEWAY.max_body_bytes

STATIC_URL = "/static/"
# Only Ninja's /v1/docs page renders a template.
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]

LOGGING = logging_config(GATEWAY.log_level)
LOGGING_CONFIG = "logging.config.dictConfig"
# Tracebacks and warnings that Python would print as plain text go through the JSON formatter too.
capture_plain_text_output()
