"""Ninja schemas of the /v1 API: the contract's JSON shapes (camelCase on the wire)."""

from __future__ import annotations

from ninja import Schema


class ErrorDetail(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    """Every error (API.md § Errors)."""

    error: ErrorDetail
    requestId: str  # noqa: N815 - the contract's field name


class HealthOut(Schema):
    status: str
    demo: bool
