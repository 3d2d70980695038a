"""Which writes a subscription is told about, and what it is told (clause 5.8, 4.5.x): the
events of a write (entityCreated/Updated/Deleted, attributeCreated/Updated/Deleted), each
subscription's selection, and the notification it is sent. Pure; subscriptions are indexed by
entity type so that a write is checked only against those that can match it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ascn.ngsild.context import CORE_CONTEXT_URL, TermMap
from ascn.ngsild.entity import Entity
from ascn.ngsild.geoquery import geo_query
from ascn.ngsild.names import LANGUAGEPROPERTY, NULL, PROPERTY, VALUE_KEY
from ascn.ngsild.projection import Projection, expand_projection, parse_projection
from ascn.ngsild.qlang import Expression, TypeName, expand, parse_q, parse_scope_q, parse_types
from ascn.ngsild.representation import View, parse_lang, render, render_feature
from ascn.ngsild.subscription import DEFAULT_TRIGGERS, Subscription, status
from ascn.subscriptions.selection import holds

JSON_LD = "application/ld+json"
GEO_JSON = "application/geo+json"


@dataclass(frozen=True, slots=True)
class Events:
    """What one write did to one entity."""

    entity_id: str
    before: Entity | None
    after: Entity | None
    created: frozenset[str] = frozenset()
    updated: frozenset[str] = frozenset()
    deleted: frozenset[str] = frozenset()
    """Attribute IRIs created, updated and deleted (wholly or one datasetId of them)."""


def events(before: Entity | None, after: Entity | None) -> Events | None:
    """The events of a write on one entity, None if it changed nothing."""
    entity_id = (after or before or {}).get("id", "")
    if before is None or after is None:
        return Events(entity_id, before, after)
    created, updated, deleted = set(), set(), set()
    for iri, instances in after["attrs"].items():
        old = {i.get("datasetId"): i for i in before["attrs"].get(iri, ())}
        if not old:
            created.add(iri)
            continue
        now = {i.get("datasetId"): i for i in instances}
        if old.keys() - now.keys():
            deleted.add(iri)
        if any(
            d not in old or old[d].get("modifiedAt") != i.get("modifiedAt") for d, i in now.items()
        ):
            updated.add(iri)
    deleted.update(before["attrs"].keys() - after["attrs"].keys())
    if not (created or updated or deleted) and before.get("scope") == after.get("scope"):
        return None
    return Events(
        entity_id, before, after, frozenset(created), frozenset(updated), frozenset(deleted)
    )


@dataclass(slots=True)
class Watcher:
    """A subscription ready to match writes: its selection parsed, its @context resolved."""

    tenant: str
    stored: Subscription
    terms: TermMap
    selectors: list[tuple[Expression, str | None, str | None]] = field(default_factory=list)
    watched: frozenset[str] | None = None
    triggers: frozenset[str] = frozenset(DEFAULT_TRIGGERS)
    q: Expression | None = None
    scope: Expression | None = None
    geo: Any = None
    last_ms: int = 0
    """When it was last given a notification (throttling counts from there)."""

    @classmethod
    def of(cls, tenant: str, stored: Subscription, terms: TermMap) -> Watcher:
        watcher = cls(tenant, stored, terms)
        for selector in stored.get("entities", ()):
            watcher.selectors.append(
                (parse_types(selector["type"]), selector.get("id"), selector.get("idPattern"))
            )
        if "watchedAttributes" in stored:
            watcher.watched = frozenset(stored["watchedAttributes"])
        if "notificationTrigger" in stored:
            watcher.triggers = frozenset(stored["notificationTrigger"])
        if "q" in stored:
            watcher.q = expand(parse_q(stored["q"]), terms.expand)
        if "scopeQ" in stored:
            watcher.scope = parse_scope_q(stored["scopeQ"])
        if "geoQ" in stored:
            geo = stored["geoQ"]
            watcher.geo = geo_query(
                geo["georel"],
                geo["geometry"],
                geo["coordinates"],
                terms.expand(geo.get("geoproperty") or "location"),
            )
        return watcher

    @property
    def id(self) -> str:
        return str(self.stored["id"])

    def types(self) -> set[str] | None:
        """The entity types it can match, None if any (a selector of a type expression)."""
        if not self.selectors:
            return None
        names: set[str] = set()
        for types, _, _ in self.selectors:
            if not isinstance(types, TypeName):
                return None
            names.add(types.name)
        return names

    def fired(self, found: Events, now_ms: int) -> bool:
        """Whether this write is one the subscription is told about."""
        if status(self.stored, now_ms) != "active" or "timeInterval" in self.stored:
            return False
        entity = found.after or found.before
        if entity is None or not self.selects(entity):
            return False
        if found.before is None:
            return "entityCreated" in self.triggers
        if found.after is None:
            deleted = frozenset(found.before["attrs"]) if found.before else frozenset()
            return "entityDeleted" in self.triggers or (
                "attributeDeleted" in self.triggers
                and bool(deleted if self.watched is None else deleted & self.watched)
            )
        watched = self.watched

        def seen(attributes: frozenset[str]) -> bool:
            return bool(attributes if watched is None else attributes & watched)

        return (
            ("attributeCreated" in self.triggers and seen(found.created))
            or ("attributeUpdated" in self.triggers and seen(found.updated))
            or ("attributeDeleted" in self.triggers and seen(found.deleted))
            or (
                "entityUpdated" in self.triggers
                and seen(found.created | found.updated | found.deleted)
            )
        )

    def throttled(self, now_ms: int) -> bool:
        """Whether a notification now would come sooner than its throttling allows (it is
        then dropped)."""
        throttling = self.stored.get("throttling")
        return throttling is not None and now_ms - self.last_ms < throttling * 1000

    def periodic(
        self, entities: list[Entity], moment: str
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """The notification of a timeInterval subscription: the entities it selects now."""
        headers, body = self.notification(
            Events(entities[0]["id"], entities[0], entities[0]), moment
        )
        body["data"] = [
            self.notification(Events(e["id"], e, e), moment)[1]["data"][0] for e in entities
        ]
        return headers, body

    def selects(self, entity: Entity) -> bool:
        if self.selectors and not any(
            holds(types, entity)
            and (entity_id is None or entity_id == entity["id"])
            and (pattern is None or _search(pattern, entity["id"]))
            for types, entity_id, pattern in self.selectors
        ):
            return False
        if self.q is not None and not holds(self.q, entity):
            return False
        if self.scope is not None and not holds(self.scope, entity):
            return False
        if self.geo is not None:
            values = [i.get("value") for i in entity["attrs"].get(self.geo.property, ())]
            if not any(self.geo.matches(v) for v in values if v is not None):
                return False
        return True

    def context_url(self) -> str:
        """The @context URL notifications name: jsonldContext, else the subscription's own
        single context URL, else the core context."""
        if "jsonldContext" in self.stored:
            return str(self.stored["jsonldContext"])
        context = self.stored.get("_context")
        if isinstance(context, list) and len(context) == 1:
            context = context[0]
        return context if isinstance(context, str) else CORE_CONTEXT_URL

    def notification(self, found: Events, moment: str) -> tuple[dict[str, str], dict[str, Any]]:
        """The headers and body of the notification of an event (notifiedAt is set when it
        is sent)."""
        spec = self.stored["notification"]
        endpoint = spec["endpoint"]
        accept = endpoint.get("accept", "application/json")
        data = self._data(found, moment)
        url = self.context_url()
        headers = {"Content-Type": accept if accept in (JSON_LD, GEO_JSON) else "application/json"}
        if accept == GEO_JSON and found.after is not None:
            data = render_feature(found.after, self.terms, self._view())
            data["@context"] = url
        elif accept == JSON_LD:
            data = {**data, "@context": url}
        else:
            headers["Link"] = (
                f'<{url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
            )
        for pair in endpoint.get("receiverInfo", ()):
            headers[pair["key"]] = pair["value"]
        if self.tenant:
            headers["NGSILD-Tenant"] = self.tenant
        body = {
            "id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}",
            "type": "Notification",
            "subscriptionId": self.id,
            "data": [data],
        }
        return headers, body

    def _data(self, found: Events, moment: str) -> dict[str, Any]:
        view = self._view()
        spec = self.stored["notification"]
        changes = bool(spec.get("showChanges"))
        sys_attrs = bool(spec.get("sysAttrs"))
        if found.after is None:
            return self._deleted(found, moment, view, changes, sys_attrs)
        entity = found.after
        before = found.before
        if before is not None and (found.deleted or changes):
            entity = _marked(entity, before, found, moment, changes, sys_attrs)
        shown = render(entity, self.terms, view)
        if sys_attrs and view.format == "keyValues":
            shown["createdAt"] = entity["createdAt"]
            shown["modifiedAt"] = entity["modifiedAt"]
        return shown

    def _deleted(
        self, found: Events, moment: str, view: View, changes: bool, sys_attrs: bool
    ) -> dict[str, Any]:
        """An entity deleted: its id, type and deletedAt; with attributeDeleted, the watched
        attributes as NGSI-LD Null; with showChanges, every attribute with its last value."""
        gone = found.before or {"id": found.entity_id, "type": [], "attrs": {}}
        attrs: dict[str, list[dict[str, Any]]] = {}
        if changes or "attributeDeleted" in self.triggers:
            for iri, instances in gone["attrs"].items():
                if not changes and self.watched is not None and iri not in self.watched:
                    continue
                attrs[iri] = [_null(i, moment, changes, sys_attrs, whole=True) for i in instances]
        shown = render({**gone, "attrs": attrs}, self.terms, view)
        shown.pop("scope", None)
        if changes:
            for value in shown.values():
                if isinstance(value, dict) and value.get("type") == LANGUAGEPROPERTY:
                    value["languageMap"] = NULL
        if sys_attrs:
            shown["createdAt"] = gone.get("createdAt", moment)
            shown["modifiedAt"] = gone.get("modifiedAt", moment)
        shown["deletedAt"] = moment
        return shown

    def _view(self) -> View:
        spec = self.stored["notification"]
        form = {"keyValues": "keyValues", "simplified": "keyValues", "concise": "concise"}.get(
            spec.get("format", "normalized"), "normalized"
        )
        attrs = frozenset(spec["attributes"]) if "attributes" in spec else None
        pick, omit = self._projection("pick"), self._projection("omit")
        datasets = frozenset(self.stored["datasetId"]) if "datasetId" in self.stored else None
        return View(
            format=form,  # type: ignore[arg-type]
            sys_attrs=bool(spec.get("sysAttrs")),
            attrs=attrs,
            pick=pick,
            omit=omit,
            datasets=datasets,
            lang=parse_lang(self.stored["lang"]) if "lang" in self.stored else None,
        )

    def _projection(self, what: str) -> Projection | None:
        names = self.stored["notification"].get(what)
        if names is None:
            return None
        return expand_projection(parse_projection(",".join(names), what), self.terms.expand)


PREVIOUS = {
    "value": "previousValue",
    "object": "previousObject",
    "languageMap": "previousLanguageMap",
    "json": "previousJson",
    "vocab": "previousVocab",
    "objectList": "previousObjectList",
    "valueList": "previousValueList",
}


def _null(
    old: dict[str, Any], moment: str, changes: bool, sys_attrs: bool, whole: bool = False
) -> dict[str, Any]:
    """An instance as deleted: NGSI-LD Null in its value member (and its last value with
    showChanges); a whole attribute's deletion shows as one instance without datasetId."""
    kind = old.get("type", PROPERTY)
    member = VALUE_KEY.get(kind, "value")
    null: dict[str, Any] = {"type": kind}
    null[member] = {"@none": NULL} if kind == LANGUAGEPROPERTY else NULL
    if changes and member in old:
        null[PREVIOUS.get(member, "previousValue")] = old[member]
    if "datasetId" in old and not whole:
        null["datasetId"] = old["datasetId"]
    if sys_attrs:
        null["createdAt"] = old.get("createdAt", moment)
        null["modifiedAt"] = old.get("modifiedAt", moment)
        null["deletedAt"] = moment
    return null


