"""Query entities over real HTTP: GET /entities and POST /entityOperations/query (clauses 4.9,
4.10, 4.17, 4.19, 4.21, 5.5.9, 5.7.2, 6.4.3.2, 6.23) against a small city data set."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ascn.ngsild.geoquery import haversine
from ascn.settings import Settings
from tests.support.http import CORE, assert_problem, link
from tests.support.servers import free_port, static_files

DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"
PALACE = [100.4913, 13.7500]
"""The Grand Palace, Bangkok."""
WAT_ARUN = [100.4889, 13.7437]
"""Wat Arun, across the river from the Grand Palace: about 0.75 km from it."""
LUMPHINI = [100.5418, 13.7314]
"""Lumphini Park: about 5.8 km from the Grand Palace."""
AIRPORT = [100.7501, 13.6900]
"""Suvarnabhumi airport: about 29 km from the Grand Palace."""
MONAS = [106.8272, -6.1754]
"""The National Monument, Jakarta: about 2,320 km from the Grand Palace."""
KOTA_TUA = [106.8133, -6.1352]
"""Jakarta's old town: about 4.7 km from Monas."""
BANGKOK_AREA = [[[100.3, 13.5], [100.95, 13.5], [100.95, 14.0], [100.3, 14.0], [100.3, 13.5]]]
AIRPORT_AREA = [
    [[100.72, 13.66], [100.78, 13.66], [100.78, 13.72], [100.72, 13.72], [100.72, 13.66]]
]


def ring(west: float, south: float, east: float, north: float) -> list[list[list[float]]]:
    return [[[west, south], [east, south], [east, north], [west, north], [west, south]]]


def prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


