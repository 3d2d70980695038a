"""The temporal evolution of entities as a reader sees it (clause 4.5.7): normalized (every
instance of an attribute, oldest first), simplified (temporalValues: [value, time] pairs) or
aggregated (aggregatedValues: [value, start, end] per period); and the paging of long
histories (clause 6.3.10: 206 with a Content-Range in time)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ascn.ngsild.context import TermMap
from ascn.ngsild.history import Record, from_millis, millis
from ascn.ngsild.names import (
    JSONPROPERTY,
    LANGUAGEPROPERTY,
    PROPERTY,
    RELATIONSHIP,
    VALUE_KEY,
    VOCABPROPERTY,
)
from ascn.ngsild.representation import View, render_attribute
from ascn.ngsild.temporal import Aggregation, Period, Window

SIMPLIFIED_KEY = {
    RELATIONSHIP: "objects",
    LANGUAGEPROPERTY: "languageMaps",
    JSONPROPERTY: "jsons",
    VOCABPROPERTY: "vocabs",
}
"""The member holding [value, time] pairs per attribute kind (Property, GeoProperty: values)."""
WRAPPED = frozenset({LANGUAGEPROPERTY, JSONPROPERTY, VOCABPROPERTY})
"""Kinds whose simplified value keeps its member name ({"languageMap": ...})."""


def time_of(record: Record, window: Window) -> str | None:
    """The record's time for the window's time property, as stored."""
    return {
        "observedAt": record.observed_at,
        "createdAt": record.created_at,
        "modifiedAt": record.modified_at,
        "deletedAt": record.deleted_at,
    }[window.timeproperty]


def _head(entity_id: str, types: list[str], terms: TermMap, view: View) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if view.shows("id"):
        out["id"] = entity_id
    if view.shows("type"):
        compact = [terms.compact(t) for t in types]
        out["type"] = compact[0] if len(compact) == 1 else compact
    return out


def _by_attribute(records: list[Record], view: View) -> dict[str, list[Record]]:
    grouped: dict[str, list[Record]] = {}
    for record in records:
        if view.shows_attribute(record.attribute):
            grouped.setdefault(record.attribute, []).append(record)
    return grouped


def normalized(
    entity_id: str,
    types: list[str],
    records: list[Record],
    terms: TermMap,
    view: View,
    kept: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Every instance, oldest first, with its instanceId (and system times if asked);
    attributes in `kept` stay as [] when paging left none of their instances."""
    out = _head(entity_id, types, terms, view)
    grouped = _by_attribute(records, view)
    for iri in kept:
        grouped.setdefault(iri, [])
    for iri, group in grouped.items():
        out[terms.compact(iri)] = [_instance(record, terms, view) for record in group]
    return out


def _instance(record: Record, terms: TermMap, view: View) -> dict[str, Any]:
    instance = dict(record.instance)
    if view.sys_attrs:
        if record.created_at is not None:
            instance["createdAt"] = record.created_at
        if record.modified_at is not None:
            instance["modifiedAt"] = record.modified_at
    rendered: dict[str, Any] = render_attribute(instance, terms, view, bare=False)
    rendered["instanceId"] = record.instance_id
    if record.deleted_at is not None:
        rendered["deletedAt"] = record.deleted_at
    return rendered


