"""Responses with the @context where the reader expects it: in the body for application/ld+json,
in a Link header otherwise (clause 6.3.7)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ascn.api.negotiation import CONTEXT_REL, JSON_LD
from ascn.ngsild.context import CORE_CONTEXT_URL


def context_link(url: str) -> str:
    return f'<{url}>; rel="{CONTEXT_REL}"; type="application/ld+json"'


def json_response(
    data: Any,
    status: int = 200,
    media_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=media_type, headers=headers)


def linked_data(
    request: Request,
    data: Any,
    media_type: str,
    context_url: str | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A response in `media_type` whose @context is `context_url` (None: the core context)."""
    url = context_url or CORE_CONTEXT_URL
    headers = dict(headers or {})
    if media_type == JSON_LD:
        if isinstance(data, list):
            data = [{**item, "@context": url} for item in data]
        else:
            data = {**data, "@context": url}
    else:
        headers["Link"] = context_link(url)
    tenant = request.headers.get("ngsild-tenant")
    if tenant:
        headers["NGSILD-Tenant"] = tenant
    return json_response(data, status, media_type, headers)


def no_content(
    request: Request, status: int = 204, headers: dict[str, str] | None = None
) -> Response:
    headers = dict(headers or {})
    tenant = request.headers.get("ngsild-tenant")
    if tenant:
        headers["NGSILD-Tenant"] = tenant
    return Response(status_code=status, headers=headers)
