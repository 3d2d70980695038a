"""The one place errors become HTTP responses: RFC 7807 problem details."""

from __future__ import annotations

import logging

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ascn.errors import AscnError, InternalError, MethodNotAllowed, ResourceNotFound

log = logging.getLogger("ascn.api")


def problem_response(error: AscnError) -> Response:
    return Response(
        orjson.dumps(error.problem()), status_code=error.status, media_type="application/json"
    )


async def on_ascn_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AscnError)
    return problem_response(exc)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error: AscnError
    if exc.status_code == 405:
        error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
    elif exc.status_code == 404:
        error = ResourceNotFound(f"nothing is served at {request.url.path}")
    else:
        error = InternalError(str(exc.detail))
    response = problem_response(error)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(InternalError("the node failed to handle this request"))