def rel(target: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Relationship", "object": target, **extra}


def geo(kind: str, coordinates: Any) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": kind, "coordinates": coordinates}}


ENTITIES: list[dict[str, Any]] = [
    {
        "id": "urn:ngsi-ld:Building:palace",
        "type": "Building",
        "name": prop("Grand Palace"),
        "height": prop(50),
        "open": prop(True),
        "address": prop({"city": "Bangkok", "district": "Phra Nakhon", "zip": {"code": "10200"}}),
        "temperature": prop(
            31.5,
            observedAt="2024-03-01T10:00:00Z",
            unitCode="CEL",
            accuracy=prop(0.5),
        ),
        "label": {
            "type": "LanguageProperty",
            "languageMap": {"en": "Grand Palace", "th": "พระบรมมหาราชวัง"},
        },
        "locatedAt": rel("urn:ngsi-ld:City:Bangkok"),
        "location": geo("Point", PALACE),
        "scope": "/Thailand/Bangkok/PhraNakhon",
    },
    {
        "id": "urn:ngsi-ld:Building:watarun",
        "type": ["Building", "TouristDestination"],
        "name": prop("Wat Arun"),
        "height": prop(70),
        "open": prop(False),
        "temperature": prop(29, observedAt="2024-03-01T08:00:00Z"),
        "locatedAt": rel("urn:ngsi-ld:City:Bangkok", observedAt="2024-01-01T00:00:00Z"),
        "location": geo("Point", WAT_ARUN),
        "scope": "/Thailand/Bangkok/BangkokYai",
    },
    {
        "id": "urn:ngsi-ld:Park:lumphini",
        "type": "Park",
        "name": prop("Lumphini Park"),
        "area": prop(576000),
        "noise": [
            prop(55, datasetId="urn:ngsi-ld:Dataset:day"),
            prop(40, datasetId="urn:ngsi-ld:Dataset:night"),
        ],
        "location": geo("Point", LUMPHINI),
        "scope": ["/Thailand/Bangkok/Pathumwan", "/Parks/Urban"],
    },
    {
        "id": "urn:ngsi-ld:Airport:BKK",
        "type": "Airport",
        "name": prop("Suvarnabhumi"),
        "location": geo("Point", AIRPORT),
        "operationSpace": geo("Polygon", AIRPORT_AREA),
    },
    {
        "id": "urn:ngsi-ld:Building:monas",
        "type": ["Building", "TouristDestination"],
        "name": prop("Monas"),
        "height": prop(132),
        "temperature": prop(33, observedAt="2023-12-31T23:00:00Z"),
        "locatedAt": rel("urn:ngsi-ld:City:Jakarta"),
        "location": geo("Point", MONAS),
        "scope": "/Indonesia/Jakarta",
    },
    {
        "id": "urn:ngsi-ld:City:Bangkok",
        "type": "City",
        "name": prop("Bangkok"),
        "population": prop(10539000),
        "locatedAt": rel("urn:ngsi-ld:Country:TH"),
        "location": geo("Polygon", BANGKOK_AREA),
    },
    {
        "id": "urn:ngsi-ld:City:Jakarta",
        "type": "City",
        "name": prop("Jakarta"),
        "locatedAt": rel("urn:ngsi-ld:Country:ID"),
        "location": geo("Point", KOTA_TUA),
    },
    {
        "id": "urn:ngsi-ld:Country:TH",
        "type": "Country",
        "name": prop("Thailand"),
        "description": prop("Kingdom of Thailand"),
    },
    {"id": "urn:ngsi-ld:Country:ID", "type": "Country", "name": prop("Indonesia")},
]
ALL = sorted(entity["id"] for entity in ENTITIES)
BY_ID = {entity["id"]: entity for entity in ENTITIES}
PALACE_ID = "urn:ngsi-ld:Building:palace"
WAT_ARUN_ID = "urn:ngsi-ld:Building:watarun"
MONAS_ID = "urn:ngsi-ld:Building:monas"
LUMPHINI_ID = "urn:ngsi-ld:Park:lumphini"
AIRPORT_ID = "urn:ngsi-ld:Airport:BKK"
BANGKOK_ID = "urn:ngsi-ld:City:Bangkok"
JAKARTA_ID = "urn:ngsi-ld:City:Jakarta"
THAILAND_ID = "urn:ngsi-ld:Country:TH"
INDONESIA_ID = "urn:ngsi-ld:Country:ID"
BUILDINGS = sorted([PALACE_ID, WAT_ARUN_ID, MONAS_ID])
EVERY_TYPE = "Building,Park,Airport,City,Country"


def quoted(text: str) -> str:
    """A string as a quoted value of the query language."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def create(client: httpx.Client, entity: dict[str, Any], **kwargs: Any) -> None:
    response = client.post("/entities", json=entity, **kwargs)
    assert response.status_code == 201, response.text


@pytest.fixture
def context_url(tmp_path: Path) -> Iterator[str]:
    """A user @context, served over HTTP, that names Building "Place" and height "tall"."""
    folder = tmp_path / "contexts"
    folder.mkdir()
    terms = {"Place": DEFAULT + "Building", "tall": DEFAULT + "height"}
    (folder / "city.jsonld").write_text(json.dumps({"@context": terms}))
    with static_files(folder) as base:
        yield f"{base}/city.jsonld"


INDEXED = "height,name,population,temperature,locatedAt,noise,open,area,text,description"


@pytest.fixture(params=["scan", "value index"])
def settings(request: pytest.FixtureRequest, store_url: str) -> Settings:
    """Every query test runs twice: on a node without a value index, and on one that indexes
    the values of the data set's attributes (a selective q then starts from the index)."""
    indexed = INDEXED if request.param == "value index" else ""
    return Settings(
        port=free_port(),
        store=store_url,
        open=True,
        indexed_attributes=indexed,
    )


@pytest.fixture
def city(client: httpx.Client) -> httpx.Client:
    """The client, with the data set created."""
    for entity in ENTITIES:
        create(client, entity)
    return client


def found(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    assert isinstance(body, list)
    return body


def ids(response: httpx.Response) -> list[str]:
    """The ids of a query answer, sorted (and checked to be without duplicates)."""
    every = [entity["id"] for entity in found(response)]
    assert len(every) == len(set(every)), every
    return sorted(every)


def query(client: httpx.Client, **params: Any) -> list[str]:
    return ids(client.get("/entities", params=params))


def post_query(client: httpx.Client, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return client.post("/entityOperations/query", json={"type": "Query", **body}, **kwargs)


def page_links(response: httpx.Response) -> dict[str, str]:
    """rel -> target of the paging links (next, prev) of a response."""
    header = response.headers.get("link", "")
    return dict(
        (rel, target) for target, rel in re.findall(r'<([^>]*)>\s*;\s*rel="(next|prev)"', header)
    )


def geo_params(georel: str, geometry: str, coordinates: Any, **extra: Any) -> dict[str, Any]:
    return {
        "georel": georel,
        "geometry": geometry,
        "coordinates": json.dumps(coordinates),
        **extra,
    }


# --- the data set itself ----------------------------------------------------------------------


def test_the_landmarks_are_where_the_tests_think(city: httpx.Client) -> None:
    assert haversine(*PALACE, *WAT_ARUN) == pytest.approx(750, rel=0.05)
    assert haversine(*PALACE, *LUMPHINI) == pytest.approx(5830, rel=0.02)
    assert haversine(*PALACE, *AIRPORT) == pytest.approx(28700, rel=0.02)
    assert haversine(*MONAS, *KOTA_TUA) == pytest.approx(4730, rel=0.02)
    assert query(city, local="true", limit=100) == ALL


# --- entity selection: types, ids, idPattern, attrs -----------------------------------------


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ("Building", BUILDINGS),
        ("TouristDestination", [MONAS_ID, WAT_ARUN_ID]),
        ("Building,Park", sorted([*BUILDINGS, LUMPHINI_ID])),
        ("Building|Airport", sorted([*BUILDINGS, AIRPORT_ID])),
        ("Building;TouristDestination", [MONAS_ID, WAT_ARUN_ID]),
        ("Park;TouristDestination", []),
        ("(Building;TouristDestination),City", [JAKARTA_ID, BANGKOK_ID, MONAS_ID, WAT_ARUN_ID]),
        ("City,(Building;TouristDestination)", [JAKARTA_ID, BANGKOK_ID, MONAS_ID, WAT_ARUN_ID]),
        ("Country;(Park,Country)", [INDONESIA_ID, THAILAND_ID]),
        (DEFAULT + "Park", [LUMPHINI_ID]),
        (f"{DEFAULT}Building;{DEFAULT}TouristDestination", [MONAS_ID, WAT_ARUN_ID]),
        ("Nowhere", []),
        (EVERY_TYPE, ALL),
    ],
)
def test_type_expressions(city: httpx.Client, types: str, expected: list[str]) -> None:
    assert query(city, type=types) == sorted(expected)


def test_multi_typed_entities_show_every_type(city: httpx.Client) -> None:
    body = found(city.get("/entities", params={"type": "TouristDestination"}))
    assert {entity["id"]: entity["type"] for entity in body} == {
        WAT_ARUN_ID: ["Building", "TouristDestination"],
        MONAS_ID: ["Building", "TouristDestination"],
    }
    assert body[0] == BY_ID[body[0]["id"]]


@pytest.mark.parametrize("bad", ["Building,", "(Building", "Building;;Park", "Bad Type", ",", "()"])
def test_malformed_type_expressions_are_400(city: httpx.Client, bad: str) -> None:
    assert_problem(city.get("/entities", params={"type": bad}), 400, "BadRequestData")


def test_id_lists(city: httpx.Client) -> None:
    assert query(city, type="Building", id=f"{PALACE_ID},{LUMPHINI_ID}") == [PALACE_ID]
    assert query(city, type=EVERY_TYPE, id=f"{PALACE_ID},{LUMPHINI_ID}") == [
        PALACE_ID,
        LUMPHINI_ID,
    ]
    assert query(city, type="Building", id=f"{MONAS_ID},urn:ngsi-ld:Building:none") == [MONAS_ID]
    assert query(city, attrs="height", id=f"{PALACE_ID},{BANGKOK_ID}") == [PALACE_ID]


def test_id_pattern(city: httpx.Client) -> None:
    assert query(city, type=EVERY_TYPE, idPattern="^urn:ngsi-ld:(Park|Airport):") == [
        AIRPORT_ID,
        LUMPHINI_ID,
    ]
    assert query(city, type="Building", idPattern="a") == BUILDINGS
    assert query(city, type="Building", idPattern="run$") == [WAT_ARUN_ID]
    assert query(city, q="name", idPattern="^urn:ngsi-ld:City:") == [BANGKOK_ID, JAKARTA_ID]
    assert query(city, type="City", idPattern="^urn:ngsi-ld:Building:") == []


def test_an_invalid_id_pattern_is_400(city: httpx.Client) -> None:
    response = city.get("/entities", params={"type": "Building", "idPattern": "(unclosed"})
    assert_problem(response, 400, "BadRequestData")


def test_attrs_selects_entities_having_at_least_one(city: httpx.Client) -> None:
    assert query(city, attrs="noise") == [LUMPHINI_ID]
    assert query(city, attrs="noise,population") == [BANGKOK_ID, LUMPHINI_ID]
    assert query(city, attrs="description,area,nothing") == [THAILAND_ID, LUMPHINI_ID]
    assert query(city, attrs="nothing") == []
    assert query(city, attrs=f"{DEFAULT}population") == [BANGKOK_ID]


def test_attrs_projects_the_entities(city: httpx.Client) -> None:
    body = found(city.get("/entities", params={"attrs": "population,description"}))
    assert sorted(body, key=lambda e: e["id"]) == [
        {
            "id": BANGKOK_ID,
            "type": "City",
            "population": prop(10539000),
        },
        {
            "id": THAILAND_ID,
            "type": "Country",
            "description": prop("Kingdom of Thailand"),
        },
    ]


def test_attrs_with_a_type(city: httpx.Client) -> None:
    assert query(city, type="Building", attrs="open") == [PALACE_ID, WAT_ARUN_ID]
    assert query(city, type="City,Country", attrs="locatedAt,description") == sorted(
        [JAKARTA_ID, BANGKOK_ID, THAILAND_ID]
    )


def test_attrs_naming_id_or_type_is_400(city: httpx.Client) -> None:
    response = city.get("/entities", params={"attrs": "id,type"})
    assert_problem(response, 400, "BadRequestData")


# --- q ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("height==70", [WAT_ARUN_ID]),
        ("height!=70", [PALACE_ID, MONAS_ID]),
        ("height>50", [WAT_ARUN_ID, MONAS_ID]),
        ("height>=50", BUILDINGS),
        ("height<70", [PALACE_ID]),
        ("height<=70", [PALACE_ID, WAT_ARUN_ID]),
        ("height>=50.5", [WAT_ARUN_ID, MONAS_ID]),
        ("height<1e2", [PALACE_ID, WAT_ARUN_ID]),
        ("temperature==31.5", [PALACE_ID]),
        ("temperature>-10", [PALACE_ID, WAT_ARUN_ID, MONAS_ID]),
        ("population>10000000", [BANGKOK_ID]),
        ('name=="Wat Arun"', [WAT_ARUN_ID]),
        ('name!="Wat Arun"', [i for i in ALL if i != WAT_ARUN_ID]),
        ('name>"T"', [WAT_ARUN_ID, THAILAND_ID]),
        ('name<="Bangkok"', [BANGKOK_ID]),
        ("open==true", [PALACE_ID]),
        ("open==false", [WAT_ARUN_ID]),
        ("open!=true", [WAT_ARUN_ID]),
        ("height==70,132", [WAT_ARUN_ID, MONAS_ID]),
        ('name=="Monas","Jakarta","Nowhere"', [MONAS_ID, JAKARTA_ID]),
        ("height!=50,70", [MONAS_ID]),
        ("height==50..100", [PALACE_ID, WAT_ARUN_ID]),
        ("height==70..70", [WAT_ARUN_ID]),
        ("height!=50..100", [MONAS_ID]),
        ('name=="A".."C"', [BANGKOK_ID]),
        ("name~=(?i)^wat", [WAT_ARUN_ID]),
        ("name~=Park$", [LUMPHINI_ID]),
        ("name~=^[GJ]", [PALACE_ID, JAKARTA_ID]),
        ('name~="^(Monas|Jakarta)$"', [MONAS_ID, JAKARTA_ID]),
        ("name!~=a", []),
        ("name!~=Park", [i for i in ALL if i != LUMPHINI_ID]),
        ("name!~=^.{6,}$", [MONAS_ID]),
        ("noise", [LUMPHINI_ID]),
        ("!height", [i for i in ALL if i not in BUILDINGS]),
        ("description;population", []),
        ("description|population", [BANGKOK_ID, THAILAND_ID]),
        ("height>60;open==false", [WAT_ARUN_ID]),
        ("height>100|open==true", [PALACE_ID, MONAS_ID]),
        ("(height>100|open==true);name~=Grand", [PALACE_ID]),
        ("height>100|open==true;name~=Grand", [PALACE_ID, MONAS_ID]),
        ("height>100|(open==true;name~=Wat)", [MONAS_ID]),
    ],
)
def test_q_on_values(city: httpx.Client, q: str, expected: list[str]) -> None:
    assert query(city, q=q) == sorted(expected)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("temperature.observedAt>2024-01-01T00:00:00Z", [PALACE_ID, WAT_ARUN_ID]),
        ("temperature.observedAt<2024-01-01T00:00:00Z", [MONAS_ID]),
        ("temperature.observedAt>=2024-03-01T10:00:00Z", [PALACE_ID]),
        ("temperature.observedAt==2024-03-01T10:00:00Z", [PALACE_ID]),
        ("temperature.observedAt==2024-03-01T10:00:00.000Z", [PALACE_ID]),
        ("temperature.observedAt>2024-03-01T15:30:00+07:00", [PALACE_ID]),
        (
            "temperature.observedAt==2024-03-01T00:00:00Z..2024-03-01T09:00:00Z",
            [WAT_ARUN_ID],
        ),
        ("temperature.observedAt", [PALACE_ID, WAT_ARUN_ID, MONAS_ID]),
        ('temperature.unitCode=="CEL"', [PALACE_ID]),
        ("temperature.unitCode==CEL", [PALACE_ID]),
        ("temperature.unitCode", [PALACE_ID]),
        ("!temperature.unitCode;temperature", [WAT_ARUN_ID, MONAS_ID]),
        ("temperature.accuracy==0.5", [PALACE_ID]),
        ("temperature.accuracy<1", [PALACE_ID]),
        ("temperature.accuracy", [PALACE_ID]),
        ("locatedAt.observedAt<2024-06-01T00:00:00Z", [WAT_ARUN_ID]),
        ("noise.datasetId==urn:ngsi-ld:Dataset:night", [LUMPHINI_ID]),
        ("noise==40", [LUMPHINI_ID]),
        ("noise>50", [LUMPHINI_ID]),
        ("noise>60", []),
    ],
)
def test_q_on_sub_attributes_and_members(city: httpx.Client, q: str, expected: list[str]) -> None:
    assert query(city, q=q) == sorted(expected)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('address[city]=="Bangkok"', [PALACE_ID]),
        ('address[city]=="Jakarta"', []),
        ("address[district]~=^Phra", [PALACE_ID]),
        ('address[zip][code]=="10200"', [PALACE_ID]),
        ("address[zip][code]", [PALACE_ID]),
        ("address[nothing]", []),
        ("!address[nothing];address", [PALACE_ID]),
    ],
)
def test_q_on_compound_values(city: httpx.Client, q: str, expected: list[str]) -> None:
    assert query(city, q=q) == sorted(expected)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("locatedAt==urn:ngsi-ld:City:Bangkok", [PALACE_ID, WAT_ARUN_ID]),
        ("locatedAt==urn:ngsi-ld:City:Bangkok,urn:ngsi-ld:City:Jakarta", BUILDINGS),
        (
            "locatedAt!=urn:ngsi-ld:City:Bangkok",
            [MONAS_ID, BANGKOK_ID, JAKARTA_ID],
        ),
        ("locatedAt==urn:ngsi-ld:Country:TH", [BANGKOK_ID]),
        ("locatedAt==urn:ngsi-ld:City:Paris", []),
        (
            "locatedAt==urn:ngsi-ld:City:Bangkok|locatedAt==urn:ngsi-ld:Country:ID",
            [PALACE_ID, WAT_ARUN_ID, JAKARTA_ID],
        ),
        ("locatedAt~=^urn:ngsi-ld:Country:", [BANGKOK_ID, JAKARTA_ID]),
    ],
)
def test_q_on_relationship_objects(city: httpx.Client, q: str, expected: list[str]) -> None:
    assert query(city, q=q) == sorted(expected)


