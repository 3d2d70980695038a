"""Which writes a subscription hears of, without a node (clause 5.8): the events of a write
(matching.events), whether a subscription fires on them (Watcher.fired, triggers x
watchedAttributes x selection), the notification it builds, the index by type, and the q, type
and scope evaluation on stored entities (selection.holds), by examples and by properties."""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from datetime import UTC
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ascn.errors import BadRequestData
from ascn.ngsild import subscription
from ascn.ngsild.context import CORE_CONTEXT_URL, core_terms
from ascn.ngsild.entity import Entity
from ascn.ngsild.history import millis
from ascn.ngsild.qlang import (
    OPERATORS,
    Comparison,
    Exists,
    Expression,
    Literal,
    Logical,
    Path,
    expand,
    parse_q,
    parse_scope_q,
    parse_types,
)
from ascn.subscriptions.matching import Events, Index, Watcher, events
from ascn.subscriptions.selection import holds

MODEST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TERMS = core_terms()
NULL = "urn:ngsi-ld:null"
T0 = "2024-01-01T00:00:00Z"
T1 = "2024-01-01T00:01:00Z"
NOW = "2024-06-01T00:00:00Z"
NOW_MS = millis(NOW) or 0
ENDPOINT = "http://127.0.0.1:9/notify"
ROOM_ID = "urn:ngsi-ld:Room:1"

Instance = dict[str, Any]


def iri(name: str) -> str:
    return TERMS.expand(name)


def prop(value: Any, at: str = T0, **members: Any) -> Instance:
    """A Property instance in the stored form, modified at `at`."""
    return {"type": "Property", "value": value, "createdAt": T0, "modifiedAt": at, **members}


def stored(
    entity_id: str,
    *types: str,
    scope: list[str] | None = None,
    **attrs: Instance | list[Instance],
) -> Entity:
    """An entity in the stored form: types and attribute names expanded, each attribute a list
    of instances."""
    entity: Entity = {
        "id": entity_id,
        "type": [iri(t) for t in types],
        "createdAt": T0,
        "modifiedAt": T0,
        "attrs": {
            iri(name): value if isinstance(value, list) else [value]
            for name, value in attrs.items()
        },
    }
    if scope is not None:
        entity["scope"] = scope
    return entity


def watcher(tenant: str = "", **members: Any) -> Watcher:
    """A subscription to rooms, checked and stored as the node does, ready to match."""
    raw: dict[str, Any] = {
        "type": "Subscription",
        "id": "urn:ngsi-ld:Subscription:w",
        "entities": [{"type": "Room"}],
        "notification": {"endpoint": {"uri": ENDPOINT}},
        **members,
    }
    return Watcher.of(tenant, subscription.parse(raw, TERMS, T0), TERMS)


# --- events of a write ------------------------------------------------------------------------

BEFORE = stored(ROOM_ID, "Room", temperature=prop(20), humidity=prop(50))


def after(**changes: Instance | list[Instance] | None) -> Entity:
    """BEFORE with attributes replaced, added or (None) removed."""
    attrs = {name: BEFORE["attrs"][iri(name)] for name in ("temperature", "humidity")}
    for name, value in changes.items():
        if value is None:
            attrs.pop(name)
        else:
            attrs[name] = value if isinstance(value, list) else [value]
    return stored(ROOM_ID, "Room", **attrs)


WRITES: dict[str, tuple[Entity | None, Entity | None]] = {
    "entity created": (None, BEFORE),
    "entity deleted": (BEFORE, None),
    "temperature updated": (BEFORE, after(temperature=prop(21, at=T1))),
    "co2 created": (BEFORE, after(co2=prop(400, at=T1))),
    "humidity deleted": (BEFORE, after(humidity=None)),
}


def changes(found: Events) -> dict[str, set[str]]:
    """The attribute changes of an event, by kind, leaving out kinds without any."""
    kinds = {"created": found.created, "updated": found.updated, "deleted": found.deleted}
    return {kind: set(iris) for kind, iris in kinds.items() if iris}


def events_of(write: str) -> Events:
    found = events(*WRITES[write])
    assert found is not None
    return found


def test_creating_an_entity_is_one_event_without_attribute_changes() -> None:
    found = events(None, BEFORE)
    assert found == Events(ROOM_ID, None, BEFORE)


def test_deleting_an_entity_is_one_event_with_the_entity_before() -> None:
    found = events(BEFORE, None)
    assert found == Events(ROOM_ID, BEFORE, None)


def test_an_attribute_modified_is_updated() -> None:
    found = events_of("temperature updated")
    assert changes(found) == {"updated": {iri("temperature")}}


def test_a_new_attribute_is_created() -> None:
    found = events_of("co2 created")
    assert changes(found) == {"created": {iri("co2")}}


def test_a_removed_attribute_is_deleted() -> None:
    found = events_of("humidity deleted")
    assert changes(found) == {"deleted": {iri("humidity")}}


def test_one_write_can_create_update_and_delete_at_once() -> None:
    changed = after(temperature=prop(21, at=T1), humidity=None, co2=prop(400, at=T1))
    found = events(BEFORE, changed)
    assert found is not None
    assert changes(found) == {
        "created": {iri("co2")},
        "updated": {iri("temperature")},
        "deleted": {iri("humidity")},
    }
    assert (found.before, found.after) == (BEFORE, changed)


