"""Entity representations (clause 4.5): normalized, concise, keyValues (simplified) and GeoJSON,
compacted with the reader's @context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from ascn.ngsild.attribute import Instance
from ascn.ngsild.context import NGSI_LD, TermMap
from ascn.ngsild.entity import Entity
from ascn.ngsild.names import (
    GEOPROPERTY,
    JSONPROPERTY,
    LANGUAGEPROPERTY,
    PROPERTY,
    RELATIONSHIP,
    VALUE_KEY,
    VOCABPROPERTY,
)
from ascn.ngsild.projection import Projection

Format = Literal["normalized", "concise", "keyValues"]
Join = Literal["inline", "flat"]
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
    pick: Projection | None = None
    """Members to keep ("id", "type", "scope" or attribute IRIs), each with the projection of
    the entities its relationships link to (None: all members)."""
    omit: Projection | None = None
    """Members to drop, named as in pick; a member with a nested projection is kept, and the
    projection drops members of the linked entities."""
    lang: tuple[str, ...] | None = None
    """Preferred languages for LanguageProperty values, best first ("*" for any)."""
    datasets: frozenset[str] | None = None
    """datasetIds of the instances to show ("@none": the default instance; None: all)."""
    join: Join | None = None
    join_level: int = 1

    def shows(self, member: str) -> bool:
        if self.omit is not None and member in self.omit and self.omit[member] is None:
            return False
        return self.pick is None or member in self.pick

    def shows_attribute(self, iri: str) -> bool:
        return (self.attrs is None or iri in self.attrs) and self.shows(iri)

    def shows_instance(self, instance: Instance) -> bool:
        return self.datasets is None or instance.get("datasetId", "@none") in self.datasets

    def linked(self, relationship: str) -> View:
        """The view of the entities a relationship links to."""
        pick = self.pick.get(relationship) if self.pick is not None else None
        omit = self.omit.get(relationship) if self.omit is not None else None
        return replace(self, attrs=None, datasets=None, pick=pick, omit=omit)


Linked = Mapping[str, Entity]
"""Entities reachable through relationships, by id (for joins)."""


def render(
    entity: Entity, terms: TermMap, view: View, linked: Linked | None = None, depth: int = 0
) -> dict[str, Any]:
    """An entity as the reader asked, member names compacted with `terms`; with an inline join,
    the linked entities found in `linked` are rendered inside their relationships."""
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
    inline = linked if view.join == "inline" and depth < view.join_level else None
    for iri, every in entity["attrs"].items():
        instances = [i for i in every if view.shows_instance(i)]
        if not instances or not view.shows_attribute(iri):
            continue
        name = terms.compact(iri)

        def one(instance: Instance, bare: bool = True, iri: str = iri) -> Any:
            target = instance.get("object") if instance["type"] == RELATIONSHIP else None
            if inline is not None and isinstance(target, str) and target in inline:
                joined = render(inline[target], terms, view.linked(iri), inline, depth + 1)
                if view.format == "keyValues":
                    return joined
                return {**render_attribute(instance, terms, view, bare=False), "entity": joined}
            return render_attribute(instance, terms, view, bare)

        if len(instances) == 1:
            out[name] = one(instances[0])
        elif view.format == "keyValues":
            out[name] = {"dataset": {i.get("datasetId", "@none"): one(i) for i in instances}}
        else:
            out[name] = [one(i, bare=False) for i in instances]
    return out


def relationship_targets(entity: Entity, view: View) -> list[tuple[str, str]]:
    """(relationship IRI, target id) of the relationships a view shows, to follow in a join."""
    return [
        (iri, instance["object"])
        for iri, instances in entity["attrs"].items()
        if view.shows_attribute(iri)
        for instance in instances
        if instance["type"] == RELATIONSHIP
        and view.shows_instance(instance)
        and isinstance(instance.get("object"), str)
    ]


def render_all(
    entities: list[Entity],
    terms: TermMap,
    view: View,
    linked: Mapping[str, tuple[Entity, View]],
) -> list[dict[str, Any]]:
    """Entities as the reader asked, joined with the entities they link to: inside their
    relationships (inline), or after them in the same list (flat). Entities the view leaves
    empty (pick, omit) are left out."""
    if view.join == "flat":
        seen = {entity["id"] for entity in entities}
        rendered = [render(entity, terms, view) for entity in entities]
        for target, (entity, child) in linked.items():
            if target not in seen:
                seen.add(target)
                rendered.append(render(entity, terms, child))
    else:
        found = {target: entity for target, (entity, _) in linked.items()}
        rendered = [render(entity, terms, view, found) for entity in entities]
    return [body for body in rendered if body]


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


def render_attribute(instance: Instance, terms: TermMap, view: View, bare: bool = True) -> Any:
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
            out[terms.compact(member)] = render_attribute(member_value, terms, view)
        elif member in ("createdAt", "modifiedAt"):
            if view.sys_attrs:
                out[member] = member_value
        elif member in ("objectType", "previousVocab"):
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
