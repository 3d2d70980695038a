"""/entityOperations over real HTTP: batch create, upsert, update, merge and delete (clauses
5.6.7-5.6.10, 5.6.20, 6.14-6.18, 6.31). Every item succeeds or fails on its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.http import (
    ERRORS,
    LD_JSON,
    assert_no_content,
    assert_problem,
    assert_problem_details,
    link,
)
from tests.support.servers import static_files

OPS = "/entityOperations/"


def sensor(number: int, **values: Any) -> dict[str, Any]:
    entity: dict[str, Any] = {"id": f"urn:ngsi-ld:Sensor:{number}", "type": "Sensor"}
    entity.update({name: {"type": "Property", "value": value} for name, value in values.items()})
    return entity


def get(client: httpx.Client, number: int) -> httpx.Response:
    return client.get(f"/entities/urn:ngsi-ld:Sensor:{number}")


def stored(client: httpx.Client, number: int) -> dict[str, Any]:
    response = get(client, number)
    assert response.status_code == 200, response.text
    entity: dict[str, Any] = response.json()
    return entity


def assert_absent(client: httpx.Client, number: int) -> None:
    assert_problem(get(client, number), 404, "ResourceNotFound")


def multi_status(response: httpx.Response) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """A 207 BatchOperationResult: the successful ids and the error of each failed entity."""
    assert response.status_code == 207, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"success", "errors"}
    errors: dict[str, dict[str, Any]] = {}
    for item in body["errors"]:
        assert set(item) == {"entityId", "error"}
        errors[item["entityId"]] = item["error"]
    success: list[str] = body["success"]
    return success, errors


def create_all(client: httpx.Client, *entities: dict[str, Any]) -> None:
    response = client.post(OPS + "create", json=list(entities))
    assert response.status_code == 201, response.text


# --- create ---------------------------------------------------------------------------------


def test_create_answers_201_with_the_ids(client: httpx.Client) -> None:
    response = client.post(OPS + "create", json=[sensor(1, level=1), sensor(2, level=2)])
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.json() == ["urn:ngsi-ld:Sensor:1", "urn:ngsi-ld:Sensor:2"]
    assert stored(client, 1) == sensor(1, level=1)
    assert stored(client, 2) == sensor(2, level=2)


def test_create_accepts_a_trailing_slash(client: httpx.Client) -> None:
    response = client.post(OPS + "create/", json=[sensor(1)])
    assert response.status_code == 201
    assert response.json() == ["urn:ngsi-ld:Sensor:1"]


def test_create_reports_a_duplicate_and_stores_the_valid_ones(client: httpx.Client) -> None:
    create_all(client, sensor(1, level=1))
    response = client.post(
        OPS + "create",
        json=[sensor(1, level=99), sensor(2, level=2), sensor(3, level=3)],
    )
    success, errors = multi_status(response)
    assert sorted(success) == ["urn:ngsi-ld:Sensor:2", "urn:ngsi-ld:Sensor:3"]
    assert list(errors) == ["urn:ngsi-ld:Sensor:1"]
    assert_problem_details(errors["urn:ngsi-ld:Sensor:1"], 409, "AlreadyExists")
    assert stored(client, 1) == sensor(1, level=1)
    assert stored(client, 2) == sensor(2, level=2)
    assert stored(client, 3) == sensor(3, level=3)


def test_create_reports_an_invalid_entity_and_stores_the_valid_ones(client: httpx.Client) -> None:
    broken = sensor(2, level=2)
    broken["owner"] = {"type": "Relationship", "object": "not a uri"}
    response = client.post(OPS + "create", json=[sensor(1, level=1), broken])
    success, errors = multi_status(response)
    assert success == ["urn:ngsi-ld:Sensor:1"]
    assert list(errors) == ["urn:ngsi-ld:Sensor:2"]
    assert_problem_details(errors["urn:ngsi-ld:Sensor:2"], 400, "BadRequestData")
    assert stored(client, 1) == sensor(1, level=1)
    assert_absent(client, 2)


def test_upsert_reports_a_nul_character_per_entity(client: httpx.Client) -> None:
    response = client.post(OPS + "upsert", json=[sensor(1, level=1), sensor(2, level="\u0000")])
    success, errors = multi_status(response)
    assert success == ["urn:ngsi-ld:Sensor:1"]
    assert_problem_details(errors["urn:ngsi-ld:Sensor:2"], 400, "BadRequestData")
    assert stored(client, 1) == sensor(1, level=1)
    assert_absent(client, 2)


def test_create_reports_an_id_that_is_not_a_uri(client: httpx.Client) -> None:
    response = client.post(OPS + "create", json=[sensor(1), {"id": "sensor-2", "type": "Sensor"}])
    success, errors = multi_status(response)
    assert success == ["urn:ngsi-ld:Sensor:1"]
    assert list(errors) == ["sensor-2"]
    assert_problem_details(errors["sensor-2"], 400, "BadRequestData")


def test_create_with_a_context_per_entity(client: httpx.Client, tmp_path: Path) -> None:
    folder = tmp_path / "contexts"
    folder.mkdir()
    (folder / "a.jsonld").write_text(json.dumps({"@context": {"level": "https://a.example/level"}}))
    with static_files(folder) as base:
        first = {**sensor(1, level=1), "@context": f"{base}/a.jsonld"}
        second = {**sensor(2, level=2), "@context": {"level": "https://b.example/level"}}
        response = client.post(OPS + "create", json=[first, second], headers=LD_JSON)
        assert response.status_code == 201, response.text
        assert response.json() == ["urn:ngsi-ld:Sensor:1", "urn:ngsi-ld:Sensor:2"]
        assert stored(client, 1) == {
            "id": "urn:ngsi-ld:Sensor:1",
            "type": "Sensor",
            "https://a.example/level": {"type": "Property", "value": 1},
        }
        assert stored(client, 2) == {
            "id": "urn:ngsi-ld:Sensor:2",
            "type": "Sensor",
            "https://b.example/level": {"type": "Property", "value": 2},
        }
        compacted = client.get(
            "/entities/urn:ngsi-ld:Sensor:1", headers={"Link": link(f"{base}/a.jsonld")}
        )
        assert compacted.json() == sensor(1, level=1)


def test_create_with_ld_json_reports_an_entity_without_context(client: httpx.Client) -> None:
    with_context = {**sensor(1), "@context": {"level": "https://a.example/level"}}
    response = client.post(OPS + "create", json=[with_context, sensor(2)], headers=LD_JSON)
    success, errors = multi_status(response)
    assert success == ["urn:ngsi-ld:Sensor:1"]
    assert_problem_details(errors["urn:ngsi-ld:Sensor:2"], 400, "BadRequestData")
    assert_absent(client, 2)


def test_create_with_json_reports_an_entity_holding_a_context(client: httpx.Client) -> None:
    holding = {**sensor(2), "@context": {"level": "https://a.example/level"}}
    response = client.post(OPS + "create", json=[sensor(1), holding])
    success, errors = multi_status(response)
    assert success == ["urn:ngsi-ld:Sensor:1"]
    assert_problem_details(errors["urn:ngsi-ld:Sensor:2"], 400, "BadRequestData")
    assert_absent(client, 2)


# --- upsert ---------------------------------------------------------------------------------


def test_upsert_replaces_by_default_and_answers_only_the_created_ids(
    client: httpx.Client,
) -> None:
    create_all(client, sensor(1, level=1, battery=90))
    response = client.post(OPS + "upsert", json=[sensor(1, level=5), sensor(2, level=2)])
    assert response.status_code == 201
    assert response.json() == ["urn:ngsi-ld:Sensor:2"]
    assert stored(client, 1) == sensor(1, level=5)
    assert stored(client, 2) == sensor(2, level=2)


def test_upsert_with_replace_option(client: httpx.Client) -> None:
    create_all(client, sensor(1, level=1, battery=90))
    response = client.post(OPS + "upsert", params={"options": "replace"}, json=[sensor(1, level=5)])
    assert_no_content(response)
    assert stored(client, 1) == sensor(1, level=5)


def test_upsert_with_update_option_keeps_other_attributes(client: httpx.Client) -> None:
    create_all(client, sensor(1, level=1, battery=90))
    response = client.post(OPS + "upsert", params={"options": "update"}, json=[sensor(1, level=5)])
    assert_no_content(response)
    assert stored(client, 1) == sensor(1, level=5, battery=90)


def test_upsert_with_both_options_is_400(client: httpx.Client) -> None:
    response = client.post(
        OPS + "upsert", params={"options": "replace,update"}, json=[sensor(1, level=5)]
    )
    assert_problem(response, 400, "BadRequestData")
    assert_absent(client, 1)


def test_upsert_reports_an_invalid_entity_and_leaves_it_unchanged(client: httpx.Client) -> None:
    create_all(client, sensor(1, level=1))
    broken = sensor(1, level=7)
    broken["owner"] = {"type": "Relationship", "object": "not a uri"}
    response = client.post(OPS + "upsert", json=[broken, sensor(2, level=2)])
    success, errors = multi_status(response)
    assert success == ["urn:ngsi-ld:Sensor:2"]
    assert_problem_details(errors["urn:ngsi-ld:Sensor:1"], 400, "BadRequestData")
    assert stored(client, 1) == sensor(1, level=1)
    assert stored(client, 2) == sensor(2, level=2)


# --- update ---------------------------------------------------------------------------------


def test_update_appends_and_overwrites(client: httpx.Client) -> None:
    create_all(client, sensor(1, level=1, battery=90), sensor(2, level=2))
    response = client.post(OPS + "update", json=[sensor(1, level=5), sensor(2, status="ok")])
    assert_no_content(response)
    assert stored(client, 1) == sensor(1, level=5, battery=90)
    assert stored(client, 2) == sensor(2, level=2, status="ok")


def test_update_no_overwrite_keeps_existing_attributes(client: httpx.Client) -> None:
    create_all(client, sensor(1, level=1), sensor(2, level=2))
    only_new = client.post(
        OPS + "update", params={"options": "noOverwrite"}, json=[sensor(2, status="ok")]
    )
    assert_no_content(only_new)
    assert stored(client, 2) == sensor(2, level=2, status="ok")

    # ETSI 005_02_03: an existing attribute among new ones -> 207; the existing value is kept.
    mixed = client.post(
        OPS + "update", params={"options": "noOverwrite"}, json=[sensor(1, level=9, status="ok")]
    )
    _, errors = multi_status(mixed)
    assert list(errors) == ["urn:ngsi-ld:Sensor:1"]
    assert stored(client, 1) == sensor(1, level=1, status="ok")


def test_update_reports_unknown_entities(client: httpx.Client) -> None:
    create_all(client, sensor(1, level=1))
    response = client.post(OPS + "update", json=[sensor(1, level=2), sensor(9, level=9)])
    success, errors = multi_status(response)
    assert success == ["urn:ngsi-ld:Sensor:1"]
    assert_problem_details(errors["urn:ngsi-ld:Sensor:9"], 404, "ResourceNotFound")
    assert stored(client, 1) == sensor(1, level=2)
    assert_absent(client, 9)


def test_update_reports_an_invalid_entity_and_leaves_it_unchanged(client: httpx.Client) -> None:
    create_all(client, sensor(1, level=1), sensor(2, level=2))
    broken = sensor(1, level=5)
    broken["owner"] = {"type": "Relationship", "object": "not a uri"}
    response = client.post(OPS + "update", json=[broken, sensor(2, level=6)])
    success, errors = multi_status(response)
    assert success == ["urn:ngsi-ld:Sensor:2"]
    assert_problem_details(errors["urn:ngsi-ld:Sensor:1"], 400, "BadRequestData")
    assert stored(client, 1) == sensor(1, level=1)
    assert stored(client, 2) == sensor(2, level=6)


# --- merge ----------------------------------------------------------------------------------


def test_merge_updates_adds_and_deletes(client: httpx.Client) -> None:
    create_all(client, sensor(1, level=1, battery=90), sensor(2, level=2))
    response = client.post(
        OPS + "merge",
        json=[
            {"id": "urn:ngsi-ld:Sensor:1", "level": {"value": 3}, "battery": "urn:ngsi-ld:null"},
            {"id": "urn:ngsi-ld:Sensor:2", "status": {"type": "Property", "value": "ok"}},
        ],
    )
    assert_no_content(response)
    assert stored(client, 1) == sensor(1, level=3)
    assert stored(client, 2) == sensor(2, level=2, status="ok")


def test_merge_reports_unknown_and_invalid_entities(client: httpx.Client) -> None:
    create_all(client, sensor(1, level=1), sensor(2, level=2))
    response = client.post(
        OPS + "merge",
        json=[
            {"id": "urn:ngsi-ld:Sensor:1", "level": {"value": 3}},
            {"id": "urn:ngsi-ld:Sensor:2", "owner": {"type": "Relationship", "object": "bad"}},
            {"id": "urn:ngsi-ld:Sensor:9", "level": {"value": 9}},
        ],
    )
    success, errors = multi_status(response)
    assert success == ["urn:ngsi-ld:Sensor:1"]
    assert_problem_details(errors["urn:ngsi-ld:Sensor:2"], 400, "BadRequestData")
    assert_problem_details(errors["urn:ngsi-ld:Sensor:9"], 404, "ResourceNotFound")
    assert stored(client, 1) == sensor(1, level=3)
    assert stored(client, 2) == sensor(2, level=2)
    assert_absent(client, 9)


# --- delete ---------------------------------------------------------------------------------


def test_delete_answers_204(client: httpx.Client) -> None:
    create_all(client, sensor(1), sensor(2), sensor(3))
    response = client.post(OPS + "delete", json=["urn:ngsi-ld:Sensor:1", "urn:ngsi-ld:Sensor:2"])
    assert_no_content(response)
    assert_absent(client, 1)
    assert_absent(client, 2)
    assert stored(client, 3) == sensor(3)


def test_delete_reports_unknown_ids_and_deletes_the_others(client: httpx.Client) -> None:
    create_all(client, sensor(1), sensor(2))
    response = client.post(
        OPS + "delete", json=["urn:ngsi-ld:Sensor:1", "urn:ngsi-ld:Sensor:9", "sensor-2"]
    )
    success, errors = multi_status(response)
    assert success == ["urn:ngsi-ld:Sensor:1"]
    assert_problem_details(errors["urn:ngsi-ld:Sensor:9"], 404, "ResourceNotFound")
    assert_problem_details(errors["sensor-2"], 400, "BadRequestData")
    assert_absent(client, 1)
    assert stored(client, 2) == sensor(2)


# --- requests refused as a whole ------------------------------------------------------------


@pytest.mark.parametrize("operation", ["create", "upsert", "update", "merge", "delete"])
def test_an_empty_batch_is_400(client: httpx.Client, operation: str) -> None:
    assert_problem(client.post(OPS + operation, json=[]), 400, "BadRequestData")


@pytest.mark.parametrize("operation", ["create", "upsert", "update", "merge", "delete"])
def test_broken_json_is_400_invalid_request(client: httpx.Client, operation: str) -> None:
    response = client.post(
        OPS + operation,
        content=b'[{"id": "urn:ngsi-ld:Sensor:1", ',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 400, "InvalidRequest")
    assert_absent(client, 1)


@pytest.mark.parametrize("operation", ["create", "upsert", "update", "merge", "delete"])
def test_a_wrong_content_type_is_415(client: httpx.Client, operation: str) -> None:
    response = client.post(
        OPS + operation, content=json.dumps([sensor(1)]), headers={"Content-Type": "text/plain"}
    )
    assert_problem(response, 415, "InvalidRequest")
    assert_absent(client, 1)


@pytest.fixture
def unreachable_context(tmp_path: Path) -> Iterator[str]:
    folder = tmp_path / "empty"
    folder.mkdir()
    with static_files(folder) as base:
        yield f"{base}/missing.jsonld"


def test_an_unavailable_context_fails_each_entity(
    client: httpx.Client, unreachable_context: str
) -> None:
    """ETSI 043_01_04: 207 with LdContextNotAvailable for each entity; nothing is stored."""
    response = client.post(
        OPS + "create",
        json=[sensor(1), sensor(2)],
        headers={"Link": link(unreachable_context)},
    )
    success, errors = multi_status(response)
    assert success == []
    assert sorted(errors) == ["urn:ngsi-ld:Sensor:1", "urn:ngsi-ld:Sensor:2"]
    for error in errors.values():
        assert error["type"] == ERRORS + "LdContextNotAvailable"
        assert error["title"]
    assert_absent(client, 1)
    assert_absent(client, 2)