def test_a_write_that_changes_nothing_has_no_events() -> None:
    assert events(BEFORE, after()) is None


def test_deleting_one_dataset_instance_deletes_that_attribute_only() -> None:
    two = stored(ROOM_ID, "Room", speed=[prop(1), prop(2, datasetId="urn:ngsi-ld:Dataset:b")])
    one = stored(ROOM_ID, "Room", speed=[prop(1)])
    found = events(two, one)
    assert found is not None
    assert changes(found) == {"deleted": {iri("speed")}}


def test_updating_one_dataset_instance_updates_the_attribute() -> None:
    two = stored(ROOM_ID, "Room", speed=[prop(1), prop(2, datasetId="urn:ngsi-ld:Dataset:b")])
    changed = stored(
        ROOM_ID, "Room", speed=[prop(1), prop(3, at=T1, datasetId="urn:ngsi-ld:Dataset:b")]
    )
    found = events(two, changed)
    assert found is not None
    assert changes(found) == {"updated": {iri("speed")}}


def test_a_scope_change_alone_is_still_an_event() -> None:
    moved = stored(ROOM_ID, "Room", scope=["/Madrid"], temperature=prop(20), humidity=prop(50))
    found = events(BEFORE, moved)
    assert found is not None
    assert changes(found) == {}


# --- Watcher.fired: triggers x watchedAttributes ----------------------------------------------

ATTRIBUTE_WRITES = ("temperature updated", "co2 created", "humidity deleted")
FIRES: dict[str, set[str]] = {
    "entityCreated": {"entity created"},
    "entityDeleted": {"entity deleted"},
    "attributeCreated": {"co2 created"},
    "attributeUpdated": {"temperature updated"},
    "attributeDeleted": {"humidity deleted"},
    "entityUpdated": set(ATTRIBUTE_WRITES),
}
"""Without watchedAttributes: the writes each trigger fires on."""

WATCHED_FIRES: dict[tuple[str, str], set[str]] = {
    ("attributeCreated", "temperature"): set(),
    ("attributeUpdated", "temperature"): {"temperature updated"},
    ("attributeDeleted", "temperature"): set(),
    ("entityUpdated", "temperature"): {"temperature updated"},
    ("attributeCreated", "co2"): {"co2 created"},
    ("attributeUpdated", "co2"): set(),
    ("attributeDeleted", "co2"): set(),
    ("entityUpdated", "co2"): {"co2 created"},
    ("attributeCreated", "humidity"): set(),
    ("attributeUpdated", "humidity"): set(),
    ("attributeDeleted", "humidity"): {"humidity deleted"},
    ("entityUpdated", "humidity"): {"humidity deleted"},
}
"""With watchedAttributes [one attribute]: the attribute writes each trigger fires on."""


@pytest.mark.parametrize(
    ("trigger", "write"),
    [
        (trigger, write)
        for trigger in FIRES
        for write in WRITES
        # An entity deleted with attribute triggers: test_deleting_an_entity_is_an_attribute_...
        if not (trigger.startswith("attribute") and write == "entity deleted")
    ],
)
def test_each_trigger_fires_on_its_own_writes(trigger: str, write: str) -> None:
    fired = watcher(notificationTrigger=[trigger]).fired(events_of(write), NOW_MS)
    assert fired is (write in FIRES[trigger])


@pytest.mark.parametrize("write", ATTRIBUTE_WRITES)
@pytest.mark.parametrize(("trigger", "watched"), list(WATCHED_FIRES))
def test_watched_attributes_narrow_the_attribute_triggers(
    trigger: str, watched: str, write: str
) -> None:
    subject = watcher(notificationTrigger=[trigger], watchedAttributes=[watched])
    assert subject.fired(events_of(write), NOW_MS) is (write in WATCHED_FIRES[(trigger, watched)])


@pytest.mark.parametrize("write", list(WRITES))
def test_the_default_triggers_are_attribute_created_and_updated(write: str) -> None:
    expected = write in ("co2 created", "temperature updated")
    assert watcher().fired(events_of(write), NOW_MS) is expected


def test_several_triggers_fire_on_any_of_their_writes() -> None:
    subject = watcher(notificationTrigger=["entityCreated", "attributeDeleted"])
    fired = {w for w in WRITES if w != "entity deleted" and subject.fired(events_of(w), NOW_MS)}
    assert fired == {"entity created", "humidity deleted"}


def test_a_write_fires_when_any_watched_attribute_changed() -> None:
    subject = watcher(watchedAttributes=["co2", "pressure"])
    both = after(temperature=prop(21, at=T1), co2=prop(400, at=T1))
    found = events(BEFORE, both)
    assert found is not None
    assert subject.fired(found, NOW_MS)


@pytest.mark.parametrize("watched", [None, ["humidity"]])
def test_deleting_an_entity_is_an_attribute_deleted_event(watched: list[str] | None) -> None:
    """An entity deleted takes its attributes with it: a subscription on attributeDeleted
    (for the watched attribute, when there are watchedAttributes) is told (ETSI 046_22_12)."""
    members: dict[str, Any] = {"notificationTrigger": ["attributeDeleted"]}
    if watched is not None:
        members["watchedAttributes"] = watched
    assert watcher(**members).fired(events_of("entity deleted"), NOW_MS)


