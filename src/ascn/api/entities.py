"""/entities and /entities/{id}/attrs (clauses 6.4-6.7)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from ascn.api import params
from ascn.api.negotiation import GEO_JSON, JSON, JSON_LD, MERGE_PATCH, accepted, check_content_type
from ascn.api.query import query
from ascn.api.requests import BASE, READ_OPTIONS, node_of, payload_scope, read_terms, view_of
from ascn.api.responses import json_response, linked_data, no_content
from ascn.api.routing import Handler, resource
from ascn.errors import BadRequestData, ResourceNotFound
from ascn.ngsild.changes import UpdateReport
from ascn.ngsild.representation import render_all, render_feature
from ascn.service.entities import Scope

DISTRIBUTION = ("local", "via", "type")
RETRIEVE_PARAMS = (
    "attrs",
    "pick",
    "omit",
    "options",
    "format",
    "lang",
    "geometryProperty",
    "datasetId",
    "join",
    "joinLevel",
    "containedBy",
    "entityMap",
    "csf",
    *DISTRIBUTION,
)


async def create(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, ("local",))
    payload, scope = await payload_scope(request)
    entity_id = await node_of(request).entities.create(scope, payload.body)
    return no_content(201, {"Location": f"{BASE}/entities/{entity_id}"})


async def retrieve(request: Request) -> Response:
    media = accepted(request, (JSON, JSON_LD, GEO_JSON))
    params.check_params(request, RETRIEVE_PARAMS)
    terms = await read_terms(request)
    view = view_of(request, terms, READ_OPTIONS)
    service = node_of(request).entities
    tenant = params.tenant(request)
    entity = await service.retrieve(tenant, request.path_params["entity_id"], view.attrs)
    if media == GEO_JSON:
        geometry = request.query_params.get("geometryProperty", "location")
        feature = render_feature(entity, terms, view, terms.expand(geometry))
        return linked_data(feature, GEO_JSON, terms.source_url)
    linked = await service.linked(tenant, [entity], view)
    shown = render_all([entity], terms, view, linked)
    if not shown:
        raise ResourceNotFound("pick and omit leave nothing of the entity to show")
    return linked_data(shown if len(shown) > 1 else shown[0], media, terms.source_url)


async def delete(request: Request) -> Response:
    params.check_params(request, DISTRIBUTION)
    await node_of(request).entities.delete(params.tenant(request), request.path_params["entity_id"])
    return no_content()


async def replace(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, ("options", *DISTRIBUTION))
    payload, scope = await payload_scope(request)
    await node_of(request).entities.replace(scope, request.path_params["entity_id"], payload.body)
    return no_content()


async def merge(request: Request) -> Response:
    allowed = (JSON, JSON_LD, MERGE_PATCH)
    check_content_type(request, allowed)
    params.check_params(request, ("options", "format", "observedAt", "lang", *DISTRIBUTION))
    payload, scope = await payload_scope(request, allowed)
    await node_of(request).entities.merge(scope, request.path_params["entity_id"], payload.body)
    return no_content()


async def append(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, ("options", *DISTRIBUTION))
    overwrite = "noOverwrite" not in params.options(request, ("noOverwrite",))
    payload, scope = await payload_scope(request)
    report = await node_of(request).entities.append(
        scope, request.path_params["entity_id"], payload.body, overwrite=overwrite
    )
    return _report(request, report)


async def update(request: Request) -> Response:
    allowed = (JSON, JSON_LD, MERGE_PATCH)
    check_content_type(request, allowed)
    params.check_params(request, ("options", *DISTRIBUTION))
    payload, scope = await payload_scope(request, allowed)
    report = await node_of(request).entities.update_attributes(
        scope, request.path_params["entity_id"], payload.body
    )
    return _report(request, report)


async def partial_update(request: Request) -> Response:
    allowed = (JSON, JSON_LD, MERGE_PATCH)
    check_content_type(request, allowed)
    params.check_params(request, ("options", *DISTRIBUTION))
    payload, scope = await payload_scope(request, allowed)
    await node_of(request).entities.partial_update(
        scope, request.path_params["entity_id"], request.path_params["attr"], payload.body
    )
    return no_content()


async def replace_attribute(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, DISTRIBUTION)
    payload, scope = await payload_scope(request)
    await node_of(request).entities.replace_attribute(
        scope, request.path_params["entity_id"], request.path_params["attr"], payload.body
    )
    return no_content()


async def delete_attribute(request: Request) -> Response:
    params.check_params(request, ("datasetId", "deleteAll", "lang", *DISTRIBUTION))
    scope = Scope(params.tenant(request), await read_terms(request))
    await node_of(request).entities.delete_attribute(
        scope,
        request.path_params["entity_id"],
        request.path_params["attr"],
        request.query_params.get("datasetId"),
        params.flag(request, "deleteAll"),
    )
    return no_content()


async def missing_id(request: Request) -> Response:
    raise BadRequestData("the entity id in the path is empty")


def _report(request: Request, report: UpdateReport) -> Response:
    if report.complete:
        return no_content()
    body: dict[str, Any] = {
        "updated": report.updated,
        "notUpdated": [{"attributeName": n, "reason": r} for n, r in report.not_updated],
    }
    return json_response(body, 207)


def routes() -> list[BaseRoute]:
    one = f"{BASE}/entities/{{entity_id}}"
    empty_id: dict[str, Handler] = {
        "POST": missing_id,
        "PATCH": missing_id,
        "PUT": missing_id,
        "DELETE": missing_id,
    }
    return [
        *resource(
            f"{BASE}/entities",
            {"POST": create, "GET": query, "PUT": missing_id, "PATCH": missing_id},
            slash=True,
        ),
        *resource(f"{BASE}/entities//attrs", empty_id, slash=True),
        *resource(f"{BASE}/entities//attrs/{{attr}}", empty_id),
        *resource(one, {"GET": retrieve, "DELETE": delete, "PUT": replace, "PATCH": merge}),
        *resource(f"{one}/attrs", {"POST": append, "PATCH": update}, slash=True),
        *resource(
            f"{one}/attrs/{{attr}}",
            {"PATCH": partial_update, "PUT": replace_attribute, "DELETE": delete_attribute},
        ),
    ]
