"""Entity representations (clause 4.5): normalized, concise, keyValues (simplified) and GeoJSON,
compacted with the reader's @context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ascn.ngsild.attribute import Instance
from ascn.ngsild.context import NGSI_LD, TermMap
from ascn.ngsild.entity import Entity
from ascn.ngsild.names import (
    GEOPROPERTY,
    JSONPROPERTY,
    LANGUAGEPROPERTY,
    PROPERTY,
    VALUE_KEY,
    VOCABPROPERTY,
)

Format = Literal["normalized", "concise", "keyValues"]
KEYED_IN_KEY_VALUES = frozenset({LANGUAGEPROPERTY, VOCABPROPERTY, JSONPROPERTY})
"""Attribute kinds whose simplified value keeps its member name (clause 4.5.3)."""
LOCATION = NGSI_LD + "location"


@dataclass(frozen=True, slots=True)
class View:
    """How a reader asked to see entities."""

    format: Format = "normalized"
    sys_attrs: bool = False
    attrs: frozenset[str] | None = None
    """Attribute IRIs to show (None: all)."""
    pick: frozenset[str] | None = None
    """Members to keep: "id", "type", "scope" or attribute IRIs (None: all)."""
    omit: frozenset[str] = frozenset()
    """Members to drop, named as in pick."""
    lang: tuple[str, ...] | None = None
    """Preferred languages for LanguageProperty values, best first ("*" for any)."""

    def shows(self, member: str) -> bool:
        if member in self.omit:
            return False
        return self.pick is None or member in self.pick

    def shows_attribute(self, iri: str) -> bool:
        return (self.attrs is None or iri in self.attrs) and self.shows(iri)


def render(entity: Entity, terms: TermMap, view: View) -> dict[str, Any]:
    """An entity as the reader asked, member names compacted with `terms`."""
    out: dict[str, Any] = {}
    if view.shows("id"):
        out["id"] = entity["id"]
    if view.shows("type"):
        types = [terms.compact(t) for t in entity["type"]]
        out["type"] = types[0] if len(types) == 1 else types
    if "scope" in entity and view.shows("scope"):
        scope = entity["scope"]
        out["scope"] = scope[0] if len(scope) == 1 else scope
    if view.sys_attrs and view.format != "keyValues":
        out["createdAt"] = entity["createdAt"]
        out["modifiedAt"] = entity["modifiedAt"]
    for iri, instances in entity["attrs"].items():
        if not view.shows_attribute(iri):
            continue
        name = terms.compact(iri)
        if len(instances) == 1:
            out[name] = _attribute(instances[0], terms, view)
        elif view.format == "keyValues":
            out[name] = {
                "dataset": {
                    i.get("datasetId", "@none"): _attribute(i, terms, view) for i in instances
                }
            }
        else:
            out[name] = [_attribute(i, terms, view, bare=False) for i in instances]
    return out


def render_feature(
    entity: Entity, terms: TermMap, view: View, geometry: str = LOCATION
) -> dict[str, Any]:
    """An entity as a GeoJSON Feature (clause 4.5.16)."""
    properties = render(entity, terms, view)
    feature: dict[str, Any] = {"id": properties.pop("id", entity["id"]), "type": "Feature"}
    instances = entity["attrs"].get(geometry)
    feature["geometry"] = (
        instances[0].get("value") if instances and instances[0]["type"] == GEOPROPERTY else None
    )
    feature["properties"] = properties
    return feature


def _attribute(instance: Instance, terms: TermMap, view: View, bare: bool = True) -> Any:
    """One attribute instance; in concise form a lone value may stand `bare` for its object."""
    kind = instance["type"]
    key = VALUE_KEY[kind]
    value = instance.get(key)
    if kind == VOCABPROPERTY:
        value = _compact_vocab(value, terms)
    if kind == LANGUAGEPROPERTY and view.lang is not None:
        tag, text = pick_language(value or {}, view.lang)
        if view.format == "keyValues":
            return text
        kind, key, value = PROPERTY, "value", text
        instance = {**instance, "lang": tag}
    if view.format == "keyValues":
        return {key: value} if kind in KEYED_IN_KEY_VALUES else value
    out: dict[str, Any] = {} if view.format == "concise" else {"type": kind}
    out[key] = value
    for member, member_value in instance.items():
        if member == "type" or member == VALUE_KEY[instance["type"]]:
            continue
        if ":" in member:
            out[terms.compact(member)] = _attribute(member_value, terms, view)
        elif member in ("createdAt", "modifiedAt"):
            if view.sys_attrs:
                out[member] = member_value
        elif member == "objectType":
            out[member] = _compact_vocab(member_value, terms)
        else:
            out[member] = member_value
    plain = kind == GEOPROPERTY or (kind == PROPERTY and not isinstance(value, dict | list))
    if view.format == "concise" and len(out) == 1 and plain and bare:
        return value
    return out


def _compact_vocab(value: Any, terms: TermMap) -> Any:
    if isinstance(value, list):
        return [terms.compact(v) for v in value]
    return terms.compact(value) if isinstance(value, str) else value


def pick_language(language_map: dict[str, Any], preferred: tuple[str, ...]) -> tuple[str, Any]:
    """The best text of a languageMap for the preferred languages (exact tag, then primary tag,
    then the untagged "@none" text, then the first one; "*" accepts any from there on)."""
    for tag in preferred:
        if tag == "*":
            break
        if tag in language_map:
            return tag, language_map[tag]
        primary = tag.split("-")[0]
        for candidate, text in language_map.items():
            if candidate.split("-")[0] == primary:
                return candidate, text
    if "@none" in language_map:
        return "@none", language_map["@none"]
    first = next(iter(language_map.items()), ("@none", ""))
    return first[0], first[1]


def parse_lang(raw: str) -> tuple[str, ...]:
    """The lang parameter (e.g. "fr-CH,fr;q=0.9,en;q=0.8") as tags, best first."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(p.strip() for p in raw.split(",") if p.strip()):
        tag, _, params = part.partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        weighted.append((-weight, index, tag.strip()))
    return tuple(tag for _, _, tag in sorted(weighted))
