"""ascn.ngsild.attribute: attributes from normalized and concise payloads to the stored form."""

from __future__ import annotations

from typing import Any

import pytest

from ascn.errors import BadRequestData
from ascn.ngsild.attribute import (
    check_datasets,
    parse_attribute,
    parse_instance,
    sort_instances,
    stamp,
    sub_attributes,
)
from ascn.ngsild.context import DEFAULT_VOCAB, NGSI_LD, build_term_map, core_terms
from ascn.ngsild.names import NULL

T = core_terms()
POINT = {"type": "Point", "coordinates": [13.3986, 52.5547]}
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


def one(name: str, raw: Any, **options: bool) -> dict[str, Any]:
    instances = parse_attribute(name, raw, T, **options)
    assert len(instances) == 1
    return instances[0]


# normalized form, every attribute type -----------------------------------------------------------


@pytest.mark.parametrize("value", [1, 2.5, "text", True, False, [1, "a"], {"a": {"b": [1]}}, 0, ""])
def test_property(value: Any) -> None:
    assert one("p", {"type": "Property", "value": value}) == {"type": "Property", "value": value}


def test_relationship() -> None:
    raw = {"type": "Relationship", "object": "urn:ngsi-ld:City:Paris"}
    assert one("r", raw) == raw


def test_relationship_with_a_list_of_objects() -> None:
    raw = {"type": "Relationship", "object": ["urn:ngsi-ld:City:Paris", "urn:ngsi-ld:City:Rome"]}
    assert one("r", raw) == raw


def test_relationship_object_type_is_expanded() -> None:
    raw = {"type": "Relationship", "object": "urn:ngsi-ld:City:Paris", "objectType": "City"}
    assert one("r", raw)["objectType"] == DEFAULT_VOCAB + "City"


@pytest.mark.parametrize("geometry", [POINT, SQUARE])
def test_geoproperty(geometry: dict[str, Any]) -> None:
    raw = {"type": "GeoProperty", "value": geometry}
    assert one("g", raw) == raw


def test_language_property() -> None:
    raw = {
        "type": "LanguageProperty",
        "languageMap": {
            "fr": "Grand Place",
            "nl": "Grote Markt",
            "@none": "Markt",
            "en": ["a", "b"],
        },
    }
    assert one("street", raw) == raw


@pytest.mark.parametrize("language_map", [{"fr": 5}, ["fr"], "Grand Place", {"fr": [1]}])
def test_language_property_refuses_non_string_texts(language_map: Any) -> None:
    with pytest.raises(BadRequestData):
        one("street", {"type": "LanguageProperty", "languageMap": language_map})


def test_vocab_property_expands_its_vocab() -> None:
    raw = {"type": "VocabProperty", "vocab": "monument"}
    assert one("v", raw) == {"type": "VocabProperty", "vocab": DEFAULT_VOCAB + "monument"}


def test_vocab_property_list_and_user_context() -> None:
    terms = build_term_map({"monument": "https://example.org/monument"}, lambda url: None)
    raw = {"type": "VocabProperty", "vocab": ["monument", "sightseeing", "Property"]}
    assert parse_instance("v", raw, terms)["vocab"] == [
        "https://example.org/monument",
        DEFAULT_VOCAB + "sightseeing",
        NGSI_LD + "Property",
    ]


@pytest.mark.parametrize("vocab", ["", [], 5, [1], {"a": "b"}])
def test_vocab_property_refuses_what_is_not_terms(vocab: Any) -> None:
    with pytest.raises(BadRequestData):
        one("v", {"type": "VocabProperty", "vocab": vocab})


@pytest.mark.parametrize(
    "json",
    [
        {"id": "some-id", "type": "some-type", "null": None, "anythingElse": "anything-else"},
        [{"id": "a", "x": None}, {"id": "b", "nested": {"type": "Property", "value": None}}],
        {"value": 120},
    ],
)
def test_json_property_keeps_its_json_verbatim(json: Any) -> None:
    raw = {"type": "JsonProperty", "json": json}
    parsed = one("j", raw)
    assert parsed == {"type": "JsonProperty", "json": json}
    assert parsed["json"] == json


def test_list_property() -> None:
    raw = {"type": "ListProperty", "valueList": [1, "two", {"three": 3}]}
    assert one("l", raw) == raw


