"""Discovery over real HTTP: GET /types, /types/{type}, /attributes, /attributes/{attr}
(clauses 5.7.5-5.7.10, 6.25-6.28): what entity types and attributes a tenant's entities hold."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.support.http import CORE, LD_JSON, assert_problem, link
from tests.support.servers import static_files

VOCAB = "https://example.org/vocab/"
NAME = "https://schema.org/name"
TERMS = {
    "Building": VOCAB + "Building",
    "Vehicle": VOCAB + "Vehicle",
    "Shop": VOCAB + "Shop",
    "name": NAME,
    "height": VOCAB + "height",
    "owner": VOCAB + "owner",
    "brandName": VOCAB + "brandName",
    "isParked": VOCAB + "isParked",
    "accuracy": VOCAB + "accuracy",
}
LOCATION = "https://uri.etsi.org/ngsi-ld/location"


def prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


ENTITIES: list[dict[str, Any]] = [
    {
        "id": "urn:ngsi-ld:Building:1",
        "type": "Building",
        "name": prop("Tower"),
        "height": [
            prop(120, accuracy=prop(0.5)),
            prop(121, datasetId="urn:ngsi-ld:Dataset:laser"),
        ],
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [100.5, 13.7]},
        },
    },
    {
        "id": "urn:ngsi-ld:Building:2",
        "type": ["Building", "Shop"],
        "name": prop("Mall"),
        "height": prop(40),
        "owner": prop("ACME"),
    },
    {
        "id": "urn:ngsi-ld:Vehicle:1",
        "type": "Vehicle",
        "name": prop("Tuk-tuk"),
        "brandName": prop("Daihatsu"),
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:Somchai"},
        "isParked": {"type": "Relationship", "object": "urn:ngsi-ld:Building:1"},
    },
]


@pytest.fixture
def context_url(tmp_path: Path) -> Iterator[str]:
    folder = tmp_path / "contexts"
    folder.mkdir()
    (folder / "discovery.jsonld").write_text(json.dumps({"@context": TERMS}))
    with static_files(folder) as base:
        yield f"{base}/discovery.jsonld"


@pytest.fixture
def headers(context_url: str) -> dict[str, str]:
    return {"Link": link(context_url)}


@pytest.fixture
def stocked(client: httpx.Client, headers: dict[str, str]) -> httpx.Client:
    """The client, with the entities created in the default tenant."""
    for entity in ENTITIES:
        response = client.post("/entities", json=entity, headers=headers)
        assert response.status_code == 201, response.text
    return client


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {item["id"]: item for item in items}
    assert len(found) == len(items)
    return found


# --- /types ----------------------------------------------------------------------------------


def test_types_lists_the_types_compacted_with_the_link_context(
    stocked: httpx.Client, headers: dict[str, str], context_url: str
) -> None:
    response = stocked.get("/types", headers=headers)
    body = ok(response)
    assert response.headers["link"] == link(context_url)
    assert set(body) == {"id", "type", "typeList"}
    assert re.match(r"^urn:ngsi-ld:EntityTypeList:.+", body["id"])
    assert body["type"] == "EntityTypeList"
    assert sorted(body["typeList"]) == ["Building", "Shop", "Vehicle"]


def test_types_without_a_link_are_full_iris(stocked: httpx.Client) -> None:
    response = stocked.get("/types/", params={"details": "false"})
    assert response.headers["link"] == link(CORE)
    assert sorted(ok(response)["typeList"]) == [
        VOCAB + "Building",
        VOCAB + "Shop",
        VOCAB + "Vehicle",
    ]


def test_types_with_details(stocked: httpx.Client, headers: dict[str, str]) -> None:
    body = ok(stocked.get("/types", params={"details": "true"}, headers=headers))
    assert isinstance(body, list)
    types = by_id(body)
    assert set(types) == {VOCAB + "Building", VOCAB + "Shop", VOCAB + "Vehicle"}
    for item in body:
        assert set(item) == {"id", "type", "typeName", "attributeNames"}
        assert item["type"] == "EntityType"
    building = types[VOCAB + "Building"]
    assert building["typeName"] == "Building"
    # Sub-attributes (accuracy) are not attributes of the type.
    assert sorted(building["attributeNames"]) == ["height", "location", "name", "owner"]
    assert sorted(types[VOCAB + "Shop"]["attributeNames"]) == ["height", "name", "owner"]
    assert sorted(types[VOCAB + "Vehicle"]["attributeNames"]) == [
        "brandName",
        "isParked",
        "name",
        "owner",
    ]


def test_an_entity_type(stocked: httpx.Client, headers: dict[str, str]) -> None:
    body = ok(stocked.get("/types/Building", headers=headers))
    assert set(body) == {"id", "type", "typeName", "entityCount", "attributeDetails"}
    assert body["id"] == VOCAB + "Building"
    assert body["type"] == "EntityTypeInfo"
    assert body["typeName"] == "Building"
    assert body["entityCount"] == 2
    assert by_id(body["attributeDetails"]) == {
        VOCAB + "height": {
            "id": VOCAB + "height",
            "type": "Attribute",
            "attributeName": "height",
            "attributeTypes": ["Property"],
        },
        LOCATION: {
            "id": LOCATION,
            "type": "Attribute",
            "attributeName": "location",
            "attributeTypes": ["GeoProperty"],
        },
        NAME: {
            "id": NAME,
            "type": "Attribute",
            "attributeName": "name",
            "attributeTypes": ["Property"],
        },
        VOCAB + "owner": {
            "id": VOCAB + "owner",
            "type": "Attribute",
            "attributeName": "owner",
            "attributeTypes": ["Property"],
        },
    }


def test_an_entity_type_by_its_percent_encoded_iri(stocked: httpx.Client) -> None:
    body = ok(stocked.get("/types/" + quote(VOCAB + "Vehicle", safe="")))
    assert body["id"] == VOCAB + "Vehicle"
    assert body["typeName"] == VOCAB + "Vehicle"
    assert body["entityCount"] == 1
    details = by_id(body["attributeDetails"])
    assert set(details) == {NAME, VOCAB + "brandName", VOCAB + "owner", VOCAB + "isParked"}
    assert details[VOCAB + "owner"]["attributeTypes"] == ["Relationship"]
    assert details[VOCAB + "owner"]["attributeName"] == VOCAB + "owner"
    assert details[VOCAB + "isParked"]["attributeTypes"] == ["Relationship"]


def test_an_entity_type_with_a_fragment_in_its_iri(client: httpx.Client) -> None:
    iri = "https://ngsi-ld-test-suite/context#Building"
    created = client.post("/entities", json={"id": "urn:ngsi-ld:Building:x", "type": iri})
    assert created.status_code == 201, created.text
    body = ok(client.get("/types/" + quote(iri, safe="")))
    assert body["id"] == iri
    assert body["entityCount"] == 1
    assert body["attributeDetails"] == []


def test_an_unknown_entity_type_is_404(stocked: httpx.Client, headers: dict[str, str]) -> None:
    # Without the Link header "Building" is the default vocabulary's Building, which no entity has.
    assert_problem(stocked.get("/types/Building"), 404, "ResourceNotFound")
    assert_problem(stocked.get("/types/Nothing", headers=headers), 404, "ResourceNotFound")
    assert_problem(
        stocked.get("/types/" + quote(VOCAB + "Nothing", safe="")), 404, "ResourceNotFound"
    )


def test_a_multi_typed_entity_counts_for_each_type(
    stocked: httpx.Client, headers: dict[str, str]
) -> None:
    assert ok(stocked.get("/types/Shop", headers=headers))["entityCount"] == 1
    assert ok(stocked.get("/types/Building", headers=headers))["entityCount"] == 2


# --- /attributes -----------------------------------------------------------------------------


def test_attributes_lists_the_attributes(stocked: httpx.Client, headers: dict[str, str]) -> None:
    body = ok(stocked.get("/attributes", params={"details": "false"}, headers=headers))
    assert set(body) == {"id", "type", "attributeList"}
    assert re.match(r"^urn:ngsi-ld:AttributeList:.+", body["id"])
    assert body["type"] == "AttributeList"
    assert sorted(body["attributeList"]) == [
        "brandName",
        "height",
        "isParked",
        "location",
        "name",
        "owner",
    ]
    bare = ok(stocked.get("/attributes/"))
    assert sorted(bare["attributeList"]) == sorted(
        [NAME, "location", *(VOCAB + n for n in ("brandName", "height", "isParked", "owner"))]
    )


def test_attributes_with_details(stocked: httpx.Client, headers: dict[str, str]) -> None:
    body = ok(stocked.get("/attributes", params={"details": "true"}, headers=headers))
    attributes = by_id(body)
    for item in body:
        assert set(item) == {"id", "type", "attributeName", "typeNames"}
        assert item["type"] == "Attribute"
    assert set(attributes) == {
        NAME,
        LOCATION,
        *(VOCAB + n for n in ("brandName", "height", "isParked", "owner")),
    }
    assert sorted(attributes[NAME]["typeNames"]) == ["Building", "Shop", "Vehicle"]
    assert attributes[NAME]["attributeName"] == "name"
    assert sorted(attributes[VOCAB + "owner"]["typeNames"]) == ["Building", "Shop", "Vehicle"]
    assert attributes[VOCAB + "brandName"]["typeNames"] == ["Vehicle"]
    assert attributes[LOCATION]["typeNames"] == ["Building"]


def test_an_attribute(stocked: httpx.Client, headers: dict[str, str]) -> None:
    body = ok(stocked.get("/attributes/height", headers=headers))
    assert body == {
        "id": VOCAB + "height",
        "type": "Attribute",
        "attributeName": "height",
        "attributeCount": 3,
        "attributeTypes": ["Property"],
        "typeNames": ["Building", "Shop"],
    }


def test_an_attribute_of_several_kinds(stocked: httpx.Client, headers: dict[str, str]) -> None:
    body = ok(stocked.get("/attributes/owner", headers=headers))
    assert body["attributeCount"] == 2
    assert sorted(body["attributeTypes"]) == ["Property", "Relationship"]
    assert sorted(body["typeNames"]) == ["Building", "Shop", "Vehicle"]


def test_an_attribute_by_its_full_iri(stocked: httpx.Client) -> None:
    body = ok(stocked.get("/attributes/" + quote(NAME, safe="")))
    assert body == {
        "id": NAME,
        "type": "Attribute",
        "attributeName": NAME,
        "attributeCount": 3,
        "attributeTypes": ["Property"],
        "typeNames": sorted(VOCAB + t for t in ("Building", "Shop", "Vehicle")),
    }
    location = ok(stocked.get("/attributes/location"))
    assert location["attributeTypes"] == ["GeoProperty"]
    assert location["attributeCount"] == 1


def test_an_unknown_attribute_is_404(stocked: httpx.Client, headers: dict[str, str]) -> None:
    assert_problem(stocked.get("/attributes/height"), 404, "ResourceNotFound")
    assert_problem(stocked.get("/attributes/nothing", headers=headers), 404, "ResourceNotFound")
    # A sub-attribute is not an attribute of any entity.
    assert_problem(stocked.get("/attributes/accuracy", headers=headers), 404, "ResourceNotFound")


# --- the lists follow the data ----------------------------------------------------------------


def test_the_lists_follow_deletes(stocked: httpx.Client, headers: dict[str, str]) -> None:
    deleted = stocked.delete("/entities/urn:ngsi-ld:Vehicle:1")
    assert deleted.status_code == 204
    types = ok(stocked.get("/types", headers=headers))["typeList"]
    assert sorted(types) == ["Building", "Shop"]
    assert_problem(stocked.get("/types/Vehicle", headers=headers), 404, "ResourceNotFound")
    attributes = ok(stocked.get("/attributes", headers=headers))["attributeList"]
    assert sorted(attributes) == ["height", "location", "name", "owner"]
    assert_problem(stocked.get("/attributes/brandName", headers=headers), 404, "ResourceNotFound")
    owner = ok(stocked.get("/attributes/owner", headers=headers))
    assert owner["attributeTypes"] == ["Property"]
    assert owner["attributeCount"] == 1
    assert owner["typeNames"] == ["Building", "Shop"]

    gone = stocked.delete("/entities/urn:ngsi-ld:Building:2")
    assert gone.status_code == 204
    building = ok(stocked.get("/types/Building", headers=headers))
    assert building["entityCount"] == 1
    assert {d["attributeName"] for d in building["attributeDetails"]} == {
        "height",
        "location",
        "name",
    }
    assert_problem(stocked.get("/types/Shop", headers=headers), 404, "ResourceNotFound")
    assert ok(stocked.get("/attributes/height", headers=headers))["attributeCount"] == 2


def test_the_lists_follow_attribute_changes(stocked: httpx.Client, headers: dict[str, str]) -> None:
    removed = stocked.delete("/entities/urn:ngsi-ld:Building:1/attrs/location")
    assert removed.status_code == 204, removed.text
    assert_problem(stocked.get("/attributes/location"), 404, "ResourceNotFound")
    added = stocked.post(
        "/entities/urn:ngsi-ld:Vehicle:1/attrs",
        json={"height": prop(2)},
        headers=headers,
    )
    assert added.status_code == 204, added.text
    height = ok(stocked.get("/attributes/height", headers=headers))
    assert height["attributeCount"] == 4
    assert height["typeNames"] == ["Building", "Shop", "Vehicle"]
    retyped = stocked.put(
        "/entities/urn:ngsi-ld:Building:2",
        json={"type": "Vehicle", "name": prop("Bus")},
        headers=headers,
    )
    assert retyped.status_code == 204, retyped.text
    assert ok(stocked.get("/types/Vehicle", headers=headers))["entityCount"] == 2
    assert ok(stocked.get("/types/Building", headers=headers))["entityCount"] == 1
    assert_problem(stocked.get("/types/Shop", headers=headers), 404, "ResourceNotFound")


def test_an_empty_node_has_empty_lists(client: httpx.Client) -> None:
    assert ok(client.get("/types"))["typeList"] == []
    assert ok(client.get("/types", params={"details": "true"})) == []
    assert ok(client.get("/attributes"))["attributeList"] == []
    assert ok(client.get("/attributes", params={"details": "true"})) == []


# --- tenants ---------------------------------------------------------------------------------


def test_tenants_are_separate(stocked: httpx.Client, headers: dict[str, str]) -> None:
    tenant = {"NGSILD-Tenant": "chiangmai"}
    lamp = {"id": "urn:ngsi-ld:Lamp:1", "type": "Lamp", "lit": prop(True)}
    created = stocked.post("/entities", json=lamp, headers=tenant)
    assert created.status_code == 201, created.text
    assert ok(stocked.get("/types", headers=tenant))["typeList"] == ["Lamp"]
    assert ok(stocked.get("/attributes", headers=tenant))["attributeList"] == ["lit"]
    assert ok(stocked.get("/types/Lamp", headers=tenant))["entityCount"] == 1
    assert ok(stocked.get("/attributes/lit", headers=tenant))["attributeCount"] == 1
    assert_problem(
        stocked.get("/types/Building", headers=tenant | headers), 404, "ResourceNotFound"
    )
    assert_problem(stocked.get("/types/Lamp"), 404, "ResourceNotFound")
    assert_problem(stocked.get("/attributes/lit"), 404, "ResourceNotFound")
    assert "Lamp" not in ok(stocked.get("/types"))["typeList"]
    assert sorted(ok(stocked.get("/types", headers=headers))["typeList"]) == [
        "Building",
        "Shop",
        "Vehicle",
    ]


def test_an_unknown_tenant_is_404(stocked: httpx.Client) -> None:
    nowhere = {"NGSILD-Tenant": "nowhere"}
    for path in ("/types", "/attributes", "/types/Building", "/attributes/name"):
        assert_problem(stocked.get(path, headers=nowhere), 404, "NonexistentTenant")


# --- representation and parameters -----------------------------------------------------------


def test_ld_json_adds_the_context(stocked: httpx.Client, context_url: str) -> None:
    accept = {"Accept": "application/ld+json"}
    plain = stocked.get("/types", headers=accept)
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "application/ld+json"
    assert "link" not in plain.headers
    assert plain.json()["@context"] == CORE
    with_link = stocked.get("/types/Building", headers=accept | {"Link": link(context_url)})
    assert with_link.json()["@context"] == context_url
    assert with_link.json()["entityCount"] == 2
    attributes = stocked.get("/attributes", headers=accept | {"Link": link(context_url)})
    assert attributes.json()["@context"] == context_url
    assert "name" in attributes.json()["attributeList"]
    detailed = stocked.get("/attributes", params={"details": "true"}, headers=accept).json()
    assert isinstance(detailed, list)
    assert all(item["@context"] == CORE for item in detailed)
    assert "@context" not in ok(stocked.get("/types"))


@pytest.mark.parametrize("path", ["/types", "/attributes"])
def test_details_must_be_a_boolean(stocked: httpx.Client, path: str) -> None:
    assert_problem(stocked.get(path, params={"details": "maybe"}), 400, "BadRequestData")


@pytest.mark.parametrize("path", ["/types", "/attributes", "/types/Building", "/attributes/name"])
def test_unknown_parameters_are_400(stocked: httpx.Client, path: str) -> None:
    assert_problem(stocked.get(path, params={"colour": "red"}), 400, "InvalidRequest")


@pytest.mark.parametrize("path", ["/types", "/attributes"])
def test_local_is_accepted(stocked: httpx.Client, path: str, headers: dict[str, str]) -> None:
    assert ok(stocked.get(path, params={"local": "true"}, headers=headers))["type"].endswith("List")


def test_discovery_only_answers_get(stocked: httpx.Client) -> None:
    response = stocked.post("/types", json={}, headers=LD_JSON)
    assert response.status_code == 405
