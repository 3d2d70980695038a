"""Attributes: from a client's payload (normalized or concise, clause 4.5) to the stored form.

The stored form of one attribute instance is its normalized object with the type always present,
sub-attribute names expanded to IRIs and VocabProperty values expanded; values are kept exactly
as sent. An attribute is a list of instances: the default one (no datasetId) first.
"""

from __future__ import annotations

from typing import Any

from ascn.errors import BadRequestData
from ascn.ngsild import names
from ascn.ngsild.context import TermMap
from ascn.ngsild.geojson import check_geometry, is_geometry
from ascn.ngsild.names import (
    GEOPROPERTY,
    JSONPROPERTY,
    LANGUAGEPROPERTY,
    LISTPROPERTY,
    LISTRELATIONSHIP,
    PROPERTY,
    RELATIONSHIP,
    VALUE_KEY,
    VOCABPROPERTY,
)
from ascn.ngsild.timestamps import check_time

Instance = dict[str, Any]


def parse_attribute(
    name: str,
    raw: Any,
    terms: TermMap,
    *,
    geo: bool = False,
    partial: bool = False,
    nulls: bool = False,
) -> list[Instance]:
    """All instances of one attribute as sent; `geo` marks names that must be GeoProperties."""
    if isinstance(raw, list) and raw and all(_is_instance_object(item) for item in raw):
        instances = [
            parse_instance(name, item, terms, geo=geo, partial=partial, nulls=nulls) for item in raw
        ]
        check_datasets(name, instances)
        return sort_instances(instances)
    return [parse_instance(name, raw, terms, geo=geo, partial=partial, nulls=nulls)]


def _is_instance_object(item: Any) -> bool:
    return isinstance(item, dict) and (
        _type_of(item) in names.ATTRIBUTE_TYPES
        or any(key in item for key in names.VALUE_KEYS)
        or "datasetId" in item
    )


def parse_instance(
    name: str,
    raw: Any,
    terms: TermMap,
    *,
    geo: bool = False,
    partial: bool = False,
    nulls: bool = False,
) -> Instance:
    """One attribute instance. With `partial` (updates that merge into an existing instance) the
    value member may be absent, and with it the type, which the existing instance then gives.
    With `nulls` (or `partial`), a value may be NGSI-LD Null, which asks for deletion."""
    if raw is None:
        raise BadRequestData(f"attribute {name!r} has no value")
    if not isinstance(raw, dict) or _is_concise_value(raw):
        return _concise(name, raw, geo)
    kind = _type_of(raw) or next(
        (kind for key, kind in names.TYPE_OF_VALUE_KEY.items() if key in raw), None
    )
    if kind is None and not partial:
        return _concise(name, raw, geo)
    if "type" not in raw and kind == PROPERTY and (geo or is_geometry(raw.get("value"))):
        kind = GEOPROPERTY
    if kind is not None and kind not in names.ATTRIBUTE_TYPES:
        raise BadRequestData(f"attribute {name!r} has an invalid type {kind!r}")
    instance: Instance = {}
    key = VALUE_KEY.get(kind or "", "")
    if kind is not None:
        instance["type"] = kind
        if key in raw:
            instance[key] = _check_value(name, kind, raw[key], terms, nulls or partial)
        elif not partial:
            raise BadRequestData(f"{kind} {name!r} needs a {key!r} member")
    for member, value in raw.items():
        if member in ("type", key) or member in names.SYSTEM_TIMES:
            continue
        if member in names.ATTRIBUTE_MEMBERS:
            _metadata(name, kind, member, value, instance, terms)
            continue
        sub_name = names.check_name(member, "sub-attribute name")
        if sub_name in names.RESERVED_ATTRIBUTE_NAMES:
            raise BadRequestData(f"{sub_name!r} cannot name a sub-attribute of {name!r}")
        instance[terms.expand(sub_name)] = parse_instance(
            f"{name}.{sub_name}", value, terms, partial=partial, nulls=nulls
        )
    if geo and kind not in (GEOPROPERTY, None):
        raise BadRequestData(f"attribute {name!r} must be a GeoProperty")
    return instance


def _type_of(raw: dict[str, Any]) -> str | None:
    kind = raw.get("type")
    if kind is not None and not isinstance(kind, str):
        raise BadRequestData(f"an attribute type must be a string, not {kind!r}")
    return kind


def _is_concise_value(raw: dict[str, Any]) -> bool:
    return _type_of(raw) not in names.ATTRIBUTE_TYPES and is_geometry(raw)