def test_list_property_needs_an_array() -> None:
    with pytest.raises(BadRequestData):
        one("l", {"type": "ListProperty", "valueList": 5})


def test_list_relationship() -> None:
    raw = {
        "type": "ListRelationship",
        "objectList": [{"object": "urn:ngsi-ld:Player:A"}, {"object": "urn:ngsi-ld:Player:B"}],
    }
    assert one("l", raw) == raw


@pytest.mark.parametrize("object_list", [5, ["not a uri"], [{"object": "nope"}], [{"x": 1}]])
def test_list_relationship_refuses_non_uris(object_list: Any) -> None:
    with pytest.raises(BadRequestData):
        one("l", {"type": "ListRelationship", "objectList": object_list})


# concise form ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [5, 2.5, "text", True, [1, 2], "urn:ngsi-ld:City:Paris"])
def test_concise_bare_value_is_a_property(value: Any) -> None:
    assert one("p", value) == {"type": "Property", "value": value}


def test_concise_value_member_is_a_property() -> None:
    assert one("p", {"value": 3, "unitCode": "CEL"}) == {
        "type": "Property",
        "value": 3,
        "unitCode": "CEL",
    }


def test_concise_object_member_is_a_relationship() -> None:
    assert one("r", {"object": "urn:ngsi-ld:City:Paris"}) == {
        "type": "Relationship",
        "object": "urn:ngsi-ld:City:Paris",
    }


def test_concise_language_map() -> None:
    assert one("s", {"languageMap": {"fr": "Grand Place"}}) == {
        "type": "LanguageProperty",
        "languageMap": {"fr": "Grand Place"},
    }


def test_concise_vocab() -> None:
    assert one("v", {"vocab": "monument"}) == {
        "type": "VocabProperty",
        "vocab": DEFAULT_VOCAB + "monument",
    }


def test_concise_json() -> None:
    assert one("j", {"json": {"id": "x", "n": None}}) == {
        "type": "JsonProperty",
        "json": {"id": "x", "n": None},
    }


def test_concise_value_list() -> None:
    assert one("l", {"valueList": [1, 2]}) == {"type": "ListProperty", "valueList": [1, 2]}


def test_concise_object_list() -> None:
    raw = {"objectList": [{"object": "urn:ngsi-ld:P:1"}]}
    assert one("l", raw) == {"type": "ListRelationship", "objectList": raw["objectList"]}


@pytest.mark.parametrize("geometry", [POINT, SQUARE])
def test_concise_bare_geometry_is_a_geoproperty(geometry: dict[str, Any]) -> None:
    assert one("area", geometry) == {"type": "GeoProperty", "value": geometry}


def test_concise_value_that_is_a_geometry_is_a_geoproperty() -> None:
    assert one("area", {"value": POINT}) == {"type": "GeoProperty", "value": POINT}


def test_concise_bare_invalid_geometry_is_refused() -> None:
    with pytest.raises(BadRequestData):
        one("area", {"type": "Point", "coordinates": [0, 95]})


def test_concise_object_without_value_is_a_property_with_an_object_value() -> None:
    assert one("address", {"street": "Main", "number": 5}) == {
        "type": "Property",
        "value": {"street": "Main", "number": 5},
    }


def test_concise_sub_attributes() -> None:
    parsed = one(
        "speed", {"value": 55, "source": "GPS", "providedBy": {"object": "urn:ngsi-ld:P:1"}}
    )
    assert parsed == {
        "type": "Property",
        "value": 55,
        DEFAULT_VOCAB + "source": {"type": "Property", "value": "GPS"},
        DEFAULT_VOCAB + "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:P:1"},
    }


# geo attributes ----------------------------------------------------------------------------------


def test_geo_attribute_from_a_bare_geometry() -> None:
    assert one("location", POINT, geo=True) == {"type": "GeoProperty", "value": POINT}


def test_geo_attribute_from_a_value_member() -> None:
    assert one("location", {"value": POINT}, geo=True) == {"type": "GeoProperty", "value": POINT}


@pytest.mark.parametrize(
    "raw",
    [
        5,
        "here",
        {"type": "Property", "value": POINT},
        {"type": "Relationship", "object": "urn:a:b"},
    ],
)
def test_geo_attribute_must_be_a_geoproperty(raw: Any) -> None:
    with pytest.raises(BadRequestData):
        one("location", raw, geo=True)