def test_q_on_language_properties(city: httpx.Client) -> None:
    assert query(city, q='label=="พระบรมมหาราชวัง"') == [PALACE_ID]
    assert query(city, q='label=="Grand Palace"') == [PALACE_ID]
    assert query(city, q='label[en]=="Grand Palace"') == [PALACE_ID]
    assert query(city, q='label[th]=="Grand Palace"') == []
    assert query(city, q="label~=^พระ") == [PALACE_ID]


def test_unequal_never_matches_an_entity_lacking_the_attribute(city: httpx.Client) -> None:
    assert query(city, q="height!=1") == BUILDINGS
    assert query(city, type="City,Country", q="population!=1") == [BANGKOK_ID]
    assert query(city, type="Park", q="height!=1") == []
    assert query(city, q="name!~=^zzz") == ALL
    assert query(city, q='temperature.unitCode!="K"') == [PALACE_ID]
    assert query(city, q='address[city]!="Jakarta"') == [PALACE_ID]


def test_values_of_another_type_do_not_match(city: httpx.Client) -> None:
    assert query(city, q='height=="70"') == []
    assert query(city, q="name==70") == []
    assert query(city, q="open==1") == []
    assert query(city, q='open=="true"') == []
    assert query(city, q="height==true") == []


def test_q_names_are_expanded_with_the_link_context(city: httpx.Client, context_url: str) -> None:
    with_context = city.get(
        "/entities", params={"q": "tall>60", "type": "Place"}, headers={"Link": link(context_url)}
    )
    assert ids(with_context) == [MONAS_ID, WAT_ARUN_ID]
    assert found(with_context)[0]["tall"] == prop(132)
    assert query(city, q="tall>60") == []
    assert query(city, q="height==70", type=f"{DEFAULT}Building") == [WAT_ARUN_ID]


def test_q_with_numbers_beyond_64_bits(city: httpx.Client) -> None:
    """Any number is a valid value (clause 4.9): one too large for an integer column is still
    compared, never a server error."""
    cases = [
        ("height==100000000000000000000", []),
        ("height<100000000000000000000", BUILDINGS),
        ("height>1e19", []),
        ("height>-1e19", BUILDINGS),
        ("height==1e400", []),
        ("height<1e400", BUILDINGS),
        ("height==50..100000000000000000000", BUILDINGS),
        ("height==12345678901234567890123,70", [WAT_ARUN_ID]),
    ]
    wrong = []
    for q, expected in cases:
        try:
            response = city.get("/entities", params={"q": q})
        except httpx.TransportError as error:
            wrong.append(f"{q}: {type(error).__name__}")
            continue
        if response.status_code != 200:
            wrong.append(f"{q}: {response.status_code}")
        elif ids(response) != sorted(expected):
            wrong.append(f"{q}: {ids(response)}")
    assert wrong == []


def test_q_follows_updates_of_the_values(city: httpx.Client) -> None:
    assert query(city, q="height==70") == [WAT_ARUN_ID]
    patched = city.patch(f"/entities/{WAT_ARUN_ID}/attrs", json={"height": prop(82)})
    assert patched.status_code == 204, patched.text
    assert query(city, q="height==70") == []
    assert query(city, q="height==82") == [WAT_ARUN_ID]
    assert query(city, q="height>80;height<100") == [WAT_ARUN_ID]
    renamed = city.patch(f"/entities/{PALACE_ID}/attrs", json={"name": prop("Phra Borom")})
    assert renamed.status_code == 204, renamed.text
    assert query(city, q='name=="Grand Palace"') == []
    assert query(city, q='name=="Phra Borom"') == [PALACE_ID]
    assert city.delete(f"/entities/{MONAS_ID}").status_code == 204
    assert query(city, q="height==132") == []
    assert query(city, q='name=="Monas"') == []
    replaced = city.put(f"/entities/{JAKARTA_ID}", json={"type": "City", "height": prop(132)})
    assert replaced.status_code == 204, replaced.text
    assert query(city, q="height==132") == [JAKARTA_ID]
    assert query(city, q='name=="Jakarta"') == []


def test_counts_follow_deletes_and_type_changes(city: httpx.Client) -> None:
    def count(types: str) -> tuple[str, list[str]]:
        response = city.get("/entities", params={"type": types, "count": "true"})
        return response.headers["NGSILD-Results-Count"], ids(response)

    assert count("TouristDestination") == ("2", [MONAS_ID, WAT_ARUN_ID])
    replaced = city.put(f"/entities/{MONAS_ID}", json={"type": "Building", "height": prop(132)})
    assert replaced.status_code == 204, replaced.text
    assert count("TouristDestination") == ("1", [WAT_ARUN_ID])
    assert count("Building") == ("3", BUILDINGS)
    assert city.delete(f"/entities/{WAT_ARUN_ID}").status_code == 204
    assert count("TouristDestination") == ("0", [])
    assert count("Building") == ("2", [MONAS_ID, PALACE_ID])
    only_count = city.get("/entities", params={"type": "Building", "count": "true", "limit": 0})
    assert only_count.headers["NGSILD-Results-Count"] == "2"
    create(city, {"id": WAT_ARUN_ID, "type": ["TouristDestination", "Temple"]})
    assert count("TouristDestination") == ("1", [WAT_ARUN_ID])
    assert count("Temple;TouristDestination") == ("1", [WAT_ARUN_ID])
    assert count("Building") == ("2", [MONAS_ID, PALACE_ID])


def test_q_alone_is_a_valid_query(city: httpx.Client) -> None:
    assert query(city, q="population") == [BANGKOK_ID]


@pytest.mark.parametrize(
    "bad",
    ["height==", "height=70", "(height==70", "height==70)", "height>1,2", 'name=="open', "a b"],
)
def test_malformed_q_is_400_naming_the_position(city: httpx.Client, bad: str) -> None:
    problem = assert_problem(city.get("/entities", params={"q": bad}), 400, "BadRequestData")
    assert re.search(r"position \d+", problem["detail"])


def test_an_invalid_quoted_regular_expression_is_400(city: httpx.Client) -> None:
    response = city.get("/entities", params={"type": "Building", "q": 'name~="(unclosed"'})
    assert_problem(response, 400, "BadRequestData")
    assert query(city, type="Building") == BUILDINGS


