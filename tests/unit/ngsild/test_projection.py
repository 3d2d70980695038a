"""pick and omit (clause 4.21): the projection grammar and its expansion to IRIs."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ascn.errors import BadRequestData
from ascn.ngsild.projection import Projection, expand_projection, parse_projection

MODEST = settings(max_examples=200, deadline=None)
VOCAB = "https://example.org/vocab/"


def iri(name: str) -> str:
    return VOCAB + name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name", {"name": None}),
        ("id", {"id": None}),
        ("id,name", {"id": None, "name": None}),
        ("type,name,unknown", {"type": None, "name": None, "unknown": None}),
        ("locatedAt{name}", {"locatedAt": {"name": None}}),
        (
            "id,locatedAt{id,name,isInCountry{id,description}}",
            {
                "id": None,
                "locatedAt": {
                    "id": None,
                    "name": None,
                    "isInCountry": {"id": None, "description": None},
                },
            },
        ),
        (
            "type,locatedAt{name,isInCountry{description}},name",
            {
                "type": None,
                "locatedAt": {"name": None, "isInCountry": {"description": None}},
                "name": None,
            },
        ),
        ("https://schema.org/name,urn:x:y", {"https://schema.org/name": None, "urn:x:y": None}),
    ],
)
def test_valid_projections(text: str, expected: Projection) -> None:
    assert parse_projection(text, "pick") == expected


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("id;name", 2),
        ("id,locatedAt{name", 17),
        ("id,locatedAt{{name}", 13),
        ("id,,name", 3),
        ("id,locatedAt{,name}", 13),
        ("id,locatedAt{}", 13),
        ("", 0),
        ("id,", 3),
        (",id", 0),
        ("id name", 2),
        ("id,locatedAt{name}}", 18),
        ("id,locatedAt{name}x", 18),
        ("{name}", 0),
    ],
)
def test_invalid_projections(text: str, position: int) -> None:
    with pytest.raises(BadRequestData, match=rf"^invalid omit at position {position}: "):
        parse_projection(text, "omit")


def test_braces_nest_up_to_a_limit() -> None:
    nine = "a{" * 8 + "b" + "}" * 8
    assert parse_projection(nine, "pick") != {}
    with pytest.raises(BadRequestData, match="nest too deeply"):
        parse_projection("a{" * 12 + "b" + "}" * 12, "pick")


def test_expand_keeps_id_type_and_scope() -> None:
    projection = parse_projection("id,type,scope,name,locatedAt{id,type,scope,name}", "pick")
    assert expand_projection(projection, iri) == {
        "id": None,
        "type": None,
        "scope": None,
        iri("name"): None,
        iri("locatedAt"): {"id": None, "type": None, "scope": None, iri("name"): None},
    }


def test_expand_goes_down_every_level() -> None:
    projection = parse_projection("a{b{c{d}}}", "pick")
    assert expand_projection(projection, iri) == {
        iri("a"): {iri("b"): {iri("c"): {iri("d"): None}}}
    }


member_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_:]{0,7}", fullmatch=True)
projections: st.SearchStrategy[Projection] = st.recursive(
    st.dictionaries(member_names, st.none(), min_size=1, max_size=4),
    lambda children: st.dictionaries(member_names, st.none() | children, min_size=1, max_size=4),
    max_leaves=12,
)


def write(projection: Projection) -> str:
    return ",".join(
        name + ("" if nested is None else "{" + write(nested) + "}")
        for name, nested in projection.items()
    )


def depth(projection: Projection) -> int:
    return 1 + max((depth(n) for n in projection.values() if n is not None), default=0)


@MODEST
@given(projections)
def test_projections_round_trip_through_their_text(projection: Projection) -> None:
    if depth(projection) <= 8:
        assert parse_projection(write(projection), "pick") == projection


@MODEST
@given(st.text(max_size=40) | st.text(alphabet=st.sampled_from(list("ab{},; id")), max_size=30))
def test_parse_projection_only_raises_bad_request_data(text: str) -> None:
    try:
        projection = parse_projection(text, "pick")
    except BadRequestData as error:
        assert re.match(r"^invalid pick( at position \d+)?: ", str(error))
        return
    assert projection
    assert write(projection).replace(" ", "") != ""