def _concise(name: str, raw: Any, geo: bool) -> Instance:
    if isinstance(raw, dict) and "type" in raw and not is_geometry(raw):
        raise BadRequestData(f"attribute {name!r} has an invalid type {raw['type']!r}")
    if geo or is_geometry(raw):
        return {"type": GEOPROPERTY, "value": check_geometry(raw, name)}
    return {"type": PROPERTY, "value": raw}


def _check_value(name: str, kind: str, value: Any, terms: TermMap, nulls: bool) -> Any:
    if value is None:
        raise BadRequestData(f"{kind} {name!r} has a null value")
    if kind == PROPERTY or (nulls and value == names.NULL):
        return value
    if kind == GEOPROPERTY:
        return check_geometry(value, name)
    if kind == RELATIONSHIP:
        if isinstance(value, list) and value:
            return [names.check_uri(item, f"object of {name!r}") for item in value]
        return names.check_uri(value, f"object of {name!r}")
    if kind == LANGUAGEPROPERTY:
        if not isinstance(value, dict) or not all(
            isinstance(text, str)
            or (isinstance(text, list) and all(isinstance(t, str) for t in text))
            for text in value.values()
        ):
            raise BadRequestData(f"languageMap of {name!r} must map language tags to strings")
        return value
    if kind == VOCABPROPERTY:
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return [terms.expand(v) for v in value]
        if isinstance(value, str) and value:
            return terms.expand(value)
        raise BadRequestData(f"vocab of {name!r} must be a term or a list of terms")
    if kind == JSONPROPERTY:
        return value
    if kind == LISTPROPERTY:
        if not isinstance(value, list):
            raise BadRequestData(f"valueList of {name!r} must be an array")
        return value
    if not isinstance(value, list):
        raise BadRequestData(f"objectList of {name!r} must be an array")
    for item in value:
        target = item.get("object") if isinstance(item, dict) else item
        names.check_uri(target, f"objectList of {name!r}")
    return value


def _metadata(
    name: str, kind: str | None, member: str, value: Any, instance: Instance, terms: TermMap
) -> None:
    if member == "observedAt":
        instance[member] = check_time(value, f"observedAt of {name!r}")
    elif member == "unitCode":
        if not isinstance(value, str) or not value:
            raise BadRequestData(f"unitCode of {name!r} must be a string")
        instance[member] = value
    elif member == "datasetId":
        instance[member] = names.check_uri(value, f"datasetId of {name!r}")
    elif member == "objectType" and kind in (RELATIONSHIP, LISTRELATIONSHIP):
        if isinstance(value, list):
            instance[member] = [terms.expand(names.check_name(v, "objectType")) for v in value]
        else:
            instance[member] = terms.expand(names.check_name(value, "objectType"))
    elif member in names.VALUE_KEYS:
        raise BadRequestData(f"{kind} {name!r} cannot carry a {member!r} member")


def check_datasets(name: str, instances: list[Instance]) -> None:
    """At most one instance per datasetId, the default (no datasetId) included."""
    seen: set[str | None] = set()
    for instance in instances:
        dataset = instance.get("datasetId")
        if dataset in seen:
            which = f"datasetId {dataset!r}" if dataset else "the default instance"
            raise BadRequestData(f"attribute {name!r} has {which} more than once")
        seen.add(dataset)


def sort_instances(instances: list[Instance]) -> list[Instance]:
    """The default instance first, then the others in the order given."""
    return sorted(instances, key=lambda instance: "datasetId" in instance)


def copy_instance(instance: Instance) -> Instance:
    """A copy of an instance's structure (itself and its sub-attributes). Values are shared:
    no operation ever changes a value in place, it replaces it."""
    return {
        key: copy_instance(value) if ":" in key and isinstance(value, dict) else value
        for key, value in instance.items()
    }


def stamp(instance: Instance, moment: str, created: str | None = None) -> Instance:
    """Set createdAt and modifiedAt on an instance and its sub-attributes."""
    instance["createdAt"] = created or moment
    instance["modifiedAt"] = moment
    for key, value in instance.items():
        if ":" in key:
            stamp(value, moment, value.get("createdAt"))
    return instance


def sub_attributes(instance: Instance) -> dict[str, Instance]:
    """The sub-attributes of an instance, keyed by expanded name."""
    return {key: value for key, value in instance.items() if ":" in key}