def test_deleting_an_entity_without_the_watched_attribute_is_no_attribute_event() -> None:
    subject = watcher(notificationTrigger=["attributeDeleted"], watchedAttributes=["co2"])
    assert not subject.fired(events_of("entity deleted"), NOW_MS)


@pytest.mark.parametrize("trigger", ["attributeCreated", "attributeUpdated", "attributeDeleted"])
def test_entity_creation_and_deletion_are_not_attribute_created_or_updated(trigger: str) -> None:
    subject = watcher(notificationTrigger=[trigger])
    assert not subject.fired(events_of("entity created"), NOW_MS)
    if trigger != "attributeDeleted":
        assert not subject.fired(events_of("entity deleted"), NOW_MS)


# --- Watcher.fired: selection and state -------------------------------------------------------


def room_events(entity: Entity) -> Events:
    return Events(entity["id"], None, entity)


@pytest.mark.parametrize(
    ("selector", "entity_id", "types", "expected"),
    [
        ({"type": "Room"}, ROOM_ID, ("Room",), True),
        ({"type": "Room"}, "urn:ngsi-ld:Office:1", ("Office",), False),
        ({"type": "Room"}, "urn:ngsi-ld:Both:1", ("Office", "Room"), True),
        ({"type": "Room", "id": ROOM_ID}, ROOM_ID, ("Room",), True),
        ({"type": "Room", "id": ROOM_ID}, "urn:ngsi-ld:Room:2", ("Room",), False),
        ({"type": "Room", "idPattern": r"Room:[12]$"}, "urn:ngsi-ld:Room:2", ("Room",), True),
        ({"type": "Room", "idPattern": r"Room:[12]$"}, "urn:ngsi-ld:Room:3", ("Room",), False),
        ({"type": "Room|Office"}, "urn:ngsi-ld:Office:1", ("Office",), True),
        ({"type": "Room;Office"}, ROOM_ID, ("Room",), False),
        ({"type": "Room;Office"}, "urn:ngsi-ld:Both:1", ("Office", "Room"), True),
        ({"type": "(Room|Office);Shop"}, "urn:ngsi-ld:Both:1", ("Office", "Shop"), True),
    ],
)
def test_entity_selectors_choose_the_entities(
    selector: dict[str, str], entity_id: str, types: tuple[str, ...], expected: bool
) -> None:
    subject = watcher(entities=[selector], notificationTrigger=["entityCreated"])
    entity = stored(entity_id, *types, temperature=prop(1))
    assert subject.fired(room_events(entity), NOW_MS) is expected


def test_any_of_several_selectors_is_enough() -> None:
    subject = watcher(
        entities=[{"type": "Office"}, {"type": "Room", "id": "urn:ngsi-ld:Room:9"}],
        notificationTrigger=["entityCreated"],
    )
    assert subject.fired(room_events(stored("urn:ngsi-ld:Office:1", "Office")), NOW_MS)
    assert subject.fired(room_events(stored("urn:ngsi-ld:Room:9", "Room")), NOW_MS)
    assert not subject.fired(room_events(stored("urn:ngsi-ld:Room:1", "Room")), NOW_MS)


def test_watched_attributes_alone_select_every_type() -> None:
    raw = {
        "type": "Subscription",
        "id": "urn:ngsi-ld:Subscription:any",
        "watchedAttributes": ["temperature"],
        "notification": {"endpoint": {"uri": ENDPOINT}},
    }
    subject = Watcher.of("", subscription.parse(raw, TERMS, T0), TERMS)
    assert subject.types() is None
    changed = stored("urn:ngsi-ld:Shop:1", "Shop", temperature=prop(2, at=T1))
    found = events(stored("urn:ngsi-ld:Shop:1", "Shop", temperature=prop(1)), changed)
    assert found is not None
    assert subject.fired(found, NOW_MS)


def test_q_is_checked_on_the_entity_after_the_write() -> None:
    subject = watcher(q="temperature>3")
    warm = events(BEFORE, after(temperature=prop(5, at=T1)))
    cold = events(
        stored(ROOM_ID, "Room", temperature=prop(5), humidity=prop(50)),
        after(temperature=prop(2, at=T1)),
    )
    assert warm is not None
    assert cold is not None
    assert subject.fired(warm, NOW_MS)
    assert not subject.fired(cold, NOW_MS)


def test_q_is_checked_on_the_entity_before_a_deletion() -> None:
    hot = stored(ROOM_ID, "Room", temperature=prop(30))
    cold = stored(ROOM_ID, "Room", temperature=prop(1))
    subject = watcher(q="temperature>3", notificationTrigger=["entityDeleted"])
    assert subject.fired(Events(ROOM_ID, hot, None), NOW_MS)
    assert not subject.fired(Events(ROOM_ID, cold, None), NOW_MS)


def test_a_percent_encoded_q_is_decoded() -> None:
    subject = watcher(q="name==%22Eiffel%20Tower%22", notificationTrigger=["entityCreated"])
    tower = stored(ROOM_ID, "Room", name=prop("Eiffel Tower"))
    assert subject.fired(room_events(tower), NOW_MS)