# --- scopeQ ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("/Thailand/Bangkok/PhraNakhon", [PALACE_ID]),
        ("/Thailand", []),
        ("/Thailand/#", [PALACE_ID, WAT_ARUN_ID, LUMPHINI_ID]),
        ("/Thailand/Bangkok/+", [PALACE_ID, WAT_ARUN_ID, LUMPHINI_ID]),
        ("/+/Bangkok/PhraNakhon", [PALACE_ID]),
        ("/+/+", [MONAS_ID, LUMPHINI_ID]),
        ("/Parks/#", [LUMPHINI_ID]),
        ("/#", [PALACE_ID, WAT_ARUN_ID, MONAS_ID, LUMPHINI_ID]),
        ("/Thailand/#;/Parks/#", [LUMPHINI_ID]),
        ("/Indonesia/#,/Parks/#", [MONAS_ID, LUMPHINI_ID]),
        ("/Indonesia/#|/Parks/#", [MONAS_ID, LUMPHINI_ID]),
        ("/Thailand/#;(/Parks/Urban,/+/+/PhraNakhon)", [PALACE_ID, LUMPHINI_ID]),
        ("/Thai/#", []),
    ],
)
def test_scope_q(city: httpx.Client, scope: str, expected: list[str]) -> None:
    assert query(city, type=EVERY_TYPE, scopeQ=scope) == sorted(expected)


@pytest.mark.parametrize("bad", ["Thailand", "/Thailand/#/x", "/a//b", "/a;", "/a b"])
def test_malformed_scope_q_is_400(city: httpx.Client, bad: str) -> None:
    response = city.get("/entities", params={"type": "Building", "scopeQ": bad})
    assert_problem(response, 400, "BadRequestData")


# --- geo-queries -----------------------------------------------------------------------------


def geo_query(
    client: httpx.Client, georel: str, geometry: str, coordinates: Any, **extra: Any
) -> list[str]:
    return ids(client.get("/entities", params=geo_params(georel, geometry, coordinates, **extra)))


def test_near_with_a_maximum_distance(city: httpx.Client) -> None:
    near = geo_query(city, "near;maxDistance==2000", "Point", PALACE)
    # The polygon of Bangkok holds the palace: 0 m away.
    assert near == sorted([PALACE_ID, WAT_ARUN_ID, BANGKOK_ID])
    assert geo_query(city, "near;maxDistance==500", "Point", PALACE, type="Building") == [PALACE_ID]
    assert geo_query(
        city, "near;maxDistance==10000", "Point", PALACE, type="Building,Park"
    ) == sorted([PALACE_ID, WAT_ARUN_ID, LUMPHINI_ID])
    assert geo_query(city, "near;maxDistance==5000", "Point", MONAS) == sorted(
        [JAKARTA_ID, MONAS_ID]
    )
    assert geo_query(city, "near;maxDistance==4500", "Point", MONAS) == [MONAS_ID]


def test_near_with_a_minimum_distance(city: httpx.Client) -> None:
    far = geo_query(city, "near;minDistance==10000", "Point", PALACE, type=EVERY_TYPE)
    assert far == sorted([AIRPORT_ID, MONAS_ID, JAKARTA_ID])
    ring_ = geo_query(
        city,
        "near;minDistance==1000;maxDistance==30000",
        "Point",
        PALACE,
        type="Building,Park,Airport",
    )
    assert ring_ == sorted([LUMPHINI_ID, AIRPORT_ID])


def test_within_a_polygon(city: httpx.Client) -> None:
    around = ring(100.2, 13.4, 101.0, 14.1)
    assert geo_query(city, "within", "Polygon", around) == sorted(
        [PALACE_ID, WAT_ARUN_ID, LUMPHINI_ID, AIRPORT_ID, BANGKOK_ID]
    )
    old_town = ring(100.48, 13.74, 100.50, 13.76)
    assert geo_query(city, "within", "Polygon", old_town) == sorted([PALACE_ID, WAT_ARUN_ID])
    assert geo_query(
        city, "within", "Polygon", BANGKOK_AREA, type="Building,Park,Airport"
    ) == sorted([AIRPORT_ID, PALACE_ID, WAT_ARUN_ID, LUMPHINI_ID])


def test_intersects(city: httpx.Client) -> None:
    old_town = ring(100.48, 13.74, 100.50, 13.76)
    assert geo_query(city, "intersects", "Polygon", old_town) == sorted(
        [PALACE_ID, WAT_ARUN_ID, BANGKOK_ID]
    )
    assert geo_query(city, "intersects", "Point", LUMPHINI) == sorted([LUMPHINI_ID, BANGKOK_ID])


def test_contains(city: httpx.Client) -> None:
    assert geo_query(city, "contains", "Point", LUMPHINI) == sorted([LUMPHINI_ID, BANGKOK_ID])
    assert geo_query(city, "contains", "Polygon", ring(100.4, 13.6, 100.6, 13.8)) == [BANGKOK_ID]
    assert geo_query(city, "contains", "Polygon", ring(100.0, 13.0, 101.0, 15.0)) == []


def test_disjoint(city: httpx.Client) -> None:
    assert geo_query(city, "disjoint", "Polygon", BANGKOK_AREA) == sorted([MONAS_ID, JAKARTA_ID])
    assert geo_query(city, "disjoint", "Point", MONAS, type="Building") == sorted(
        [PALACE_ID, WAT_ARUN_ID]
    )


def test_equals(city: httpx.Client) -> None:
    assert geo_query(city, "equals", "Point", WAT_ARUN) == [WAT_ARUN_ID]
    assert geo_query(city, "equals", "Polygon", BANGKOK_AREA) == [BANGKOK_ID]
    assert geo_query(city, "equals", "Point", [100.4890, 13.7437]) == []


def test_overlaps(city: httpx.Client) -> None:
    half = ring(100.9, 13.9, 101.2, 14.2)
    assert geo_query(city, "overlaps", "Polygon", half) == [BANGKOK_ID]
    assert geo_query(city, "overlaps", "Polygon", ring(101.5, 13.0, 102.0, 13.5)) == []


def test_another_geoproperty(city: httpx.Client) -> None:
    terminal = [100.75, 13.69]
    assert geo_query(city, "intersects", "Point", terminal, geoproperty="operationSpace") == [
        AIRPORT_ID
    ]
    assert geo_query(city, "within", "Polygon", BANGKOK_AREA, geoproperty="operationSpace") == [
        AIRPORT_ID
    ]
    assert geo_query(
        city, "near;maxDistance==100", "Point", [100.73, 13.70], geoproperty="operationSpace"
    ) == [AIRPORT_ID]
    assert geo_query(city, "near;maxDistance==100", "Point", [100.73, 13.70]) == [BANGKOK_ID]
    assert geo_query(city, "within", "Polygon", BANGKOK_AREA, geoproperty="nowhere") == []


def test_geo_query_with_a_type_and_q(city: httpx.Client) -> None:
    assert geo_query(
        city, "near;maxDistance==10000", "Point", PALACE, type="Building", q="height>60"
    ) == [WAT_ARUN_ID]


def test_near_finds_everything_within_the_distance_far_north(client: httpx.Client) -> None:
    """Oslo to Imatra is 992 km; near;maxDistance==1000000 must find it (clause 4.10)."""
    oslo = [10.7522, 59.9139]
    for name, point in (("Lappeenranta", [28.1897, 61.0587]), ("Imatra", [28.7666, 61.1719])):
        assert haversine(*oslo, *point) < 1_000_000
        create(
            client,
            {"id": f"urn:ngsi-ld:Town:{name}", "type": "Town", "location": geo("Point", point)},
        )
    assert geo_query(client, "near;maxDistance==1000000", "Point", oslo) == [
        "urn:ngsi-ld:Town:Imatra",
        "urn:ngsi-ld:Town:Lappeenranta",
    ]


def test_near_finds_everything_within_the_distance_across_the_antimeridian(
    client: httpx.Client,
) -> None:
    """Fiji straddles 180°: two islands 7.7 km apart on either side of it (clause 4.10)."""
    east, west = [179.97, -16.85], [-179.98, -16.80]
    assert haversine(*east, *west) < 10_000
    create(
        client, {"id": "urn:ngsi-ld:Island:east", "type": "Island", "location": geo("Point", east)}
    )
    create(
        client, {"id": "urn:ngsi-ld:Island:west", "type": "Island", "location": geo("Point", west)}
    )
    assert geo_query(client, "near;maxDistance==10000", "Point", east) == [
        "urn:ngsi-ld:Island:east",
        "urn:ngsi-ld:Island:west",
    ]


