"""Entities: from a client's payload to the stored form, with the limits every payload must keep.

Stored form: {"id", "type": [type IRIs], "scope"?: [...], "createdAt", "modifiedAt",
"attrs": {attribute IRI: [instances]}} (instances as in attribute.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

from ascn.errors import BadRequestData, PayloadTooLarge
from ascn.ngsild import names
from ascn.ngsild.attribute import Instance, copy_instance, parse_attribute
from ascn.ngsild.context import NGSI_LD, TermMap

Entity = dict[str, Any]

GEO_ATTRIBUTES = frozenset(
    {NGSI_LD + "location", NGSI_LD + "observationSpace", NGSI_LD + "operationSpace"}
)
_SCOPE = re.compile(r"^/(?:[^\s/#+]+(?:/[^\s/#+]+)*)?$")
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
"""U+0000 in JSON text: an escape not itself escaped. No store keeps it in text (PostgreSQL's
JSONB refuses it), so every node refuses it the same way."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The payload limits of a node (from Settings)."""

    max_attributes: int = 1000
    max_nesting: int = 32


def check_nesting(document: Any, limit: int) -> None:
    """Refuse documents nested deeper than `limit` objects and arrays."""
    if isinstance(document, dict | list) and _too_deep(document, limit - 1):
        raise BadRequestData(f"the payload nests deeper than {limit} levels")


def _too_deep(node: dict[str, Any] | list[Any], allowed: int) -> bool:
    for child in node.values() if isinstance(node, dict) else node:
        if isinstance(child, dict | list) and (allowed == 0 or _too_deep(child, allowed - 1)):
            return True
    return False


def copy_entity(entity: Entity) -> Entity:
    """A copy of an entity's structure; values are shared (see copy_instance)."""
    copied = dict(entity)
    copied["type"] = list(entity["type"])
    if "scope" in entity:
        copied["scope"] = list(entity["scope"])
    copied["attrs"] = {
        iri: [copy_instance(i) for i in instances] for iri, instances in entity["attrs"].items()
    }
    return copied


def parse_entity(raw: Any, terms: TermMap, limits: Limits) -> Entity:
    """A complete entity (create, replace, upsert), without system times."""
    if not isinstance(raw, dict):
        raise BadRequestData("an entity must be a JSON object")
    entity: Entity = {"id": names.check_uri(raw.get("id"), "entity id")}
    entity["type"] = parse_types(raw.get("type"), terms)
    entity.update(parse_fragment(raw, terms, limits))
    return entity


def parse_fragment(
    raw: Any, terms: TermMap, limits: Limits, *, partial: bool = False, nulls: bool = False
) -> Entity:
    """The attributes (and scope) of a payload; id and type are left to the caller."""
    if not isinstance(raw, dict):
        raise BadRequestData("the payload must be a JSON object")
    attributes = [key for key in raw if key not in names.ENTITY_MEMBERS]
    if len(attributes) > limits.max_attributes:
        raise PayloadTooLarge(
            f"{len(attributes)} attributes: at most {limits.max_attributes} are accepted"
        )
    check_text(raw)
    fragment: Entity = {"attrs": {}}
    if "scope" in raw:
        fragment["scope"] = parse_scope(raw["scope"])
    for key in attributes:
        name = names.check_name(key, "attribute name")
        if name in names.RESERVED_ATTRIBUTE_NAMES:
            raise BadRequestData(f"{name!r} is reserved and cannot name an attribute")
        iri = terms.expand(name)
        if iri.startswith("@"):
            raise BadRequestData(f"attribute name {name!r} expands to the keyword {iri}")
        fragment["attrs"][iri] = parse_attribute(
            name, raw[key], terms, geo=iri in GEO_ATTRIBUTES, partial=partial, nulls=nulls
        )
    return fragment


def check_text(raw: Any) -> None:
    """Refuse a payload whose strings hold U+0000."""
    try:
        text = orjson.dumps(raw)
    except TypeError:  # integers beyond 64 bits, which only the standard library writes
        text = json.dumps(raw).encode()
    if b"\\u0000" in text and _NUL.search(text) is not None:
        raise BadRequestData("strings may not hold the character U+0000")


def check_size(entity: Entity, limits: Limits) -> Entity:
    """An entity that stays within the attribute limit, else PayloadTooLarge."""
    if len(entity["attrs"]) > limits.max_attributes:
        raise PayloadTooLarge(
            f"the entity would have {len(entity['attrs'])} attributes:"
            f" at most {limits.max_attributes} are accepted"
        )
    return entity


def parse_types(raw: Any, terms: TermMap) -> list[str]:
    if raw is None:
        raise BadRequestData("an entity needs a type")
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise BadRequestData("an entity needs a type")
    types: list[str] = []
    for item in items:
        iri = terms.expand(names.check_name(item, "entity type"))
        if ":" not in iri or iri.startswith("@"):
            raise BadRequestData(f"entity type {item!r} does not expand to an IRI")
        if iri not in types:
            types.append(iri)
    return types


def parse_scope(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    for item in items:
        if not isinstance(item, str) or not _SCOPE.fullmatch(item):
            raise BadRequestData(f"scope {item!r} is not a valid scope (e.g. /Madrid/Gardens)")
    return list(dict.fromkeys(items))


def instances_of(entity: Entity, iri: str) -> list[Instance]:
    found: list[Instance] = entity["attrs"].get(iri, [])
    return found