def test_scope_q_selects_by_scope() -> None:
    subject = watcher(scopeQ="/Madrid/#", notificationTrigger=["entityCreated"])
    inside = stored(ROOM_ID, "Room", scope=["/Madrid/Centro"])
    outside = stored(ROOM_ID, "Room", scope=["/Paris"])
    assert subject.fired(room_events(inside), NOW_MS)
    assert not subject.fired(room_events(outside), NOW_MS)


def test_a_paused_subscription_never_fires() -> None:
    subject = watcher(isActive=False, notificationTrigger=list(subscription.TRIGGERS))
    assert not any(subject.fired(events_of(w), NOW_MS) for w in WRITES)


def test_an_expired_subscription_never_fires() -> None:
    subject = watcher(expiresAt="2024-03-01T00:00:00Z", notificationTrigger=["entityCreated"])
    found = events_of("entity created")
    assert subject.fired(found, (millis("2024-02-01T00:00:00Z") or 0))
    assert not subject.fired(found, (millis("2024-03-01T00:00:00Z") or 0))
    assert not subject.fired(found, NOW_MS)


def test_a_periodic_subscription_never_fires_on_writes() -> None:
    subject = watcher(timeInterval=60, notificationTrigger=["entityCreated"])
    assert not subject.fired(events_of("entity created"), NOW_MS)


def test_throttling_drops_notifications_that_come_too_soon() -> None:
    index = Index()
    subject = watcher(throttling=10, notificationTrigger=["entityCreated", "attributeUpdated"])
    index.add(subject)
    first = index.notifications("", {}, [BEFORE], [], NOW, NOW_MS)
    changed = after(temperature=prop(21, at=T1))
    soon = index.notifications("", {ROOM_ID: BEFORE}, [changed], [], NOW, NOW_MS + 9_999)
    late = index.notifications("", {ROOM_ID: BEFORE}, [changed], [], NOW, NOW_MS + 10_000)
    assert (len(first), len(soon), len(late)) == (1, 0, 1)
    assert not watcher(notificationTrigger=["entityCreated"]).throttled(NOW_MS)


# --- the notification -------------------------------------------------------------------------


def test_the_notification_is_an_envelope_around_the_entity() -> None:
    subject = watcher(notificationTrigger=["entityCreated"])
    headers, body = subject.notification(events_of("entity created"), NOW)
    assert set(body) == {"id", "type", "subscriptionId", "data"}
    assert re.fullmatch(r"urn:ngsi-ld:Notification:[0-9a-f-]{36}", body["id"])
    assert body["type"] == "Notification"
    assert body["subscriptionId"] == "urn:ngsi-ld:Subscription:w"
    assert body["data"] == [
        {
            "id": ROOM_ID,
            "type": "Room",
            "temperature": {"type": "Property", "value": 20},
            "humidity": {"type": "Property", "value": 50},
        }
    ]
    assert headers == {
        "Content-Type": "application/json",
        "Link": f'<{CORE_CONTEXT_URL}>; rel="http://www.w3.org/ns/json-ld#context";'
        ' type="application/ld+json"',
    }
    _, again = subject.notification(events_of("entity created"), NOW)
    assert again["id"] != body["id"]


def test_json_ld_notifications_carry_the_context_in_each_entity() -> None:
    subject = watcher(
        notificationTrigger=["entityCreated"],
        notification={"endpoint": {"uri": ENDPOINT, "accept": "application/ld+json"}},
    )
    headers, body = subject.notification(events_of("entity created"), NOW)
    assert headers == {"Content-Type": "application/ld+json"}
    assert body["data"][0]["@context"] == CORE_CONTEXT_URL


def test_receiver_info_and_the_tenant_become_headers() -> None:
    endpoint = {"uri": ENDPOINT, "receiverInfo": [{"key": "X-Auth", "value": "secret"}]}
    subject = watcher("city", notification={"endpoint": endpoint})
    headers, _ = subject.notification(events_of("temperature updated"), NOW)
    assert headers["X-Auth"] == "secret"
    assert headers["NGSILD-Tenant"] == "city"


@pytest.mark.parametrize(
    ("form", "temperature"),
    [
        ("normalized", {"type": "Property", "value": 20, "unitCode": "CEL"}),
        ("keyValues", 20),
        ("simplified", 20),
        ("concise", {"value": 20, "unitCode": "CEL"}),
    ],
)
def test_the_format_shapes_the_entity(form: str, temperature: Any) -> None:
    subject = watcher(notification={"endpoint": {"uri": ENDPOINT}, "format": form})
    entity = stored(ROOM_ID, "Room", temperature=prop(20, unitCode="CEL"))
    _, body = subject.notification(room_events(entity), NOW)
    assert body["data"] == [{"id": ROOM_ID, "type": "Room", "temperature": temperature}]


def test_notification_attributes_and_sys_attrs_shape_the_entity() -> None:
    spec = {"endpoint": {"uri": ENDPOINT}, "attributes": ["humidity"], "sysAttrs": True}
    _, body = watcher(notification=spec).notification(events_of("entity created"), NOW)
    assert body["data"] == [
        {
            "id": ROOM_ID,
            "type": "Room",
            "createdAt": T0,
            "modifiedAt": T0,
            "humidity": {"type": "Property", "value": 50, "createdAt": T0, "modifiedAt": T0},
        }
    ]