@pytest.mark.parametrize(
    "params",
    [
        geo_params("invalid", "Point", PALACE),
        geo_params("near", "Point", PALACE),
        geo_params("within;maxDistance==5", "Polygon", BANGKOK_AREA),
        geo_params("near;maxDistance==5", "Polygon", BANGKOK_AREA),
        geo_params("within", "Polygon", [[[0, 0], [1, 0], [1, 1]]]),
        geo_params("within", "Circle", PALACE),
        geo_params("near;maxDistance==5", "Point", [200, 13]),
        {"georel": "near;maxDistance==5", "geometry": "Point", "coordinates": "not json"},
        {"georel": "near;maxDistance==5", "geometry": "Point"},
        {"georel": "near;maxDistance==5", "coordinates": "[1, 2]"},
    ],
)
def test_invalid_geo_queries_are_400(city: httpx.Client, params: dict[str, Any]) -> None:
    assert_problem(city.get("/entities", params=params), 400, "BadRequestData")


# --- count, limit, offset, paging links -----------------------------------------------------


def test_count(city: httpx.Client) -> None:
    response = city.get("/entities", params={"type": "Building", "count": "true"})
    assert response.headers["NGSILD-Results-Count"] == "3"
    assert ids(response) == BUILDINGS
    limited = city.get("/entities", params={"type": EVERY_TYPE, "count": "true", "limit": 2})
    assert limited.headers["NGSILD-Results-Count"] == str(len(ALL))
    assert len(found(limited)) == 2
    none = city.get("/entities", params={"type": "Nowhere", "count": "true"})
    assert none.headers["NGSILD-Results-Count"] == "0"
    assert found(none) == []
    counted_q = city.get("/entities", params={"q": "height>60", "count": "true"})
    assert counted_q.headers["NGSILD-Results-Count"] == "2"
    counted_geo = city.get(
        "/entities",
        params={**geo_params("near;maxDistance==2000", "Point", PALACE), "count": "true"},
    )
    assert counted_geo.headers["NGSILD-Results-Count"] == "3"


def test_no_count_header_unless_asked(city: httpx.Client) -> None:
    for flag in (None, "false"):
        params = {"type": "Building"} | ({"count": flag} if flag else {})
        response = city.get("/entities", params=params)
        assert response.status_code == 200
        assert "NGSILD-Results-Count" not in response.headers


def test_limit_zero_with_count_only_counts(city: httpx.Client) -> None:
    response = city.get("/entities", params={"type": "Building", "limit": 0, "count": "true"})
    assert found(response) == []
    assert response.headers["NGSILD-Results-Count"] == "3"


def test_limit_zero_without_count_is_400(city: httpx.Client) -> None:
    response = city.get("/entities", params={"type": "Building", "limit": 0})
    assert_problem(response, 400, "BadRequestData")


def test_a_limit_above_the_maximum_is_403_too_many_results(city: httpx.Client) -> None:
    assert_problem(
        city.get("/entities", params={"type": "Building", "limit": 1001}), 403, "TooManyResults"
    )
    assert query(city, type="Building", limit=1000) == BUILDINGS
    response = post_query(city, {"entities": [{"type": "Building"}]}, params={"limit": 5000})
    assert_problem(response, 403, "TooManyResults")


@pytest.mark.parametrize(
    "params",
    [
        {"type": EVERY_TYPE},
        {"type": "Building"},
        {"attrs": "name"},
        {"q": "name"},
        {"q": "height>=0"},
        {"q": 'name=="Bangkok","Jakarta","Monas","Thailand"'},
        {"type": EVERY_TYPE, "q": "name~=a"},
        {"type": EVERY_TYPE, "idPattern": "urn"},
        geo_params("within", "Polygon", ring(90, -10, 110, 20)),
        geo_params("near;minDistance==1", "Point", [0, 0]),
    ],
)
def test_pages_cover_the_result_once_in_a_stable_order(
    city: httpx.Client, params: dict[str, Any]
) -> None:
    full = [e["id"] for e in found(city.get("/entities", params={**params, "limit": 1000}))]
    assert full == sorted(full)
    assert len(full) >= 3
    for size in (1, 2, 4):
        paged: list[str] = []
        for offset in range(0, len(full) + size, size):
            page = city.get("/entities", params={**params, "limit": size, "offset": offset})
            paged.extend(e["id"] for e in found(page))
        assert paged == full, size


def follow(node_url: str, client: httpx.Client, target: str) -> httpx.Response:
    assert target.startswith("/ngsi-ld/v1/")
    return client.get(node_url + target)


def test_next_and_prev_links_walk_the_pages(city: httpx.Client, node_url: str) -> None:
    full = query(city, type=EVERY_TYPE, limit=1000)
    first = city.get("/entities", params={"type": EVERY_TYPE, "limit": 2, "count": "true"})
    assert "prev" not in page_links(first)
    pages = [first]
    while "next" in page_links(pages[-1]):
        pages.append(follow(node_url, city, page_links(pages[-1])["next"]))
        assert len(pages) <= len(full)
    walked = [e["id"] for page in pages for e in found(page)]
    assert walked == full
    assert [len(found(p)) for p in pages] == [2, 2, 2, 2, 1]
    for earlier, later in itertools.pairwise(pages):
        assert "prev" in page_links(later)
        back = follow(node_url, city, page_links(later)["prev"])
        assert found(back) == found(earlier)
        assert back.headers["NGSILD-Results-Count"] == str(len(full))


def test_links_keep_the_other_parameters(city: httpx.Client, node_url: str) -> None:
    response = city.get(
        "/entities",
        params={"type": "Building", "q": "height>=50", "options": "keyValues", "limit": 1},
    )
    target = page_links(response)["next"]
    assert "offset=1" in target
    assert "limit=1" in target
    assert "options=keyValues" in target
    assert "q=height" in target
    assert found(follow(node_url, city, target)) == [
        {
            "id": PALACE_ID,
            "type": "Building",
            "name": "Grand Palace",
            "height": 50,
            "open": True,
            "address": {"city": "Bangkok", "district": "Phra Nakhon", "zip": {"code": "10200"}},
            "temperature": 31.5,
            "label": {"languageMap": {"en": "Grand Palace", "th": "พระบรมมหาราชวัง"}},
            "locatedAt": "urn:ngsi-ld:City:Bangkok",
            "location": {"type": "Point", "coordinates": PALACE},
            "scope": "/Thailand/Bangkok/PhraNakhon",
        }
    ]


def test_a_middle_page_has_both_links(city: httpx.Client) -> None:
    response = city.get("/entities", params={"type": EVERY_TYPE, "limit": 3, "offset": 3})
    assert ids(response) == sorted(
        [e["id"] for e in found(city.get("/entities", params={"type": EVERY_TYPE, "limit": 100}))][
            3:6
        ]
    )
    links = page_links(response)
    assert set(links) == {"prev", "next"}
    assert "offset=0" in links["prev"]
    assert "offset=6" in links["next"]


def test_no_next_link_on_a_short_last_page(city: httpx.Client) -> None:
    response = city.get("/entities", params={"type": "Building", "limit": 2, "offset": 2})
    assert len(found(response)) == 1
    assert set(page_links(response)) == {"prev"}
    alone = city.get("/entities", params={"type": "Building"})
    assert page_links(alone) == {}


def test_no_next_link_on_a_full_last_page(city: httpx.Client) -> None:
    """rel="next" names the next page only if there is one (clause 5.5.9): three Buildings
    in pages of three leave nothing for a next page, whether or not count was asked."""
    counted = city.get("/entities", params={"type": "Building", "limit": 3, "count": "true"})
    assert "next" not in page_links(counted)
    uncounted = city.get("/entities", params={"type": "Building", "limit": 3})
    assert len(found(uncounted)) == 3
    assert "next" not in page_links(uncounted)


def test_post_query_pages_too(city: httpx.Client, node_url: str) -> None:
    body = {"type": "Query", "entities": [{"type": "Building"}]}
    first = city.post("/entityOperations/query", params={"limit": 2}, json=body)
    assert ids(first) == sorted([MONAS_ID, PALACE_ID])
    target = page_links(first)["next"]
    assert target.startswith("/ngsi-ld/v1/entityOperations/query?")
    second = city.post(node_url + target, json=body)
    assert ids(second) == [WAT_ARUN_ID]


@pytest.mark.parametrize(
    "params",
    [
        {"type": "Building", "limit": "-1"},
        {"type": "Building", "limit": "two"},
        {"type": "Building", "offset": "-1"},
        {"type": "Building", "offset": "1.5"},
        {"type": "Building", "count": "yes"},
    ],
)
def test_bad_paging_parameters_are_400(city: httpx.Client, params: dict[str, str]) -> None:
    assert_problem(city.get("/entities", params=params), 400, "BadRequestData")


# --- what a query must select on --------------------------------------------------------------


def test_a_query_selecting_on_nothing_is_400(city: httpx.Client) -> None:
    assert_problem(city.get("/entities"), 400, "BadRequestData")
    assert_problem(city.get("/entities", params={"id": PALACE_ID}), 400, "BadRequestData")
    assert_problem(city.get("/entities", params={"idPattern": ".*"}), 400, "BadRequestData")
    assert_problem(city.get("/entities", params={"options": "keyValues"}), 400, "BadRequestData")
    assert_problem(post_query(city, {}), 400, "BadRequestData")
    assert_problem(post_query(city, {"entities": [{"id": PALACE_ID}]}), 400, "BadRequestData")


