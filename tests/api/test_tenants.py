"""Tenants over real HTTP (clauses 4.14, 6.3.14): the NGSILD-Tenant header isolates data, a tenant
comes into being with its first write, and answers name the tenant they were given."""

from __future__ import annotations

import httpx
import pytest

from tests.support.http import assert_problem

TENANT_A = {"NGSILD-Tenant": "bangkok"}
TENANT_B = {"NGSILD-Tenant": "hanoi"}
LAMP = {"id": "urn:ngsi-ld:Lamp:1", "type": "Lamp", "on": {"type": "Property", "value": True}}
LAMP_PATH = "/entities/urn:ngsi-ld:Lamp:1"


def assert_tenant(response: httpx.Response, tenant: dict[str, str]) -> None:
    assert response.headers.get("ngsild-tenant") == tenant["NGSILD-Tenant"], (
        f"{response.request.method} {response.request.url} -> {response.status_code}: "
        f"no NGSILD-Tenant {tenant['NGSILD-Tenant']!r} in {dict(response.headers)}"
    )


@pytest.fixture
def in_tenant_a(client: httpx.Client) -> httpx.Client:
    """The client, with the lamp created in tenant A."""
    created = client.post("/entities", json=LAMP, headers=TENANT_A)
    assert created.status_code == 201, created.text
    return client


def test_an_entity_of_a_tenant_is_invisible_elsewhere(in_tenant_a: httpx.Client) -> None:
    client = in_tenant_a
    got = client.get(LAMP_PATH, headers=TENANT_A)
    assert got.status_code == 200
    assert got.json() == LAMP

    assert_problem(client.get(LAMP_PATH), 404, "ResourceNotFound")
    default_query = client.get("/entities", params={"type": "Lamp"})
    assert default_query.status_code == 200
    assert default_query.json() == []

    other = client.post("/entities", json={**LAMP, "id": "urn:ngsi-ld:Lamp:2"}, headers=TENANT_B)
    assert other.status_code == 201
    assert_problem(client.get(LAMP_PATH, headers=TENANT_B), 404, "ResourceNotFound")
    b_query = client.get("/entities", params={"type": "Lamp"}, headers=TENANT_B)
    assert [entity["id"] for entity in b_query.json()] == ["urn:ngsi-ld:Lamp:2"]
    a_query = client.get("/entities", params={"type": "Lamp"}, headers=TENANT_A)
    assert [entity["id"] for entity in a_query.json()] == ["urn:ngsi-ld:Lamp:1"]


def test_the_same_id_can_exist_in_two_tenants(in_tenant_a: httpx.Client) -> None:
    client = in_tenant_a
    other = {**LAMP, "on": {"type": "Property", "value": False}}
    assert client.post("/entities", json=other, headers=TENANT_B).status_code == 201
    assert client.post("/entities", json=other).status_code == 201
    assert client.get(LAMP_PATH, headers=TENANT_A).json() == LAMP
    assert client.get(LAMP_PATH, headers=TENANT_B).json() == other
    assert client.get(LAMP_PATH).json() == other

    assert client.delete(LAMP_PATH, headers=TENANT_B).status_code == 204
    assert client.get(LAMP_PATH, headers=TENANT_A).json() == LAMP
    assert client.get(LAMP_PATH).json() == other


def test_writes_in_one_tenant_leave_the_others_alone(in_tenant_a: httpx.Client) -> None:
    client = in_tenant_a
    assert client.post("/entities", json=LAMP).status_code == 201
    patch = client.patch(LAMP_PATH + "/attrs", json={"on": {"type": "Property", "value": False}})
    assert patch.status_code == 204
    assert client.get(LAMP_PATH, headers=TENANT_A).json() == LAMP
    batch = client.post("/entityOperations/delete", json=["urn:ngsi-ld:Lamp:1"])
    assert batch.status_code == 204
    assert client.get(LAMP_PATH, headers=TENANT_A).json() == LAMP


def test_reads_on_a_tenant_never_written_are_404_nonexistent_tenant(client: httpx.Client) -> None:
    assert_problem(client.get(LAMP_PATH, headers=TENANT_A), 404, "NonexistentTenant")
    query = client.get("/entities", params={"type": "Lamp"}, headers=TENANT_A)
    assert_problem(query, 404, "NonexistentTenant")


