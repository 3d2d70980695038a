"""ascn.ngsild.representation: normalized, concise, keyValues and GeoJSON representations."""

from __future__ import annotations

from typing import Any

import pytest

from ascn.ngsild.attribute import parse_attribute
from ascn.ngsild.changes import create, delete_attribute
from ascn.ngsild.context import DEFAULT_VOCAB, NGSI_LD, build_term_map, core_terms
from ascn.ngsild.entity import Entity, Limits, parse_entity
from ascn.ngsild.representation import View, parse_lang, pick_language, render, render_feature

T = core_terms()
L = Limits()
ID = "urn:ngsi-ld:Building:store001"
POINT = {"type": "Point", "coordinates": [13.3698, 52.5163]}
DS1 = "urn:ngsi-ld:Dataset:01"


def iri(name: str) -> str:
    return DEFAULT_VOCAB + name


def stored(raw: dict[str, Any], moment: str = "T1") -> Entity:
    return create(parse_entity({"id": ID, "type": "Building", **raw}, T, L), moment)


NORMALIZED: dict[str, Any] = {
    "id": ID,
    "type": "Building",
    "scope": "/Madrid",
    "name": {"type": "Property", "value": "Eiffel Tower"},
    "airQualityLevel": {
        "type": "Property",
        "value": 4,
        "unitCode": "C62",
        "observedAt": "2020-09-09T16:40:00.000Z",
        "accuracy": {"type": "Property", "value": 0.1},
    },
    "address": {"type": "Property", "value": {"street": "Main", "number": 5}},
    "tags": {"type": "Property", "value": ["a", "b"]},
    "locatedAt": {"type": "Relationship", "object": "urn:ngsi-ld:City:Paris"},
    "location": {"type": "GeoProperty", "value": POINT},
    "street": {
        "type": "LanguageProperty",
        "languageMap": {"fr": "Grand Place", "nl": "Grote Markt"},
    },
    "category": {"type": "VocabProperty", "vocab": ["monument", "Property"]},
    "doc": {"type": "JsonProperty", "json": {"id": "some-id", "type": "t", "null": None}},
    "ranks": {"type": "ListProperty", "valueList": [1, 2, 3]},
    "players": {"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:P:1"}]},
}


def full() -> Entity:
    return stored({k: v for k, v in NORMALIZED.items() if k not in ("id", "type")})


# normalized --------------------------------------------------------------------------------------


def test_normalized_round_trip() -> None:
    assert render(full(), T, View()) == NORMALIZED


def test_normalized_with_sys_attrs() -> None:
    out = render(stored({"speed": {"value": 5, "source": "GPS"}}, "T1"), T, View(sys_attrs=True))
    assert out == {
        "id": ID,
        "type": "Building",
        "createdAt": "T1",
        "modifiedAt": "T1",
        "speed": {
            "type": "Property",
            "value": 5,
            "createdAt": "T1",
            "modifiedAt": "T1",
            "source": {"type": "Property", "value": "GPS", "createdAt": "T1", "modifiedAt": "T1"},
        },
    }


def test_without_sys_attrs_no_system_time_is_shown() -> None:
    out = render(stored({"speed": {"value": 5, "source": "GPS"}}), T, View())
    text = repr(out)
    assert "createdAt" not in text
    assert "modifiedAt" not in text


def test_single_type_is_a_string_two_types_a_list() -> None:
    one = create(parse_entity({"id": ID, "type": "Building"}, T, L), "T1")
    two = create(parse_entity({"id": ID, "type": ["Building", "Vehicle"]}, T, L), "T1")
    assert render(one, T, View())["type"] == "Building"
    assert render(two, T, View())["type"] == ["Building", "Vehicle"]


def test_scope_string_or_list() -> None:
    assert render(stored({"scope": "/a"}), T, View())["scope"] == "/a"
    assert render(stored({"scope": ["/a", "/b"]}), T, View())["scope"] == ["/a", "/b"]
    assert "scope" not in render(stored({}), T, View())


def test_names_and_types_are_compacted_with_the_readers_context() -> None:
    terms = build_term_map(
        {"Building": "https://example.org/Building", "name": "https://example.org/name"},
        lambda url: None,
    )
    entity = create(parse_entity({"id": ID, "type": "Building", "name": "x"}, terms, L), "T1")
    assert render(entity, terms, View()) == {
        "id": ID,
        "type": "Building",
        "name": {"type": "Property", "value": "x"},
    }
    assert render(entity, T, View()) == {
        "id": ID,
        "type": "https://example.org/Building",
        "https://example.org/name": {"type": "Property", "value": "x"},
    }


