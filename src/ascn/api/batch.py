"""/entityOperations: batch create, upsert, update, delete and merge (clause 6.14-6.18, 6.31)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from ascn.api import params
from ascn.api.negotiation import JSON, JSON_LD, check_content_type, read_payload
from ascn.api.requests import BASE, node_of
from ascn.api.responses import json_response, no_content
from ascn.api.routing import resource
from ascn.errors import AscnError, BadRequestData
from ascn.ngsild.context import TermMap
from ascn.service.batch import BatchResult, Item

BATCH_PARAMS = ("options", "local", "via")


async def _items(request: Request) -> list[Item]:
    """Each entity of the batch with the terms of its own @context (or why they failed)."""
    node = node_of(request)
    payload = await read_payload(
        request, node.settings.max_body_bytes, node.settings.max_nesting, shape=list
    )
    items: list[Item] = []
    for raw in payload.body:
        terms: TermMap | AscnError
        try:
            terms = await node.contexts.terms(payload.context(raw))
        except AscnError as error:
            terms = error
        items.append((raw, terms))
    return items


def _result(request: Request, result: BatchResult, created_status: bool) -> Response:
    if result.errors:
        body: dict[str, Any] = {
            "success": result.success,
            "errors": [
                {"entityId": entity_id, "error": error.problem()}
                for entity_id, error in result.errors
            ],
        }
        return json_response(body, 207)
    if created_status and result.created:
        return json_response(result.created, 201)
    return no_content()


async def create(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, BATCH_PARAMS)
    items = await _items(request)
    result = await node_of(request).batch.create(params.tenant(request), items)
    return _result(request, result, True)


async def upsert(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, BATCH_PARAMS)
    chosen = params.options(request, ("replace", "update"))
    if chosen == {"replace", "update"}:
        raise BadRequestData("options replace and update exclude each other")
    items = await _items(request)
    result = await node_of(request).batch.upsert(
        params.tenant(request), items, "update" if "update" in chosen else "replace"
    )
    return _result(request, result, True)


async def update(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, BATCH_PARAMS)
    overwrite = "noOverwrite" not in params.options(request, ("noOverwrite",))
    items = await _items(request)
    result = await node_of(request).batch.update(params.tenant(request), items, overwrite=overwrite)
    return _result(request, result, False)


async def merge(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, BATCH_PARAMS)
    items = await _items(request)
    result = await node_of(request).batch.merge(params.tenant(request), items)
    return _result(request, result, False)


async def delete(request: Request) -> Response:
    check_content_type(request, (JSON, JSON_LD))
    params.check_params(request, BATCH_PARAMS)
    node = node_of(request)
    payload = await read_payload(
        request, node.settings.max_body_bytes, node.settings.max_nesting, shape=list
    )
    result = await node.batch.delete(params.tenant(request), payload.body)
    return _result(request, result, False)


def routes() -> list[BaseRoute]:
    operations = {"create": create, "upsert": upsert, "update": update, "merge": merge}
    return [
        route
        for name, handler in {**operations, "delete": delete}.items()
        for route in resource(f"{BASE}/entityOperations/{name}", {"POST": handler}, slash=True)
    ]
