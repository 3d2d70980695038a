"""/temporal/entities and /temporal/entityOperations/query (clauses 6.18-6.24): the history of
entities, written and read in their temporal representation."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from ascn.api import params
from ascn.api.negotiation import JSON, JSON_LD, accepted, check_content_type
from ascn.api.query import PAGING, QUERY_PARAMS, query_from_body, query_from_params
from ascn.api.requests import BASE, node_of, payload_scope, read_terms, view_with
from ascn.api.responses import linked_data, no_content
from ascn.api.routing import Handler, resource
from ascn.errors import BadRequestData, InvalidRequest, ResourceNotFound
from ascn.ngsild.context import TermMap
from ascn.ngsild.evolution import aggregated, normalized, simplified
from ascn.ngsild.query import EntityQuery
from ascn.ngsild.representation import View
from ascn.ngsild.temporal import FORMATS, TemporalQuery, aggregation, window
from ascn.service.entities import Scope
from ascn.service.temporal import Evolutions

OPTIONS = ("temporalValues", "aggregatedValues", "sysAttrs")
WINDOW = ("timerel", "timeAt", "endTimeAt", "timeproperty", "lastN")
AGGREGATION = ("aggrMethods", "aggrPeriodDuration")
RETRIEVE_PARAMS = (
    "attrs",
    "options",
    "format",
    "pick",
    "omit",
    "lang",
    "datasetId",
    "local",
    "via",
    *WINDOW,
    *AGGREGATION,
)
TEMPORAL_QUERY_PARAMS = (*QUERY_PARAMS, *WINDOW, *AGGREGATION)


def _form(request: Request) -> tuple[str, set[str]]:
    """The temporal representation asked for (format= wins over options=) and the options."""
    chosen = params.options(request, OPTIONS)
    raw = request.query_params.get("format")
    if raw is not None:
        if raw not in FORMATS:
            raise InvalidRequest(f"unknown format {raw!r}: use {', '.join(FORMATS)}")
        return raw, chosen
    for form in ("aggregatedValues", "temporalValues"):
        if form in chosen:
            return form, chosen
    return "normalized", chosen


def _temporal(
    request: Request, terms: TermMap, selection: EntityQuery, members: dict[str, Any]
) -> tuple[TemporalQuery, View]:
    """The temporal query of a request: the window from `members` (URL parameters or a
    temporalQ), the representation and the view."""
    form, chosen = _form(request)
    view = view_with(request, terms, chosen, "normalized")
    get = request.query_params.get
    for name in WINDOW:
        value = members.get(name)
        if value is not None and not isinstance(value, str):
            raise BadRequestData(f"{name} must be a string")
    span = window(
        members.get("timerel"),
        members.get("timeAt"),
        members.get("endTimeAt"),
        members.get("timeproperty"),
        members.get("lastN"),
    )
    aggregate = (
        aggregation(get("aggrMethods"), get("aggrPeriodDuration"))
        if form == "aggregatedValues"
        else None
    )
    limit = node_of(request).settings.temporal_instance_limit
    query = TemporalQuery(
        selection=selection,
        window=span,
        attrs=view.attrs,
        datasets=view.datasets,
        format=form,
        aggregation=aggregate,
        instance_limit=limit,
    )
    return query, view


def _bodies(found: Evolutions, query: TemporalQuery, terms: TermMap, view: View) -> list[Any]:
    bodies = []
    for evolution in found.entities:
        if query.format == "aggregatedValues" and query.aggregation is not None:
            body = aggregated(
                evolution.entity_id,
                evolution.types,
                evolution.periods,
                terms,
                view,
                query.aggregation,
                found.origin,
                found.end,
            )
        elif query.format == "temporalValues":
            body = simplified(
                evolution.entity_id,
                evolution.types,
                evolution.records,
                terms,
                view,
                query.window,
                evolution.emptied,
            )
        else:
            body = normalized(
                evolution.entity_id,
                evolution.types,
                evolution.records,
                terms,
                view,
                evolution.emptied,
            )
        bodies.append(body)
    return bodies


def _answer(body: Any, media: str, terms: TermMap, found: Evolutions) -> Response:
    if found.content_range is None:
        return linked_data(body, media, terms.source_url)
    headers = {"Content-Range": found.content_range}
    return linked_data(body, media, terms.source_url, 206, headers)


async def upsert(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, ("local",))
    payload, scope = await payload_scope(request)
    created = await node_of(request).temporal.upsert(scope, payload.body)
    if not created:
        return no_content()
    entity_id = payload.body["id"]
    return no_content(201, {"Location": f"{BASE}/temporal/entities/{entity_id}"})


async def retrieve(request: Request) -> Response:
    media = accepted(request, (JSON, JSON_LD))
    params.check_params(request, RETRIEVE_PARAMS)
    terms = await read_terms(request)
    members = {name: request.query_params.get(name) for name in WINDOW}
    query, view = _temporal(request, terms, EntityQuery(), members)
    entity_id = request.path_params["entity_id"]
    found = await node_of(request).temporal.retrieve(params.tenant(request), entity_id, query)
    body = _bodies(found, query, terms, view)[0]
    if not body:
        raise ResourceNotFound("pick and omit leave nothing of the entity to show")
    return _answer(body, media, terms, found)


async def query(request: Request) -> Response:
    media = accepted(request, (JSON, JSON_LD))
    params.check_params(request, TEMPORAL_QUERY_PARAMS)
    terms = await read_terms(request)
    members = {name: request.query_params.get(name) for name in WINDOW}
    query, view = _temporal(request, terms, query_from_params(request, terms), members)
    found = await node_of(request).temporal.query(params.tenant(request), query)
    bodies = [body for body in _bodies(found, query, terms, view) if body]
    return _answer(bodies, media, terms, found)


async def post_query(request: Request) -> Response:
    check_content_type(request)
    media = accepted(request, (JSON, JSON_LD))
    params.check_params(request, (*PAGING, *AGGREGATION))
    payload, scope = await payload_scope(request)
    body = payload.body
    if not isinstance(body, dict):
        raise BadRequestData("the body must be a Query object")
    selection = query_from_body(request, body, scope.terms)
    temporal_q = body.get("temporalQ") or {}
    if not isinstance(temporal_q, dict):
        raise BadRequestData("temporalQ must be an object")
    members = {name: temporal_q.get(name) for name in WINDOW}
    if isinstance(members["lastN"], int):
        members["lastN"] = str(members["lastN"])
    query, view = _temporal(request, scope.terms, selection, members)
    if selection.attrs is not None and query.attrs is None:
        query = dataclasses.replace(query, attrs=frozenset(selection.attrs))
    found = await node_of(request).temporal.query(scope.tenant, query)
    bodies = [b for b in _bodies(found, query, scope.terms, view) if b]
    return _answer(bodies, media, scope.terms, found)


async def delete(request: Request) -> Response:
    params.check_params(request, ("local", "via"))
    entity_id = request.path_params["entity_id"]
    await node_of(request).temporal.delete(params.tenant(request), entity_id)
    return no_content()


async def append(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, ("local",))
    payload, scope = await payload_scope(request)
    await node_of(request).temporal.append(scope, request.path_params["entity_id"], payload.body)
    return no_content()


async def delete_attribute(request: Request) -> Response:
    params.check_params(request, ("datasetId", "deleteAll", "local", "via"))
    scope = Scope(params.tenant(request), await read_terms(request))
    await node_of(request).temporal.delete_attribute(
        scope,
        request.path_params["entity_id"],
        request.path_params["attr"],
        request.query_params.get("datasetId"),
        params.flag(request, "deleteAll"),
    )
    return no_content()


async def amend(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, ("local",))
    payload, scope = await payload_scope(request)
    path = request.path_params
    await node_of(request).temporal.amend(
        scope, path["entity_id"], path["attr"], path["instance_id"], payload.body
    )
    return no_content()


async def delete_instance(request: Request) -> Response:
    params.check_params(request, ("local", "via"))
    scope = Scope(params.tenant(request), await read_terms(request))
    path = request.path_params
    await node_of(request).temporal.delete_instance(
        scope, path["entity_id"], path["attr"], path["instance_id"]
    )
    return no_content()


async def empty_segment(request: Request) -> Response:
    raise BadRequestData("a segment of the path (entity id, attribute or instance id) is empty")


def routes() -> list[BaseRoute]:
    base = f"{BASE}/temporal/entities"
    one = f"{base}/{{entity_id}}"
    empty: dict[str, Handler] = {"POST": empty_segment, "PATCH": empty_segment}
    return [
        *resource(base, {"POST": upsert, "GET": query}, slash=True),
        *resource(f"{base}//attrs", {"POST": empty_segment}, slash=True),
        *resource(f"{base}//attrs/{{attr}}", {"DELETE": empty_segment}),
        *resource(f"{base}//attrs/{{attr}}/{{instance_id}}", {**empty, "DELETE": empty_segment}),
        *resource(f"{one}/attrs//{{instance_id}}", {"DELETE": empty_segment}),
        *resource(one, {"GET": retrieve, "DELETE": delete}),
        *resource(f"{one}/attrs", {"POST": append}, slash=True),
        *resource(f"{one}/attrs/{{attr}}", {"DELETE": delete_attribute}),
        *resource(
            f"{one}/attrs/{{attr}}/{{instance_id}}", {"PATCH": amend, "DELETE": delete_instance}
        ),
        *resource(f"{BASE}/temporal/entityOperations/query", {"POST": post_query}, slash=True),
    ]