def _marked(
    entity: Entity, before: Entity, found: Events, moment: str, changes: bool, sys_attrs: bool
) -> Entity:
    """The entity with deleted attribute instances shown as NGSI-LD Null, and with showChanges
    the previous value of what changed."""
    attrs = dict(entity["attrs"])
    for iri in found.deleted:
        olds = before["attrs"].get(iri, [])
        if iri not in attrs:
            attrs[iri] = [_null(olds[0], moment, changes, sys_attrs, whole=True)] if olds else []
            continue
        kept = {i.get("datasetId"): i for i in attrs[iri]}
        for old in olds:
            if old.get("datasetId") not in kept:
                kept[old.get("datasetId")] = _null(old, moment, changes, sys_attrs)
        attrs[iri] = list(kept.values())
    if changes:
        for iri in found.updated:
            previous = {i.get("datasetId"): i for i in before["attrs"].get(iri, ())}
            shown = []
            for current in attrs[iri]:
                old = previous.get(current.get("datasetId"))
                member = VALUE_KEY.get(current.get("type", PROPERTY), "value")
                if old is None or member not in old or old[member] == current.get(member):
                    shown.append(current)
                    continue
                shown.append({**current, PREVIOUS.get(member, "previousValue"): old[member]})
            attrs[iri] = shown
    return {**entity, "attrs": attrs}