# sub-attributes and metadata ---------------------------------------------------------------------


def test_normalized_sub_attributes_are_expanded_and_parsed() -> None:
    raw = {
        "type": "Relationship",
        "object": "urn:ngsi-ld:OffStreetParking:Downtown1",
        "observedAt": "2017-07-29T12:00:04Z",
        "providedBy": {
            "type": "Relationship",
            "object": "urn:ngsi-ld:Person:Bob",
            "since": {"type": "Property", "value": 2017},
        },
        "https://example.org/quality": {"type": "Property", "value": 0.9},
        "ex:confidence": 0.5,
    }
    assert one("isParked", raw) == {
        "type": "Relationship",
        "object": "urn:ngsi-ld:OffStreetParking:Downtown1",
        "observedAt": "2017-07-29T12:00:04Z",
        DEFAULT_VOCAB + "providedBy": {
            "type": "Relationship",
            "object": "urn:ngsi-ld:Person:Bob",
            DEFAULT_VOCAB + "since": {"type": "Property", "value": 2017},
        },
        "https://example.org/quality": {"type": "Property", "value": 0.9},
        "ex:confidence": {"type": "Property", "value": 0.5},
    }


def test_sub_attributes_helper() -> None:
    parsed = one("p", {"type": "Property", "value": 1, "unitCode": "CEL", "quality": 2})
    assert sub_attributes(parsed) == {DEFAULT_VOCAB + "quality": {"type": "Property", "value": 2}}


def test_metadata_is_kept() -> None:
    raw = {
        "type": "Property",
        "value": 20,
        "observedAt": "2020-09-09T16:40:00.000Z",
        "unitCode": "CEL",
        "datasetId": "urn:ngsi-ld:Dataset:1",
    }
    assert one("t", raw) == raw


@pytest.mark.parametrize("observed", ["2020-09-09", "yesterday", 5, None, ""])
def test_invalid_observed_at(observed: Any) -> None:
    with pytest.raises(BadRequestData):
        one("t", {"type": "Property", "value": 1, "observedAt": observed})


@pytest.mark.parametrize("unit", [5, "", None, ["CEL"]])
def test_invalid_unit_code(unit: Any) -> None:
    with pytest.raises(BadRequestData):
        one("t", {"type": "Property", "value": 1, "unitCode": unit})


@pytest.mark.parametrize("dataset", ["dataset1", "", 5, None, "urn:x y"])
def test_invalid_dataset_id(dataset: Any) -> None:
    with pytest.raises(BadRequestData):
        one("t", {"type": "Property", "value": 1, "datasetId": dataset})


def test_invalid_sub_attribute_metadata() -> None:
    with pytest.raises(BadRequestData):
        one("t", {"type": "Property", "value": 1, "quality": {"value": 1, "observedAt": "nope"}})


def test_client_system_times_are_dropped() -> None:
    raw = {
        "type": "Property",
        "value": 1,
        "createdAt": "2000-01-01T00:00:00Z",
        "modifiedAt": "2000-01-01T00:00:00Z",
        "quality": {"value": 2, "createdAt": "2000-01-01T00:00:00Z"},
    }
    assert one("p", raw) == {
        "type": "Property",
        "value": 1,
        DEFAULT_VOCAB + "quality": {"type": "Property", "value": 2},
    }


@pytest.mark.parametrize("reserved", ["id", "scope"])
def test_reserved_sub_attribute_names_are_refused(reserved: str) -> None:
    with pytest.raises(BadRequestData):
        one("p", {"type": "Property", "value": 1, reserved: {"type": "Property", "value": 2}})


@pytest.mark.parametrize("bad", ["@id", "a b", "a=b", "a;b", "a(b"])
def test_invalid_sub_attribute_names_are_refused(bad: str) -> None:
    with pytest.raises(BadRequestData):
        one("p", {"type": "Property", "value": 1, bad: {"type": "Property", "value": 2}})


def test_a_value_member_of_another_type_is_refused() -> None:
    with pytest.raises(BadRequestData):
        one("p", {"type": "Property", "value": 1, "object": "urn:ngsi-ld:X:1"})


# refusals ----------------------------------------------------------------------------------------


