"""ascn.ngsild.entity: entities and fragments from a client's payload, with the payload limits."""

from __future__ import annotations

from typing import Any

import pytest

from ascn.errors import BadRequestData, PayloadTooLarge
from ascn.ngsild.context import DEFAULT_VOCAB, NGSI_LD, build_term_map, core_terms
from ascn.ngsild.entity import (
    Limits,
    check_nesting,
    check_size,
    instances_of,
    parse_entity,
    parse_fragment,
    parse_scope,
    parse_types,
)

T = core_terms()
L = Limits()
ID = "urn:ngsi-ld:Building:store001"
POINT = {"type": "Point", "coordinates": [13.3986, 52.5547]}


def test_valid_entity() -> None:
    raw = {
        "id": ID,
        "type": "Building",
        "scope": "/Madrid/Gardens",
        "name": {"type": "Property", "value": "Eiffel Tower"},
        "locatedAt": {"type": "Relationship", "object": "urn:ngsi-ld:City:Paris"},
        "location": {"type": "GeoProperty", "value": POINT},
        "@context": ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"],
    }
    assert parse_entity(raw, T, L) == {
        "id": ID,
        "type": [DEFAULT_VOCAB + "Building"],
        "scope": ["/Madrid/Gardens"],
        "attrs": {
            DEFAULT_VOCAB + "name": [{"type": "Property", "value": "Eiffel Tower"}],
            DEFAULT_VOCAB + "locatedAt": [
                {"type": "Relationship", "object": "urn:ngsi-ld:City:Paris"}
            ],
            NGSI_LD + "location": [{"type": "GeoProperty", "value": POINT}],
        },
    }


def test_entity_without_attributes() -> None:
    assert parse_entity({"id": ID, "type": "Building"}, T, L) == {
        "id": ID,
        "type": [DEFAULT_VOCAB + "Building"],
        "attrs": {},
    }


def test_entity_with_a_user_context() -> None:
    terms = build_term_map(
        {"Building": "https://example.org/Building", "name": "https://example.org/name"},
        lambda url: None,
    )
    entity = parse_entity({"id": ID, "type": "Building", "name": "x"}, terms, L)
    assert entity["type"] == ["https://example.org/Building"]
    assert list(entity["attrs"]) == ["https://example.org/name"]


def test_the_input_is_not_mutated() -> None:
    raw = {"id": ID, "type": ["Building"], "speed": {"value": 5, "source": "GPS"}}
    before = repr(raw)
    parse_entity(raw, T, L)
    assert repr(raw) == before


@pytest.mark.parametrize("raw", [None, 5, "urn:ngsi-ld:X:1", [], [{"id": ID, "type": "T"}]])
def test_an_entity_must_be_an_object(raw: Any) -> None:
    with pytest.raises(BadRequestData):
        parse_entity(raw, T, L)


def test_missing_id() -> None:
    with pytest.raises(BadRequestData):
        parse_entity({"type": "Building"}, T, L)


@pytest.mark.parametrize("bad", ["thisisaninvaliduri", "", 5, None, ["urn:a:b"], "urn:ngsi-ld:X 1"])
def test_non_uri_id(bad: Any) -> None:
    with pytest.raises(BadRequestData):
        parse_entity({"id": bad, "type": "Building"}, T, L)


@pytest.mark.parametrize("raw", [{"id": ID}, {"id": ID, "type": None}, {"id": ID, "type": []}])
def test_missing_type(raw: dict[str, Any]) -> None:
    with pytest.raises(BadRequestData):
        parse_entity(raw, T, L)


@pytest.mark.parametrize("keyword_type", ["type", "id", ["Building", "type"]])
def test_type_that_expands_to_a_keyword_is_refused(keyword_type: Any) -> None:
    with pytest.raises(BadRequestData):
        parse_entity({"id": ID, "type": keyword_type}, T, L)


@pytest.mark.parametrize("bad", ["@id", "a b", "a=b", 5, [5], [None], {"a": "b"}, ""])
def test_invalid_types_are_refused(bad: Any) -> None:
    with pytest.raises(BadRequestData):
        parse_types(bad, T)


