"""/entities over real HTTP: create, retrieve (representations and options), replace, merge,
delete, and the basics of GET /entities (clauses 5.6.1-5.6.6, 5.6.17, 5.7.1, 5.7.2, 6.3, 6.4)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.http import CORE, LD_JSON, assert_problem, link
from tests.support.servers import static_files

DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
BUILDING_CONTEXT = {
    "@context": {
        "Building": "https://example.org/vocab/Building",
        "name": "https://schema.org/name",
        "height": "https://example.org/vocab/height",
        "locatedIn": "https://example.org/vocab/locatedIn",
    }
}


def room(number: int = 1, **extra: Any) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Room:{number}",
        "type": "Room",
        "temperature": {"type": "Property", "value": 21.5, "unitCode": "CEL"},
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [100.5, 13.7]},
        },
        "inBuilding": {"type": "Relationship", "object": "urn:ngsi-ld:Building:A"},
    }
    entity.update(extra)
    return entity


def without_system_times(entity: dict[str, Any]) -> dict[str, Any]:
    """An entity (normalized) with createdAt and modifiedAt dropped at every level."""
    return {
        key: without_system_times(value) if isinstance(value, dict) else value
        for key, value in entity.items()
        if key not in ("createdAt", "modifiedAt")
    }


def create(client: httpx.Client, entity: dict[str, Any], **kwargs: Any) -> None:
    response = client.post("/entities", json=entity, **kwargs)
    assert response.status_code == 201, response.text


@pytest.fixture
def context_url(tmp_path: Path) -> Iterator[str]:
    """A user @context served over HTTP from a temporary folder."""
    folder = tmp_path / "contexts"
    folder.mkdir()
    (folder / "building.jsonld").write_text(json.dumps(BUILDING_CONTEXT))
    with static_files(folder) as base:
        yield f"{base}/building.jsonld"


# --- create ---------------------------------------------------------------------------------


def test_create_answers_201_with_location_and_no_body(client: httpx.Client) -> None:
    response = client.post("/entities", json=room())
    assert response.status_code == 201
    assert response.headers["location"] == "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1"
    assert response.content == b""
    got = client.get("/entities/urn:ngsi-ld:Room:1")
    assert got.status_code == 200
    assert got.json() == room()


def test_create_accepts_a_trailing_slash(client: httpx.Client) -> None:
    response = client.post("/entities/", json=room(2))
    assert response.status_code == 201
    assert response.headers["location"] == "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:2"
    assert client.get("/entities/urn:ngsi-ld:Room:2").json() == room(2)


def test_create_with_json_reads_the_context_of_the_link_header(
    client: httpx.Client, context_url: str
) -> None:
    building = {
        "id": "urn:ngsi-ld:Building:A",
        "type": "Building",
        "name": {"type": "Property", "value": "Tower A"},
        "height": {"type": "Property", "value": 120},
    }
    response = client.post("/entities", json=building, headers={"Link": link(context_url)})
    assert response.status_code == 201
    assert response.content == b""

    compacted = client.get("/entities/urn:ngsi-ld:Building:A", headers={"Link": link(context_url)})
    assert compacted.status_code == 200
    assert compacted.headers["link"] == link(context_url)
    assert compacted.json() == building

    expanded = client.get("/entities/urn:ngsi-ld:Building:A")
    assert expanded.headers["link"] == link(CORE)
    assert expanded.json() == {
        "id": "urn:ngsi-ld:Building:A",
        "type": "https://example.org/vocab/Building",
        "https://schema.org/name": {"type": "Property", "value": "Tower A"},
        "https://example.org/vocab/height": {"type": "Property", "value": 120},
    }


def test_create_without_link_uses_the_default_vocabulary(client: httpx.Client) -> None:
    create(client, room(3))
    got = client.get("/entities/urn:ngsi-ld:Room:3", headers={"Link": link(CORE)})
    assert got.json() == room(3)
    query = client.get("/entities", params={"type": DEFAULT_VOCAB + "Room"})
    assert query.status_code == 200
    assert [entity["id"] for entity in query.json()] == ["urn:ngsi-ld:Room:3"]


def test_create_with_ld_json_reads_the_context_in_the_body(
    client: httpx.Client, context_url: str
) -> None:
    building = {
        "id": "urn:ngsi-ld:Building:B",
        "type": "Building",
        "name": {"type": "Property", "value": "Tower B"},
        "@context": context_url,
    }
    response = client.post("/entities", json=building, headers=LD_JSON)
    assert response.status_code == 201
    assert response.headers["location"] == "/ngsi-ld/v1/entities/urn:ngsi-ld:Building:B"
    assert response.content == b""
    got = client.get(
        "/entities/urn:ngsi-ld:Building:B",
        headers={"Link": link(context_url), "Accept": "application/ld+json"},
    )
    assert got.status_code == 200
    body = got.json()
    assert body.pop("@context") in (context_url, [context_url], [context_url, CORE])
    assert body == {k: v for k, v in building.items() if k != "@context"}


def test_create_with_ld_json_and_an_inline_context(client: httpx.Client) -> None:
    entity = {
        "@context": [{"speed": "https://example.org/vocab/speed"}, CORE],
        "id": "urn:ngsi-ld:Car:1",
        "type": "Car",
        "speed": {"type": "Property", "value": 80},
    }
    assert client.post("/entities", json=entity, headers=LD_JSON).status_code == 201
    got = client.get("/entities/urn:ngsi-ld:Car:1")
    assert got.json() == {
        "id": "urn:ngsi-ld:Car:1",
        "type": "Car",
        "https://example.org/vocab/speed": {"type": "Property", "value": 80},
    }


def test_create_twice_is_409_already_exists(client: httpx.Client) -> None:
    create(client, room())
    again = client.post("/entities", json=room(temperature={"type": "Property", "value": 0}))
    assert_problem(again, 409, "AlreadyExists")
    assert client.get("/entities/urn:ngsi-ld:Room:1").json() == room()


@pytest.mark.parametrize("bad_id", ["room-1", "not a uri", "", 42])
def test_create_with_an_id_that_is_not_a_uri_is_400(client: httpx.Client, bad_id: object) -> None:
    response = client.post("/entities", json={"id": bad_id, "type": "Room"})
    assert_problem(response, 400, "BadRequestData")


def test_create_without_type_is_400(client: httpx.Client) -> None:
    response = client.post("/entities", json={"id": "urn:ngsi-ld:Room:9"})
    assert_problem(response, 400, "BadRequestData")
    assert_problem(client.get("/entities/urn:ngsi-ld:Room:9"), 404, "ResourceNotFound")


def test_a_nul_character_in_a_value_is_400_on_every_store(client: httpx.Client) -> None:
    nul = room(name={"type": "Property", "value": "a\u0000b"})
    assert_problem(client.post("/entities", json=nul), 400, "BadRequestData")
    assert_problem(client.get("/entities/urn:ngsi-ld:Room:1"), 404, "ResourceNotFound")
    escaped = room(name={"type": "Property", "value": "a\\u0000b"})
    create(client, escaped)
    assert client.get("/entities/urn:ngsi-ld:Room:1").json() == escaped


# --- retrieve -------------------------------------------------------------------------------


def test_retrieve_json_has_the_context_in_a_link_header(client: httpx.Client) -> None:
    create(client, room())
    got = client.get("/entities/urn:ngsi-ld:Room:1", headers={"Accept": "application/json"})
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/json"
    assert got.headers["link"] == link(CORE)
    body = got.json()
    assert "@context" not in body
    assert body == room()


def test_retrieve_without_accept_or_with_any_is_json(client: httpx.Client) -> None:
    create(client, room())
    for accept in ("*/*", "application/*"):
        got = client.get("/entities/urn:ngsi-ld:Room:1", headers={"Accept": accept})
        assert got.status_code == 200
        assert got.headers["content-type"] == "application/json"
        assert got.headers["link"] == link(CORE)
        assert got.json() == room()


def test_retrieve_ld_json_has_the_context_in_the_body(client: httpx.Client) -> None:
    create(client, room())
    got = client.get("/entities/urn:ngsi-ld:Room:1", headers={"Accept": "application/ld+json"})
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/ld+json"
    assert "link" not in got.headers
    assert got.json() == {**room(), "@context": CORE}


def test_retrieve_prefers_the_accept_type_of_highest_quality(client: httpx.Client) -> None:
    create(client, room())
    got = client.get(
        "/entities/urn:ngsi-ld:Room:1",
        headers={"Accept": "application/json;q=0.5, application/ld+json"},
    )
    assert got.headers["content-type"] == "application/ld+json"
    assert got.json()["@context"] == CORE


def test_retrieve_geo_json_is_a_feature(client: httpx.Client) -> None:
    create(client, room())
    got = client.get("/entities/urn:ngsi-ld:Room:1", headers={"Accept": "application/geo+json"})
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/geo+json"
    feature = got.json()
    context = feature.pop("@context", None)
    expected = room()
    del expected["id"]
    assert feature == {
        "id": "urn:ngsi-ld:Room:1",
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [100.5, 13.7]},
        "properties": expected,
    }
    # GeoJSON clients read no Link header: the @context travels in the body, as a top-level
    # "@context" member of the Feature (as in the ETSI suite's expected Features, 018_05).
    assert context == CORE


def test_retrieve_geo_json_with_geometry_property_and_key_values(client: httpx.Client) -> None:
    area = {"type": "Point", "coordinates": [101.0, 14.0]}
    create(client, room(observationSpace={"type": "GeoProperty", "value": area}))
    got = client.get(
        "/entities/urn:ngsi-ld:Room:1",
        params={"geometryProperty": "observationSpace", "options": "keyValues"},
        headers={"Accept": "application/geo+json"},
    )
    assert got.status_code == 200
    feature = got.json()
    assert feature["type"] == "Feature"
    assert feature["geometry"] == area
    assert feature["properties"] == {
        "type": "Room",
        "temperature": 21.5,
        "location": {"type": "Point", "coordinates": [100.5, 13.7]},
        "inBuilding": "urn:ngsi-ld:Building:A",
        "observationSpace": area,
    }


def test_retrieve_with_sys_attrs(client: httpx.Client) -> None:
    create(client, room())
    got = client.get("/entities/urn:ngsi-ld:Room:1", params={"options": "sysAttrs"})
    assert got.status_code == 200
    body = got.json()
    assert DATETIME.match(body["createdAt"])
    assert body["modifiedAt"] == body["createdAt"]
    for name in ("temperature", "location", "inBuilding"):
        assert body[name]["createdAt"] == body["createdAt"]
        assert body[name]["modifiedAt"] == body["createdAt"]
    assert without_system_times(body) == room()


def test_retrieve_key_values(client: httpx.Client) -> None:
    create(client, room())
    simplified = {
        "id": "urn:ngsi-ld:Room:1",
        "type": "Room",
        "temperature": 21.5,
        "location": {"type": "Point", "coordinates": [100.5, 13.7]},
        "inBuilding": "urn:ngsi-ld:Building:A",
    }
    for params in ({"options": "keyValues"}, {"options": "simplified"}, {"format": "keyValues"}):
        got = client.get("/entities/urn:ngsi-ld:Room:1", params=params)
        assert got.status_code == 200
        assert got.headers["link"] == link(CORE)
        assert got.json() == simplified
    with_sys = client.get("/entities/urn:ngsi-ld:Room:1", params={"options": "keyValues,sysAttrs"})
    assert with_sys.json() == simplified


def test_retrieve_concise(client: httpx.Client) -> None:
    create(client, room())
    got = client.get("/entities/urn:ngsi-ld:Room:1", params={"options": "concise"})
    assert got.status_code == 200
    assert got.json() == {
        "id": "urn:ngsi-ld:Room:1",
        "type": "Room",
        "temperature": {"value": 21.5, "unitCode": "CEL"},
        "location": {"type": "Point", "coordinates": [100.5, 13.7]},
        "inBuilding": {"object": "urn:ngsi-ld:Building:A"},
    }
    assert client.get("/entities/urn:ngsi-ld:Room:1", params={"format": "concise"}).json() == (
        got.json()
    )


def test_format_wins_over_options(client: httpx.Client) -> None:
    create(client, room())
    got = client.get(
        "/entities/urn:ngsi-ld:Room:1", params={"format": "normalized", "options": "keyValues"}
    )
    assert got.status_code == 200
    assert got.json() == room()


@pytest.mark.parametrize(
    ("params", "kind"),
    [
        ({"format": "fancy"}, "InvalidRequest"),
        ({"options": "fancy"}, "InvalidRequest"),
        ({"options": "keyValues,fancy"}, "InvalidRequest"),
        ({"pick": "id", "omit": "type"}, "BadRequestData"),
        ({"pick": "id,,name"}, "BadRequestData"),
        ({"pick": "id,inBuilding{name"}, "BadRequestData"),
        ({"pick": "name", "attrs": "temperature"}, "BadRequestData"),
    ],
)
def test_retrieve_with_an_invalid_option_is_400(
    client: httpx.Client, params: dict[str, str], kind: str
) -> None:
    create(client, room())
    assert_problem(client.get("/entities/urn:ngsi-ld:Room:1", params=params), 400, kind)
    # The parameters are checked before the entity is looked up.
    assert_problem(client.get("/entities/urn:ngsi-ld:Room:404", params=params), 400, kind)


def test_retrieve_attrs_selects_attributes(client: httpx.Client) -> None:
    create(client, room())
    got = client.get("/entities/urn:ngsi-ld:Room:1", params={"attrs": "temperature,inBuilding"})
    assert got.status_code == 200
    assert got.json() == {
        "id": "urn:ngsi-ld:Room:1",
        "type": "Room",
        "temperature": room()["temperature"],
        "inBuilding": room()["inBuilding"],
    }


def test_retrieve_attrs_that_the_entity_lacks_is_404(client: httpx.Client) -> None:
    """Clause 5.7.1.4 (ETSI 018_03_02): none of the requested attributes -> ResourceNotFound."""
    create(client, room())
    got = client.get("/entities/urn:ngsi-ld:Room:1", params={"attrs": "humidity"})
    assert_problem(got, 404, "ResourceNotFound")


def test_retrieve_pick_and_omit(client: httpx.Client) -> None:
    create(client, room())
    picked = client.get("/entities/urn:ngsi-ld:Room:1", params={"pick": "id,temperature"})
    assert picked.status_code == 200
    assert picked.json() == {"id": "urn:ngsi-ld:Room:1", "temperature": room()["temperature"]}
    omitted = client.get("/entities/urn:ngsi-ld:Room:1", params={"omit": "type,location"})
    assert omitted.status_code == 200
    assert omitted.json() == {
        "id": "urn:ngsi-ld:Room:1",
        "temperature": room()["temperature"],
        "inBuilding": room()["inBuilding"],
    }


def test_retrieve_lang_picks_a_language(client: httpx.Client) -> None:
    names = {"type": "LanguageProperty", "languageMap": {"en": "Meeting room", "th": "ห้องประชุม"}}
    create(client, room(name=names))
    thai = client.get("/entities/urn:ngsi-ld:Room:1", params={"lang": "th", "attrs": "name"})
    assert thai.status_code == 200
    assert thai.json() == {
        "id": "urn:ngsi-ld:Room:1",
        "type": "Room",
        "name": {"type": "Property", "value": "ห้องประชุม", "lang": "th"},
    }
    preferred = client.get(
        "/entities/urn:ngsi-ld:Room:1",
        params={"lang": "fr;q=0.9,en;q=0.8", "attrs": "name", "options": "keyValues"},
    )
    assert preferred.json() == {"id": "urn:ngsi-ld:Room:1", "type": "Room", "name": "Meeting room"}
    # "*" accepts any language: the node picks one (the first), as ETSI 018_07_03 expects.
    anyone = client.get("/entities/urn:ngsi-ld:Room:1", params={"lang": "*", "attrs": "name"})
    assert anyone.json() == {
        "id": "urn:ngsi-ld:Room:1",
        "type": "Room",
        "name": {"type": "Property", "value": "Meeting room", "lang": "en"},
    }
    whole = client.get("/entities/urn:ngsi-ld:Room:1", params={"attrs": "name"})
    assert whole.json() == {"id": "urn:ngsi-ld:Room:1", "type": "Room", "name": names}


def test_retrieve_an_unknown_entity_is_404(client: httpx.Client) -> None:
    assert_problem(client.get("/entities/urn:ngsi-ld:Room:404"), 404, "ResourceNotFound")


def test_retrieve_with_an_id_that_is_not_a_uri_is_400(client: httpx.Client) -> None:
    assert_problem(client.get("/entities/room-1"), 400, "BadRequestData")


# --- delete ---------------------------------------------------------------------------------


def test_delete_then_the_entity_is_gone(client: httpx.Client) -> None:
    create(client, room())
    deleted = client.delete("/entities/urn:ngsi-ld:Room:1")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_problem(client.get("/entities/urn:ngsi-ld:Room:1"), 404, "ResourceNotFound")
    assert_problem(client.delete("/entities/urn:ngsi-ld:Room:1"), 404, "ResourceNotFound")
    assert client.post("/entities", json=room()).status_code == 201


def test_delete_with_an_id_that_is_not_a_uri_is_400(client: httpx.Client) -> None:
    assert_problem(client.delete("/entities/room-1"), 400, "BadRequestData")


# --- replace (PUT) --------------------------------------------------------------------------


def test_replace_keeps_created_at_and_replaces_everything_else(client: httpx.Client) -> None:
    create(client, room())
    before = client.get("/entities/urn:ngsi-ld:Room:1", params={"options": "sysAttrs"}).json()
    replacement = {"type": "Office", "seats": {"type": "Property", "value": 8}}
    response = client.put("/entities/urn:ngsi-ld:Room:1", json=replacement)
    assert response.status_code == 204
    assert response.content == b""
    after = client.get("/entities/urn:ngsi-ld:Room:1", params={"options": "sysAttrs"}).json()
    assert after["createdAt"] == before["createdAt"]
    assert after["modifiedAt"] >= before["modifiedAt"]
    assert client.get("/entities/urn:ngsi-ld:Room:1").json() == {
        "id": "urn:ngsi-ld:Room:1",
        **replacement,
    }


def test_replace_with_another_id_is_400_and_changes_nothing(client: httpx.Client) -> None:
    create(client, room())
    response = client.put(
        "/entities/urn:ngsi-ld:Room:1",
        json={
            "id": "urn:ngsi-ld:Room:2",
            "type": "Room",
            "seats": {"type": "Property", "value": 1},
        },
    )
    assert_problem(response, 400, "BadRequestData")
    assert client.get("/entities/urn:ngsi-ld:Room:1").json() == room()
    assert_problem(client.get("/entities/urn:ngsi-ld:Room:2"), 404, "ResourceNotFound")


def test_replace_an_unknown_entity_is_404(client: httpx.Client) -> None:
    response = client.put("/entities/urn:ngsi-ld:Room:404", json={"type": "Room"})
    assert_problem(response, 404, "ResourceNotFound")
    assert_problem(client.get("/entities/urn:ngsi-ld:Room:404"), 404, "ResourceNotFound")


# --- merge (PATCH) --------------------------------------------------------------------------


def test_merge_updates_adds_and_deletes_with_ngsi_ld_null(client: httpx.Client) -> None:
    create(client, room(humidity={"type": "Property", "value": 40}))
    response = client.patch(
        "/entities/urn:ngsi-ld:Room:1",
        json={
            "temperature": {"type": "Property", "value": 23.0},
            "seats": {"type": "Property", "value": 4},
            "humidity": "urn:ngsi-ld:null",
            "inBuilding": {"type": "Relationship", "object": "urn:ngsi-ld:null"},
        },
    )
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/entities/urn:ngsi-ld:Room:1").json() == {
        "id": "urn:ngsi-ld:Room:1",
        "type": "Room",
        "temperature": {"type": "Property", "value": 23.0, "unitCode": "CEL"},
        "location": room()["location"],
        "seats": {"type": "Property", "value": 4},
    }


def test_merge_with_merge_patch_content_type(client: httpx.Client) -> None:
    create(client, room())
    response = client.patch(
        "/entities/urn:ngsi-ld:Room:1",
        content=json.dumps({"temperature": {"value": 19}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 204
    got = client.get("/entities/urn:ngsi-ld:Room:1", params={"attrs": "temperature"}).json()
    assert got["temperature"] == {"type": "Property", "value": 19, "unitCode": "CEL"}


def test_merge_an_unknown_entity_is_404(client: httpx.Client) -> None:
    response = client.patch("/entities/urn:ngsi-ld:Room:404", json={"seats": 1})
    assert_problem(response, 404, "ResourceNotFound")
    assert_problem(client.get("/entities/urn:ngsi-ld:Room:404"), 404, "ResourceNotFound")


# --- query (GET /entities) ------------------------------------------------------------------


def test_query_by_type_and_id(client: httpx.Client) -> None:
    for number in (1, 2, 3):
        create(client, room(number))
    create(client, {"id": "urn:ngsi-ld:Car:1", "type": "Car"})
    everything = client.get("/entities", params={"type": "Room"})
    assert everything.status_code == 200
    assert everything.headers["content-type"] == "application/json"
    assert everything.headers["link"] == link(CORE)
    assert "ngsild-results-count" not in everything.headers
    assert sorted(entity["id"] for entity in everything.json()) == [
        "urn:ngsi-ld:Room:1",
        "urn:ngsi-ld:Room:2",
        "urn:ngsi-ld:Room:3",
    ]
    two = client.get(
        "/entities/", params={"type": "Room", "id": "urn:ngsi-ld:Room:2,urn:ngsi-ld:Car:1"}
    )
    assert two.status_code == 200
    assert two.json() == [room(2)]


def test_query_ld_json_puts_the_context_in_each_entity(client: httpx.Client) -> None:
    create(client, room())
    got = client.get(
        "/entities", params={"type": "Room"}, headers={"Accept": "application/ld+json"}
    )
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/ld+json"
    assert got.json() == [{**room(), "@context": CORE}]


def test_query_pages_with_limit_offset_and_count(client: httpx.Client) -> None:
    for number in range(1, 6):
        create(client, room(number))
    pages = []
    for offset in (0, 2, 4):
        page = client.get(
            "/entities", params={"type": "Room", "limit": 2, "offset": offset, "count": "true"}
        )
        assert page.status_code == 200
        assert page.headers["ngsild-results-count"] == "5"
        pages.append([entity["id"] for entity in page.json()])
    assert [len(page) for page in pages] == [2, 2, 1]
    assert sorted(i for page in pages for i in page) == [
        f"urn:ngsi-ld:Room:{n}" for n in range(1, 6)
    ]

    count_only = client.get("/entities", params={"type": "Room", "limit": 0, "count": "true"})
    assert count_only.status_code == 200
    assert count_only.headers["ngsild-results-count"] == "5"
    assert count_only.json() == []


def test_query_by_attrs(client: httpx.Client) -> None:
    create(client, room(1))
    create(client, {"id": "urn:ngsi-ld:Room:2", "type": "Room"})
    got = client.get("/entities", params={"attrs": "temperature"})
    assert got.status_code == 200
    assert [entity["id"] for entity in got.json()] == ["urn:ngsi-ld:Room:1"]


def test_query_types_are_expanded_with_the_link_context(
    client: httpx.Client, context_url: str
) -> None:
    create(
        client,
        {"id": "urn:ngsi-ld:Building:A", "type": "Building"},
        headers={"Link": link(context_url)},
    )
    found = client.get(
        "/entities", params={"type": "Building"}, headers={"Link": link(context_url)}
    )
    assert found.status_code == 200
    assert found.headers["link"] == link(context_url)
    assert found.json() == [{"id": "urn:ngsi-ld:Building:A", "type": "Building"}]
    other_vocabulary = client.get("/entities", params={"type": "Building"})
    assert other_vocabulary.status_code == 200
    assert other_vocabulary.json() == []


def test_query_without_type_or_attrs_is_400(client: httpx.Client) -> None:
    create(client, room())
    assert_problem(client.get("/entities"), 400, "BadRequestData")
    assert_problem(
        client.get("/entities", params={"id": "urn:ngsi-ld:Room:1"}), 400, "BadRequestData"
    )


@pytest.mark.parametrize(
    "params",
    [
        {"type": "Room", "limit": "-1"},
        {"type": "Room", "limit": "many"},
        {"type": "Room", "offset": "-3"},
        {"type": "Room", "limit": "0"},
        {"type": "Room", "idPattern": "(unclosed"},
        {"type": "Room", "id": "not a uri"},
    ],
)
def test_query_with_invalid_parameters_is_400(client: httpx.Client, params: dict[str, str]) -> None:
    create(client, room())
    assert_problem(client.get("/entities", params=params), 400, "BadRequestData")
