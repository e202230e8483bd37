"""The Ninja ``/v1`` API object and its one exception handler: whatever a view raised leaves as the
contract's JSON error, rendered by ``http_errors`` (Ninja's and Django's own exceptions are first
translated into the gateway's error tree here)."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import HttpError, ValidationError

from grompt_gateway.http_errors import NotFound, django_response, unhandled
from grompt_gateway.observability.request_context import REQUEST_ID
from grompt_gateway.v1.openapi import GatewayAPI
from grompt_gateway.v1.strict_input import StrictParser, validation_message
from guards.errors import PayloadTooLarge
from llm.errors import GatewayError, InvalidRequest


def as_gateway_error(exc: Exception) -> GatewayError:
    """Translate Ninja's and Django's exceptions into the tree; ``unhandled`` takes the rest."""
    if isinstance(exc, ValidationError):
        return InvalidRequest(validation_message(exc.errors))
    if isinstance(exc, HttpError):
        # Ninja raises HttpError(400, "Cannot parse request body") for malformed JSON.
        return InvalidRequest("malformed request body" if exc.status_code == 400 else str(exc))
    if isinstance(exc, Http404):
        return NotFound("no such route")
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge("request body too large")
    return unhandled(exc)


api = GatewayAPI(
    title="Grompt gateway",
    version="1",
    description="A lean gateway between the Grompt PWA and the model providers.",
    urls_namespace="v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=StrictParser(),
)


def _error_response(request: HttpRequest, exc: Exception) -> HttpResponse:
    return django_response(as_gateway_error(exc), request_id=REQUEST_ID.get())


# Ninja picks a handler by the exception's MRO, and ships its own for these classes: each gets ours.
for _exception in (GatewayError, ValidationError, HttpError, Http404, RequestDataTooBig, Exception):
    api.exception_handler(_exception)(_error_response)
