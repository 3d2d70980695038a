"""ascn.ngsild.names: URIs, attribute names and the reserved vocabulary."""

from __future__ import annotations

import pytest

from ascn.errors import BadRequestData
from ascn.ngsild import names
from ascn.ngsild.names import MAX_NAME, MAX_URI, check_name, check_uri


@pytest.mark.parametrize(
    "uri",
    [
        "urn:ngsi-ld:X:1",
        "https://a.b/c",
        "urn:ngsi-ld:Building:store001",
        "http://example.org/path?query=1#fragment",
        "ex:term",
        "urn:ngsi-ld:null",
    ],
)
def test_check_uri_accepts_absolute_uris(uri: str) -> None:
    assert check_uri(uri, "id") == uri


@pytest.mark.parametrize(
    "value",
    [
        "thisisaninvaliduri",
        "",
        5,
        None,
        ["urn:a:b"],
        {"id": "urn:a:b"},
        "urn:ngsi-ld:X 1",
        "urn:ngsi-ld:X:1 ",
        " urn:ngsi-ld:X:1",
        "urn:ngsi-ld:<X>",
        "urn:ngsi-ld:\tX",
        "urn:ngsi-ld:X\n",
        'urn:ngsi-ld:"X"',
        "1urn:a:b",
        ":a",
        "urn:",
    ],
)
def test_check_uri_refuses_what_is_not_a_uri(value: object) -> None:
    with pytest.raises(BadRequestData) as caught:
        check_uri(value, "entity id")
    assert "entity id" in caught.value.detail


def test_check_uri_length_limit() -> None:
    head = "urn:ngsi-ld:X:"
    assert check_uri(head + "a" * (MAX_URI - len(head)), "id")
    with pytest.raises(BadRequestData):
        check_uri(head + "a" * (MAX_URI - len(head) + 1), "id")


@pytest.mark.parametrize(
    "name",
    ["speed", "brandName", "https://example.org/speed", "ex:speed", "a_b-c.d", "température"],
)
def test_check_name_accepts_terms_and_iris(name: str) -> None:
    assert check_name(name, "attribute name") == name


@pytest.mark.parametrize(
    "value",
    [
        "@invalid",
        "@id",
        "a=b",
        "a;b",
        "a(b",
        "a)b",
        "a b",
        " a",
        "a\tb",
        "a\nb",
        "",
        "a<b",
        "a>b",
        'a"b',
        "a'b",
        "a\\b",
        5,
        None,
        ["speed"],
    ],
)
def test_check_name_refuses_invalid_names(value: object) -> None:
    with pytest.raises(BadRequestData) as caught:
        check_name(value, "attribute name")
    assert "attribute name" in caught.value.detail


def test_check_name_length_limit() -> None:
    assert check_name("a" * MAX_NAME, "name")
    with pytest.raises(BadRequestData):
        check_name("a" * (MAX_NAME + 1), "name")


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(BadRequestData) as caught:
        check_name("x" * 200 + " y", "name")
    assert "..." in caught.value.detail
    assert len(caught.value.detail) < 150


def test_value_keys_per_attribute_type() -> None:
    assert names.VALUE_KEY == {
        "Property": "value",
        "Relationship": "object",
        "GeoProperty": "value",
        "LanguageProperty": "languageMap",
        "VocabProperty": "vocab",
        "JsonProperty": "json",
        "ListProperty": "valueList",
        "ListRelationship": "objectList",
    }
    for key, kind in names.TYPE_OF_VALUE_KEY.items():
        assert names.VALUE_KEY[kind] == key


def test_reserved_names() -> None:
    for reserved in ("id", "type", "scope", "@id", "@type", "@context"):
        assert reserved in names.RESERVED_ATTRIBUTE_NAMES
    for allowed in ("location", "name", "speed"):
        assert allowed not in names.RESERVED_ATTRIBUTE_NAMES
    assert names.NULL == "urn:ngsi-ld:null"