def test_term_clash_in_rendering() -> None:
    terms = build_term_map({"almostFull": "https://example.org/almostFull"}, lambda url: None)
    entity = stored({"almostFull": False})
    assert "ngsi-ld:default-context/almostFull" in render(entity, terms, View())
    assert "almostFull" in render(entity, T, View())


def test_vocab_is_compacted_back() -> None:
    entity = stored({"category": {"vocab": "monument"}})
    assert entity["attrs"][iri("category")][0]["vocab"] == iri("monument")
    assert render(entity, T, View())["category"] == {"type": "VocabProperty", "vocab": "monument"}


def test_object_type_is_compacted_back() -> None:
    entity = stored({"locatedAt": {"object": "urn:ngsi-ld:City:Paris", "objectType": "City"}})
    assert render(entity, T, View())["locatedAt"]["objectType"] == "City"


def test_json_is_returned_verbatim() -> None:
    json = {"id": "some-id", "type": "some-type", "null": None, "nested": [{"type": "Property"}]}
    entity = stored({"doc": {"type": "JsonProperty", "json": json}})
    assert render(entity, T, View())["doc"] == {"type": "JsonProperty", "json": json}


# multi-instances ---------------------------------------------------------------------------------


def multi() -> Entity:
    return stored(
        {
            "speed": [
                {"type": "Property", "value": 55, "source": "Feeling"},
                {"type": "Property", "value": 57, "datasetId": DS1},
            ]
        }
    )


def test_multi_instance_attribute_is_a_list() -> None:
    assert render(multi(), T, View())["speed"] == [
        {"type": "Property", "value": 55, "source": {"type": "Property", "value": "Feeling"}},
        {"type": "Property", "value": 57, "datasetId": DS1},
    ]


def test_a_single_remaining_instance_is_an_object() -> None:
    entity = delete_attribute(multi(), iri("speed"), "T2")
    assert render(entity, T, View())["speed"] == {"type": "Property", "value": 57, "datasetId": DS1}


def test_multi_instance_concise() -> None:
    out = render(multi(), T, View(format="concise"))["speed"]
    assert isinstance(out, list)
    assert out[1] == {"value": 57, "datasetId": DS1}


def test_multi_instance_key_values_uses_the_dataset_member() -> None:
    assert render(multi(), T, View(format="keyValues"))["speed"] == {
        "dataset": {"@none": 55, DS1: 57}
    }


# concise -----------------------------------------------------------------------------------------


