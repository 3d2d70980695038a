"""GET /entities: query entities (clause 6.4.3.2)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ascn.api import params
from ascn.api.negotiation import GEO_JSON, JSON, JSON_LD, accepted
from ascn.api.requests import READ_OPTIONS, node_of, read_terms, view_of
from ascn.api.responses import linked_data
from ascn.errors import BadRequestData, NotImplementedFeature
from ascn.ngsild import names
from ascn.ngsild.context import TermMap
from ascn.ngsild.query import DEFAULT_LIMIT, EntityQuery, check_id_pattern, check_page
from ascn.ngsild.representation import render, render_feature

QUERY_PARAMS = (
    "id",
    "type",
    "idPattern",
    "attrs",
    "q",
    "scopeQ",
    "georel",
    "geometry",
    "coordinates",
    "geoproperty",
    "geometryProperty",
    "csf",
    "limit",
    "offset",
    "count",
    "options",
    "format",
    "pick",
    "omit",
    "lang",
    "local",
    "via",
    "datasetId",
    "join",
    "joinLevel",
    "containedBy",
    "entityMap",
)
NOT_YET = ("q", "scopeQ", "georel", "geometry", "coordinates")


def _integer(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise BadRequestData(f"{name} must be a non-negative integer, not {raw!r}")
    return int(raw)


def entity_query(request: Request, terms: TermMap) -> EntityQuery:
    for name in NOT_YET:
        if name in request.query_params:
            raise NotImplementedFeature(f"the {name} parameter is not supported yet")
    ids = params.names(request, "id")
    types = params.names(request, "type")
    attrs = params.names(request, "attrs")
    pattern = request.query_params.get("idPattern")
    if types is None and attrs is None:
        raise BadRequestData("a query needs at least one of type, attrs, q or a geo-query")
    limit = _integer(request, "limit", DEFAULT_LIMIT)
    offset = _integer(request, "offset", 0)
    count = params.flag(request, "count")
    check_page(limit, offset, count)
    type_names = [t.strip() for part in (types or []) for t in part.replace("|", ",").split(",")]
    return EntityQuery(
        ids=tuple(names.check_uri(i, "entity id") for i in ids) if ids is not None else None,
        types=tuple(terms.expand(names.check_name(t, "type")) for t in type_names if t)
        if types is not None
        else None,
        id_pattern=check_id_pattern(pattern) if pattern is not None else None,
        attrs=tuple(terms.expand(a) for a in attrs) if attrs is not None else None,
        limit=limit,
        offset=offset,
        count=count,
    )


async def query(request: Request) -> Response:
    media = accepted(request, (JSON, JSON_LD, GEO_JSON))
    params.check_params(request, QUERY_PARAMS)
    terms = await read_terms(request)
    view = view_of(request, terms, READ_OPTIONS)
    selection = entity_query(request, terms)
    entities, total = await node_of(request).entities.query(params.tenant(request), selection)
    headers = {"NGSILD-Results-Count": str(total)} if total is not None else {}
    if media == GEO_JSON:
        geometry = terms.expand(request.query_params.get("geometryProperty", "location"))
        collection = {
            "type": "FeatureCollection",
            "features": [render_feature(e, terms, view, geometry) for e in entities],
        }
        return linked_data(collection, GEO_JSON, terms.source_url, headers=headers)
    body = [render(e, terms, view) for e in entities]
    return linked_data(body, media, terms.source_url, headers=headers)
