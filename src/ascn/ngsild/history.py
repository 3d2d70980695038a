"""History (clause 4.5.7 temporal evolution): every attribute instance a write sets becomes a
record, and removing an attribute (or the entity) leaves a tombstone record with its deletedAt.

Records are derived here from what a write changes; a store keeps them beside the entities.
"""

from __future__ import annotations

import functools
import itertools
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from ascn.ngsild.attribute import Instance
from ascn.ngsild.context import NGSI_LD
from ascn.ngsild.entity import Entity
from ascn.ngsild.names import LANGUAGEPROPERTY, NULL, PROPERTY, VALUE_KEY
from ascn.ngsild.timestamps import now, parse_time

SCOPE = NGSI_LD + "scope"
"""The scope of an entity keeps its history as if it were a Property of this name."""
SYSTEM = ("createdAt", "modifiedAt")


@dataclass(frozen=True, slots=True)
class Record:
    """One instance in the history of an entity's attribute. `instance` is the stored instance
    without its system times, which are columns of their own."""

    entity_id: str
    attribute: str
    dataset: str
    """The datasetId, "" for the default instance."""
    instance_id: str
    instance: Instance
    observed_at: str | None = None
    created_at: str | None = None
    modified_at: str | None = None
    deleted_at: str | None = None

    def number(self) -> float | None:
        """The value as a number, for aggregations (None if it is not one)."""
        value = self.instance.get("value")
        return float(value) if isinstance(value, int | float) and type(value) is not bool else None

    def value_text(self) -> str:
        """The value as JSON text, to count distinct values."""
        key = VALUE_KEY.get(self.instance.get("type", PROPERTY), "value")
        return orjson.dumps(self.instance.get(key)).decode()


def millis(text: str | None) -> int | None:
    """A DateTime as milliseconds since the epoch (None stays None)."""
    return None if text is None else _millis(text)


@functools.lru_cache(maxsize=4096)
def _millis(text: str) -> int:
    # Writes repeat the same few times (a request's moment, a reading's observedAt).
    return round(parse_time(text, "a time").timestamp() * 1000)


def from_millis(ms: int) -> str:
    """Milliseconds since the epoch as a DateTime, with milliseconds only when there are any."""
    t = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms - ms % 1000)
    moment = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    return f"{moment}.{ms % 1000:03d}Z" if ms % 1000 else f"{moment}Z"


_PROCESS = uuid.uuid4().hex
_SERIAL = itertools.count()


def new_instance_id() -> str:
    """A unique instance id: a random prefix drawn once per process, then a counter (drawing a
    UUID per instance cost a tenth of the write path)."""
    return f"urn:ngsi-ld:Instance:{_PROCESS}-{next(_SERIAL):x}"


def record(entity_id: str, attribute: str, instance: Instance) -> Record:
    """The record of an instance as set by a write."""
    kept = {k: v for k, v in instance.items() if k not in SYSTEM}
    return Record(
        entity_id,
        attribute,
        instance.get("datasetId", ""),
        new_instance_id(),
        kept,
        instance.get("observedAt"),
        instance.get("createdAt"),
        instance.get("modifiedAt"),
    )


def tombstone(entity_id: str, attribute: str, instance: Instance, moment: str) -> Record:
    """The record of an instance's deletion: its kind, datasetId and a null value."""
    kind = instance.get("type", PROPERTY)
    kept: Instance = {"type": kind}
    if attribute == SCOPE:
        kept["value"] = []
    elif kind == LANGUAGEPROPERTY:
        kept["languageMap"] = {"@none": NULL}
    else:
        kept[VALUE_KEY.get(kind, "value")] = NULL
    if "datasetId" in instance:
        kept["datasetId"] = instance["datasetId"]
    dataset = instance.get("datasetId", "")
    return Record(entity_id, attribute, dataset, new_instance_id(), kept, deleted_at=moment)


def _scope(entity: Entity) -> Instance | None:
    scope = entity.get("scope")
    if scope is None:
        return None
    return {"type": PROPERTY, "value": scope, "modifiedAt": entity["modifiedAt"]}


def derive(
    puts: Iterable[Entity], deletes: Iterable[str], existing: Mapping[str, Entity]
) -> list[Record]:
    """The records of a write: instances it set (new, or touched: their modifiedAt moved),
    tombstones of the instances it removed, and tombstones of every instance of the entities
    it deleted."""
    out: list[Record] = []
    for entity in puts:
        before = existing.get(entity["id"])
        out.extend(_changed(entity, before))
    moment = now()
    for entity_id in deletes:
        gone = existing.get(entity_id)
        if gone is None:
            continue
        for iri, instances in _attributes(gone).items():
            out.extend(tombstone(entity_id, iri, i, moment) for i in instances)
    return out


def _attributes(entity: Entity) -> dict[str, list[Instance]]:
    attributes = dict(entity["attrs"])
    scope = _scope(entity)
    if scope is not None:
        attributes[SCOPE] = [scope]
    return attributes


def _changed(entity: Entity, before: Entity | None) -> list[Record]:
    out: list[Record] = []
    now_attrs = _attributes(entity)
    then_attrs = _attributes(before) if before is not None else {}
    for iri, instances in now_attrs.items():
        previous = {i.get("datasetId"): i for i in then_attrs.get(iri, ())}
        for instance in instances:
            old = previous.pop(instance.get("datasetId"), None)
            if iri == SCOPE:
                if old is None or old["value"] != instance["value"]:
                    out.append(record(entity["id"], iri, _stamped(instance, entity)))
            elif old is None or old.get("modifiedAt") != instance.get("modifiedAt"):
                out.append(record(entity["id"], iri, instance))
        moment = entity["modifiedAt"]
        out.extend(tombstone(entity["id"], iri, old, moment) for old in previous.values())
    for iri, instances in then_attrs.items():
        if iri not in now_attrs:
            out.extend(tombstone(entity["id"], iri, i, entity["modifiedAt"]) for i in instances)
    return out


def _stamped(scope: Instance, entity: Entity) -> Instance:
    return {**scope, "createdAt": entity["modifiedAt"], "modifiedAt": entity["modifiedAt"]}


def row_values(records: Iterable[Record]) -> list[tuple[Any, ...]]:
    """Records as the columns stores keep: entity id, attribute, dataset, instance id, the four
    times as text and as milliseconds, the number, the value text, the instance JSON and its
    type."""
    return [
        (
            r.entity_id,
            r.attribute,
            r.dataset,
            r.instance_id,
            r.observed_at,
            millis(r.observed_at),
            r.created_at,
            millis(r.created_at),
            r.modified_at,
            millis(r.modified_at),
            r.deleted_at,
            millis(r.deleted_at),
            r.number(),
            r.value_text(),
            orjson.dumps(r.instance).decode(),
            r.instance.get("type", PROPERTY),
        )
        for r in records
    ]
