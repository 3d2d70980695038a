"""/types and /attributes: what entity types and attributes the node holds (clause 6.25-6.28)."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from ascn.api import params
from ascn.api.negotiation import JSON, JSON_LD, accepted
from ascn.api.requests import BASE, node_of, read_terms
from ascn.api.responses import linked_data
from ascn.api.routing import resource
from ascn.ngsild.context import TermMap


def _sorted_names(iris: Any, terms: TermMap) -> list[str]:
    return [terms.compact(iri) for iri in sorted(iris)]


async def _prepare(request: Request, allowed: tuple[str, ...]) -> tuple[str, TermMap, bool]:
    media = accepted(request, (JSON, JSON_LD))
    params.check_params(request, allowed)
    return media, await read_terms(request), params.flag(request, "details")


async def types(request: Request) -> Response:
    media, terms, details = await _prepare(request, ("details", "local", "via"))
    summaries = await node_of(request).discovery.types(params.tenant(request))
    body: Any
    if details:
        body = [
            {
                "id": s.type,
                "type": "EntityType",
                "typeName": terms.compact(s.type),
                "attributeNames": _sorted_names(s.attributes, terms),
            }
            for s in summaries
        ]
    else:
        body = {
            "id": f"urn:ngsi-ld:EntityTypeList:{uuid.uuid4()}",
            "type": "EntityTypeList",
            "typeList": [terms.compact(s.type) for s in summaries],
        }
    return linked_data(body, media, terms.source_url)


async def entity_type(request: Request) -> Response:
    media, terms, _ = await _prepare(request, ("local", "via"))
    iri = terms.expand(request.path_params["type"])
    summary = await node_of(request).discovery.type(params.tenant(request), iri)
    body = {
        "id": summary.type,
        "type": "EntityTypeInfo",
        "typeName": terms.compact(summary.type),
        "entityCount": summary.entity_count,
        "attributeDetails": [
            {
                "id": attribute,
                "type": "Attribute",
                "attributeName": terms.compact(attribute),
                "attributeTypes": sorted(kinds),
            }
            for attribute, kinds in sorted(summary.attributes.items())
        ],
    }
    return linked_data(body, media, terms.source_url)


async def attributes(request: Request) -> Response:
    media, terms, details = await _prepare(request, ("details", "local", "via"))
    summaries = await node_of(request).discovery.attributes(params.tenant(request))
    body: Any
    if details:
        body = [
            {
                "id": s.attribute,
                "type": "Attribute",
                "attributeName": terms.compact(s.attribute),
                "typeNames": _sorted_names(s.types, terms),
            }
            for s in summaries
        ]
    else:
        body = {
            "id": f"urn:ngsi-ld:AttributeList:{uuid.uuid4()}",
            "type": "AttributeList",
            "attributeList": [terms.compact(s.attribute) for s in summaries],
        }
    return linked_data(body, media, terms.source_url)


async def attribute(request: Request) -> Response:
    media, terms, _ = await _prepare(request, ("local", "via"))
    iri = terms.expand(request.path_params["attr"])
    summary = await node_of(request).discovery.attribute(params.tenant(request), iri)
    body = {
        "id": summary.attribute,
        "type": "Attribute",
        "attributeName": terms.compact(summary.attribute),
        "attributeCount": summary.count,
        "attributeTypes": sorted(summary.attribute_types),
        "typeNames": _sorted_names(summary.types, terms),
    }
    return linked_data(body, media, terms.source_url)


def routes() -> list[BaseRoute]:
    return [
        *resource(f"{BASE}/types", {"GET": types}, slash=True),
        *resource(f"{BASE}/types/{{type:path}}", {"GET": entity_type}),
        *resource(f"{BASE}/attributes", {"GET": attributes}, slash=True),
        *resource(f"{BASE}/attributes/{{attr:path}}", {"GET": attribute}),
    ]
