"""ascn.ngsild.changes: the provisioning operations as pure functions on stored entities."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ascn.errors import BadRequestData, ResourceNotFound
from ascn.ngsild.attribute import parse_attribute
from ascn.ngsild.changes import (
    UpdateReport,
    append,
    check_fragment,
    create,
    delete_attribute,
    delete_scope,
    is_null,
    merge,
    merge_instance,
    partial_update,
    replace,
    replace_attribute,
    update,
)
from ascn.ngsild.context import DEFAULT_VOCAB, NGSI_LD, core_terms
from ascn.ngsild.entity import Entity, Limits, parse_entity, parse_fragment
from ascn.ngsild.names import NULL

T = core_terms()
L = Limits()
ID = "urn:ngsi-ld:Vehicle:A4567"
DS1 = "urn:ngsi-ld:Dataset:01"
DS2 = "urn:ngsi-ld:Dataset:02"
POINT = {"type": "Point", "coordinates": [-8.5, 41.2]}


def iri(name: str) -> str:
    return DEFAULT_VOCAB + name


SPEED = iri("speed")
NAME = iri("name")
STREET = iri("street")
SOURCE = iri("source")
PROVIDED_BY = iri("providedBy")
LOCATION = NGSI_LD + "location"


def stored(raw: dict[str, Any], moment: str = "T1") -> Entity:
    return create(parse_entity({"id": ID, "type": "Vehicle", **raw}, T, L), moment)


def fragment(raw: dict[str, Any], *, partial: bool = False, nulls: bool = False) -> Entity:
    return parse_fragment(raw, T, L, partial=partial, nulls=nulls)


def instances(raw: Any, *, partial: bool = True, nulls: bool = True, geo: bool = False) -> Any:
    return parse_attribute("a", raw, T, partial=partial, nulls=nulls, geo=geo)


def by_dataset(entity: Entity, attribute: str) -> dict[str | None, dict[str, Any]]:
    return {i.get("datasetId"): i for i in entity["attrs"][attribute]}


def multi_speed() -> Entity:
    return stored(
        {
            "speed": [
                {"type": "Property", "value": 55, "source": "Feeling"},
                {"type": "Property", "value": 57, "datasetId": DS1},
                {"type": "Property", "value": 54.5, "datasetId": DS2},
            ]
        }
    )


def different_types(datasets: tuple[str | None, ...] = (None,)) -> Entity:
    def each(instance: dict[str, Any]) -> list[dict[str, Any]]:
        return [{**instance, **({"datasetId": d} if d else {})} for d in datasets]

    return stored(
        {
            "name": each({"type": "Property", "value": "Eiffel Tower"}),
            "locatedAt": each({"type": "Relationship", "object": "urn:ngsi-ld:City:Paris"}),
            "location": each({"type": "GeoProperty", "value": POINT}),
            "street": each(
                {
                    "type": "LanguageProperty",
                    "languageMap": {"fr": "Grand Place", "nl": "Grote Markt"},
                }
            ),
        }
    )


NULL_FRAGMENTS: dict[str, dict[str, Any]] = {
    "name": {"type": "Property", "value": NULL},
    "locatedAt": {"type": "Relationship", "object": NULL},
    "location": {"type": "GeoProperty", "value": NULL},
    "street": {"type": "LanguageProperty", "languageMap": {"@none": NULL}},
}


# create / replace --------------------------------------------------------------------------------


def test_create_sets_system_times_everywhere() -> None:
    raw = parse_entity(
        {"id": ID, "type": "Vehicle", "speed": {"value": 5, "source": {"value": "GPS", "x": 1}}},
        T,
        L,
    )
    created = create(raw, "T1")
    assert created["createdAt"] == created["modifiedAt"] == "T1"
    speed = created["attrs"][SPEED][0]
    assert speed["createdAt"] == speed["modifiedAt"] == "T1"
    assert speed[SOURCE]["createdAt"] == speed[SOURCE]["modifiedAt"] == "T1"
    assert speed[SOURCE][iri("x")]["createdAt"] == "T1"


def test_replace_keeps_the_entity_creation_time() -> None:
    existing = stored({"speed": 5, "brandName": "Mercedes"}, "T1")
    before = copy.deepcopy(existing)
    new = parse_entity({"id": ID, "type": ["Vehicle", "Car"], "name": "Pisa", "scope": "/a"}, T, L)
    replaced = replace(existing, new, "T2")
    assert existing == before
    assert replaced["createdAt"] == "T1"
    assert replaced["modifiedAt"] == "T2"
    assert list(replaced["attrs"]) == [NAME]
    assert replaced["attrs"][NAME][0]["createdAt"] == "T2"
    assert replaced["type"] == [iri("Vehicle"), iri("Car")]
    assert replaced["scope"] == ["/a"]


def test_replace_with_another_id_is_refused() -> None:
    existing = stored({"speed": 5})
    new = parse_entity({"id": "urn:ngsi-ld:Vehicle:other", "type": "Vehicle"}, T, L)
    with pytest.raises(BadRequestData):
        replace(existing, new, "T2")


# append ------------------------------------------------------------------------------------------


def test_append_adds_attributes() -> None:
    existing = stored({"brandName": "Mercedes"})
    before = copy.deepcopy(existing)
    entity, report = append(existing, fragment({"attribute_to_be_added": 23}), "T2")
    assert existing == before
    added = entity["attrs"][iri("attribute_to_be_added")]
    assert added == [{"type": "Property", "value": 23, "createdAt": "T2", "modifiedAt": "T2"}]
    assert report.updated == [iri("attribute_to_be_added")]
    assert report.not_updated == []
    assert report.complete
    assert report.changed
    assert entity["modifiedAt"] == "T2"
    assert entity["createdAt"] == "T1"


def test_append_overwrite_replaces_the_same_dataset_keeping_created_at() -> None:
    existing = multi_speed()
    before = copy.deepcopy(existing)
    entity, report = append(
        existing,
        fragment(
            {
                "speed": [
                    {"type": "Property", "value": 60, "datasetId": DS1},
                    {"type": "Property", "value": 56, "datasetId": "urn:ngsi-ld:Dataset:new"},
                ]
            }
        ),
        "T2",
    )
    assert existing == before
    speeds = by_dataset(entity, SPEED)
    assert set(speeds) == {None, DS1, DS2, "urn:ngsi-ld:Dataset:new"}
    assert speeds[DS1]["value"] == 60
    assert speeds[DS1]["createdAt"] == "T1"
    assert speeds[DS1]["modifiedAt"] == "T2"
    assert speeds["urn:ngsi-ld:Dataset:new"]["createdAt"] == "T2"
    assert speeds[None] == existing["attrs"][SPEED][0]
    assert speeds[DS2] == by_dataset(existing, SPEED)[DS2]
    assert entity["attrs"][SPEED][0].get("datasetId") is None
    assert report.updated == [SPEED]
    assert report.complete


def test_append_overwrite_replaces_the_whole_instance() -> None:
    existing = multi_speed()
    entity, _ = append(existing, fragment({"speed": {"type": "Property", "value": 1}}), "T2")
    default = by_dataset(entity, SPEED)[None]
    assert default["value"] == 1
    assert SOURCE not in default


def test_append_no_overwrite_keeps_the_existing_instance() -> None:
    existing = multi_speed()
    entity, report = append(
        existing,
        fragment(
            {
                "speed": {"type": "Property", "value": 99, "datasetId": DS1},
                "attribute_to_be_added": 23,
            }
        ),
        "T2",
        overwrite=False,
    )
    assert by_dataset(entity, SPEED)[DS1] == by_dataset(existing, SPEED)[DS1]
    assert [name for name, _ in report.not_updated] == [SPEED]
    assert all(reason for _, reason in report.not_updated)
    assert report.updated == [iri("attribute_to_be_added")]
    assert not report.complete


def test_append_no_overwrite_adds_new_datasets() -> None:
    existing = multi_speed()
    entity, report = append(
        existing,
        fragment(
            {"speed": {"type": "Property", "value": 56, "datasetId": "urn:ngsi-ld:Dataset:3"}}
        ),
        "T2",
        overwrite=False,
    )
    assert len(entity["attrs"][SPEED]) == 4
    assert report.complete
    assert report.updated == [SPEED]


def test_append_scope_overwrite_replaces() -> None:
    existing = stored({"scope": "/Madrid/Gardens/ParqueNorte"})
    entity, report = append(existing, fragment({"scope": "/CompanyA/OrganizationB/UnitC"}), "T2")
    assert entity["scope"] == ["/CompanyA/OrganizationB/UnitC"]
    assert report.changed


def test_append_scope_no_overwrite_is_a_union() -> None:
    existing = stored({"scope": "/Madrid/Gardens/ParqueNorte"})
    entity, _ = append(
        existing,
        fragment({"scope": ["/CompanyA/OrganizationB/UnitC", "/Madrid/Gardens/ParqueNorte"]}),
        "T2",
        overwrite=False,
    )
    assert entity["scope"] == ["/Madrid/Gardens/ParqueNorte", "/CompanyA/OrganizationB/UnitC"]


def test_append_scope_to_an_entity_without_scope() -> None:
    existing = stored({})
    entity, _ = append(existing, fragment({"scope": "/a"}), "T2", overwrite=False)
    assert entity["scope"] == ["/a"]


def test_append_types() -> None:
    existing = stored({})
    frag = fragment({})
    frag["type"] = [iri("Car"), iri("Vehicle")]
    entity, report = append(existing, frag, "T2")
    assert entity["type"] == [iri("Vehicle"), iri("Car")]
    assert report.changed


# update ------------------------------------------------------------------------------------------


def test_update_replaces_existing_instances() -> None:
    existing = multi_speed()
    before = copy.deepcopy(existing)
    entity, report = update(
        existing,
        fragment(
            {"speed": [{"type": "Property", "value": 99, "source": "Speedometer"}]}, nulls=True
        ),
        "T2",
    )
    assert existing == before
    default = by_dataset(entity, SPEED)[None]
    assert default["value"] == 99
    assert default[SOURCE]["value"] == "Speedometer"
    assert default["createdAt"] == "T1"
    assert default["modifiedAt"] == "T2"
    assert by_dataset(entity, SPEED)[DS1] == by_dataset(existing, SPEED)[DS1]
    assert report.updated == [SPEED]
    assert report.complete
    assert report.changed


def test_update_allows_a_type_change() -> None:
    existing = stored({"brandName": "Mercedes"})
    entity, _ = update(
        existing,
        fragment({"brandName": {"type": "Relationship", "object": "urn:ngsi-ld:Brand:01"}}),
        "T2",
    )
    assert entity["attrs"][iri("brandName")][0]["type"] == "Relationship"
    assert entity["attrs"][iri("brandName")][0]["object"] == "urn:ngsi-ld:Brand:01"


def test_update_reports_missing_attributes_and_instances() -> None:
    existing = stored({"speed": {"value": 5, "datasetId": DS1}})
    entity, report = update(
        existing,
        fragment({"isParked2": {"object": "urn:ngsi-ld:P:1"}, "speed": 6}),
        "T2",
    )
    assert {name for name, _ in report.not_updated} == {iri("isParked2"), SPEED}
    assert all(reason for _, reason in report.not_updated)
    assert report.updated == []
    assert not report.complete
    assert iri("isParked2") not in entity["attrs"]
    assert entity["attrs"][SPEED] == existing["attrs"][SPEED]


@pytest.mark.parametrize("name", list(NULL_FRAGMENTS))
def test_update_deletes_an_attribute_set_to_null(name: str) -> None:
    existing = different_types()
    entity, report = update(existing, fragment({name: NULL_FRAGMENTS[name]}, nulls=True), "T2")
    assert iri(name) not in entity["attrs"] and NGSI_LD + name not in entity["attrs"]
    assert len(entity["attrs"]) == 3
    assert report.complete


@pytest.mark.parametrize("name", list(NULL_FRAGMENTS))
def test_update_deletes_the_instance_set_to_null(name: str) -> None:
    existing = different_types((DS1, DS2))
    key = NGSI_LD + name if name == "location" else iri(name)
    null = {**NULL_FRAGMENTS[name], "datasetId": DS1}
    entity, _ = update(existing, fragment({name: null}, nulls=True), "T2")
    assert [i["datasetId"] for i in entity["attrs"][key]] == [DS2]


def test_update_scope_of_an_entity_with_a_scope() -> None:
    existing = stored({"scope": "/Madrid"})
    entity, report = update(existing, fragment({"scope": "/CompanyA"}), "T2")
    assert entity["scope"] == ["/CompanyA"]
    assert report.complete
    assert report.changed


def test_update_scope_of_an_entity_without_scope_is_not_updated() -> None:
    existing = stored({})
    entity, report = update(existing, fragment({"scope": "/CompanyA"}), "T2")
    assert "scope" not in entity
    assert [name for name, _ in report.not_updated] == ["scope"]


def test_update_appends_types() -> None:
    existing = stored({})
    frag = fragment({})
    frag["type"] = [iri("Vehicle"), iri("Car")]
    entity, report = update(existing, frag, "T2")
    assert entity["type"] == [iri("Vehicle"), iri("Car")]
    assert report.changed
    assert existing["type"] == [iri("Vehicle")]


# partial update ----------------------------------------------------------------------------------


def test_partial_update_merges_members() -> None:
    existing = stored(
        {
            "isParked": {
                "type": "Relationship",
                "object": "urn:ngsi-ld:OffStreetParking:Downtown1",
                "observedAt": "2017-07-29T12:00:04Z",
                "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Person:Bob"},
                "source": "camera",
            }
        }
    )
    before = copy.deepcopy(existing)
    update_fragment = instances(
        {"providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Person:JohnDoe"}}
    )
    entity = partial_update(existing, iri("isParked"), update_fragment, "T2")
    assert existing == before
    parked = entity["attrs"][iri("isParked")][0]
    assert parked["object"] == "urn:ngsi-ld:OffStreetParking:Downtown1"
    assert parked["observedAt"] == "2017-07-29T12:00:04Z"
    assert parked[PROVIDED_BY]["object"] == "urn:ngsi-ld:Person:JohnDoe"
    assert parked[PROVIDED_BY]["createdAt"] == "T1"
    assert parked[SOURCE]["value"] == "camera"
    assert parked["createdAt"] == "T1"
    assert parked["modifiedAt"] == "T2"
    assert entity["modifiedAt"] == "T2"


def test_partial_update_merges_an_existing_sub_attribute() -> None:
    existing = stored(
        {"speed": {"value": 55, "source": {"value": "GPS", "unitCode": "X1"}, "accuracy": 0.5}}
    )
    entity = partial_update(existing, SPEED, instances({"source": {"value": "Radar"}}), "T2")
    speed = entity["attrs"][SPEED][0]
    assert speed["value"] == 55
    assert speed[SOURCE]["value"] == "Radar"
    assert speed[SOURCE]["unitCode"] == "X1"
    assert speed[SOURCE]["createdAt"] == "T1"
    assert speed[SOURCE]["modifiedAt"] == "T2"
    assert speed[iri("accuracy")] == existing["attrs"][SPEED][0][iri("accuracy")]


def test_merge_with_a_concise_value_keeps_the_metadata() -> None:
    entity = merged(merge_data(), {"airQualityLevel": 7})
    level = entity["attrs"][iri("airQualityLevel")][0]
    assert level["value"] == 7
    assert level["unitCode"] == "C62"
    assert level["observedAt"] == "2020-09-09T16:40:00.000Z"


def test_partial_update_of_a_dataset_instance() -> None:
    existing = multi_speed()
    entity = partial_update(existing, SPEED, instances({"value": 56, "datasetId": DS1}), "T2")
    speeds = by_dataset(entity, SPEED)
    assert speeds[DS1]["value"] == 56
    assert speeds[None] == by_dataset(existing, SPEED)[None]
    assert speeds[DS2] == by_dataset(existing, SPEED)[DS2]


def test_partial_update_replaces_a_language_map_whole() -> None:
    existing = stored(
        {"street": {"languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}, "source": "x"}}
    )
    entity = partial_update(
        existing,
        STREET,
        instances({"languageMap": {"fr": "Grand Place", "es": "Gran Lugar"}}),
        "T2",
    )
    street = entity["attrs"][STREET][0]
    assert street["languageMap"] == {"fr": "Grand Place", "es": "Gran Lugar"}
    assert street[SOURCE]["value"] == "x"


def test_partial_update_refuses_a_type_change() -> None:
    existing = stored({"speed": 55})
    with pytest.raises(BadRequestData):
        partial_update(
            existing,
            SPEED,
            instances({"type": "Relationship", "object": "urn:ngsi-ld:Entity:01"}),
            "T2",
        )


def test_partial_update_of_a_missing_instance() -> None:
    existing = stored({"speed": {"value": 55, "datasetId": DS1}})
    with pytest.raises(ResourceNotFound):
        partial_update(existing, SPEED, instances({"value": 1}), "T2")
    with pytest.raises(ResourceNotFound):
        partial_update(existing, SPEED, instances({"value": 1, "datasetId": DS2}), "T2")
    with pytest.raises(ResourceNotFound):
        partial_update(existing, iri("isParked2"), instances({"value": 1}), "T2")


@pytest.mark.parametrize("name", list(NULL_FRAGMENTS))
def test_partial_update_with_null_deletes(name: str) -> None:
    existing = different_types()
    key = NGSI_LD + name if name == "location" else iri(name)
    entity = partial_update(existing, key, instances(NULL_FRAGMENTS[name]), "T2")
    assert key not in entity["attrs"]


# replace attribute -------------------------------------------------------------------------------


def test_replace_attribute_keeps_created_at_and_position() -> None:
    existing = multi_speed()
    before = copy.deepcopy(existing)
    entity = replace_attribute(
        existing, SPEED, instances({"type": "Property", "value": 60}, partial=False), "T2"
    )
    assert existing == before
    assert entity["attrs"][SPEED][0] == {
        "type": "Property",
        "value": 60,
        "createdAt": "T1",
        "modifiedAt": "T2",
    }
    assert entity["attrs"][SPEED][1:] == existing["attrs"][SPEED][1:]
    assert entity["modifiedAt"] == "T2"


def test_replace_attribute_allows_a_type_change() -> None:
    existing = stored({"isParked": {"object": "urn:ngsi-ld:P:1"}})
    entity = replace_attribute(
        existing,
        iri("isParked"),
        instances({"type": "Property", "value": True}, partial=False),
        "T2",
    )
    assert entity["attrs"][iri("isParked")][0]["value"] is True
    assert "object" not in entity["attrs"][iri("isParked")][0]


def test_replace_attribute_missing() -> None:
    existing = multi_speed()
    with pytest.raises(ResourceNotFound):
        replace_attribute(existing, iri("brandName"), instances(1, partial=False), "T2")
    with pytest.raises(ResourceNotFound):
        replace_attribute(
            existing, SPEED, instances({"value": 1, "datasetId": "urn:d:nope"}, partial=False), "T2"
        )


# delete attribute / scope ------------------------------------------------------------------------


def test_delete_attribute_default_instance() -> None:
    existing = multi_speed()
    before = copy.deepcopy(existing)
    entity = delete_attribute(existing, SPEED, "T2")
    assert existing == before
    assert [i.get("datasetId") for i in entity["attrs"][SPEED]] == [DS1, DS2]
    assert entity["modifiedAt"] == "T2"


def test_delete_attribute_dataset() -> None:
    entity = delete_attribute(multi_speed(), SPEED, "T2", dataset=DS2)
    assert [i.get("datasetId") for i in entity["attrs"][SPEED]] == [None, DS1]


def test_delete_attribute_all() -> None:
    entity = delete_attribute(multi_speed(), SPEED, "T2", every=True)
    assert entity["attrs"] == {}


def test_delete_attribute_last_instance_removes_the_attribute() -> None:
    entity = delete_attribute(stored({"speed": 1}), SPEED, "T2")
    assert SPEED not in entity["attrs"]


def test_delete_attribute_not_found() -> None:
    with pytest.raises(ResourceNotFound):
        delete_attribute(multi_speed(), iri("notFound"), "T2")
    with pytest.raises(ResourceNotFound):
        delete_attribute(multi_speed(), SPEED, "T2", dataset="urn:ngsi-ld:Property:notFound")
    with pytest.raises(ResourceNotFound):
        delete_attribute(stored({"speed": {"value": 1, "datasetId": DS1}}), SPEED, "T2")


def test_delete_scope() -> None:
    existing = stored({"scope": "/a"})
    before = copy.deepcopy(existing)
    entity = delete_scope(existing, "T2")
    assert existing == before
    assert "scope" not in entity
    assert entity["modifiedAt"] == "T2"
    with pytest.raises(ResourceNotFound):
        delete_scope(entity, "T3")


# merge -------------------------------------------------------------------------------------------


def merge_data() -> Entity:
    return stored(
        {
            "name": "Eiffel Tower",
            "subCategory": "tourism",
            "airQualityLevel": {
                "type": "Property",
                "value": 4,
                "unitCode": "C62",
                "observedAt": "2020-09-09T16:40:00.000Z",
                "accuracy": {"value": 0.1, "unitCode": "P1"},
            },
            "almostFull": False,
        }
    )


def merged(existing: Entity, raw: dict[str, Any], moment: str = "T2") -> Entity:
    return merge(existing, fragment(raw, partial=True, nulls=True), moment)


def test_merge_with_nothing_changes_no_attribute() -> None:
    existing = merge_data()
    entity = merged(existing, {})
    assert entity["attrs"] == existing["attrs"]


def test_merge_adds_attributes() -> None:
    existing = merge_data()
    before = copy.deepcopy(existing)
    entity = merged(
        existing, {"locatedAt": {"type": "Relationship", "object": "urn:ngsi-ld:City:Paris"}}
    )
    assert existing == before
    assert entity["attrs"][iri("locatedAt")] == [
        {
            "type": "Relationship",
            "object": "urn:ngsi-ld:City:Paris",
            "createdAt": "T2",
            "modifiedAt": "T2",
        }
    ]
    assert entity["modifiedAt"] == "T2"


def test_merge_keeps_unit_code_when_only_value_and_observed_at_are_given() -> None:
    existing = merge_data()
    entity = merged(
        existing,
        {
            "airQualityLevel": {
                "type": "Property",
                "value": 1,
                "observedAt": "2024-01-01T00:00:00.000Z",
                "accuracy": {"value": 0.2},
            }
        },
    )
    level = entity["attrs"][iri("airQualityLevel")][0]
    assert level["value"] == 1
    assert level["unitCode"] == "C62"
    assert level["observedAt"] == "2024-01-01T00:00:00.000Z"
    assert level["createdAt"] == "T1"
    assert level["modifiedAt"] == "T2"
    accuracy = level[iri("accuracy")]
    assert accuracy["value"] == 0.2
    assert accuracy["unitCode"] == "P1"
    assert accuracy["createdAt"] == "T1"
    assert accuracy["modifiedAt"] == "T2"


def test_merge_changes_values_and_keeps_the_others() -> None:
    existing = merge_data()
    entity = merged(existing, {"name": "Pisa Tower", "almostFull": True})
    assert entity["attrs"][NAME][0]["value"] == "Pisa Tower"
    assert entity["attrs"][iri("almostFull")][0]["value"] is True
    assert entity["attrs"][iri("subCategory")] == existing["attrs"][iri("subCategory")]


def test_merge_sub_attribute_set_to_null_is_deleted() -> None:
    existing = merge_data()
    entity = merged(existing, {"airQualityLevel": {"accuracy": {"value": NULL}}})
    level = entity["attrs"][iri("airQualityLevel")][0]
    assert iri("accuracy") not in level
    assert level["value"] == 4


def test_merge_member_set_to_null_is_deleted() -> None:
    existing = merge_data()
    entity = merged(existing, {"airQualityLevel": {"unitCode": NULL}})
    level = entity["attrs"][iri("airQualityLevel")][0]
    assert "unitCode" not in level
    assert level["value"] == 4


@pytest.mark.parametrize("name", list(NULL_FRAGMENTS))
def test_merge_null_deletes_the_attribute(name: str) -> None:
    existing = different_types()
    key = NGSI_LD + name if name == "location" else iri(name)
    entity = merged(existing, {name: NULL_FRAGMENTS[name]})
    assert key not in entity["attrs"]
    assert len(entity["attrs"]) == 3


@pytest.mark.parametrize("name", list(NULL_FRAGMENTS))
def test_merge_null_with_a_dataset_deletes_that_instance(name: str) -> None:
    existing = different_types((DS1, DS2))
    key = NGSI_LD + name if name == "location" else iri(name)
    entity = merged(existing, {name: {**NULL_FRAGMENTS[name], "datasetId": DS1}})
    assert [i["datasetId"] for i in entity["attrs"][key]] == [DS2]


@pytest.mark.parametrize("name", list(NULL_FRAGMENTS))
def test_merge_null_without_dataset_deletes_the_default_instance(name: str) -> None:
    existing = different_types((None, DS1))
    key = NGSI_LD + name if name == "location" else iri(name)
    entity = merged(existing, {name: NULL_FRAGMENTS[name]})
    assert [i.get("datasetId") for i in entity["attrs"][key]] == [DS1]


def test_merge_new_attribute_without_type_is_refused() -> None:
    with pytest.raises(BadRequestData):
        merged(merge_data(), {"brandNew": {"observedAt": "2024-01-01T00:00:00Z"}})


def test_merge_new_attribute_drops_null_sub_attributes() -> None:
    entity = merged(merge_data(), {"brandNew": {"value": 1, "gone": NULL, "kept": 2}})
    added = entity["attrs"][iri("brandNew")][0]
    assert iri("gone") not in added
    assert added[iri("kept")]["value"] == 2
    assert added[iri("kept")]["createdAt"] == "T2"


def test_merge_scope_and_types() -> None:
    existing = stored({"scope": "/a"})
    frag = fragment({"scope": "/b"}, partial=True, nulls=True)
    frag["type"] = [iri("Car")]
    entity = merge(existing, frag, "T2")
    assert entity["scope"] == ["/b"]
    assert entity["type"] == [iri("Vehicle"), iri("Car")]


def test_merge_does_not_mutate_the_fragment() -> None:
    frag = fragment(
        {"brandNew": {"value": 1, "providedBy": {"object": "urn:ngsi-ld:P:1"}}},
        partial=True,
        nulls=True,
    )
    before = copy.deepcopy(frag)
    merge(merge_data(), frag, "T2")
    assert frag == before


def test_merging_one_fragment_into_two_entities_stamps_each_with_its_own_time() -> None:
    frag = fragment(
        {"brandNew": {"value": 1, "providedBy": {"object": "urn:ngsi-ld:P:1"}}},
        partial=True,
        nulls=True,
    )
    merge(merge_data(), frag, "T2")
    second = merge(merge_data(), frag, "T3")
    added = second["attrs"][iri("brandNew")][0]
    assert added["createdAt"] == "T3"
    assert added[PROVIDED_BY]["createdAt"] == "T3"


def test_merge_instance_changes_the_type_with_a_value() -> None:
    current = {"type": "Property", "value": 1, "createdAt": "T1", "modifiedAt": "T1"}
    result = merge_instance(current, {"type": "Relationship", "object": "urn:a:b"}, "T2")
    assert result == {
        "type": "Relationship",
        "object": "urn:a:b",
        "createdAt": "T1",
        "modifiedAt": "T2",
    }
    assert current["type"] == "Property"
    with pytest.raises(BadRequestData):
        merge_instance(current, {"type": "Relationship"}, "T2")
    with pytest.raises(BadRequestData):
        merge_instance(current, {"type": "Relationship", "object": "urn:a:b"}, "T2", retype=False)


# helpers -----------------------------------------------------------------------------------------


def test_is_null() -> None:
    assert is_null({"type": "Property", "value": NULL})
    assert is_null({"value": NULL})
    assert is_null({"type": "Relationship", "object": NULL})
    assert is_null({"type": "GeoProperty", "value": NULL})
    assert is_null({"type": "LanguageProperty", "languageMap": {"@none": NULL}})
    assert is_null({"type": "VocabProperty", "vocab": NULL})
    assert is_null({"type": "JsonProperty", "json": NULL})
    assert not is_null({"type": "LanguageProperty", "languageMap": {"@none": NULL, "fr": "x"}})
    assert not is_null({"type": "LanguageProperty", "languageMap": {}})
    assert not is_null({"type": "Property", "value": "urn:ngsi-ld:nul"})
    assert not is_null({"type": "Relationship", "object": "urn:ngsi-ld:X:1"})
    assert not is_null({"observedAt": "2024-01-01T00:00:00Z"})


def test_check_fragment() -> None:
    with pytest.raises(BadRequestData):
        check_fragment({"attrs": {}})
    check_fragment({"attrs": {}, "scope": ["/a"]})
    check_fragment({"attrs": {}, "type": [iri("T")]})
    check_fragment({"attrs": {SPEED: [{"type": "Property", "value": 1}]}})
    with pytest.raises(BadRequestData):
        check_fragment({"attrs": {SPEED: [{"value": 1}, {"value": 2}]}})


def test_update_report_defaults() -> None:
    report = UpdateReport()
    assert report.complete
    assert not report.changed
    report.not_updated.append(("x", "why"))
    assert not report.complete


# no operation changes what it is given -----------------------------------------------------------


def rich() -> Entity:
    return stored(
        {
            "scope": ["/a", "/b"],
            "speed": [
                {"type": "Property", "value": {"kmh": 55}, "source": {"value": ["GPS"]}},
                {"type": "Property", "value": 57, "datasetId": DS1},
            ],
            "street": {"languageMap": {"fr": "Grand Place"}},
            "doc": {"type": "JsonProperty", "json": {"a": [1, {"b": None}]}},
        }
    )


OPERATIONS: dict[str, Any] = {
    "replace": lambda e: replace(e, parse_entity({"id": ID, "type": "Car", "x": 1}, T, L), "T2"),
    "append": lambda e: append(e, fragment({"speed": {"value": {"kmh": 1}}, "new": 1}), "T2"),
    "append-no-overwrite": lambda e: append(
        e, fragment({"speed": 1, "scope": "/c"}), "T2", overwrite=False
    ),
    "update": lambda e: update(e, fragment({"speed": {"value": 2, "source": "x"}}), "T2"),
    "update-null": lambda e: update(e, fragment({"speed": NULL}, nulls=True), "T2"),
    "partial-update": lambda e: partial_update(
        e, SPEED, instances({"value": [3], "source": {"value": "y"}, "unitCode": "KMH"}), "T2"
    ),
    "replace-attribute": lambda e: replace_attribute(
        e, SPEED, instances({"value": 4}, partial=False), "T2"
    ),
    "delete-attribute": lambda e: delete_attribute(e, SPEED, "T2"),
    "delete-all": lambda e: delete_attribute(e, SPEED, "T2", every=True),
    "delete-scope": lambda e: delete_scope(e, "T2"),
    "merge": lambda e: merge(
        e,
        fragment(
            {
                "speed": {"value": 5, "source": {"value": "z"}, "extra": 1},
                "street": {"languageMap": {"@none": NULL}},
                "scope": "/z",
            },
            partial=True,
            nulls=True,
        ),
        "T2",
    ),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_operations_do_not_change_the_existing_entity(operation: str) -> None:
    existing = rich()
    before = copy.deepcopy(existing)
    result = OPERATIONS[operation](existing)
    assert existing == before
    changed = result[0] if isinstance(result, tuple) else result
    assert changed["modifiedAt"] == "T2"
    assert changed is not existing


@pytest.mark.parametrize("operation", ["append", "update"])
def test_append_and_update_do_not_change_the_fragment(operation: str) -> None:
    frag = fragment({"speed": {"value": 1, "source": {"value": "x", "deeper": 2}}})
    before = copy.deepcopy(frag)
    function = append if operation == "append" else update
    function(multi_speed(), frag, "T2")
    assert frag == before


def test_partial_update_and_replace_attribute_do_not_change_the_fragment() -> None:
    frag = instances({"value": 1, "source": {"value": "x", "deeper": 2}, "brandNew": 3})
    before = copy.deepcopy(frag)
    partial_update(multi_speed(), SPEED, frag, "T2")
    assert frag == before
    replace_frag = instances({"value": 1, "source": {"value": "x"}}, partial=False)
    before = copy.deepcopy(replace_frag)
    replace_attribute(multi_speed(), SPEED, replace_frag, "T2")
    assert replace_frag == before
