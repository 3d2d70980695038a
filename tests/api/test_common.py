"""Behaviour common to every operation (clause 6.3): media types, the JSON-LD @context rules,
URL parameters, and problem details for every error."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.http import CORE, ERRORS, assert_problem, link

ROOM = {"id": "urn:ngsi-ld:Room:1", "type": "Room", "seats": {"type": "Property", "value": 4}}


@pytest.fixture
def stored(client: httpx.Client) -> httpx.Client:
    assert client.post("/entities", json=ROOM).status_code == 201
    return client


def assert_unchanged(client: httpx.Client) -> None:
    got = client.get("/entities/urn:ngsi-ld:Room:1")
    assert got.status_code == 200
    assert got.json() == ROOM


# --- Content-Type ---------------------------------------------------------------------------

WRITES = [
    ("POST", "/entities"),
    ("PUT", "/entities/urn:ngsi-ld:Room:1"),
    ("PATCH", "/entities/urn:ngsi-ld:Room:1"),
    ("POST", "/entities/urn:ngsi-ld:Room:1/attrs"),
    ("PATCH", "/entities/urn:ngsi-ld:Room:1/attrs"),
    ("PATCH", "/entities/urn:ngsi-ld:Room:1/attrs/seats"),
    ("PUT", "/entities/urn:ngsi-ld:Room:1/attrs/seats"),
    ("POST", "/entityOperations/create"),
    ("POST", "/jsonldContexts"),
]


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("content_type", ["application/xml", "text/plain"])
def test_an_unsupported_content_type_is_415(
    stored: httpx.Client, method: str, path: str, content_type: str
) -> None:
    """ETSI 048_01."""
    body = json.dumps({"seats": {"type": "Property", "value": 9}})
    response = stored.request(method, path, content=body, headers={"Content-Type": content_type})
    assert_problem(response, 415, "InvalidRequest")
    assert_unchanged(stored)


def test_a_body_without_content_type_is_415(client: httpx.Client) -> None:
    response = client.post("/entities", content=json.dumps(ROOM).encode())
    assert_problem(response, 415, "InvalidRequest")
    assert_problem(client.get("/entities/urn:ngsi-ld:Room:1"), 404, "ResourceNotFound")


def test_json_with_parameters_is_accepted(client: httpx.Client) -> None:
    response = client.post(
        "/entities",
        content=json.dumps(ROOM).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


# --- Accept ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/entities/urn:ngsi-ld:Room:1", "/entities?type=Room", "/jsonldContexts"],
)
def test_an_unacceptable_accept_is_406(stored: httpx.Client, path: str) -> None:
    """ETSI 049_01."""
    response = stored.get(path, headers={"Accept": "application/xml"})
    assert_problem(response, 406, "InvalidRequest")


def test_geo_json_is_not_acceptable_for_contexts(client: httpx.Client) -> None:
    """ETSI 049_02: GeoJSON only for retrieving and querying entities."""
    response = client.get("/jsonldContexts", headers={"Accept": "application/geo+json"})
    assert_problem(response, 406, "InvalidRequest")


# --- URL parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/entities/urn:ngsi-ld:Room:1"),
        ("GET", "/entities?type=Room"),
        ("DELETE", "/entities/urn:ngsi-ld:Room:1"),
        ("DELETE", "/entities/urn:ngsi-ld:Room:1/attrs/seats"),
        ("GET", "/jsonldContexts"),
    ],
)
def test_an_unknown_url_parameter_is_400_invalid_request(
    stored: httpx.Client, method: str, path: str
) -> None:
    """Clause 6.3.20 (ETSI 059_01)."""
    separator = "&" if "?" in path else "?"
    response = stored.request(method, f"{path}{separator}fancyParameter=1")
    assert_problem(response, 400, "InvalidRequest")
    assert_unchanged(stored)


def test_an_unknown_url_parameter_on_create_is_400(client: httpx.Client) -> None:
    response = client.post("/entities", params={"fancyParameter": "1"}, json=ROOM)
    assert_problem(response, 400, "InvalidRequest")
    assert_problem(client.get("/entities/urn:ngsi-ld:Room:1"), 404, "ResourceNotFound")


# --- the @context rules (clause 6.3.5) ------------------------------------------------------


def test_json_with_a_context_in_the_body_is_400(client: httpx.Client) -> None:
    """ETSI 001_06."""
    response = client.post("/entities", json={**ROOM, "@context": CORE})
    assert_problem(response, 400, "BadRequestData")
    assert_problem(client.get("/entities/urn:ngsi-ld:Room:1"), 404, "ResourceNotFound")


def test_ld_json_without_a_context_is_400(client: httpx.Client) -> None:
    """ETSI 001_08."""
    response = client.post("/entities", json=ROOM, headers={"Content-Type": "application/ld+json"})
    assert_problem(response, 400, "BadRequestData")
    assert_problem(client.get("/entities/urn:ngsi-ld:Room:1"), 404, "ResourceNotFound")


def test_ld_json_with_a_link_header_is_400(client: httpx.Client) -> None:
    """ETSI 001_09."""
    response = client.post(
        "/entities",
        json={**ROOM, "@context": CORE},
        headers={"Content-Type": "application/ld+json", "Link": link(CORE)},
    )
    assert_problem(response, 400, "BadRequestData")
    assert_problem(client.get("/entities/urn:ngsi-ld:Room:1"), 404, "ResourceNotFound")


def test_the_rules_hold_for_attribute_updates_too(stored: httpx.Client) -> None:
    path = "/entities/urn:ngsi-ld:Room:1/attrs"
    fragment = {"seats": {"type": "Property", "value": 9}}
    in_json = stored.post(path, json={**fragment, "@context": CORE})
    assert_problem(in_json, 400, "BadRequestData")
    no_context = stored.patch(path, json=fragment, headers={"Content-Type": "application/ld+json"})
    assert_problem(no_context, 400, "BadRequestData")
    assert_unchanged(stored)


def test_a_link_header_without_the_context_relation_is_ignored(client: httpx.Client) -> None:
    """ETSI 001_05: a Link header with another relation leaves the core @context in use."""
    response = client.post(
        "/entities", json=ROOM, headers={"Link": '<https://example.org/other>; rel="alternate"'}
    )
    assert response.status_code == 201
    got = client.get("/entities/urn:ngsi-ld:Room:1")
    assert got.headers["link"] == link(CORE)
    assert got.json() == ROOM


# --- bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{", b"", b"not json"])
def test_a_body_that_is_not_json_is_400_invalid_request(client: httpx.Client, body: bytes) -> None:
    response = client.post("/entities", content=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "InvalidRequest")


# --- problem details everywhere -------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/nothing", "/entities/urn:ngsi-ld:Room:1/nothing", "/entityOperations/nothing"]
)
def test_an_unknown_path_is_404_problem_details(client: httpx.Client, path: str) -> None:
    assert_problem(client.get(path), 404, "ResourceNotFound")


def test_an_unknown_path_outside_the_api_is_404_problem_details(node_url: str) -> None:
    response = httpx.get(f"{node_url}/nothing/here")
    assert_problem(response, 404, "ResourceNotFound")


def test_a_method_the_resource_lacks_is_405_problem_details(client: httpx.Client) -> None:
    response = client.request("PATCH", "/entityOperations/create", json=[ROOM])
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    problem = response.json()
    assert problem["type"].startswith(ERRORS)
    assert problem["status"] == 405
    assert problem["title"]
    assert problem["detail"]