def test_a_deleted_entity_is_shown_by_id_type_and_deletion_time() -> None:
    subject = watcher(notificationTrigger=["entityDeleted"])
    _, body = subject.notification(events_of("entity deleted"), NOW)
    assert body["data"] == [{"id": ROOM_ID, "type": "Room", "deletedAt": NOW}]


def test_a_deleted_attribute_is_shown_as_ngsi_ld_null() -> None:
    subject = watcher(notificationTrigger=["attributeDeleted"])
    _, body = subject.notification(events_of("humidity deleted"), NOW)
    assert body["data"][0]["humidity"] == {"type": "Property", "value": NULL}
    assert body["data"][0]["temperature"] == {"type": "Property", "value": 20}


# --- the index --------------------------------------------------------------------------------


def test_the_index_offers_the_watchers_of_a_type_and_those_of_any_type() -> None:
    index = Index()
    rooms = watcher(id="urn:ngsi-ld:Subscription:rooms")
    anything = watcher(id="urn:ngsi-ld:Subscription:any", entities=[{"type": "Room|Office"}])
    elsewhere = watcher("other", id="urn:ngsi-ld:Subscription:rooms")
    for item in (rooms, anything, elsewhere):
        index.add(item)
    assert index.candidates("", [iri("Room")]) == [anything, rooms]
    assert index.candidates("", [iri("Shop")]) == [anything]
    assert index.candidates("other", [iri("Room")]) == [elsewhere]
    assert index.remove("", rooms.id) is rooms
    assert index.candidates("", [iri("Room")]) == [anything]


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize(
    "members",
    [
        {"watchedAttributes": ["humidity"]},
        {"watchedAttributes": ["co2"]},
        {"entities": [{"type": "Room", "id": ROOM_ID}]},
        {"entities": [{"type": "Room", "id": "urn:ngsi-ld:Room:9"}]},
        {"entities": [{"type": "Room|Office"}], "watchedAttributes": ["temperature"]},
        {"entities": [{"type": "Room"}], "watchedAttributes": ["co2"]},
    ],
    ids=json.dumps,
)
def test_the_index_offers_every_watcher_that_would_fire(
    members: dict[str, Any], write: str
) -> None:
    """The index only spares checks: a write is notified to exactly the watchers that fire on
    it, however they are indexed (by entity id, type, watched attribute or none)."""
    raw: dict[str, Any] = {
        "type": "Subscription",
        "id": "urn:ngsi-ld:Subscription:indexed",
        "notificationTrigger": list(subscription.TRIGGERS),
        "notification": {"endpoint": {"uri": ENDPOINT}},
        **members,
    }
    subject = Watcher.of("", subscription.parse(raw, TERMS, T0), TERMS)
    index = Index()
    index.add(subject)
    before, after_write = WRITES[write]
    existing = {ROOM_ID: before} if before is not None else {}
    puts = [after_write] if after_write is not None else []
    deletes = [ROOM_ID] if after_write is None else []
    told = index.notifications("", existing, puts, deletes, NOW, NOW_MS)
    assert len(told) == int(subject.fired(events_of(write), NOW_MS))


def test_the_index_turns_a_write_into_its_notifications() -> None:
    index = Index()
    index.add(watcher(id="urn:ngsi-ld:Subscription:a", notificationTrigger=["entityCreated"]))
    index.add(watcher(id="urn:ngsi-ld:Subscription:b", notificationTrigger=["entityDeleted"]))
    office = stored("urn:ngsi-ld:Office:1", "Office")
    found = index.notifications("", {}, [BEFORE, office], [], NOW, NOW_MS)
    assert [(sid, body["data"][0]["id"]) for sid, _, body in found] == [
        ("urn:ngsi-ld:Subscription:a", ROOM_ID)
    ]
    gone = index.notifications("", {ROOM_ID: BEFORE}, [], [ROOM_ID], NOW, NOW_MS)
    assert [sid for sid, _, _ in gone] == ["urn:ngsi-ld:Subscription:b"]
    assert index.notifications("", {ROOM_ID: BEFORE}, [BEFORE], [], NOW, NOW_MS) == []
    assert index.notifications("other", {}, [BEFORE], [], NOW, NOW_MS) == []


# --- selection.holds: examples ----------------------------------------------------------------