def simplified(
    entity_id: str,
    types: list[str],
    records: list[Record],
    terms: TermMap,
    view: View,
    window: Window,
    kept: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """[value, time] pairs per attribute; an attribute of several datasets becomes a list of
    one object per dataset."""
    out = _head(entity_id, types, terms, view)
    grouped = _by_attribute(records, view)
    for iri in kept:
        grouped.setdefault(iri, [])
    for iri, group in grouped.items():
        datasets: dict[str, list[Record]] = {}
        for record in group:
            datasets.setdefault(record.dataset, []).append(record)
        kind = group[0].instance.get("type", PROPERTY) if group else PROPERTY
        key = SIMPLIFIED_KEY.get(kind, "values")
        objects = []
        for dataset, members in datasets.items() or {"": []}.items():
            item: dict[str, Any] = {"type": kind}
            if dataset:
                item["datasetId"] = dataset
            item[key] = [[_simple_value(r, terms), time_of(r, window)] for r in members]
            objects.append(item)
        out[terms.compact(iri)] = objects[0] if len(objects) == 1 else objects
    return out


def _simple_value(record: Record, terms: TermMap) -> Any:
    kind = record.instance.get("type", PROPERTY)
    member = VALUE_KEY.get(kind, "value")
    value = record.instance.get(member)
    if kind == VOCABPROPERTY:
        value = (
            [terms.compact(str(v)) for v in value]
            if isinstance(value, list)
            else (terms.compact(str(value)))
        )
    return {member: value} if kind in WRAPPED else value


def aggregated(
    entity_id: str,
    types: list[str],
    periods: list[Period],
    terms: TermMap,
    view: View,
    aggregation: Aggregation,
    origin: int,
    end: int,
) -> dict[str, Any]:
    """[value, start, end] per method and period; periods holding no instance are left out."""
    out = _head(entity_id, types, terms, view)
    grouped: dict[str, dict[str, list[Period]]] = defaultdict(dict)
    for period in periods:
        if view.shows_attribute(period.attribute):
            grouped[period.attribute].setdefault(period.dataset, []).append(period)
    for iri, datasets in grouped.items():
        objects = []
        for dataset, members in datasets.items():
            item: dict[str, Any] = {"type": members[0].kind}
            if dataset:
                item["datasetId"] = dataset
            for method in aggregation.methods:
                item[method] = [
                    [p.value(method), *_span(p.index, origin, end, aggregation.period_ms)]
                    for p in members
                ]
            objects.append(item)
        out[terms.compact(iri)] = objects[0] if len(objects) == 1 else objects
    return out


def _span(index: int, origin: int, end: int, period: int | None) -> list[str]:
    if period is None:
        return [from_millis(origin), from_millis(end)]
    start = origin + index * period
    return [from_millis(start), from_millis(start + period)]


@dataclass(frozen=True, slots=True)
class Page:
    """What paging kept of the records of each entity, the attributes it emptied, and the
    Content-Range to send (None: nothing was cut)."""

    records: dict[str, list[Record]]
    emptied: dict[str, frozenset[str]]
    content_range: str | None


def page(records: dict[str, list[Record]], window: Window, limit: int) -> Page:
    """Cut long histories to `limit` instances per attribute, at one instant for every
    attribute of every entity so that the next page starts where this one ends: the oldest
    instances first, or with lastN the newest. `records` holds up to limit + 1 instances per
    attribute, the extra one telling that there are more."""
    newest_first = window.last_n is not None
    cuts: list[int] = []
    for entity_records in records.values():
        per_attribute: dict[str, list[Record]] = defaultdict(list)
        for record in entity_records:
            per_attribute[record.attribute].append(record)
        for group in per_attribute.values():
            if len(group) > limit:
                times = sorted(_ms(r, window) for r in group)
                kept = times[-limit:] if newest_first else times[:limit]
                cuts.append(kept[0] if newest_first else kept[-1])
    if not cuts:
        return Page(records, {}, None)
    cut = max(cuts) if newest_first else min(cuts)
    kept_records: dict[str, list[Record]] = {}
    emptied: dict[str, frozenset[str]] = {}
    returned: list[int] = []
    for entity_id, entity_records in records.items():
        inside = [
            r
            for r in entity_records
            if (_ms(r, window) >= cut if newest_first else _ms(r, window) <= cut)
        ]
        kept_records[entity_id] = inside
        emptied[entity_id] = frozenset(r.attribute for r in entity_records) - {
            r.attribute for r in inside
        }
        returned.extend(_ms(r, window) for r in inside)
    start = _range_start(window, newest_first, returned)
    size = str(window.last_n) if window.last_n is not None else "*"
    return Page(kept_records, emptied, f"date-time {start}-{from_millis(cut)}/{size}")


def _range_start(window: Window, newest_first: bool, returned: list[int]) -> str:
    if newest_first:
        if window.timerel == "before" and window.time_at is not None:
            return window.time_at
        if window.timerel == "between" and window.end_time_at is not None:
            return window.end_time_at
        return from_millis(max(returned))
    if window.timerel in ("after", "between") and window.time_at is not None:
        return window.time_at
    return from_millis(min(returned))


def _ms(record: Record, window: Window) -> int:
    return millis(time_of(record, window)) or 0