def test_concise() -> None:
    assert render(full(), T, View(format="concise")) == {
        "id": ID,
        "type": "Building",
        "scope": "/Madrid",
        "name": "Eiffel Tower",
        "airQualityLevel": {
            "value": 4,
            "unitCode": "C62",
            "observedAt": "2020-09-09T16:40:00.000Z",
            "accuracy": 0.1,
        },
        "address": {"value": {"street": "Main", "number": 5}},
        "tags": {"value": ["a", "b"]},
        "locatedAt": {"object": "urn:ngsi-ld:City:Paris"},
        "location": POINT,
        "street": {"languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}},
        "category": {"vocab": ["monument", "Property"]},
        "doc": {"json": {"id": "some-id", "type": "t", "null": None}},
        "ranks": {"valueList": [1, 2, 3]},
        "players": {"objectList": [{"object": "urn:ngsi-ld:P:1"}]},
    }


def test_concise_geoproperty_with_metadata_is_an_object() -> None:
    entity = stored({"location": {"value": POINT, "observedAt": "2020-01-01T00:00:00Z"}})
    assert render(entity, T, View(format="concise"))["location"] == {
        "value": POINT,
        "observedAt": "2020-01-01T00:00:00Z",
    }


def test_concise_with_sys_attrs_keeps_the_value_member() -> None:
    out = render(stored({"n": 3}), T, View(format="concise", sys_attrs=True))
    assert out["n"] == {"value": 3, "createdAt": "T1", "modifiedAt": "T1"}


def test_concise_parses_back_to_the_same_entity() -> None:
    entity = full()
    concise = render(entity, T, View(format="concise"))
    again = create(parse_entity(concise, T, L), "T1")
    assert again == entity


@pytest.mark.parametrize(
    "speed",
    [
        [{"type": "Property", "value": 55, "source": "Feeling"}, {"value": 57, "datasetId": DS1}],
        [{"type": "Property", "value": 55}, {"type": "Property", "value": 57, "datasetId": DS1}],
        [
            {"type": "Property", "value": 55, "datasetId": DS1},
            {"type": "Property", "value": 57, "datasetId": "urn:ngsi-ld:Dataset:02"},
        ],
    ],
    ids=["default-with-sub-attribute", "plain-default", "no-default"],
)
def test_concise_multi_instance_parses_back_to_the_same_entity(speed: list[Any]) -> None:
    entity = stored({"speed": speed})
    concise = render(entity, T, View(format="concise"))
    again = create(parse_entity(concise, T, L), "T1")
    assert again == entity


# keyValues ---------------------------------------------------------------------------------------


def test_key_values() -> None:
    out = render(full(), T, View(format="keyValues", sys_attrs=True))
    assert out["id"] == ID
    assert out["type"] == "Building"
    assert out["scope"] == "/Madrid"
    assert out["name"] == "Eiffel Tower"
    assert out["airQualityLevel"] == 4
    assert out["address"] == {"street": "Main", "number": 5}
    assert out["tags"] == ["a", "b"]
    assert out["locatedAt"] == "urn:ngsi-ld:City:Paris"
    assert out["location"] == POINT
    assert "createdAt" not in out


def test_key_values_language_property_keeps_the_language_map_member() -> None:
    out = render(full(), T, View(format="keyValues"))
    assert out["street"] == {"languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}}


def test_key_values_vocab_property_keeps_the_vocab_member() -> None:
    out = render(full(), T, View(format="keyValues"))
    assert out["category"] == {"vocab": ["monument", "Property"]}


def test_key_values_json_property_keeps_the_json_member() -> None:
    out = render(full(), T, View(format="keyValues"))
    assert out["doc"] == {"json": {"id": "some-id", "type": "t", "null": None}}


# attrs, pick, omit -------------------------------------------------------------------------------


def test_attrs_filter() -> None:
    out = render(full(), T, View(attrs=frozenset({iri("name"), NGSI_LD + "location"})))
    assert set(out) == {"id", "type", "scope", "name", "location"}


def test_attrs_filter_with_no_match() -> None:
    out = render(full(), T, View(attrs=frozenset({iri("nothing")})))
    assert out == {"id": ID, "type": "Building", "scope": "/Madrid"}


def test_pick() -> None:
    out = render(full(), T, View(pick=dict.fromkeys(["id", iri("name")])))
    assert out == {"id": ID, "name": {"type": "Property", "value": "Eiffel Tower"}}


def test_pick_type_only() -> None:
    assert render(full(), T, View(pick=dict.fromkeys(["type"]))) == {"type": "Building"}


def test_pick_scope() -> None:
    assert render(full(), T, View(pick=dict.fromkeys(["id", "scope"]))) == {
        "id": ID,
        "scope": "/Madrid",
    }


def test_omit() -> None:
    out = render(full(), T, View(omit=dict.fromkeys(["type", "scope", iri("name")])))
    assert "type" not in out
    assert "scope" not in out
    assert "name" not in out
    assert out["id"] == ID
    assert "location" in out


def test_omit_id() -> None:
    assert "id" not in render(full(), T, View(omit=dict.fromkeys(["id"])))


def test_pick_and_omit_together() -> None:
    view = View(
        pick=dict.fromkeys(["id", iri("name"), iri("tags")]), omit=dict.fromkeys([iri("tags")])
    )
    assert render(full(), T, view) == {
        "id": ID,
        "name": {"type": "Property", "value": "Eiffel Tower"},
    }


def test_view_shows() -> None:
    view = View(attrs=frozenset({"a"}), pick=dict.fromkeys(["a", "b"]), omit=dict.fromkeys(["b"]))
    assert view.shows("a")
    assert not view.shows("b")
    assert not view.shows("c")
    assert view.shows_attribute("a")
    assert not view.shows_attribute("b")


# languages ---------------------------------------------------------------------------------------


def street() -> Entity:
    return stored(
        {
            "street": {
                "type": "LanguageProperty",
                "languageMap": {"fr": "Grand Place", "nl": "Grote Markt"},
            }
        }
    )


@pytest.mark.parametrize("lang", ["fr", "fr-CH,fr", "fr-CH,fr;q=0.9,en;q=0.8"])
def test_lang_selects_a_language(lang: str) -> None:
    out = render(street(), T, View(lang=parse_lang(lang)))
    assert out["street"] == {"type": "Property", "value": "Grand Place", "lang": "fr"}


def test_lang_with_a_wildcard_among_the_preferences() -> None:
    out = render(street(), T, View(lang=parse_lang("fr-CH,fr;q=0.9,en;q=0.8,*;q=0.5")))
    assert out["street"] == {"type": "Property", "value": "Grand Place", "lang": "fr"}


def test_lang_any_gives_one_language() -> None:
    out = render(street(), T, View(lang=("*",)))["street"]
    assert out["type"] == "Property"
    assert (out["lang"], out["value"]) in {("fr", "Grand Place"), ("nl", "Grote Markt")}


def test_lang_any_in_key_values_gives_a_string() -> None:
    out = render(street(), T, View(format="keyValues", lang=("*",)))
    assert out["street"] in ["Grand Place", "Grote Markt"]


def test_lang_in_key_values_gives_the_string() -> None:
    out = render(street(), T, View(format="keyValues", lang=("nl",)))
    assert out["street"] == "Grote Markt"


def test_lang_in_concise() -> None:
    out = render(street(), T, View(format="concise", lang=("nl",)))
    assert out["street"] == {"value": "Grote Markt", "lang": "nl"}


def test_lang_keeps_sub_attributes() -> None:
    entity = stored({"street": {"languageMap": {"fr": "Grand Place"}, "source": "x"}})
    out = render(entity, T, View(lang=("fr",)))
    assert out["street"] == {
        "type": "Property",
        "value": "Grand Place",
        "lang": "fr",
        "source": {"type": "Property", "value": "x"},
    }


def test_lang_leaves_other_attributes_alone() -> None:
    entity = stored({"name": "x", "street": {"languageMap": {"fr": "Grand Place"}}})
    out = render(entity, T, View(lang=("fr",)))
    assert out["name"] == {"type": "Property", "value": "x"}


def test_pick_language() -> None:
    language_map = {"fr": "Grand Place", "nl": "Grote Markt", "en-GB": "Big Square", "@none": "GP"}
    assert pick_language(language_map, ("nl",)) == ("nl", "Grote Markt")
    assert pick_language(language_map, ("de", "fr")) == ("fr", "Grand Place")
    assert pick_language(language_map, ("fr-CH",)) == ("fr", "Grand Place")
    assert pick_language(language_map, ("en",)) == ("en-GB", "Big Square")
    assert pick_language(language_map, ("de",)) == ("@none", "GP")
    assert pick_language({"fr": "Grand Place"}, ("de",)) == ("fr", "Grand Place")
    assert pick_language({}, ("de",)) == ("@none", "")


def test_parse_lang() -> None:
    assert parse_lang("fr") == ("fr",)
    assert parse_lang("fr-CH,fr;q=0.9,en;q=0.8,*;q=0.5") == ("fr-CH", "fr", "en", "*")
    assert parse_lang("en;q=0.1, de;q=0.9 ,fr") == ("fr", "de", "en")
    assert parse_lang("a;q=x,b") == ("b", "a")
    assert parse_lang("") == ()
    assert parse_lang(" , ,") == ()


# GeoJSON -----------------------------------------------------------------------------------------


def test_feature_with_location() -> None:
    feature = render_feature(full(), T, View(format="keyValues"))
    assert feature["id"] == ID
    assert feature["type"] == "Feature"
    assert feature["geometry"] == POINT
    properties = feature["properties"]
    assert "id" not in properties
    assert properties["type"] == "Building"
    assert properties["name"] == "Eiffel Tower"
    assert properties["location"] == POINT


def test_feature_normalized_properties() -> None:
    feature = render_feature(full(), T, View())
    assert feature["geometry"] == POINT
    assert feature["properties"]["name"] == {"type": "Property", "value": "Eiffel Tower"}


def test_feature_without_location_has_a_null_geometry() -> None:
    feature = render_feature(stored({"name": "x"}), T, View())
    assert feature["geometry"] is None
    assert feature["type"] == "Feature"
    assert feature["id"] == ID


def test_feature_with_another_geometry_property() -> None:
    area = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    entity = stored({"location": POINT, "area": {"type": "GeoProperty", "value": area}, "n": 1})
    assert render_feature(entity, T, View(), iri("area"))["geometry"] == area
    assert render_feature(entity, T, View(), iri("n"))["geometry"] is None


def test_feature_keeps_the_id_when_it_is_omitted() -> None:
    feature = render_feature(full(), T, View(omit=dict.fromkeys(["id"])))
    assert feature["id"] == ID


def test_render_does_not_change_the_entity() -> None:
    entity = full()
    snapshot = repr(entity)
    render(entity, T, View(format="concise", lang=("fr",), sys_attrs=True))
    render_feature(entity, T, View(format="keyValues"))
    assert repr(entity) == snapshot


def test_rendered_sub_attribute_instance_from_parse_attribute() -> None:
    instances = parse_attribute("x", {"value": 1, "unitCode": "CEL"}, T)
    entity = stored({})
    entity["attrs"][iri("x")] = instances
    assert render(entity, T, View(format="concise"))["x"] == {"value": 1, "unitCode": "CEL"}
