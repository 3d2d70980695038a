"""The provisioning operations of clause 5.6 as pure functions on stored entities.

Each takes the entity as stored (never modified in place) and a parsed payload, and returns the
new entity; those that may leave some attributes untouched also return an UpdateReport.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ascn.errors import BadRequestData, ResourceNotFound
from ascn.ngsild.attribute import Instance, check_datasets, copy_instance, sort_instances, stamp
from ascn.ngsild.entity import Entity, copy_entity
from ascn.ngsild.names import LANGUAGEPROPERTY, NULL, PROPERTY, VALUE_KEY


@dataclass(slots=True)
class UpdateReport:
    """Which attributes an append/update changed, and why the others were left (clause 5.2.18)."""

    updated: list[str] = field(default_factory=list)
    not_updated: list[tuple[str, str]] = field(default_factory=list)
    changed: bool = False
    """Whether the entity changed at all (attributes, types or scope)."""

    @property
    def complete(self) -> bool:
        return not self.not_updated


def create(entity: Entity, moment: str) -> Entity:
    """A new entity with its system times set. It takes over the parsed entity it is given
    (the one function here that does): parsing made it for this use alone."""
    entity["createdAt"] = entity["modifiedAt"] = moment
    for instances in entity["attrs"].values():
        for instance in instances:
            stamp(instance, moment)
    return entity


def replace(existing: Entity, new: Entity, moment: str) -> Entity:
    """Replace every attribute (and type, scope) of an entity, keeping its creation time."""
    if new["id"] != existing["id"]:
        raise BadRequestData("the payload's id does not match the entity's")
    replaced = create(new, moment)
    replaced["createdAt"] = existing["createdAt"]
    return replaced


def append(
    existing: Entity, fragment: Entity, moment: str, *, overwrite: bool = True
) -> tuple[Entity, UpdateReport]:
    """Add attributes; with overwrite, an instance with the same datasetId is replaced (and the
    scope replaced), without it existing instances are kept (and scopes added)."""
    entity = _touched(existing, fragment, moment)
    if "scope" in fragment:
        kept = existing.get("scope", []) if not overwrite else []
        entity["scope"] = list(dict.fromkeys([*kept, *fragment["scope"]]))
    report = UpdateReport(changed="scope" in fragment or "type" in fragment)
    for iri, instances in fragment["attrs"].items():
        current = _by_dataset(entity, iri)
        skipped = False
        for instance in instances:
            dataset = instance.get("datasetId")
            if dataset in current and not overwrite:
                skipped = True
                continue
            created = current[dataset]["createdAt"] if dataset in current else None
            current[dataset] = stamp(copy_instance(instance), moment, created)
        _put(entity, iri, current)
        if skipped:
            report.not_updated.append((iri, "attribute exists and options=noOverwrite was given"))
        else:
            report.updated.append(iri)
            report.changed = True
    return entity, report


def update(existing: Entity, fragment: Entity, moment: str) -> tuple[Entity, UpdateReport]:
    """Replace instances that exist (same datasetId), delete those set to NGSI-LD Null; report
    attributes (and a scope) the entity does not have as not updated."""
    entity = _touched(existing, fragment, moment)
    report = UpdateReport(changed="type" in fragment)
    if "scope" in fragment:
        if "scope" in existing:
            entity["scope"] = fragment["scope"]
            report.changed = True
        else:
            report.not_updated.append(("scope", "the entity has no scope"))
    for iri, instances in fragment["attrs"].items():
        current = _by_dataset(entity, iri)
        missing = [i for i in instances if i.get("datasetId") not in current]
        if missing:
            report.not_updated.append((iri, _absent(missing[0])))
            continue
        for instance in instances:
            dataset = instance.get("datasetId")
            if is_null(instance):
                del current[dataset]
            else:
                created = current[dataset]["createdAt"]
                current[dataset] = stamp(copy_instance(instance), moment, created)
        _put(entity, iri, current)
        report.updated.append(iri)
        report.changed = True
    return entity, report


def partial_update(existing: Entity, iri: str, fragment: list[Instance], moment: str) -> Entity:
    """Update the members given of existing attribute instances (PATCH .../attrs/{attrId});
    an instance set to NGSI-LD Null is deleted."""
    entity = copy_entity(existing)
    current = _by_dataset(entity, iri)
    for instance in fragment:
        dataset = instance.get("datasetId")
        if dataset not in current:
            raise ResourceNotFound(f"the attribute has no {_instance_name(instance)}")
        if is_null(instance):
            del current[dataset]
        else:
            current[dataset] = merge_instance(current[dataset], instance, moment, retype=False)
    _put(entity, iri, current)
    entity["modifiedAt"] = moment
    return entity


def replace_attribute(existing: Entity, iri: str, fragment: list[Instance], moment: str) -> Entity:
    """Replace an existing attribute's instances (PUT .../attrs/{attrId})."""
    entity = copy_entity(existing)
    current = _by_dataset(entity, iri)
    for instance in fragment:
        dataset = instance.get("datasetId")
        if dataset not in current:
            raise ResourceNotFound(f"the attribute has no {_instance_name(instance)}")
        current[dataset] = stamp(copy_instance(instance), moment, current[dataset]["createdAt"])
    _put(entity, iri, current)
    entity["modifiedAt"] = moment
    return entity


