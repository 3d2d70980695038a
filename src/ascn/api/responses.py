"""Responses with the @context where the reader expects it: in the body for application/ld+json
and application/geo+json, in a Link header for application/json (clause 6.3.7)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from ascn.api.negotiation import CONTEXT_REL, GEO_JSON, JSON_LD
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
    data: Any,
    media_type: str,
    context_url: str | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A response in `media_type` whose @context is `context_url` (None: the core context)."""
    url = context_url or CORE_CONTEXT_URL
    headers = dict(headers or {})
    if media_type in (JSON_LD, GEO_JSON):
        if isinstance(data, list):
            data = [{**item, "@context": url} for item in data]
        else:
            data = {**data, "@context": url}
    else:
        headers["Link"] = context_link(url)
    return json_response(data, status, media_type, headers)


def no_content(status: int = 204, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, headers=headers)
