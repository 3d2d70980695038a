"""/jsonldContexts: the @contexts the node hosts and caches (clause 6.29, 6.30)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from ascn.api import params
from ascn.api.negotiation import JSON, JSON_LD, accepted, check_content_type, read_payload
from ascn.api.requests import BASE, node_of
from ascn.api.responses import json_response, no_content
from ascn.api.routing import resource
from ascn.errors import BadRequestData
from ascn.service.contexts import KINDS, ContextDocument


def _url(request: Request, entry: ContextDocument) -> str:
    if entry.url is not None:
        return entry.url
    return f"{str(request.base_url).rstrip('/')}{BASE}/jsonldContexts/{quote(entry.local_id)}"


def _details(request: Request, entry: ContextDocument) -> dict[str, Any]:
    return {
        "URL": _url(request, entry),
        "localId": entry.local_id,
        "kind": entry.kind,
        "createdAt": entry.created_at,
    }


def _details_flag(request: Request) -> bool:
    return params.flag(request, "details")


async def add(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, ())
    node = node_of(request)
    payload = await read_payload(
        request, node.settings.context_max_bytes, node.settings.max_nesting
    )
    entry = await node.contexts.add(payload.body)
    return no_content(201, {"Location": f"{BASE}/jsonldContexts/{entry.local_id}"})


async def listing(request: Request) -> Response:
    accepted(request, (JSON, JSON_LD))
    params.check_params(request, ("details", "kind"))
    details = _details_flag(request)
    kind = request.query_params.get("kind")
    if kind is not None and kind not in KINDS:
        raise BadRequestData(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    entries = node_of(request).contexts.list(kind)
    if details:
        return json_response([_details(request, e) for e in entries])
    return json_response([_url(request, e) for e in entries])


async def serve(request: Request) -> Response:
    accepted(request, (JSON, JSON_LD))
    params.check_params(request, ("details",))
    details = _details_flag(request)
    entry = node_of(request).contexts.get(request.path_params["context_id"])
    if details:
        return json_response(_details(request, entry))
    return json_response(entry.document)


async def delete(request: Request) -> Response:
    params.check_params(request, ("reload",))
    reload = params.flag(request, "reload")
    await node_of(request).contexts.delete(request.path_params["context_id"], reload)
    return no_content()


def routes() -> list[BaseRoute]:
    return [
        *resource(f"{BASE}/jsonldContexts", {"POST": add, "GET": listing}, slash=True),
        *resource(f"{BASE}/jsonldContexts/{{context_id:path}}", {"GET": serve, "DELETE": delete}),
    ]