def test_multiple_types_are_deduplicated_in_order() -> None:
    types = parse_types(
        ["Building", "Vehicle", "Building", DEFAULT_VOCAB + "Vehicle", "https://example.org/T"], T
    )
    assert types == [DEFAULT_VOCAB + "Building", DEFAULT_VOCAB + "Vehicle", "https://example.org/T"]


def test_single_type_string_is_a_list() -> None:
    assert parse_types("Building", T) == [DEFAULT_VOCAB + "Building"]


# scope -------------------------------------------------------------------------------------------


def test_scope_string() -> None:
    assert parse_scope("/Madrid/Gardens/ParqueNorte") == ["/Madrid/Gardens/ParqueNorte"]


def test_scope_list_is_deduplicated() -> None:
    assert parse_scope(["/Madrid", "/CompanyA/OrganizationB/UnitC", "/Madrid"]) == [
        "/Madrid",
        "/CompanyA/OrganizationB/UnitC",
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "Madrid",
        "",
        "/Madrid/",
        "//Madrid",
        "/Madrid Gardens",
        "/Madrid/#",
        "/Madrid/+",
        "/Madrid#x",
        "/Madrid\n",
        5,
        None,
        ["/Madrid", 5],
        [["/Madrid"]],
    ],
)
def test_invalid_scopes(bad: Any) -> None:
    with pytest.raises(BadRequestData):
        parse_scope(bad)


def test_invalid_scope_in_an_entity() -> None:
    with pytest.raises(BadRequestData):
        parse_entity({"id": ID, "type": "T", "scope": "Madrid"}, T, L)


# attributes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("reserved", ["@id", "@type"])
def test_reserved_attribute_names_are_refused(reserved: str) -> None:
    with pytest.raises(BadRequestData):
        parse_entity({"id": ID, "type": "T", reserved: {"type": "Property", "value": 1}}, T, L)


@pytest.mark.parametrize("alias", ["myId", "myType"])
def test_attribute_names_that_expand_to_a_keyword_are_refused(alias: str) -> None:
    terms = build_term_map({"myId": "@id", "myType": "@type"}, lambda url: None)
    with pytest.raises(BadRequestData):
        parse_entity({"id": ID, "type": "T", alias: {"type": "Property", "value": 1}}, terms, L)


@pytest.mark.parametrize("name", ["value", "observedAt", "unitCode", "datasetId", "object"])
def test_attribute_members_may_name_entity_attributes(name: str) -> None:
    entity = parse_entity(
        {"id": ID, "type": "Device", name: {"type": "Property", "value": 5}}, T, L
    )
    assert list(entity["attrs"].values()) == [[{"type": "Property", "value": 5}]]


@pytest.mark.parametrize("bad", ["@id", "@type", "a b", "a=b", "a;b", "a(b", "a<b"])
def test_invalid_attribute_names_are_refused(bad: str) -> None:
    with pytest.raises(BadRequestData):
        parse_entity({"id": ID, "type": "T", bad: 1}, T, L)


def test_system_times_given_by_a_client_are_ignored() -> None:
    raw = {
        "id": ID,
        "type": "T",
        "createdAt": "2000-01-01T00:00:00Z",
        "modifiedAt": "2000-01-01T00:00:00Z",
        "deletedAt": "2000-01-01T00:00:00Z",
        "speed": {"type": "Property", "value": 5, "createdAt": "2000-01-01T00:00:00Z"},
    }
    entity = parse_entity(raw, T, L)
    assert entity == {
        "id": ID,
        "type": [DEFAULT_VOCAB + "T"],
        "attrs": {DEFAULT_VOCAB + "speed": [{"type": "Property", "value": 5}]},
    }


@pytest.mark.parametrize("name", ["location", "observationSpace", "operationSpace"])
def test_geo_attributes_must_be_geoproperties(name: str) -> None:
    entity = parse_entity({"id": ID, "type": "T", name: POINT}, T, L)
    assert instances_of(entity, NGSI_LD + name) == [{"type": "GeoProperty", "value": POINT}]
    with pytest.raises(BadRequestData):
        parse_entity({"id": ID, "type": "T", name: {"type": "Property", "value": "here"}}, T, L)