ACCURACY = iri("accuracy")
SAMPLES: dict[str, Entity] = {
    "e0": stored(
        "urn:ngsi-ld:T:0",
        "T",
        temperature={
            **prop(21.5, unitCode="CEL", observedAt="2024-01-01T00:00:00Z"),
            ACCURACY: {"type": "Property", "value": 0.5},
        },
        name=[prop("a"), prop("b", datasetId="urn:ngsi-ld:Dataset:1")],
        flag=prop(True),
        when=prop("2024-03-01T10:00:00Z"),
    ),
    "e1": stored(
        "urn:ngsi-ld:T:1",
        "T",
        temperature=prop(3),
        name=prop("Zed"),
        flag=prop(False),
        tags=prop(["x", "y", 4]),
        obj=prop({"k": 5, "s": "t", "n": {"m": 1}}),
    ),
    "e2": stored(
        "urn:ngsi-ld:T:2",
        "T",
        temperature=prop(-1.0),
        owner={"type": "Relationship", "object": "urn:ngsi-ld:Person:1"},
        street={"type": "LanguageProperty", "languageMap": {"en": "Main", "fr": "Principale"}},
    ),
    "e3": stored(
        "urn:ngsi-ld:T:3",
        "T",
        lst={"type": "ListProperty", "valueList": [1, 2, 3]},
        js={"type": "JsonProperty", "json": {"a": 1, "b": "c"}},
        name=prop("émile"),
    ),
    "e4": stored(
        "urn:ngsi-ld:T:4",
        "T",
        temperature=prop("21"),
        name=prop(""),
        flag=prop("true"),
        obj=prop({"k": "5"}),
    ),
    "e5": stored(
        "urn:ngsi-ld:T:5",
        "T",
        temperature=[prop(10), prop(30, datasetId="urn:ngsi-ld:Dataset:2")],
        when=prop("2024-03-01T11:00:00+01:00"),
    ),
    "e6": stored("urn:ngsi-ld:T:6", "T"),
}

Q_CASES: list[tuple[str, set[str]]] = [
    # numbers: only numeric values compare with a number
    ("temperature>3", {"e0", "e5"}),
    ("temperature>=3", {"e0", "e1", "e5"}),
    ("temperature<3", {"e2"}),
    ("temperature<=3", {"e1", "e2"}),
    ("temperature==3", {"e1"}),
    ("temperature==-1", {"e2"}),
    ("temperature==21.5", {"e0"}),
    # != holds when the attribute exists and no value of it is equal
    ("temperature!=3", {"e0", "e2", "e4", "e5"}),
    ("temperature!=10", {"e0", "e1", "e2", "e4"}),
    # lists: any of the values; != none of them
    ("temperature==3,21.5", {"e0", "e1"}),
    ("temperature!=3,21.5", {"e2", "e4", "e5"}),
    # ranges: one value within both bounds
    ("temperature==0..25", {"e0", "e1", "e5"}),
    ("temperature!=0..25", {"e2", "e4"}),
    # every instance (datasetId) counts
    ("temperature==10", {"e5"}),
    ("temperature==30", {"e5"}),
    # strings
    ('temperature=="21"', {"e4"}),
    ('temperature>"20"', {"e4"}),
    ('name=="a"', {"e0"}),
    ('name=="b"', {"e0"}),
    ('name!="a"', {"e1", "e3", "e4"}),
    ('name>"a"', {"e0", "e3"}),
    ('name<"b"', {"e0", "e1", "e4"}),
    ('name==""', {"e4"}),
    # patterns
    ("name~=^[A-Z]", {"e1"}),
    ("name!~=^[A-Z]", {"e0", "e3", "e4"}),
    ("name~=(?i)zed", {"e1"}),
    ("owner~=Person", {"e2"}),
    ("street~=Princ", {"e2"}),
    # booleans
    ("flag==true", {"e0"}),
    ("flag==false", {"e1"}),
    ("flag!=true", {"e1", "e4"}),
    ('flag=="true"', {"e4"}),
    ("flag>false", set()),
    # array elements count as values
    ('tags=="x"', {"e1"}),
    ("tags==4", {"e1"}),
    ('tags!="x"', set()),
    ("lst==2", {"e3"}),
    ("lst>2", {"e3"}),
    # keys inside values
    ("obj[k]==5", {"e1"}),
    ('obj[k]=="5"', {"e4"}),
    ("obj[k]>4", {"e1"}),
    ("obj[n][m]==1", {"e1"}),
    ('obj[s]=="t"', {"e1"}),
    ('js[b]=="c"', {"e3"}),
    # relationships and language maps
    ("owner==urn:ngsi-ld:Person:1", {"e2"}),
    ("owner!=urn:ngsi-ld:Person:2", {"e2"}),
    ("owner!=urn:ngsi-ld:Person:1", set()),
    ('street=="Main"', {"e2"}),
    ('street[fr]=="Principale"', {"e2"}),
    ('street[en]=="Principale"', set()),
    # date-times compare as instants
    ("when>2024-01-01T00:00:00Z", {"e0", "e5"}),
    ("when==2024-03-01T10:00:00Z", {"e0", "e5"}),
    ("when>=2024-03-01T10:00:00.000Z", {"e0", "e5"}),
    ("when<2024-03-01T10:00:00.001Z", {"e0", "e5"}),
    ("when<2024-03-01T10:00:00Z", set()),
    ("when<=2024-03-01T10:00:00.000+00:00", {"e0", "e5"}),
    # members and sub-attributes
    ("temperature.unitCode==CEL", {"e0"}),
    ("temperature.observedAt>2023-01-01T00:00:00Z", {"e0"}),
    ("temperature.observedAt<2023-01-01T00:00:00Z", set()),
    ("temperature.accuracy==0.5", {"e0"}),
    ("temperature.accuracy>0.1", {"e0"}),
    ("name.datasetId==urn:ngsi-ld:Dataset:1", {"e0"}),
    ("temperature.datasetId==urn:ngsi-ld:Dataset:2", {"e5"}),
    # existence
    ("temperature", {"e0", "e1", "e2", "e4", "e5"}),
    ("!temperature", {"e3", "e6"}),
    ("obj[k]", {"e1", "e4"}),
    ("!obj[k]", {"e0", "e2", "e3", "e5", "e6"}),
    ("obj[zz]", set()),
    ("temperature.observedAt", {"e0"}),
    ("temperature.nope", set()),
    ("!temperature.unitCode", {"e1", "e2", "e3", "e4", "e5", "e6"}),
    # ; binds tighter than |
    ('temperature>3;name=="a"', {"e0"}),
    ("temperature>3|flag==false", {"e0", "e1", "e5"}),
    ('flag==false|temperature>3;name=="a"', {"e0", "e1"}),
    ('(flag==false|temperature>3);name=="a"', {"e0"}),
    ("(temperature>3|flag==false);!owner", {"e0", "e1", "e5"}),
    ("temperature;!name", {"e2", "e5"}),
]