def test_local_alone_is_a_valid_query(city: httpx.Client) -> None:
    response = city.get("/entities", params={"local": "true", "count": "true"})
    assert response.headers["NGSILD-Results-Count"] == str(len(ALL))
    assert ids(response) == ALL
    assert query(city, local="true", id=PALACE_ID) == [PALACE_ID]


def test_an_unknown_parameter_is_400(city: httpx.Client) -> None:
    response = city.get("/entities", params={"type": "Building", "colour": "red"})
    assert_problem(response, 400, "InvalidRequest")


# --- POST /entityOperations/query -------------------------------------------------------------


def test_post_query_with_several_selectors(city: httpx.Client) -> None:
    response = post_query(
        city,
        {
            "entities": [
                {"type": "Building;TouristDestination"},
                {"id": LUMPHINI_ID, "type": "Park"},
                {"idPattern": "^urn:ngsi-ld:City:J", "type": "City"},
                {"id": [THAILAND_ID, PALACE_ID], "type": "Country"},
            ]
        },
    )
    assert ids(response) == sorted([WAT_ARUN_ID, MONAS_ID, LUMPHINI_ID, JAKARTA_ID, THAILAND_ID])


def test_post_query_with_attrs_q_and_geo(city: httpx.Client) -> None:
    assert ids(post_query(city, {"attrs": ["noise", "population"]})) == [BANGKOK_ID, LUMPHINI_ID]
    assert ids(post_query(city, {"entities": [{"type": "Building"}], "q": "height>60"})) == sorted(
        [WAT_ARUN_ID, MONAS_ID]
    )
    near = post_query(
        city,
        {
            "entities": [{"type": "Building"}, {"type": "Park"}],
            "geoQ": {
                "georel": "near;maxDistance==10000",
                "geometry": "Point",
                "coordinates": PALACE,
            },
        },
    )
    assert ids(near) == sorted([PALACE_ID, WAT_ARUN_ID, LUMPHINI_ID])
    within = post_query(
        city,
        {
            "geoQ": {
                "georel": "within",
                "geometry": "Polygon",
                "coordinates": BANGKOK_AREA,
                "geoproperty": "operationSpace",
            }
        },
    )
    assert ids(within) == [AIRPORT_ID]
    scoped = post_query(city, {"entities": [{"type": "Building"}], "scopeQ": "/Thailand/#"})
    assert ids(scoped) == sorted([PALACE_ID, WAT_ARUN_ID])