def delete_attribute(
    existing: Entity, iri: str, moment: str, dataset: str | None = None, every: bool = False
) -> Entity:
    """Remove one instance (the default, or the datasetId given) or all of them."""
    entity = copy_entity(existing)
    instances = entity["attrs"].get(iri)
    if not instances:
        raise ResourceNotFound("the entity has no such attribute")
    if every:
        del entity["attrs"][iri]
    else:
        kept = [i for i in instances if i.get("datasetId") != dataset]
        if len(kept) == len(instances):
            raise ResourceNotFound(f"the attribute has no instance with datasetId {dataset!r}")
        if kept:
            entity["attrs"][iri] = kept
        else:
            del entity["attrs"][iri]
    entity["modifiedAt"] = moment
    return entity


def delete_scope(existing: Entity, moment: str) -> Entity:
    if "scope" not in existing:
        raise ResourceNotFound("the entity has no scope")
    entity = copy_entity(existing)
    del entity["scope"]
    entity["modifiedAt"] = moment
    return entity


def merge(existing: Entity, fragment: Entity, moment: str) -> Entity:
    """Merge-patch an entity (clause 5.6.17): add, update or, with urn:ngsi-ld:null, delete."""
    entity = _touched(existing, fragment, moment)
    if "scope" in fragment:
        entity["scope"] = fragment["scope"]
    for iri, instances in fragment["attrs"].items():
        current = _by_dataset(entity, iri)
        for instance in instances:
            _merge_member(current, instance.get("datasetId"), instance, moment, iri)
        _put(entity, iri, current)
    return entity


def merge_instance(
    current: Instance, fragment: Instance, moment: str, *, retype: bool = True
) -> Instance:
    """An instance with the members of a fragment merged in; sub-attributes merged recursively.
    Without `retype`, a fragment of another attribute type is refused."""
    merged = copy_instance(current)
    kind = str(fragment.get("type", merged["type"]))
    key = VALUE_KEY[kind]
    if kind != merged["type"]:
        if not retype:
            raise BadRequestData(f"the attribute is a {merged['type']}, not a {kind}")
        if key not in fragment:
            raise BadRequestData(f"changing the attribute's type to {kind} needs a {key!r}")
        merged.pop(VALUE_KEY[merged["type"]], None)
        merged["type"] = kind
    for member, value in fragment.items():
        if member in ("type", "createdAt", "modifiedAt"):
            continue
        if ":" in member:
            _merge_member(merged, member, value, moment, member)
        elif value == NULL:
            merged.pop(member, None)
        else:
            merged[member] = value
    merged["modifiedAt"] = moment
    return merged


def _merge_member(
    into: dict[Any, Instance], key: Any, fragment: Instance, moment: str, name: str
) -> None:
    """Merge one instance (or sub-attribute) of a fragment into `into`, under `key`: NGSI-LD Null
    deletes, an existing one is merged, a new one is added."""
    if is_null(fragment):
        into.pop(key, None)
    elif key in into:
        into[key] = merge_instance(into[key], fragment, moment)
    elif "type" not in fragment:
        raise BadRequestData(f"the new attribute {name} needs a type or a value")
    else:
        into[key] = stamp(copy_instance(_without_nulls(fragment)), moment)


def is_null(instance: Instance) -> bool:
    """Whether an instance of a merge fragment asks for deletion (its value is NGSI-LD Null)."""
    kind = str(instance.get("type", PROPERTY))
    value = instance.get(VALUE_KEY.get(kind, "value"))
    if kind == LANGUAGEPROPERTY and isinstance(value, dict):
        return bool(value) and all(text == NULL for text in value.values())
    return bool(value == NULL)


def _without_nulls(instance: Instance) -> Instance:
    return {k: v for k, v in instance.items() if not (":" in k and is_null(v))}


def _touched(existing: Entity, fragment: Entity, moment: str) -> Entity:
    """A copy of an entity, modified now, with the fragment's types added."""
    entity = copy_entity(existing)
    entity["modifiedAt"] = moment
    if "type" in fragment:
        entity["type"] = list(dict.fromkeys([*entity["type"], *fragment["type"]]))
    return entity


def _by_dataset(entity: Entity, iri: str) -> dict[str | None, Instance]:
    return {i.get("datasetId"): i for i in entity["attrs"].get(iri, [])}


def _put(entity: Entity, iri: str, instances: dict[str | None, Instance]) -> None:
    if instances:
        entity["attrs"][iri] = sort_instances(list(instances.values()))
    else:
        entity["attrs"].pop(iri, None)


def _instance_name(instance: Instance) -> str:
    dataset = instance.get("datasetId")
    return f"instance with datasetId {dataset}" if dataset else "default instance"


def _absent(instance: Instance) -> str:
    return f"{_instance_name(instance)} does not exist"


def check_fragment(fragment: Entity) -> None:
    """A fragment must name at least one attribute, each valid for multi-instances."""
    if not fragment["attrs"] and "scope" not in fragment and "type" not in fragment:
        raise BadRequestData("the payload holds no attribute")
    for iri, instances in fragment["attrs"].items():
        check_datasets(iri, instances)