def matching(q: str) -> set[str]:
    expression = expand(parse_q(q), TERMS.expand)
    return {key for key, entity in SAMPLES.items() if holds(expression, entity)}


@pytest.mark.parametrize(("q", "expected"), Q_CASES, ids=[q for q, _ in Q_CASES])
def test_q_selects_the_entities_it_describes(q: str, expected: set[str]) -> None:
    assert matching(q) == expected


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ("Room", {"room", "both"}),
        ("Office", {"office", "both"}),
        ("Room,Office", {"room", "office", "both"}),
        ("Room|Office", {"room", "office", "both"}),
        ("Room;Office", {"both"}),
        ("(Room;Office)|Shop", {"both", "shop"}),
        ("Cellar", set()),
    ],
)
def test_type_expressions_select_by_type(types: str, expected: set[str]) -> None:
    entities = {
        "room": stored("urn:ngsi-ld:X:1", "Room"),
        "office": stored("urn:ngsi-ld:X:2", "Office"),
        "both": stored("urn:ngsi-ld:X:3", "Room", "Office"),
        "shop": stored("urn:ngsi-ld:X:4", "Shop"),
    }
    expression = expand(parse_types(types), TERMS.expand)
    assert {key for key, e in entities.items() if holds(expression, e)} == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("/Madrid", {"madrid"}),
        ("/Madrid/#", {"madrid", "gardens", "deep"}),
        ("/Madrid/+", {"gardens"}),
        ("/+/Gardens", {"gardens", "paris"}),
        ("/#", {"madrid", "gardens", "deep", "paris"}),
        ("/Madrid/Gardens;/Paris/Gardens", set()),
        ("/Madrid/Gardens,/Paris/Gardens", {"gardens", "paris"}),
        ("/Rome", set()),
    ],
)
def test_scope_queries_select_by_scope(pattern: str, expected: set[str]) -> None:
    entities = {
        "madrid": stored("urn:ngsi-ld:X:1", "Room", scope=["/Madrid"]),
        "gardens": stored("urn:ngsi-ld:X:2", "Room", scope=["/Madrid/Gardens"]),
        "deep": stored("urn:ngsi-ld:X:3", "Room", scope=["/Madrid/Gardens/North"]),
        "paris": stored("urn:ngsi-ld:X:4", "Room", scope=["/Paris/Gardens"]),
        "none": stored("urn:ngsi-ld:X:5", "Room"),
    }
    expression = parse_scope_q(pattern)
    assert {key for key, e in entities.items() if holds(expression, e)} == expected


# --- selection.holds: properties --------------------------------------------------------------

NAMES = ("temperature", "name", "flag", "tags", "obj", "when", "owner", "street")
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=6)
    | st.sampled_from(["2024-03-01T10:00:00Z", "2024-13-01T99:00:00Z", "T", "urn:a:b", "a"])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["k", "m", "fr", "en", "@none", "x"]), inner, max_size=3)
    ),
    max_leaves=5,
)
MEMBER_NAMES = (
    "value",
    "object",
    "languageMap",
    "valueList",
    "json",
    "vocab",
    "observedAt",
    "unitCode",
    "datasetId",
    ACCURACY,
)
INSTANCES = st.builds(
    lambda kind, members: {"type": kind, **members},
    st.sampled_from(
        ["Property", "Relationship", "LanguageProperty", "ListProperty", "JsonProperty", "X"]
    ),
    st.dictionaries(
        st.sampled_from(MEMBER_NAMES),
        JSON_VALUES | st.builds(lambda v: {"type": "Property", "value": v}, JSON_VALUES),
        max_size=4,
    ),
)
ENTITIES = st.builds(
    lambda attrs, scope: {
        "id": "urn:ngsi-ld:T:h",
        "type": [iri("T")],
        "attrs": {iri(name): instances for name, instances in attrs.items()},
        **({"scope": scope} if scope else {}),
    },
    st.dictionaries(st.sampled_from(NAMES), st.lists(INSTANCES, min_size=1, max_size=3)),
    st.lists(st.sampled_from(["/a", "/a/b", "/c"]), max_size=2),
)

PATHS = st.builds(
    lambda name, sub, keys: name + sub + keys,
    st.sampled_from(NAMES),
    st.sampled_from(["", ".unitCode", ".observedAt", ".accuracy", ".datasetId", ".accuracy.x"]),
    st.sampled_from(["", "[k]", "[k][m]", "[fr]"]),
)
LITERALS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["true", "false", "urn:ngsi-ld:Person:1", "CEL", "a"]),
    st.text(st.characters(exclude_characters='"\\'), max_size=6).map(lambda s: f'"{s}"'),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["10:00:00", "23:59:59.5"]),
)
PATTERNS = st.sampled_from(["^a", "b.*", "(?i)zed", "[0-9]+", ".*", '"a|b"', "^$"])


