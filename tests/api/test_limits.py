"""The payload limits of a node (Settings: max_body_bytes, max_attributes, max_nesting,
max_batch): each refusal is a problem-details error, and the store is left as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ascn.settings import Settings
from tests.support.http import assert_problem
from tests.support.servers import free_port, running_node

LIMIT_BYTES = 2000
ROOM_PATH = "/entities/urn:ngsi-ld:Room:1"


def assert_absent(client: httpx.Client, path: str = ROOM_PATH) -> None:
    assert_problem(client.get(path), 404, "ResourceNotFound")


def prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def room(**attributes: Any) -> dict[str, Any]:
    return {"id": "urn:ngsi-ld:Room:1", "type": "Room", **attributes}


def nested(depth: int) -> Any:
    """A JSON value of `depth` nested objects: nested(1) == {"v": 1}."""
    value: Any = 1
    for _ in range(depth):
        value = {"v": value}
    return value


@pytest.fixture
def limited(store_url: str) -> Iterator[httpx.Client]:
    """A client of a node with small limits."""
    settings = Settings(
        port=free_port(),
        store=store_url,
        open=True,
        max_body_bytes=LIMIT_BYTES,
        max_attributes=3,
        max_nesting=5,
        max_batch=2,
    )
    with (
        running_node(settings) as url,
        httpx.Client(base_url=f"{url}/ngsi-ld/v1", timeout=10) as client,
    ):
        yield client


# --- body size ------------------------------------------------------------------------------


def test_a_body_too_large_is_413(limited: httpx.Client) -> None:
    entity = room(note=prop("x" * LIMIT_BYTES))
    response = limited.post("/entities", json=entity)
    assert_problem(response, 413, "BadRequestData")
    assert_absent(limited)


def test_a_body_just_under_the_limit_is_accepted(limited: httpx.Client) -> None:
    entity = room(note=prop(""))
    size = len(json.dumps(entity, separators=(",", ":")).encode())
    entity = room(note=prop("x" * (LIMIT_BYTES - size)))
    body = json.dumps(entity, separators=(",", ":")).encode()
    assert len(body) == LIMIT_BYTES
    response = limited.post("/entities", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text


def test_a_chunked_body_too_large_is_413(limited: httpx.Client) -> None:
    body = json.dumps(room(note=prop("x" * LIMIT_BYTES))).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    response = limited.post(
        "/entities", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert_problem(response, 413, "BadRequestData")
    assert_absent(limited)


def test_an_update_too_large_is_413_and_changes_nothing(limited: httpx.Client) -> None:
    assert limited.post("/entities", json=room(note=prop("short"))).status_code == 201
    response = limited.patch(ROOM_PATH + "/attrs", json={"note": prop("x" * LIMIT_BYTES)})
    assert_problem(response, 413, "BadRequestData")
    assert limited.get(ROOM_PATH).json() == room(note=prop("short"))


# --- attributes -----------------------------------------------------------------------------


def test_too_many_attributes_is_413(limited: httpx.Client) -> None:
    response = limited.post("/entities", json=room(a=prop(1), b=prop(2), c=prop(3), d=prop(4)))
    assert_problem(response, 413, "BadRequestData")
    assert_absent(limited)
    assert limited.post("/entities", json=room(a=prop(1), b=prop(2), c=prop(3))).status_code == 201


def test_appending_beyond_the_attribute_limit_is_413(limited: httpx.Client) -> None:
    """max_attributes is the most attributes an entity may carry, however they arrive."""
    three = room(a=prop(1), b=prop(2), c=prop(3))
    assert limited.post("/entities", json=three).status_code == 201
    response = limited.post(ROOM_PATH + "/attrs", json={"d": prop(4)})
    assert_problem(response, 413, "BadRequestData")
    assert limited.get(ROOM_PATH).json() == three


def test_too_many_attributes_in_an_append_is_413(limited: httpx.Client) -> None:
    assert limited.post("/entities", json=room(a=prop(1))).status_code == 201
    response = limited.post(
        ROOM_PATH + "/attrs", json={"b": prop(2), "c": prop(3), "d": prop(4), "e": prop(5)}
    )
    assert_problem(response, 413, "BadRequestData")
    assert limited.get(ROOM_PATH).json() == room(a=prop(1))


# --- nesting --------------------------------------------------------------------------------


def test_a_payload_nested_too_deep_is_400(limited: httpx.Client) -> None:
    # entity (1) > attribute (2) > value: 4 nested objects (3 to 6) -> 6 levels, one too many.
    response = limited.post("/entities", json=room(a=prop(nested(4))))
    assert_problem(response, 400, "BadRequestData")
    assert_absent(limited)
    assert limited.post("/entities", json=room(a=prop(nested(3)))).status_code == 201


def test_an_update_nested_too_deep_is_400_and_changes_nothing(limited: httpx.Client) -> None:
    assert limited.post("/entities", json=room(a=prop(1))).status_code == 201
    response = limited.patch(ROOM_PATH, json={"a": prop(nested(4))})
    assert_problem(response, 400, "BadRequestData")
    assert limited.get(ROOM_PATH).json() == room(a=prop(1))


# --- batches --------------------------------------------------------------------------------


def batch(count: int) -> list[dict[str, Any]]:
    return [{"id": f"urn:ngsi-ld:Room:{n}", "type": "Room"} for n in range(1, count + 1)]


@pytest.mark.parametrize("operation", ["create", "upsert"])
def test_a_batch_too_big_is_413_and_stores_nothing(limited: httpx.Client, operation: str) -> None:
    response = limited.post(f"/entityOperations/{operation}", json=batch(3))
    assert_problem(response, 413, "BadRequestData")
    for n in (1, 2, 3):
        assert_absent(limited, f"/entities/urn:ngsi-ld:Room:{n}")
    rooms = limited.get("/entities", params={"type": "Room"})
    assert rooms.status_code == 200
    assert rooms.json() == []


def test_a_batch_update_too_big_is_413_and_changes_nothing(limited: httpx.Client) -> None:
    assert limited.post("/entityOperations/create", json=batch(2)).status_code == 201
    updates = [{**item, "seats": prop(5)} for item in batch(3)]
    for operation in ("update", "merge"):
        response = limited.post(f"/entityOperations/{operation}", json=updates)
        assert_problem(response, 413, "BadRequestData")
    assert limited.get("/entities/urn:ngsi-ld:Room:1").json() == batch(1)[0]


def test_a_batch_delete_too_big_is_413_and_deletes_nothing(limited: httpx.Client) -> None:
    assert limited.post("/entityOperations/create", json=batch(2)).status_code == 201
    ids = [item["id"] for item in batch(3)]
    response = limited.post("/entityOperations/delete", json=ids)
    assert_problem(response, 413, "BadRequestData")
    rooms = limited.get("/entities", params={"type": "Room"})
    assert sorted(entity["id"] for entity in rooms.json()) == ids[:2]


def test_a_batch_at_the_limit_is_accepted(limited: httpx.Client) -> None:
    response = limited.post("/entityOperations/create", json=batch(2))
    assert response.status_code == 201
    assert response.json() == [item["id"] for item in batch(2)]


def test_an_entity_of_a_batch_with_too_many_attributes_fails_alone(limited: httpx.Client) -> None:
    big = {"id": "urn:ngsi-ld:Room:2", "type": "Room", **{k: prop(1) for k in "abcd"}}
    response = limited.post("/entityOperations/create", json=[batch(1)[0], big])
    assert response.status_code == 207
    body = response.json()
    assert body["success"] == ["urn:ngsi-ld:Room:1"]
    assert [item["entityId"] for item in body["errors"]] == ["urn:ngsi-ld:Room:2"]
    assert body["errors"][0]["error"]["status"] == 413
    assert_absent(limited, "/entities/urn:ngsi-ld:Room:2")
