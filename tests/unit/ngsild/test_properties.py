"""Properties of the ascn.ngsild package over generated input (hypothesis)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ascn.errors import AscnError, BadRequestData
from ascn.ngsild import names
from ascn.ngsild.changes import create
from ascn.ngsild.context import core_document, core_terms
from ascn.ngsild.entity import Limits, parse_entity
from ascn.ngsild.representation import View, parse_lang, render

MODEST = settings(max_examples=200, deadline=None)
T = core_terms()
L = Limits()

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)

MEMBERS = sorted(
    {"id", "type", "value", "object", "datasetId", "observedAt", "unitCode", "languageMap"}
    | {"vocab", "json", "valueList", "objectList", "scope", "coordinates", "geometries"}
)
WORDS = ["speed", "source", "location", "providedBy", "name", "a:b", "https://e.org/x"]
LEAVES = [
    "urn:ngsi-ld:T:1",
    "Property",
    "Relationship",
    "GeoProperty",
    "LanguageProperty",
    "VocabProperty",
    "JsonProperty",
    "ListProperty",
    "ListRelationship",
    "Point",
    "Polygon",
    "urn:ngsi-ld:null",
    "2020-01-01T00:00:00Z",
    "/Madrid",
]
member_names = st.sampled_from(MEMBERS) | st.sampled_from(WORDS) | st.text(max_size=8)
entity_like: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(LEAVES),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(member_names, children, max_size=5)
    ),
    max_leaves=25,
)
attribute_objects = st.fixed_dictionaries(
    {}, optional={member: entity_like for member in [*MEMBERS, "source", "providedBy"]}
)
attribute_values = attribute_objects | st.lists(attribute_objects, max_size=3) | entity_like
entity_shaped = st.fixed_dictionaries(
    {"id": st.just("urn:ngsi-ld:T:1"), "type": st.sampled_from(["T", ["T", "U"]])},
    optional={"scope": entity_like, "@context": entity_like},
).flatmap(
    lambda head: st.dictionaries(
        st.sampled_from(WORDS) | member_names, attribute_values, max_size=5
    ).map(lambda attrs: {**attrs, **head})
)
payloads = entity_shaped | json_values | entity_like


@MODEST
@given(payloads)
def test_parse_entity_only_raises_ascn_errors(raw: Any) -> None:
    try:
        entity = parse_entity(raw, T, L)
    except AscnError:
        return
    assert isinstance(entity, dict)
    assert names.check_uri(entity["id"], "id") == entity["id"]
    assert entity["type"]


CORE_TERMS = frozenset(core_document()["@context"])
UNSAFE = (
    CORE_TERMS | names.RESERVED_ATTRIBUTE_NAMES | names.ENTITY_MEMBERS | names.ATTRIBUTE_MEMBERS
)
attribute_names = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
    min_size=1,
    max_size=12,
).filter(lambda name: name not in UNSAFE)
texts = st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=20)
"""Any text a node keeps: U+0000 is refused on every store."""
scalars = (
    st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
    | st.booleans()
)
entity_ids = st.integers(min_value=0).map(lambda n: f"urn:ngsi-ld:T:{n}")
values = scalars | st.lists(scalars, max_size=4)
relationships = st.builds(lambda target: {"type": "Relationship", "object": target}, entity_ids)
sub_attributes = st.dictionaries(
    attribute_names,
    st.builds(lambda value: {"type": "Property", "value": value}, values) | relationships,
    max_size=2,
)
properties = st.builds(
    lambda value, subs: {"type": "Property", "value": value, **subs}, values, sub_attributes
)
valid_entities = st.builds(
    lambda entity_id, kind, attrs: {"id": entity_id, "type": kind, **attrs},
    entity_ids,
    attribute_names,
    st.dictionaries(attribute_names, properties | relationships, max_size=6),
)


@MODEST
@given(valid_entities)
def test_normalized_round_trip(raw: dict[str, Any]) -> None:
    entity = create(parse_entity(raw, T, L), "2024-01-01T00:00:00.000Z")
    assert render(entity, T, View()) == raw


@MODEST
@given(valid_entities)
def test_concise_round_trip(raw: dict[str, Any]) -> None:
    moment = "2024-01-01T00:00:00.000Z"
    entity = create(parse_entity(raw, T, L), moment)
    concise = render(entity, T, View(format="concise"))
    assert create(parse_entity(concise, T, L), moment) == entity


@MODEST
@given(st.text())
def test_parse_lang_never_raises(raw: str) -> None:
    tags = parse_lang(raw)
    assert isinstance(tags, tuple)
    assert all(isinstance(tag, str) for tag in tags)


@MODEST
@given(st.text())
def test_check_uri_and_check_name_only_raise_bad_request_data(raw: str) -> None:
    for check in (names.check_uri, names.check_name):
        with contextlib.suppress(BadRequestData):
            assert check(raw, "x") == raw


@given(st.tuples(st.text(), st.text()).map("\x00".join))
def test_text_holding_nul_is_refused(text: str) -> None:
    raw = {"id": "urn:ngsi-ld:T:1", "type": "T", "name": {"type": "Property", "value": text}}
    with pytest.raises(BadRequestData):
        parse_entity(raw, T, L)
