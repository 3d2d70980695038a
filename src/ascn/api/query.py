"""Query entities: GET /entities and POST /entityOperations/query (clauses 6.4.3.2, 6.23)."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from ascn.api import params
from ascn.api.negotiation import GEO_JSON, JSON, JSON_LD, accepted, check_content_type
from ascn.api.requests import (
    BASE,
    MAX_JOIN_LEVEL,
    READ_OPTIONS,
    node_of,
    payload_scope,
    read_terms,
    view_of,
)
from ascn.api.responses import linked_data
from ascn.api.routing import resource
from ascn.errors import BadRequestData
from ascn.ngsild import names
from ascn.ngsild.context import TermMap
from ascn.ngsild.geoquery import geo_query
from ascn.ngsild.qlang import expand, parse_q, parse_scope_q, parse_types
from ascn.ngsild.query import (
    DEFAULT_LIMIT,
    EntityQuery,
    Selector,
    check_id_pattern,
    check_page,
)
from ascn.ngsild.representation import View, parse_lang, render_all, render_feature

PAGING = (
    "limit",
    "offset",
    "count",
    "options",
    "format",
    "lang",
    "geometryProperty",
    "local",
    "via",
    "csf",
    "pick",
    "omit",
    "datasetId",
    "join",
    "joinLevel",
    "containedBy",
    "entityMap",
)
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
    *PAGING,
)


def _integer(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise BadRequestData(f"{name} must be a non-negative integer, not {raw!r}")
    return int(raw)


def _selector(terms: TermMap, ids: Any = None, types: Any = None, pattern: Any = None) -> Selector:
    if ids is not None:
        id_list = ids if isinstance(ids, list) else [ids]
        ids = tuple(names.check_uri(i, "entity id") for i in id_list)
    if types is not None:
        if not isinstance(types, str) or not types:
            raise BadRequestData("type must be a type expression such as Building or A,B")
        types = expand(parse_types(types), lambda n: terms.expand(names.check_name(n, "type")))
    if pattern is not None:
        if not isinstance(pattern, str):
            raise BadRequestData("idPattern must be a regular expression")
        pattern = check_id_pattern(pattern)
    return Selector(ids, types, pattern)


def _selection(
    request: Request,
    terms: TermMap,
    selectors: tuple[Selector, ...],
    attrs: list[str] | None,
    q: Any,
    scope: Any,
    geo: dict[str, Any] | None,
) -> EntityQuery:
    """The query, checked; with local=true a query may select on nothing (all entities)."""
    limit = _integer(request, "limit", DEFAULT_LIMIT)
    offset = _integer(request, "offset", 0)
    count = params.flag(request, "count")
    check_page(limit, offset, count)
    for name, value in (("q", q), ("scopeQ", scope)):
        if value is not None and not isinstance(value, str):
            raise BadRequestData(f"{name} must be a string")
    query = EntityQuery(
        selectors=selectors,
        attrs=tuple(terms.expand(a) for a in attrs) if attrs is not None else None,
        q=expand(parse_q(q), terms.expand) if q is not None else None,
        scope=parse_scope_q(scope) if scope is not None else None,
        geo=_geo(geo, terms) if geo is not None else None,
        limit=limit,
        offset=offset,
        count=count,
    )
    if not query.selective() and not params.flag(request, "local"):
        raise BadRequestData("a query needs at least one of type, attrs, q or a geo-query")
    return query


def _geo(members: dict[str, Any], terms: TermMap) -> Any:
    missing = [m for m in ("georel", "geometry", "coordinates") if members.get(m) is None]
    if missing:
        raise BadRequestData(f"a geo-query needs {', '.join(missing)}")
    for member in ("georel", "geometry"):
        if not isinstance(members[member], str):
            raise BadRequestData(f"{member} must be a string")
    prop = members.get("geoproperty") or "location"
    if not isinstance(prop, str):
        raise BadRequestData("geoproperty must be an attribute name")
    return geo_query(
        members["georel"], members["geometry"], members["coordinates"], terms.expand(prop)
    )


def query_from_params(request: Request, terms: TermMap) -> EntityQuery:
    get = request.query_params.get
    selector = _selector(terms, params.names(request, "id"), get("type"), get("idPattern"))
    geo_names = ("georel", "geometry", "coordinates", "geoproperty")
    geo = {n: get(n) for n in geo_names} if any(get(n) for n in geo_names[:3]) else None
    selectors = (selector,) if selector != Selector() else ()
    return _selection(
        request, terms, selectors, params.names(request, "attrs"), get("q"), get("scopeQ"), geo
    )


def query_from_body(request: Request, body: dict[str, Any], terms: TermMap) -> EntityQuery:
    """The Query data type (clause 5.2.23) of POST /entityOperations/query."""
    if body.get("type") != "Query":
        raise BadRequestData('the body must be a Query: {"type": "Query", ...}')
    entities = body.get("entities")
    selectors: tuple[Selector, ...] = ()
    if entities is not None:
        if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
            raise BadRequestData("entities must be an array of entity selectors")
        selectors = tuple(
            _selector(terms, e.get("id"), e.get("type"), e.get("idPattern")) for e in entities
        )
    attrs = body.get("attrs")
    if attrs is not None and not (
        isinstance(attrs, list) and all(isinstance(a, str) for a in attrs)
    ):
        raise BadRequestData("attrs must be an array of attribute names")
    geo = body.get("geoQ")
    if geo is not None and not isinstance(geo, dict):
        raise BadRequestData("geoQ must be an object")
    return _selection(request, terms, selectors, attrs, body.get("q"), body.get("scopeQ"), geo)


def page_links(request: Request, limit: int, offset: int, more: bool) -> list[str]:
    """rel="prev" and rel="next" Link values (clause 5.5.9), for the pages that exist."""
    links = []
    base = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "offset")]
    if offset > 0 and limit:
        links.append(("prev", max(0, offset - limit)))
    if more:
        links.append(("next", offset + limit))
    return [
        f"<{request.url.path}?{urlencode([*base, ('limit', limit), ('offset', offset)])}>;"
        f' rel="{rel}"; type="application/ld+json"'
        for rel, offset in links
    ]


async def _answer(
    request: Request, media: str, terms: TermMap, view: View, query: EntityQuery
) -> Response:
    # One entity more than the page tells whether a next page exists.
    probe = dataclasses.replace(query, limit=query.limit + 1) if query.limit else query
    entities, total = await node_of(request).entities.query(params.tenant(request), probe)
    more = len(entities) > query.limit
    entities = entities[: query.limit]
    headers = {"NGSILD-Results-Count": str(total)} if total is not None else {}
    links = page_links(request, query.limit, query.offset, more)
    if media == GEO_JSON:
        geometry = terms.expand(request.query_params.get("geometryProperty", "location"))
        body: Any = {
            "type": "FeatureCollection",
            "features": [render_feature(e, terms, view, geometry) for e in entities],
        }
    else:
        linked = await node_of(request).entities.linked(params.tenant(request), entities, view)
        body = render_all(entities, terms, view, linked)
    response = linked_data(body, media, terms.source_url, headers=headers)
    if links:
        existing = response.headers.get("link")
        response.headers["Link"] = ", ".join([*([existing] if existing else []), *links])
    return response


async def query(request: Request) -> Response:
    media = accepted(request, (JSON, JSON_LD, GEO_JSON))
    params.check_params(request, QUERY_PARAMS)
    terms = await read_terms(request)
    view = view_of(request, terms, READ_OPTIONS)
    return await _answer(request, media, terms, view, query_from_params(request, terms))


async def post_query(request: Request) -> Response:
    check_content_type(request)
    media = accepted(request, (JSON, JSON_LD, GEO_JSON))
    params.check_params(request, PAGING)
    payload, scope = await payload_scope(request)
    view = view_of(request, scope.terms, READ_OPTIONS)
    if not isinstance(payload.body, dict):
        raise BadRequestData("the body must be a Query object")
    selection = query_from_body(request, payload.body, scope.terms)
    if selection.attrs is not None and "attrs" not in request.query_params:
        view = dataclasses.replace(view, attrs=frozenset(selection.attrs))
    join = payload.body.get("join")
    if join is not None and "join" not in request.query_params:
        if join not in ("inline", "flat"):
            raise BadRequestData(f"join must be inline or flat, not {join!r}")
        level = payload.body.get("joinLevel", 1)
        if not isinstance(level, int) or level < 1:
            raise BadRequestData("joinLevel must be a positive integer")
        view = dataclasses.replace(view, join=join, join_level=min(level, MAX_JOIN_LEVEL))
    lang = payload.body.get("lang")
    if lang is not None and "lang" not in request.query_params:
        if not isinstance(lang, str):
            raise BadRequestData("lang must be a string")
        view = dataclasses.replace(view, lang=parse_lang(lang))
    return await _answer(request, media, scope.terms, view, selection)


def routes() -> list[BaseRoute]:
    return resource(f"{BASE}/entityOperations/query", {"POST": post_query}, slash=True)