def test_floodmonitoring_style_string_type_is_refused() -> None:
    with pytest.raises(BadRequestData):
        one("waterLevel", {"type": "string", "value": "1.2"})


@pytest.mark.parametrize("kind", ["Number", "Text", "property", "geo:json", "StructuredValue"])
def test_unknown_attribute_types_are_refused(kind: str) -> None:
    with pytest.raises(BadRequestData):
        one("a", {"type": kind, "value": 1})


@pytest.mark.parametrize(
    "raw",
    [
        None,
        {"type": "Property", "value": None},
        {"value": None},
        {"type": "Relationship", "object": None},
        {"type": "GeoProperty", "value": None},
        {"type": "JsonProperty", "json": None},
    ],
)
def test_json_null_values_are_refused(raw: Any) -> None:
    with pytest.raises(BadRequestData):
        one("a", raw)


@pytest.mark.parametrize("target", ["Paris", "", 5, ["urn:a:b", "nope"], [], {"id": "urn:a:b"}])
def test_relationship_object_must_be_a_uri(target: Any) -> None:
    with pytest.raises(BadRequestData):
        one("r", {"type": "Relationship", "object": target})


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "Property"},
        {"type": "Relationship"},
        {"type": "GeoProperty"},
        {"type": "LanguageProperty"},
        {"type": "VocabProperty"},
        {"type": "JsonProperty"},
        {"type": "ListProperty"},
        {"type": "ListRelationship"},
    ],
)
def test_a_type_without_its_value_member_is_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(BadRequestData):
        one("a", raw)


def test_invalid_geoproperty_value_is_refused() -> None:
    with pytest.raises(BadRequestData):
        one("g", {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [0, 95]}})


@pytest.mark.parametrize(
    "raw",
    [
        {"type": ["Property"], "value": 1},
        {"type": {"Property": 1}, "value": 1},
        {"type": "Property", "value": 1, "quality": {"type": ["Property"], "value": 2}},
        [{"type": ["Property"], "value": 1}, {"type": "Property", "value": 2}],
    ],
)
def test_an_unhashable_type_member_is_bad_request_data(raw: Any) -> None:
    with pytest.raises(BadRequestData):
        parse_attribute("a", raw, T)


def test_a_value_object_with_an_unhashable_type_is_a_property_value() -> None:
    value = {"type": ["Point"], "coordinates": [1, 2]}
    assert one("a", {"value": value}) == {"type": "Property", "value": value}


# NGSI-LD Null ------------------------------------------------------------------------------------


def test_ngsi_ld_null_geoproperty_is_refused_by_default() -> None:
    with pytest.raises(BadRequestData):
        one("location", {"type": "GeoProperty", "value": NULL}, geo=True)
    with pytest.raises(BadRequestData):
        one("area", {"type": "GeoProperty", "value": NULL})


@pytest.mark.parametrize("option", ["nulls", "partial"])
def test_ngsi_ld_null_geoproperty_is_accepted_with_nulls_or_partial(option: str) -> None:
    raw = {"type": "GeoProperty", "value": NULL}
    assert one("location", raw, geo=True, **{option: True}) == raw
    assert one("area", raw, **{option: True}) == raw


def test_ngsi_ld_null_in_other_types_with_nulls() -> None:
    assert one("r", {"type": "Relationship", "object": NULL}, nulls=True)["object"] == NULL
    assert one("p", {"type": "Property", "value": NULL}, nulls=True)["value"] == NULL
    language = {"type": "LanguageProperty", "languageMap": {"@none": NULL}}
    assert one("s", language, nulls=True) == language


# partial -----------------------------------------------------------------------------------------


def test_partial_allows_an_instance_with_only_a_sub_attribute() -> None:
    parsed = one(
        "p", {"providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:P:1"}}, partial=True
    )
    assert parsed == {
        DEFAULT_VOCAB + "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:P:1"}
    }


def test_partial_allows_an_instance_with_only_metadata() -> None:
    parsed = one("p", {"observedAt": "2024-01-01T00:00:00Z", "datasetId": "urn:d:1"}, partial=True)
    assert parsed == {"observedAt": "2024-01-01T00:00:00Z", "datasetId": "urn:d:1"}


def test_partial_allows_a_type_without_value() -> None:
    assert one("p", {"type": "Property", "unitCode": "CEL"}, partial=True) == {
        "type": "Property",
        "unitCode": "CEL",
    }