def test_post_query_as_geo_json(city: httpx.Client) -> None:
    response = post_query(
        city,
        {"entities": [{"type": "Country"}, {"type": "Park"}]},
        headers={"Accept": "application/geo+json"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    geometries = {feature["id"]: feature["geometry"] for feature in body["features"]}
    assert geometries == {
        LUMPHINI_ID: {"type": "Point", "coordinates": LUMPHINI},
        THAILAND_ID: None,
        INDONESIA_ID: None,
    }


def test_post_query_projects_with_attrs(city: httpx.Client) -> None:
    body = found(post_query(city, {"entities": [{"type": "City"}], "attrs": ["population"]}))
    assert body == [{"id": BANGKOK_ID, "type": "City", "population": prop(10539000)}]


def test_post_query_with_lang(city: httpx.Client) -> None:
    (body,) = found(post_query(city, {"q": "label", "lang": "th"}))
    assert body["id"] == PALACE_ID
    assert body["label"] == {"type": "Property", "value": "พระบรมมหาราชวัง", "lang": "th"}
    (key_values,) = found(
        post_query(city, {"q": "label", "lang": "en"}, params={"options": "keyValues"})
    )
    assert key_values["label"] == "Grand Palace"
    (overridden,) = found(post_query(city, {"q": "label", "lang": "en"}, params={"lang": "th"}))
    assert overridden["label"]["lang"] == "th"


def test_post_query_with_a_link_context(city: httpx.Client, context_url: str) -> None:
    body = found(
        post_query(
            city,
            {"entities": [{"type": "Place"}], "q": "tall>100"},
            headers={"Link": link(context_url)},
        )
    )
    assert [e["id"] for e in body] == [MONAS_ID]
    assert body[0]["type"] == ["Place", "TouristDestination"]
    assert body[0]["tall"] == prop(132)


@pytest.mark.parametrize(
    "body",
    [
        {"type": "NotAQuery", "entities": [{"type": "Building"}]},
        {"type": "Query", "entities": {"type": "Building"}},
        {"type": "Query", "entities": ["Building"]},
        {"type": "Query", "entities": [{"type": 5}]},
        {"type": "Query", "entities": [{"type": ""}]},
        {"type": "Query", "entities": [{"id": "not a uri", "type": "Building"}]},
        {"type": "Query", "entities": [{"idPattern": "(", "type": "Building"}]},
        {"type": "Query", "attrs": "name"},
        {"type": "Query", "attrs": [1]},
        {"type": "Query", "q": 5},
        {"type": "Query", "q": "height=="},
        {"type": "Query", "attrs": ["name"], "scopeQ": ["/a"]},
        {"type": "Query", "geoQ": "near"},
        {"type": "Query", "geoQ": {"georel": "near", "geometry": "Point", "coordinates": [0, 0]}},
        {"type": "Query", "geoQ": {"georel": "within", "geometry": "Point"}},
        {"type": "Query", "attrs": ["name"], "lang": 5},
        {"type": "Query", "attrs": ["name"], "join": "sideways"},
    ],
)
def test_invalid_post_queries_are_400(city: httpx.Client, body: Any) -> None:
    response = city.post("/entityOperations/query", json=body)
    assert_problem(response, 400, "BadRequestData")


def test_a_post_query_that_is_not_an_object_is_400(city: httpx.Client) -> None:
    response = city.post("/entityOperations/query", json=[{"type": "Query"}])
    assert response.status_code == 400
    assert response.json()["type"].rsplit("/", 1)[-1] in ("BadRequestData", "InvalidRequest")


def test_post_query_needs_a_json_body(city: httpx.Client) -> None:
    response = city.post(
        "/entityOperations/query",
        content=b"type=Query",
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 415


# --- representations ------------------------------------------------------------------------


def test_geo_json_feature_collection(city: httpx.Client) -> None:
    response = city.get(
        "/entities",
        params={"type": "Airport,City"},
        headers={"Accept": "application/geo+json"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["@context"] == CORE
    features = {feature["id"]: feature for feature in body["features"]}
    assert set(features) == {AIRPORT_ID, BANGKOK_ID, JAKARTA_ID}
    assert features[AIRPORT_ID] == {
        "id": AIRPORT_ID,
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": AIRPORT},
        "properties": {
            "type": "Airport",
            "name": prop("Suvarnabhumi"),
            "location": geo("Point", AIRPORT),
            "operationSpace": geo("Polygon", AIRPORT_AREA),
        },
    }
    assert features[BANGKOK_ID]["geometry"] == {"type": "Polygon", "coordinates": BANGKOK_AREA}


def test_geo_json_with_another_geometry_and_key_values(city: httpx.Client) -> None:
    response = city.get(
        "/entities",
        params={
            "type": "Airport,Country",
            "geometryProperty": "operationSpace",
            "options": "keyValues",
        },
        headers={"Accept": "application/geo+json"},
    )
    features = {feature["id"]: feature for feature in response.json()["features"]}
    assert features[AIRPORT_ID]["geometry"] == {"type": "Polygon", "coordinates": AIRPORT_AREA}
    assert features[AIRPORT_ID]["properties"]["name"] == "Suvarnabhumi"
    assert features[THAILAND_ID]["geometry"] is None
    assert features[THAILAND_ID]["properties"] == {
        "type": "Country",
        "name": "Thailand",
        "description": "Kingdom of Thailand",
    }


def test_ld_json_carries_the_context_in_each_entity(city: httpx.Client) -> None:
    response = city.get(
        "/entities", params={"type": "Country"}, headers={"Accept": "application/ld+json"}
    )
    assert response.headers["content-type"] == "application/ld+json"
    assert sorted(found(response), key=lambda e: e["id"]) == [
        {**BY_ID[INDONESIA_ID], "@context": CORE},
        {**BY_ID[THAILAND_ID], "@context": CORE},
    ]


def test_key_values(city: httpx.Client) -> None:
    body = found(
        city.get("/entities", params={"id": PALACE_ID, "type": "Building", "options": "keyValues"})
    )
    assert body == [
        {
            "id": PALACE_ID,
            "type": "Building",
            "name": "Grand Palace",
            "height": 50,
            "open": True,
            "address": {"city": "Bangkok", "district": "Phra Nakhon", "zip": {"code": "10200"}},
            "temperature": 31.5,
            "label": {"languageMap": {"en": "Grand Palace", "th": "พระบรมมหาราชวัง"}},
            "locatedAt": "urn:ngsi-ld:City:Bangkok",
            "location": {"type": "Point", "coordinates": PALACE},
            "scope": "/Thailand/Bangkok/PhraNakhon",
        }
    ]
    assert found(city.get("/entities", params={"type": "Park", "format": "simplified"}))[0][
        "noise"
    ] == {"dataset": {"urn:ngsi-ld:Dataset:day": 55, "urn:ngsi-ld:Dataset:night": 40}}


def test_concise(city: httpx.Client) -> None:
    (body,) = found(
        city.get("/entities", params={"type": "Building", "q": "height==70", "options": "concise"})
    )
    assert body == {
        "id": WAT_ARUN_ID,
        "type": ["Building", "TouristDestination"],
        "name": "Wat Arun",
        "height": 70,
        "open": False,
        "temperature": {"value": 29, "observedAt": "2024-03-01T08:00:00Z"},
        "locatedAt": {"object": "urn:ngsi-ld:City:Bangkok", "observedAt": "2024-01-01T00:00:00Z"},
        "location": {"type": "Point", "coordinates": WAT_ARUN},
        "scope": "/Thailand/Bangkok/BangkokYai",
    }


def test_sys_attrs(city: httpx.Client) -> None:
    (body,) = found(
        city.get("/entities", params={"type": "Country", "q": "description", "options": "sysAttrs"})
    )
    stamp = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
    assert stamp.match(body["createdAt"])
    assert stamp.match(body["modifiedAt"])
    for name in ("name", "description"):
        assert stamp.match(body[name]["createdAt"])
        assert stamp.match(body[name]["modifiedAt"])
    plain = found(city.get("/entities", params={"type": "Country", "q": "description"}))[0]
    assert "createdAt" not in plain
    assert "createdAt" not in plain["name"]


def test_lang_picks_a_language(city: httpx.Client) -> None:
    (body,) = found(city.get("/entities", params={"q": "label", "attrs": "label", "lang": "en"}))
    assert body["label"] == {"type": "Property", "value": "Grand Palace", "lang": "en"}
    (fallback,) = found(
        city.get("/entities", params={"q": "label", "attrs": "label", "lang": "de"})
    )
    assert fallback["label"]["type"] == "Property"
    assert fallback["label"]["lang"] in ("en", "th")


# --- pick, omit, datasetId --------------------------------------------------------------------


def test_pick_keeps_the_members_named(city: httpx.Client) -> None:
    body = found(city.get("/entities", params={"type": "Building", "pick": "id,height"}))
    assert sorted(body, key=lambda e: e["id"]) == [
        {"id": MONAS_ID, "height": prop(132)},
        {"id": PALACE_ID, "height": prop(50)},
        {"id": WAT_ARUN_ID, "height": prop(70)},
    ]


def test_pick_drops_the_entities_left_empty(city: httpx.Client) -> None:
    body = found(city.get("/entities", params={"type": "Building,Country", "pick": "height"}))
    assert sorted(entity["height"]["value"] for entity in body) == [50, 70, 132]
    assert all(set(entity) == {"height"} for entity in body)
    assert found(city.get("/entities", params={"type": "Country", "pick": "nothing"})) == []


def test_omit_drops_the_members_named(city: httpx.Client) -> None:
    body = found(city.get("/entities", params={"type": "Country", "omit": "id,type,name"}))
    assert body == [{"description": prop("Kingdom of Thailand")}]
    kept = found(city.get("/entities", params={"type": "City", "omit": "location,locatedAt"}))
    assert sorted(kept, key=lambda e: e["id"]) == [
        {"id": BANGKOK_ID, "type": "City", "name": prop("Bangkok"), "population": prop(10539000)},
        {"id": JAKARTA_ID, "type": "City", "name": prop("Jakarta")},
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"pick": "id;name"},
        {"pick": "id,locatedAt{name"},
        {"pick": "id,locatedAt{{name}"},
        {"pick": "id,,name"},
        {"pick": "id,locatedAt{,name}"},
        {"pick": "id,locatedAt{}"},
        {"pick": ""},
        {"omit": "id;name"},
        {"pick": "name", "omit": "id"},
        {"pick": "name", "attrs": "name"},
        {"omit": "name", "attrs": "name"},
    ],
)
def test_bad_pick_and_omit_are_400(city: httpx.Client, params: dict[str, str]) -> None:
    response = city.get("/entities", params={"type": "Building", **params})
    assert_problem(response, 400, "BadRequestData")


def test_dataset_id_filters_instances(city: httpx.Client) -> None:
    (night,) = found(
        city.get("/entities", params={"type": "Park", "datasetId": "urn:ngsi-ld:Dataset:night"})
    )
    assert night == {
        "id": LUMPHINI_ID,
        "type": "Park",
        "noise": prop(40, datasetId="urn:ngsi-ld:Dataset:night"),
        "scope": ["/Thailand/Bangkok/Pathumwan", "/Parks/Urban"],
    }
    (both,) = found(
        city.get(
            "/entities",
            params={
                "type": "Park",
                "datasetId": "urn:ngsi-ld:Dataset:night,urn:ngsi-ld:Dataset:day",
            },
        )
    )
    assert both["noise"] == BY_ID[LUMPHINI_ID]["noise"]
    assert "name" not in both
    (default,) = found(city.get("/entities", params={"type": "Park", "datasetId": "@none"}))
    assert "noise" not in default
    assert default["name"] == prop("Lumphini Park")
    assert default["area"] == prop(576000)


def test_dataset_id_never_removes_an_entity(city: httpx.Client) -> None:
    body = found(city.get("/entities", params={"type": "Country", "datasetId": "urn:x:none"}))
    assert sorted(body, key=lambda e: e["id"]) == [
        {"id": INDONESIA_ID, "type": "Country"},
        {"id": THAILAND_ID, "type": "Country"},
    ]


# --- joins -----------------------------------------------------------------------------------


def test_inline_join_one_level(city: httpx.Client) -> None:
    (body,) = found(
        city.get("/entities", params={"type": "Building", "q": "height==50", "join": "inline"})
    )
    assert body["locatedAt"] == {
        **rel("urn:ngsi-ld:City:Bangkok"),
        "entity": BY_ID[BANGKOK_ID],
    }
    assert "entity" not in body["locatedAt"]["entity"]["locatedAt"]


def test_inline_join_two_levels(city: httpx.Client) -> None:
    (body,) = found(
        city.get(
            "/entities",
            params={"type": "Building", "q": "height==50", "join": "inline", "joinLevel": 2},
        )
    )
    city_ = body["locatedAt"]["entity"]
    assert city_["id"] == BANGKOK_ID
    assert city_["locatedAt"] == {**rel("urn:ngsi-ld:Country:TH"), "entity": BY_ID[THAILAND_ID]}


def test_inline_join_with_key_values_replaces_the_relationship(city: httpx.Client) -> None:
    (body,) = found(
        city.get(
            "/entities",
            params={
                "type": "Building",
                "q": "height==132",
                "join": "inline",
                "joinLevel": 2,
                "options": "keyValues",
                "pick": "id,locatedAt",
            },
        )
    )
    assert body == {
        "id": MONAS_ID,
        "locatedAt": {
            "id": JAKARTA_ID,
            "type": "City",
            "name": "Jakarta",
            "locatedAt": {"id": INDONESIA_ID, "type": "Country", "name": "Indonesia"},
            "location": {"type": "Point", "coordinates": KOTA_TUA},
        },
    }


def test_flat_join_one_level(city: httpx.Client) -> None:
    body = found(city.get("/entities", params={"type": "Building", "join": "flat"}))
    by_id = {entity["id"]: entity for entity in body}
    assert len(body) == len(by_id)
    assert set(by_id) == {*BUILDINGS, BANGKOK_ID, JAKARTA_ID}
    assert by_id[BANGKOK_ID] == BY_ID[BANGKOK_ID]
    assert by_id[PALACE_ID] == BY_ID[PALACE_ID]


def test_flat_join_two_levels(city: httpx.Client) -> None:
    body = found(city.get("/entities", params={"type": "Building", "join": "flat", "joinLevel": 2}))
    assert ids_of(body) == sorted([*BUILDINGS, BANGKOK_ID, JAKARTA_ID, THAILAND_ID, INDONESIA_ID])
    assert {entity["id"]: entity for entity in body}[THAILAND_ID] == BY_ID[THAILAND_ID]


def ids_of(body: list[dict[str, Any]]) -> list[str]:
    every = [entity["id"] for entity in body]
    assert len(every) == len(set(every))
    return sorted(every)


def test_join_with_pick_on_the_linked_entity(city: httpx.Client) -> None:
    inline = found(
        city.get(
            "/entities",
            params={
                "type": "Building",
                "q": "height==70",
                "join": "inline",
                "joinLevel": 2,
                "pick": "id,locatedAt{id,name}",
            },
        )
    )
    assert inline == [
        {
            "id": WAT_ARUN_ID,
            "locatedAt": {
                **rel("urn:ngsi-ld:City:Bangkok", observedAt="2024-01-01T00:00:00Z"),
                "entity": {"id": BANGKOK_ID, "name": prop("Bangkok")},
            },
        }
    ]
    flat = found(
        city.get(
            "/entities",
            params={
                "type": "Building",
                "q": "height==70",
                "join": "flat",
                "joinLevel": 2,
                "pick": "id,locatedAt{id,name,locatedAt{description}}",
            },
        )
    )
    assert sorted(flat, key=lambda e: e.get("id", "")) == [
        {"description": prop("Kingdom of Thailand")},
        {
            "id": WAT_ARUN_ID,
            "locatedAt": rel("urn:ngsi-ld:City:Bangkok", observedAt="2024-01-01T00:00:00Z"),
        },
        {
            "id": BANGKOK_ID,
            "name": prop("Bangkok"),
            "locatedAt": rel("urn:ngsi-ld:Country:TH"),
        },
    ]


def test_a_relationship_left_out_is_not_followed(city: httpx.Client) -> None:
    body = found(
        city.get(
            "/entities",
            params={"type": "Building", "q": "height==50", "join": "flat", "pick": "id,name"},
        )
    )
    assert body == [{"id": PALACE_ID, "name": prop("Grand Palace")}]


def test_post_query_with_join(city: httpx.Client) -> None:
    body = found(
        post_query(
            city,
            {
                "entities": [{"type": "Building"}],
                "q": "height==132",
                "join": "flat",
                "joinLevel": 2,
            },
        )
    )
    assert ids_of(body) == [MONAS_ID, JAKARTA_ID, INDONESIA_ID]


@pytest.mark.parametrize(
    "params", [{"join": "sideways"}, {"join": "flat", "joinLevel": "0"}, {"joinLevel": "x"}]
)
def test_bad_join_parameters_are_400(city: httpx.Client, params: dict[str, str]) -> None:
    response = city.get("/entities", params={"type": "Building", **params})
    assert_problem(response, 400, "BadRequestData")


# --- tenants ---------------------------------------------------------------------------------


def test_tenants_see_only_their_own_entities(client: httpx.Client) -> None:
    bangkok, jakarta = {"NGSILD-Tenant": "bangkok"}, {"NGSILD-Tenant": "jakarta"}
    for entity in ENTITIES:
        target = jakarta if "Jakarta" in str(entity) or entity["id"] == INDONESIA_ID else bangkok
        create(client, entity, headers=target)
    in_bangkok = ids(client.get("/entities", params={"type": EVERY_TYPE}, headers=bangkok))
    in_jakarta = ids(client.get("/entities", params={"type": EVERY_TYPE}, headers=jakarta))
    assert in_jakarta == sorted([MONAS_ID, JAKARTA_ID, INDONESIA_ID])
    assert sorted(in_bangkok + in_jakarta) == ALL
    assert ids(client.get("/entities", params={"type": EVERY_TYPE})) == []
    near = geo_params("near;maxDistance==5000", "Point", MONAS)
    assert ids(client.get("/entities", params=near, headers=bangkok)) == []
    assert ids(client.get("/entities", params=near, headers=jakarta)) == sorted(
        [JAKARTA_ID, MONAS_ID]
    )
    posted = post_query(client, {"attrs": ["name"]}, headers=jakarta)
    assert ids(posted) == in_jakarta
    counted = client.get("/entities", params={"q": "name", "count": "true"}, headers=bangkok)
    assert counted.headers["NGSILD-Results-Count"] == str(len(in_bangkok))


def test_a_query_in_an_unknown_tenant_is_404(city: httpx.Client) -> None:
    response = city.get("/entities", params={"type": "Building"}, headers={"NGSILD-Tenant": "nope"})
    assert_problem(response, 404, "NonexistentTenant")


# --- hostile input ---------------------------------------------------------------------------

HOSTILE = [
    "x') OR 1=1 --",
    '"; DROP TABLE entity; --',
    "' UNION SELECT doc FROM entity --",
    "1' OR '1'='1",
    "%' OR e.id LIKE '%",
    "$.attrs",
    ')) OR json_type(e.doc, "$") --',
    "*",
]


def hostile_requests(h: str) -> list[tuple[dict[str, Any], list[str] | None]]:
    """(parameters, the ids a 200 answer must hold) for one hostile string."""
    near = geo_params("near;maxDistance==2000", "Point", PALACE)
    return [
        ({"type": "Building", "id": h}, []),
        ({"type": "Building", "id": f"{PALACE_ID},{h}"}, [PALACE_ID]),
        ({"type": h}, []),
        ({"type": f"Nowhere,{h}"}, []),
        ({"type": "Building", "idPattern": h}, None),
        ({"attrs": h}, []),
        ({"attrs": f"nothing,{h}"}, []),
        ({"q": f"name=={h}"}, []),
        ({"q": f'name=="{h}"'}, []),
        ({"q": h}, []),
        ({"q": f"{h}==1"}, []),
        ({"q": f"name[{h}]==1"}, []),
        ({"q": f"height==1|name~={h}"}, None),
        ({"type": "Building", "scopeQ": h}, []),
        ({"type": "Building", "scopeQ": f"/{h}"}, []),
        ({**near, "georel": h}, []),
        ({**near, "geometry": h}, []),
        ({**near, "coordinates": h}, []),
        ({**near, "coordinates": f"[100.49, {h}]"}, []),
        ({**near, "geoproperty": h}, []),
        ({"type": "Building", "pick": h}, []),
        ({"type": "Building", "omit": f"name,{h}"}, BUILDINGS),
        ({"type": "Building", "datasetId": h}, BUILDINGS),
        ({"type": "Building", "lang": h}, BUILDINGS),
        ({"type": "Building", "options": h}, BUILDINGS),
    ]


def regex_matches(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


@pytest.mark.parametrize("h", HOSTILE)
def test_hostile_parameters_select_only_what_matches(city: httpx.Client, h: str) -> None:
    names = {entity["id"]: entity["name"]["value"] for entity in ENTITIES}
    for params, answer in hostile_requests(h):
        expected = answer
        response = city.get("/entities", params=params)
        if response.status_code != 200:
            assert response.status_code == 400, (params, response.text)
            kind = response.json()["type"].rsplit("/", 1)[-1]
            assert kind in ("BadRequestData", "InvalidRequest"), (params, kind)
            continue
        if expected is None:
            if "idPattern" in params:
                expected = [i for i in BUILDINGS if regex_matches(h, i)]
            else:
                expected = [i for i, name in names.items() if regex_matches(h, name)]
        assert ids(response) == sorted(expected), params
    # The store is intact.
    assert query(city, local="true", limit=100) == ALL
    everything = city.get("/entities", params={"type": EVERY_TYPE, "limit": 100})
    assert found(everything) == [BY_ID[i] for i in ALL]
    # The hostile text is only ever data: an entity holding it is found by it, and only it.
    create(city, {"id": "urn:ngsi-ld:Sign:1", "type": "Sign", "name": prop(h)})
    assert query(city, q=f"name=={quoted(h)}") == ["urn:ngsi-ld:Sign:1"]
    assert query(city, q=f"name!={quoted(h)}") == ALL


@pytest.mark.parametrize("h", HOSTILE)
def test_hostile_post_queries_select_only_what_matches(city: httpx.Client, h: str) -> None:
    bodies: list[tuple[dict[str, Any], list[str]]] = [
        ({"entities": [{"type": h}]}, []),
        ({"entities": [{"type": "Building", "id": h}]}, []),
        ({"entities": [{"type": "Building", "id": [PALACE_ID, h]}]}, [PALACE_ID]),
        ({"entities": [{"type": "City"}, {"type": h}]}, [BANGKOK_ID, JAKARTA_ID]),
        ({"attrs": [h]}, []),
        ({"attrs": ["population", h]}, [BANGKOK_ID]),
        ({"q": f'name=="{h}"'}, []),
        ({"entities": [{"type": "Building"}], "scopeQ": h}, []),
        ({"geoQ": {"georel": "within", "geometry": "Polygon", "coordinates": h}}, []),
        (
            {
                "geoQ": {
                    "georel": "within",
                    "geometry": "Polygon",
                    "coordinates": BANGKOK_AREA,
                    "geoproperty": h,
                }
            },
            [],
        ),
    ]
    for body, expected in bodies:
        response = post_query(city, body)
        if response.status_code != 200:
            assert response.status_code == 400, (body, response.text)
            assert response.json()["type"].endswith("/BadRequestData")
            continue
        assert ids(response) == sorted(expected), body
    assert query(city, local="true", limit=100) == ALL


def test_hostile_names_in_the_store_stay_data(client: httpx.Client) -> None:
    for number, h in enumerate(HOSTILE):
        create(client, {"id": f"urn:ngsi-ld:Sign:{number}", "type": "Sign", "text": prop(h)})
    for number, h in enumerate(HOSTILE):
        assert query(client, q=f"text=={quoted(h)}") == [f"urn:ngsi-ld:Sign:{number}"]
    assert len(query(client, type="Sign", limit=100)) == len(HOSTILE)
