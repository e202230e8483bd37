"""The Ninja ``/v1`` API object and its exception handlers: every error leaves as the contract's
JSON shape (API.md § Errors), whatever raised it."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from grompt_gateway.http_errors import INTERNAL_ERROR, error_headers, error_json, status_for
from grompt_gateway.observability.request_context import REQUEST_ID
from llm.errors import GatewayError, InvalidRequest, NotFound, PayloadTooLarge

log = logging.getLogger("grompt_gateway.errors")


def error_response(exc: GatewayError) -> HttpResponse:
    response = HttpResponse(error_json(exc, request_id=REQUEST_ID.get()), status=status_for(exc),
                            content_type="application/json")
    for name, value in error_headers(exc).items():
        response[name] = value
    return response


def validation_message(exc: ValidationError) -> str:
    """Name the first offending field and why, never echoing the value (it may be prompt text)."""
    if not exc.errors:
        return "invalid request"
    first = exc.errors[0]
    location = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "payload", "q"))
    return f"{location}: {first.get('msg', 'invalid')}" if location else str(first.get("msg", "invalid"))


api = NinjaAPI(
    title="Grompt gateway",
    version="1",
    description="A lean gateway between the Grompt PWA and the model providers.",
    urls_namespace="v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(GatewayError)
def _gateway_error(request: HttpRequest, exc: GatewayError) -> HttpResponse:
    return error_response(exc)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(InvalidRequest(validation_message(exc)))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja raises HttpError(400, "Cannot parse request body") for malformed JSON.
    return error_response(InvalidRequest("malformed request body" if exc.status_code == 400 else str(exc)))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(NotFound("no such route"))


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(PayloadTooLarge("request body too large"))


@api.exception_handler(Exception)
def _unhandled(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.error("unhandled error", exc_info=exc)
    return error_response(INTERNAL_ERROR)