def test_without_partial_an_object_without_value_is_a_concise_property() -> None:
    raw = {"providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:P:1"}}
    assert one("p", raw) == {"type": "Property", "value": raw}


def test_partial_still_validates() -> None:
    with pytest.raises(BadRequestData):
        one("p", {"type": "Relationship", "object": "nope"}, partial=True)
    with pytest.raises(BadRequestData):
        one("p", {"observedAt": "nope"}, partial=True)


# multi-instances ---------------------------------------------------------------------------------


def test_multi_instances_default_first() -> None:
    raw = [
        {"type": "Property", "value": 55, "datasetId": "urn:ngsi-ld:Dataset:speedometer"},
        {"type": "Property", "value": 54.5, "datasetId": "urn:ngsi-ld:Dataset:gps"},
        {"type": "Property", "value": 50},
    ]
    assert parse_attribute("speed", raw, T) == [
        {"type": "Property", "value": 50},
        {"type": "Property", "value": 55, "datasetId": "urn:ngsi-ld:Dataset:speedometer"},
        {"type": "Property", "value": 54.5, "datasetId": "urn:ngsi-ld:Dataset:gps"},
    ]


def test_multi_instances_in_concise_form() -> None:
    raw = [
        {"value": 1, "datasetId": "urn:d:1"},
        {"object": "urn:ngsi-ld:X:1", "datasetId": "urn:d:2"},
    ]
    assert parse_attribute("a", raw, T) == [
        {"type": "Property", "value": 1, "datasetId": "urn:d:1"},
        {"type": "Relationship", "object": "urn:ngsi-ld:X:1", "datasetId": "urn:d:2"},
    ]


def test_multi_instances_duplicate_dataset_id_is_refused() -> None:
    raw = [
        {"type": "Property", "value": 1, "datasetId": "urn:d:1"},
        {"type": "Property", "value": 2, "datasetId": "urn:d:1"},
    ]
    with pytest.raises(BadRequestData):
        parse_attribute("a", raw, T)


def test_multi_instances_two_default_instances_are_refused() -> None:
    raw = [{"type": "Property", "value": 1}, {"type": "Property", "value": 2}]
    with pytest.raises(BadRequestData):
        parse_attribute("a", raw, T)


def test_a_list_of_plain_values_is_one_property() -> None:
    assert parse_attribute("a", [1, 2, 3], T) == [{"type": "Property", "value": [1, 2, 3]}]
    assert parse_attribute("a", [{"x": 1}], T) == [{"type": "Property", "value": [{"x": 1}]}]


def test_an_empty_list_is_one_property() -> None:
    assert parse_attribute("a", [], T) == [{"type": "Property", "value": []}]


def test_check_datasets_and_sort_instances() -> None:
    check_datasets("a", [{"datasetId": "urn:d:1"}, {}, {"datasetId": "urn:d:2"}])
    with pytest.raises(BadRequestData):
        check_datasets("a", [{}, {}])
    ordered = sort_instances([{"datasetId": "urn:d:1"}, {"datasetId": "urn:d:2"}, {"value": 0}])
    assert ordered == [{"value": 0}, {"datasetId": "urn:d:1"}, {"datasetId": "urn:d:2"}]


# stamp -------------------------------------------------------------------------------------------


def test_stamp_sets_times_on_the_instance_and_its_sub_attributes() -> None:
    instance = one("p", {"value": 1, "quality": {"value": 2, "rating": {"value": 3}}})
    stamp(instance, "T1")
    assert instance["createdAt"] == instance["modifiedAt"] == "T1"
    q = instance[DEFAULT_VOCAB + "quality"]
    assert q["createdAt"] == q["modifiedAt"] == "T1"
    assert q[DEFAULT_VOCAB + "rating"]["createdAt"] == "T1"


def test_stamp_keeps_a_creation_time() -> None:
    instance: dict[str, Any] = {
        "type": "Property",
        "value": 1,
        "ex:q": {"type": "Property", "value": 2, "createdAt": "T0"},
    }
    stamp(instance, "T2", "T1")
    assert instance["createdAt"] == "T1"
    assert instance["modifiedAt"] == "T2"
    assert instance["ex:q"]["createdAt"] == "T0"
    assert instance["ex:q"]["modifiedAt"] == "T2"