@st.composite
def comparisons(draw: st.DrawFn, ops: tuple[str, ...] = OPERATORS) -> str:
    path: str = draw(PATHS)
    op: str = draw(st.sampled_from(ops))
    if op in ("~=", "!~="):
        return path + op + draw(PATTERNS)
    values: list[str] = draw(st.lists(LITERALS, min_size=1, max_size=3))
    if op in ("==", "!=") and len(values) > 1:
        joiner = draw(st.sampled_from([",", ".."]))
        return path + op + joiner.join(values[:2] if joiner == ".." else values)
    return path + op + values[0]


TERMS_TEXT = comparisons() | PATHS | PATHS.map(lambda p: "!" + p)
Q_TEXTS = st.recursive(
    TERMS_TEXT,
    lambda inner: (
        st.builds(
            lambda items, joiner: joiner.join(items),
            st.lists(inner, min_size=2, max_size=3),
            st.sampled_from([";", "|"]),
        )
        | inner.map(lambda text: f"({text})")
    ),
    max_leaves=6,
)


def parsed(text: str) -> Expression:
    return expand(parse_q(text), TERMS.expand)


@MODEST
@given(Q_TEXTS, ENTITIES)
def test_holds_never_raises_on_generated_q(text: str, entity: Entity) -> None:
    assert isinstance(holds(parsed(text), entity), bool)


TOKENS = st.lists(
    st.sampled_from(
        [
            *("name", "obj", "flag", ".", "[k]", "==", "!=", ">", "<=", "~=", "!~=", ";", "|"),
            *("(", ")", "!", "1", "-2.5", '"x"', ",", "..", "true", "2024-01-01T00:00:00Z", "^a"),
        ]
    ),
    max_size=12,
).map("".join)


@MODEST
@given(TOKENS, ENTITIES)
def test_holds_never_raises_on_whatever_parses(text: str, entity: Entity) -> None:
    try:
        expression = parsed(text)
    except BadRequestData:
        return
    assert isinstance(holds(expression, entity), bool)


@MODEST
@given(comparisons(("!=", "!~=")), ENTITIES)
def test_a_negated_comparison_is_existence_and_not_the_comparison(
    text: str, entity: Entity
) -> None:
    expression = parsed(text)
    assert isinstance(expression, Comparison)
    positive = Comparison(
        expression.path,
        "==" if expression.op == "!=" else "~=",
        expression.values,
        expression.range,
    )
    expected = holds(Exists(expression.path), entity) and not holds(positive, entity)
    assert holds(expression, entity) is expected


@MODEST
@given(PATHS, ENTITIES)
def test_a_negated_existence_is_the_opposite(path: str, entity: Entity) -> None:
    assert holds(parsed("!" + path), entity) is not holds(parsed(path), entity)


@MODEST
@given(st.lists(TERMS_TEXT, min_size=2, max_size=4), ENTITIES)
def test_and_and_or_combine_their_terms(items: list[str], entity: Entity) -> None:
    each = [holds(parsed(item), entity) for item in items]
    both = parsed(";".join(f"({item})" for item in items))
    either = parsed("|".join(f"({item})" for item in items))
    assert isinstance(both, Logical)
    assert holds(both, entity) is all(each)
    assert holds(either, entity) is any(each)


SCALARS = (
    st.integers(-5, 5) | st.floats(-5, 5) | st.booleans() | st.sampled_from(["", "a", "b", "5"])
)
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def reference(op: str, literal: Literal, value: Any) -> bool:
    """Whether one scalar value satisfies a comparison with one literal, from clause 4.9: a
    number compares with numbers only, a string with strings, a boolean is only equal."""
    if op == "!=":
        return not reference("==", literal, value)
    if literal.kind == "boolean":
        return op == "==" and type(value) is bool and value is literal.value
    if literal.kind == "number":
        return type(value) in (int, float) and COMPARE[op](value, literal.value)
    return isinstance(value, str) and COMPARE[op](value, literal.value)


@MODEST
@given(
    st.sampled_from(["==", "!=", ">", ">=", "<", "<="]),
    SCALARS,
    st.lists(SCALARS, min_size=1, max_size=3),
)
def test_comparisons_of_scalars_follow_the_reference(
    op: str, written: Any, values: list[Any]
) -> None:
    if isinstance(written, bool):
        literal = Literal("boolean", written)
    elif isinstance(written, int | float):
        literal = Literal("number", written)
    else:
        literal = Literal("string", written)
    entity = stored(
        "urn:ngsi-ld:T:r",
        "T",
        x=[prop(v, datasetId=f"urn:ngsi-ld:Dataset:{i}") for i, v in enumerate(values)],
    )
    term = Comparison(Path(iri("x")), op, (literal,))
    if op == "!=":
        expected = not any(reference("==", literal, v) for v in values)
    else:
        expected = any(reference(op, literal, v) for v in values)
    assert holds(term, entity) is expected