def _search(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None


class Index:
    """The watchers of every tenant, by the entity ids they name, else by the entity types they
    can match, else (for those that select no type) by the attributes they watch; only the
    rest are checked on every write."""

    def __init__(self) -> None:
        self.watchers: dict[tuple[str, str], Watcher] = {}
        self.by_id: dict[str, dict[str, set[str]]] = {}
        self.by_type: dict[str, dict[str, set[str]]] = {}
        self.by_attribute: dict[str, dict[str, set[str]]] = {}
        self.any_type: dict[str, set[str]] = {}

    def add(self, watcher: Watcher) -> None:
        self.remove(watcher.tenant, watcher.id)
        self.watchers[(watcher.tenant, watcher.id)] = watcher
        types = watcher.types()
        ids = {entity_id for _, entity_id, _ in watcher.selectors}
        if watcher.selectors and None not in ids:
            keys, index = frozenset(str(i) for i in ids), self.by_id
        elif (
            types is None
            and watcher.watched is not None
            and not watcher.selectors
            and not watcher.triggers & {"entityCreated", "entityDeleted"}
        ):
            keys, index = watcher.watched, self.by_attribute
        elif types is None:
            self.any_type.setdefault(watcher.tenant, set()).add(watcher.id)
            return
        else:
            keys, index = frozenset(types), self.by_type
        tenant = index.setdefault(watcher.tenant, {})
        for key in keys:
            tenant.setdefault(key, set()).add(watcher.id)

    def remove(self, tenant: str, subscription_id: str) -> Watcher | None:
        watcher = self.watchers.pop((tenant, subscription_id), None)
        if watcher is None:
            return None
        self.any_type.get(tenant, set()).discard(subscription_id)
        for index in (self.by_id, self.by_type, self.by_attribute):
            for ids in index.get(tenant, {}).values():
                ids.discard(subscription_id)
        return watcher

    def candidates(
        self,
        tenant: str,
        types: Iterable[str],
        attributes: Iterable[str] = (),
        entity_id: str | None = None,
    ) -> list[Watcher]:
        ids = set(self.any_type.get(tenant, ()))
        named = (entity_id,) if entity_id is not None else ()
        for index, keys in (
            (self.by_id, named),
            (self.by_type, types),
            (self.by_attribute, attributes),
        ):
            found = index.get(tenant, {})
            for key in keys:
                ids.update(found.get(key, ()))
        return [self.watchers[(tenant, i)] for i in sorted(ids)]

    def notifications(
        self,
        tenant: str,
        existing: Mapping[str, Entity],
        puts: list[Entity],
        deletes: list[str],
        moment: str,
        now_ms: int,
    ) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
        """(subscription id, headers, body) of every notification a write causes."""
        if not self.watchers:
            return []
        out = []
        changes: list[tuple[Entity | None, Entity | None]] = [
            (existing.get(e["id"]), e) for e in puts
        ]
        changes += [(existing[i], None) for i in deletes if i in existing]
        for before, after in changes:
            found = events(before, after)
            if found is None:
                continue
            entity = after or before
            assert entity is not None
            touched = found.created | found.updated | found.deleted
            if before is None or after is None:
                touched = frozenset(entity["attrs"])
            for watcher in self.candidates(tenant, entity["type"], touched, entity["id"]):
                if watcher.fired(found, now_ms) and not watcher.throttled(now_ms):
                    headers, body = watcher.notification(found, moment)
                    out.append((watcher.id, headers, body))
                    watcher.last_ms = now_ms
        return out