def test_a_failed_write_does_not_create_the_tenant(client: httpx.Client) -> None:
    refused = client.post("/entities", json={"id": "lamp-1", "type": "Lamp"}, headers=TENANT_A)
    assert_problem(refused, 400, "BadRequestData")
    assert_problem(client.get(LAMP_PATH, headers=TENANT_A), 404, "NonexistentTenant")


def test_a_tenant_is_created_by_its_first_write(client: httpx.Client) -> None:
    assert_problem(client.get(LAMP_PATH, headers=TENANT_A), 404, "NonexistentTenant")
    created = client.post("/entityOperations/create", json=[LAMP], headers=TENANT_A)
    assert created.status_code == 201
    assert client.get(LAMP_PATH, headers=TENANT_A).json() == LAMP
    assert client.delete(LAMP_PATH, headers=TENANT_A).status_code == 204
    # The tenant stays once created: an unknown entity in it is ResourceNotFound.
    assert_problem(client.get(LAMP_PATH, headers=TENANT_A), 404, "ResourceNotFound")
    empty = client.get("/entities", params={"type": "Lamp"}, headers=TENANT_A)
    assert empty.status_code == 200
    assert empty.json() == []


def test_an_invalid_tenant_name_is_400(client: httpx.Client) -> None:
    response = client.post("/entities", json=LAMP, headers={"NGSILD-Tenant": "bad tenant!"})
    assert_problem(response, 400, "BadRequestData")


def test_answers_name_the_tenant(client: httpx.Client) -> None:
    created = client.post("/entities", json=LAMP, headers=TENANT_A)
    assert created.status_code == 201
    assert_tenant(created, TENANT_A)

    retrieved = client.get(LAMP_PATH, headers=TENANT_A)
    assert retrieved.status_code == 200
    assert_tenant(retrieved, TENANT_A)

    queried = client.get("/entities", params={"type": "Lamp"}, headers=TENANT_A)
    assert queried.status_code == 200
    assert_tenant(queried, TENANT_A)

    appended = client.post(
        LAMP_PATH + "/attrs", json={"level": {"type": "Property", "value": 3}}, headers=TENANT_A
    )
    assert appended.status_code == 204
    assert_tenant(appended, TENANT_A)

    deleted = client.delete(LAMP_PATH, headers=TENANT_A)
    assert deleted.status_code == 204
    assert_tenant(deleted, TENANT_A)


def test_a_multi_status_answer_names_the_tenant(in_tenant_a: httpx.Client) -> None:
    partial = in_tenant_a.post(
        LAMP_PATH + "/attrs",
        params={"options": "noOverwrite"},
        json={"on": {"type": "Property", "value": False}},
        headers=TENANT_A,
    )
    assert partial.status_code == 207
    assert_tenant(partial, TENANT_A)


def test_a_batch_create_answer_names_the_tenant(client: httpx.Client) -> None:
    batch = client.post("/entityOperations/create", json=[LAMP], headers=TENANT_A)
    assert batch.status_code == 201
    assert_tenant(batch, TENANT_A)


def test_a_batch_multi_status_answer_names_the_tenant(in_tenant_a: httpx.Client) -> None:
    batch = in_tenant_a.post("/entityOperations/create", json=[LAMP], headers=TENANT_A)
    assert batch.status_code == 207
    assert_tenant(batch, TENANT_A)


def test_a_batch_no_content_answer_names_the_tenant(in_tenant_a: httpx.Client) -> None:
    batch = in_tenant_a.post("/entityOperations/upsert", json=[LAMP], headers=TENANT_A)
    assert batch.status_code == 204
    assert_tenant(batch, TENANT_A)


def test_answers_in_the_default_tenant_name_no_tenant(client: httpx.Client) -> None:
    created = client.post("/entities", json=LAMP)
    assert created.status_code == 201
    assert "ngsild-tenant" not in created.headers
    assert "ngsild-tenant" not in client.get(LAMP_PATH).headers