def test_instances_of() -> None:
    entity = parse_entity({"id": ID, "type": "T", "a": 1}, T, L)
    assert instances_of(entity, DEFAULT_VOCAB + "a") == [{"type": "Property", "value": 1}]
    assert instances_of(entity, DEFAULT_VOCAB + "b") == []


# limits ------------------------------------------------------------------------------------------


def test_too_many_attributes() -> None:
    limits = Limits(max_attributes=2)
    assert len(parse_entity({"id": ID, "type": "T", "a": 1, "b": 2}, T, limits)["attrs"]) == 2
    with pytest.raises(PayloadTooLarge) as caught:
        parse_entity({"id": ID, "type": "T", "a": 1, "b": 2, "c": 3}, T, limits)
    assert caught.value.status == 413


def test_check_size() -> None:
    entity = parse_entity({"id": ID, "type": "T", "a": 1, "b": 2}, T, L)
    assert check_size(entity, Limits(max_attributes=2)) is entity
    with pytest.raises(PayloadTooLarge):
        check_size(entity, Limits(max_attributes=1))


def test_entity_members_do_not_count_as_attributes() -> None:
    limits = Limits(max_attributes=1)
    raw = {"id": ID, "type": "T", "scope": "/a", "@context": {}, "createdAt": "x", "a": 1}
    assert list(parse_entity(raw, T, limits)["attrs"]) == [DEFAULT_VOCAB + "a"]


def test_check_nesting() -> None:
    document = {"a": {"b": {"c": 1}}}
    check_nesting(document, 3)
    with pytest.raises(BadRequestData):
        check_nesting(document, 2)
    check_nesting([[[1]]], 3)
    with pytest.raises(BadRequestData):
        check_nesting([[[[1]]]], 3)
    check_nesting(5, 1)
    check_nesting("text", 0)


def test_check_nesting_on_a_deep_entity() -> None:
    value: Any = 1
    for _ in range(40):
        value = {"x": value}
    raw = {"id": ID, "type": "T", "deep": {"type": "Property", "value": value}}
    with pytest.raises(BadRequestData):
        check_nesting(raw, Limits().max_nesting)
    check_nesting(raw, 50)


# fragments ---------------------------------------------------------------------------------------


def test_fragment_ignores_id_and_type() -> None:
    fragment = parse_fragment({"id": "nope", "type": 5, "a": 1}, T, L)
    assert fragment == {"attrs": {DEFAULT_VOCAB + "a": [{"type": "Property", "value": 1}]}}


def test_fragment_with_scope() -> None:
    assert parse_fragment({"scope": ["/a", "/b"]}, T, L) == {"attrs": {}, "scope": ["/a", "/b"]}


def test_fragment_must_be_an_object() -> None:
    with pytest.raises(BadRequestData):
        parse_fragment([{"a": 1}], T, L)


def test_partial_fragment() -> None:
    fragment = parse_fragment({"speed": {"observedAt": "2024-01-01T00:00:00Z"}}, T, L, partial=True)
    assert fragment == {
        "attrs": {DEFAULT_VOCAB + "speed": [{"observedAt": "2024-01-01T00:00:00Z"}]}
    }


def test_fragment_with_nulls() -> None:
    fragment = parse_fragment(
        {"location": {"type": "GeoProperty", "value": "urn:ngsi-ld:null"}}, T, L, nulls=True
    )
    assert fragment["attrs"][NGSI_LD + "location"] == [
        {"type": "GeoProperty", "value": "urn:ngsi-ld:null"}
    ]
    with pytest.raises(BadRequestData):
        parse_fragment({"location": {"type": "GeoProperty", "value": "urn:ngsi-ld:null"}}, T, L)


def test_fragment_limits() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_fragment({"a": 1, "b": 2, "c": 3}, T, Limits(max_attributes=2))
