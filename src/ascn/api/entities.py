"""/entities and /entities/{id}/attrs (clauses 6.4-6.7)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ascn.api import params
from ascn.api.negotiation import (
    GEO_JSON,
    JSON,
    JSON_LD,
    MERGE_PATCH,
    Payload,
    accepted,
    check_content_type,
    link_context,
    read_payload,
)
from ascn.api.responses import json_response, linked_data, no_content
from ascn.errors import BadRequestData
from ascn.ngsild.changes import UpdateReport
from ascn.ngsild.context import TermMap
from ascn.ngsild.representation import View, parse_lang, render, render_feature
from ascn.service.entities import Scope
from ascn.service.node import Node

BASE = "/ngsi-ld/v1"
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
READ_OPTIONS = ("sysAttrs", "keyValues", "concise", "normalized", "simplified")


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


async def payload_scope(
    request: Request,
    allowed: tuple[str, ...] = (JSON, JSON_LD),
) -> tuple[Payload, Scope]:
    """The body of a write and the scope (tenant, terms) it is read in."""
    node = node_of(request)
    payload = await read_payload(
        request, node.settings.max_body_bytes, node.settings.max_nesting, allowed
    )
    terms = await node.contexts.terms(payload.context())
    return payload, Scope(params.tenant(request), terms)


async def read_terms(request: Request) -> TermMap:
    """The terms a read is compacted with: its Link header's @context, or the core one."""
    return await node_of(request).contexts.terms(link_context(request))


def view_of(request: Request, terms: TermMap, known_options: tuple[str, ...]) -> View:
    chosen = params.options(request, known_options)
    attrs = params.names(request, "attrs")
    pick = params.names(request, "pick")
    omit = params.names(request, "omit")
    if pick is not None and omit is not None:
        raise BadRequestData("pick and omit cannot be used together")
    lang = request.query_params.get("lang")
    return View(
        format=params.representation(request, chosen),
        sys_attrs="sysAttrs" in chosen,
        attrs=frozenset(terms.expand(a) for a in attrs) if attrs is not None else None,
        pick=_members(pick, terms),
        omit=_members(omit, terms) or frozenset(),
        lang=parse_lang(lang) if lang is not None else None,
    )


def _members(names: list[str] | None, terms: TermMap) -> frozenset[str] | None:
    if names is None:
        return None
    return frozenset(n if n in ("id", "type", "scope") else terms.expand(n) for n in names)


async def create(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, ("local",))
    payload, scope = await payload_scope(request)
    entity_id = await node_of(request).entities.create(scope, payload.body)
    return no_content(request, 201, {"Location": f"{BASE}/entities/{entity_id}"})


async def retrieve(request: Request) -> Response:
    media = accepted(request, (JSON, JSON_LD, GEO_JSON))
    params.check_params(request, RETRIEVE_PARAMS)
    terms = await read_terms(request)
    view = view_of(request, terms, READ_OPTIONS)
    entity = await node_of(request).entities.retrieve(
        params.tenant(request), request.path_params["entity_id"]
    )
    if media == GEO_JSON:
        geometry = request.query_params.get("geometryProperty", "location")
        feature = render_feature(entity, terms, view, terms.expand(geometry))
        return linked_data(request, feature, GEO_JSON, terms.source_url)
    return linked_data(request, render(entity, terms, view), media, terms.source_url)


async def delete(request: Request) -> Response:
    params.check_params(request, DISTRIBUTION)
    await node_of(request).entities.delete(params.tenant(request), request.path_params["entity_id"])
    return no_content(request)


async def replace(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, ("options", *DISTRIBUTION))
    payload, scope = await payload_scope(request)
    await node_of(request).entities.replace(scope, request.path_params["entity_id"], payload.body)
    return no_content(request)


async def merge(request: Request) -> Response:
    allowed = (JSON, JSON_LD, MERGE_PATCH)
    check_content_type(request, allowed)
    params.check_params(request, ("options", "format", "observedAt", "lang", *DISTRIBUTION))
    payload, scope = await payload_scope(request, allowed)
    await node_of(request).entities.merge(scope, request.path_params["entity_id"], payload.body)
    return no_content(request)


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
    return no_content(request)


async def replace_attribute(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, DISTRIBUTION)
    payload, scope = await payload_scope(request)
    await node_of(request).entities.replace_attribute(
        scope, request.path_params["entity_id"], request.path_params["attr"], payload.body
    )
    return no_content(request)


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
    return no_content(request)


async def missing_id(request: Request) -> Response:
    raise BadRequestData("the entity id in the path is empty")


def _report(request: Request, report: UpdateReport) -> Response:
    if report.complete:
        return no_content(request)
    body: dict[str, Any] = {
        "updated": report.updated,
        "notUpdated": [{"attributeName": n, "reason": r} for n, r in report.not_updated],
    }
    return json_response(body, 207)


def routes() -> list[BaseRoute]:
    one = f"{BASE}/entities/{{entity_id}}"
    collection = [f"{BASE}/entities", f"{BASE}/entities/"]
    attrs = [f"{one}/attrs", f"{one}/attrs/"]
    empty = [f"{BASE}/entities//attrs", f"{BASE}/entities//attrs/", f"{BASE}/entities//attrs/{{a}}"]
    return [
        *(Route(p, create, methods=["POST"]) for p in collection),
        *(Route(p, missing_id, methods=["PUT", "PATCH", "DELETE"]) for p in collection),
        *(Route(p, missing_id, methods=["POST", "PATCH", "PUT", "DELETE"]) for p in empty),
        Route(one, retrieve, methods=["GET"]),
        Route(one, delete, methods=["DELETE"]),
        Route(one, replace, methods=["PUT"]),
        Route(one, merge, methods=["PATCH"]),
        *(Route(p, append, methods=["POST"]) for p in attrs),
        *(Route(p, update, methods=["PATCH"]) for p in attrs),
        Route(f"{one}/attrs/{{attr}}", partial_update, methods=["PATCH"]),
        Route(f"{one}/attrs/{{attr}}", replace_attribute, methods=["PUT"]),
        Route(f"{one}/attrs/{{attr}}", delete_attribute, methods=["DELETE"]),
    ]
