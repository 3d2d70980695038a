"""/entities/{id}/attrs over real HTTP: append, update, partial update, replace and delete of
attributes (clauses 5.6.2-5.6.5, 5.6.19, 6.6, 6.7)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.http import ERRORS, assert_no_content, assert_problem

VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
ROOM = "/entities/urn:ngsi-ld:Room:1"
ATTRS = ROOM + "/attrs"
SYS = ("createdAt", "modifiedAt")


def room() -> dict[str, Any]:
    return {
        "id": "urn:ngsi-ld:Room:1",
        "type": "Room",
        "temperature": {
            "type": "Property",
            "value": 21,
            "unitCode": "CEL",
            "accuracy": {"type": "Property", "value": 0.5},
        },
        "sensor": [
            {"type": "Relationship", "object": "urn:ngsi-ld:Device:main"},
            {
                "type": "Relationship",
                "object": "urn:ngsi-ld:Device:backup",
                "datasetId": "urn:ngsi-ld:Dataset:backup",
            },
        ],
        "name": {"type": "Property", "value": "Meeting room"},
    }


@pytest.fixture
def stored(client: httpx.Client) -> httpx.Client:
    """The client, with the room created."""
    assert client.post("/entities", json=room()).status_code == 201
    return client


def current(client: httpx.Client, **params: str) -> dict[str, Any]:
    got = client.get(ROOM, params=params)
    assert got.status_code == 200, got.text
    entity: dict[str, Any] = got.json()
    return entity


# --- append (POST .../attrs) ----------------------------------------------------------------


def test_append_adds_and_overwrites(stored: httpx.Client) -> None:
    response = stored.post(
        ATTRS,
        json={
            "name": {"type": "Property", "value": "Board room"},
            "seats": {"type": "Property", "value": 12},
        },
    )
    assert_no_content(response)
    expected = room()
    expected["name"] = {"type": "Property", "value": "Board room"}
    expected["seats"] = {"type": "Property", "value": 12}
    assert current(stored) == expected


def test_append_accepts_a_trailing_slash(stored: httpx.Client) -> None:
    assert_no_content(stored.post(ATTRS + "/", json={"seats": {"type": "Property", "value": 3}}))
    assert current(stored, attrs="seats")["seats"] == {"type": "Property", "value": 3}


def test_append_no_overwrite_reports_the_attributes_kept(stored: httpx.Client) -> None:
    response = stored.post(
        ATTRS,
        params={"options": "noOverwrite"},
        json={
            "name": {"type": "Property", "value": "Board room"},
            "seats": {"type": "Property", "value": 12},
        },
    )
    assert response.status_code == 207
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["updated"] == [VOCAB + "seats"]
    assert [item["attributeName"] for item in body["notUpdated"]] == [VOCAB + "name"]
    assert isinstance(body["notUpdated"][0]["reason"], str)
    assert body["notUpdated"][0]["reason"]
    assert set(body) == {"updated", "notUpdated"}
    assert set(body["notUpdated"][0]) == {"attributeName", "reason"}
    expected = room()
    expected["seats"] = {"type": "Property", "value": 12}
    assert current(stored) == expected


def test_append_a_new_dataset_instance(stored: httpx.Client) -> None:
    extra = {
        "type": "Relationship",
        "object": "urn:ngsi-ld:Device:spare",
        "datasetId": "urn:ngsi-ld:Dataset:spare",
    }
    assert_no_content(stored.post(ATTRS, json={"sensor": extra}))
    assert current(stored, attrs="sensor")["sensor"] == [*room()["sensor"], extra]


def test_append_to_an_unknown_entity_is_404(client: httpx.Client) -> None:
    response = client.post(ATTRS, json={"seats": {"type": "Property", "value": 1}})
    assert_problem(response, 404, "ResourceNotFound")


def test_append_an_invalid_attribute_changes_nothing(stored: httpx.Client) -> None:
    response = stored.post(
        ATTRS,
        json={
            "seats": {"type": "Property", "value": 4},
            "owner": {"type": "Relationship", "object": "not a uri"},
        },
    )
    assert_problem(response, 400, "BadRequestData")
    assert current(stored) == room()


# --- update (PATCH .../attrs) ---------------------------------------------------------------


def test_update_replaces_existing_attributes(stored: httpx.Client) -> None:
    response = stored.patch(ATTRS, json={"name": {"type": "Property", "value": "Lab"}})
    assert_no_content(response)
    expected = room()
    expected["name"] = {"type": "Property", "value": "Lab"}
    assert current(stored) == expected


def test_update_does_not_add_attributes_and_reports_them(stored: httpx.Client) -> None:
    """Clause 5.6.2: only attributes the entity has are updated; others are notUpdated (207)."""
    response = stored.patch(
        ATTRS,
        json={
            "name": {"type": "Property", "value": "Lab"},
            "seats": {"type": "Property", "value": 2},
        },
    )
    assert response.status_code == 207
    body = response.json()
    assert body["updated"] == [VOCAB + "name"]
    assert [item["attributeName"] for item in body["notUpdated"]] == [VOCAB + "seats"]
    assert body["notUpdated"][0]["reason"]
    expected = room()
    expected["name"] = {"type": "Property", "value": "Lab"}
    assert current(stored) == expected


def test_update_with_ngsi_ld_null_deletes_the_attribute(stored: httpx.Client) -> None:
    response = stored.patch(ATTRS, json={"name": {"type": "Property", "value": "urn:ngsi-ld:null"}})
    assert_no_content(response)
    expected = room()
    del expected["name"]
    assert current(stored) == expected


def test_update_an_unknown_entity_is_404(client: httpx.Client) -> None:
    response = client.patch(ATTRS, json={"name": {"type": "Property", "value": "x"}})
    assert_problem(response, 404, "ResourceNotFound")


# --- partial update (PATCH .../attrs/{attrId}) ----------------------------------------------


def test_partial_update_merges_sub_attributes(stored: httpx.Client) -> None:
    response = stored.patch(
        ATTRS + "/temperature",
        json={"value": 23, "calibrated": {"type": "Property", "value": True}},
    )
    assert_no_content(response)
    assert current(stored, attrs="temperature")["temperature"] == {
        "type": "Property",
        "value": 23,
        "unitCode": "CEL",
        "accuracy": {"type": "Property", "value": 0.5},
        "calibrated": {"type": "Property", "value": True},
    }


def test_partial_update_of_a_sub_attribute_keeps_the_others(stored: httpx.Client) -> None:
    response = stored.patch(ATTRS + "/temperature", json={"accuracy": {"value": 0.1}})
    assert_no_content(response)
    temperature = current(stored, attrs="temperature")["temperature"]
    assert temperature == {
        "type": "Property",
        "value": 21,
        "unitCode": "CEL",
        "accuracy": {"type": "Property", "value": 0.1},
    }


def test_partial_update_selects_the_instance_by_dataset_id(stored: httpx.Client) -> None:
    response = stored.patch(
        ATTRS + "/sensor",
        json={"object": "urn:ngsi-ld:Device:new", "datasetId": "urn:ngsi-ld:Dataset:backup"},
    )
    assert_no_content(response)
    assert current(stored, attrs="sensor")["sensor"] == [
        {"type": "Relationship", "object": "urn:ngsi-ld:Device:main"},
        {
            "type": "Relationship",
            "object": "urn:ngsi-ld:Device:new",
            "datasetId": "urn:ngsi-ld:Dataset:backup",
        },
    ]


def test_partial_update_of_a_missing_instance_is_404(stored: httpx.Client) -> None:
    response = stored.patch(
        ATTRS + "/sensor",
        json={"object": "urn:ngsi-ld:Device:new", "datasetId": "urn:ngsi-ld:Dataset:none"},
    )
    assert_problem(response, 404, "ResourceNotFound")
    assert current(stored) == room()


def test_partial_update_of_a_missing_attribute_is_404(stored: httpx.Client) -> None:
    assert_problem(stored.patch(ATTRS + "/seats", json={"value": 3}), 404, "ResourceNotFound")
    assert current(stored) == room()


def test_partial_update_of_an_unknown_entity_is_404(client: httpx.Client) -> None:
    response = client.patch(ATTRS + "/name", json={"value": "x"})
    assert_problem(response, 404, "ResourceNotFound")


def test_partial_update_cannot_change_the_attribute_type(stored: httpx.Client) -> None:
    response = stored.patch(
        ATTRS + "/name", json={"type": "Relationship", "object": "urn:ngsi-ld:Thing:1"}
    )
    assert_problem(response, 400, "BadRequestData")
    assert current(stored) == room()


# --- replace (PUT .../attrs/{attrId}) -------------------------------------------------------


def test_replace_attribute_keeps_its_created_at(stored: httpx.Client) -> None:
    before = current(stored, attrs="temperature", options="sysAttrs")["temperature"]
    response = stored.put(ATTRS + "/temperature", json={"type": "Property", "value": 30})
    assert_no_content(response)
    after = current(stored, attrs="temperature", options="sysAttrs")
    assert after["temperature"]["createdAt"] == before["createdAt"]
    assert after["temperature"]["modifiedAt"] >= before["modifiedAt"]
    assert after["modifiedAt"] >= before["modifiedAt"]
    # Replaced, not merged: unitCode and the accuracy sub-attribute are gone.
    assert {k: v for k, v in after["temperature"].items() if k not in SYS} == {
        "type": "Property",
        "value": 30,
    }


def test_replace_an_attribute_the_entity_lacks_is_404(stored: httpx.Client) -> None:
    response = stored.put(ATTRS + "/seats", json={"type": "Property", "value": 30})
    assert_problem(response, 404, "ResourceNotFound")
    assert current(stored) == room()


def test_replace_an_attribute_of_an_unknown_entity_is_404(client: httpx.Client) -> None:
    response = client.put(ATTRS + "/name", json={"type": "Property", "value": "x"})
    assert_problem(response, 404, "ResourceNotFound")


# --- delete (DELETE .../attrs/{attrId}) -----------------------------------------------------


def test_delete_attribute(stored: httpx.Client) -> None:
    assert_no_content(stored.delete(ATTRS + "/name"))
    expected = room()
    del expected["name"]
    assert current(stored) == expected
    assert_problem(stored.delete(ATTRS + "/name"), 404, "ResourceNotFound")


def test_delete_the_default_instance_keeps_the_others(stored: httpx.Client) -> None:
    assert_no_content(stored.delete(ATTRS + "/sensor"))
    assert current(stored, attrs="sensor")["sensor"] == room()["sensor"][1]


def test_delete_one_dataset_instance(stored: httpx.Client) -> None:
    response = stored.delete(ATTRS + "/sensor", params={"datasetId": "urn:ngsi-ld:Dataset:backup"})
    assert_no_content(response)
    assert current(stored, attrs="sensor")["sensor"] == room()["sensor"][0]
    again = stored.delete(ATTRS + "/sensor", params={"datasetId": "urn:ngsi-ld:Dataset:backup"})
    assert_problem(again, 404, "ResourceNotFound")


def test_delete_all_instances(stored: httpx.Client) -> None:
    assert_no_content(stored.delete(ATTRS + "/sensor", params={"deleteAll": "true"}))
    expected = room()
    del expected["sensor"]
    assert current(stored) == expected


def test_delete_an_attribute_of_an_unknown_entity_is_404(client: httpx.Client) -> None:
    assert_problem(client.delete(ATTRS + "/name"), 404, "ResourceNotFound")


def test_delete_with_an_invalid_delete_all_is_400(stored: httpx.Client) -> None:
    response = stored.delete(ATTRS + "/sensor", params={"deleteAll": "maybe"})
    assert_problem(response, 400, "BadRequestData")
    assert current(stored) == room()


# --- paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/entities//attrs/"),
        ("POST", "/entities//attrs"),
        ("PATCH", "/entities//attrs/"),
        ("PATCH", "/entities//attrs/name"),
        ("PUT", "/entities//attrs/name"),
        ("DELETE", "/entities//attrs/name"),
    ],
)
def test_an_empty_entity_id_is_400(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path, json={"name": {"type": "Property", "value": "x"}})
    assert_problem(response, 400, "BadRequestData")


def test_attrs_paths_with_an_id_that_is_not_a_uri_are_400(client: httpx.Client) -> None:
    append = client.post("/entities/room-1/attrs", json={"n": {"type": "Property", "value": 1}})
    assert_problem(append, 400, "BadRequestData")
    assert_problem(client.delete("/entities/room-1/attrs/n"), 400, "BadRequestData")


@pytest.mark.parametrize("path", [ATTRS, ATTRS + "/"])
def test_delete_on_the_attrs_collection_is_405(stored: httpx.Client, path: str) -> None:
    response = stored.delete(path)
    assert response.status_code == 405
    problem = response.json()
    assert problem["type"].startswith(ERRORS)
    assert problem["status"] == 405
    assert problem["title"]
    assert problem["detail"]
    # RFC 9110 15.5.6: a 405 lists every method the target resource supports.
    allowed = {method.strip() for method in response.headers["allow"].split(",")}
    assert allowed >= {"POST", "PATCH"}
    assert current(stored) == room()
