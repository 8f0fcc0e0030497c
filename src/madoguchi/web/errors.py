"""Every error leaves as JSON with a stable code: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from madoguchi.domain.errors import DomainError

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def json_response(content: Any, status: int = 200) -> Response:
    """A JSON response serialized with orjson."""
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    """The one shape of an error body."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return json_response({"error": body}, status)


async def _domain_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    response = error_response(exc.status, exc.code, exc.message, exc.details)
    if exc.details and "retry_after" in exc.details:  # rate_limited (docs/security.md)
        response.headers["Retry-After"] = str(exc.details["retry_after"])
    return response


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"field": ".".join(str(p) for p in err["loc"] if p != "body"), "problem": err["msg"]}
        for err in exc.errors()
    ]
    return error_response(
        400, "bad_request", "The request is not of the documented shape.", details
    )


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    return error_response(exc.status_code, code, str(exc.detail))


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through ``error_response``."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
