"""/jsonldContexts over real HTTP: hosting, listing, serving, deleting and reloading @contexts, and
remote @contexts fetched and cached by the node (clauses 5.13, 6.29, 6.30)."""

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
from tests.support.servers import free_port, static_files

BASE = "/ngsi-ld/v1/jsonldContexts/"
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
DETAIL_KEYS = {"URL", "localId", "kind", "createdAt"}
OPTIONAL_DETAIL_KEYS = {"lastUsage", "numberOfHits", "extraInfo"}
DOCUMENT = {
    "@context": {
        "Parcel": "https://example.org/logistics/Parcel",
        "weight": "https://example.org/logistics/weight",
    }
}
REMOTE = {"@context": {"speed": "https://example.org/traffic/speed"}}


def assert_details(details: dict[str, Any], url: str, kind: str) -> None:
    assert DETAIL_KEYS <= set(details) <= DETAIL_KEYS | OPTIONAL_DETAIL_KEYS
    assert details["URL"] == url
    assert details["kind"] == kind
    assert isinstance(details["localId"], str)
    assert details["localId"]
    assert DATETIME.match(details["createdAt"])


def host(client: httpx.Client, document: Any) -> str:
    """Host a context document; its local id."""
    response = client.post("/jsonldContexts", json=document)
    assert response.status_code == 201, response.text
    location: str = response.headers["location"]
    assert location.startswith(BASE)
    return location.removeprefix(BASE)


def listing(client: httpx.Client, **params: str) -> Any:
    response = client.get("/jsonldContexts", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[str]:
    """A folder of @context documents served over HTTP; yields its base URL."""
    folder = tmp_path / "remote"
    folder.mkdir()
    (folder / "traffic.jsonld").write_text(json.dumps(REMOTE))
    (folder / "broken.jsonld").write_text("this is not JSON {")
    with static_files(folder) as base:
        yield base


# --- hosting --------------------------------------------------------------------------------


def test_add_answers_201_with_location_and_serves_the_document(
    client: httpx.Client, node_url: str
) -> None:
    response = client.post("/jsonldContexts", json=DOCUMENT)
    assert response.status_code == 201
    assert response.content == b""
    location = response.headers["location"]
    assert re.fullmatch(re.escape(BASE) + r"[^/?#]+", location)
    local_id = location.removeprefix(BASE)

    served = client.get(f"/jsonldContexts/{local_id}")
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    assert served.json() == DOCUMENT

    details = client.get(f"/jsonldContexts/{local_id}", params={"details": "true"})
    assert details.status_code == 200
    assert_details(details.json(), node_url + location, "Hosted")
    assert details.json()["localId"] == local_id
    assert client.get(f"/jsonldContexts/{local_id}", params={"details": "false"}).json() == DOCUMENT


def test_add_a_list_of_contexts(client: httpx.Client, remote: str) -> None:
    document = {"@context": [f"{remote}/traffic.jsonld", {"lane": "https://example.org/lane"}]}
    local_id = host(client, document)
    assert client.get(f"/jsonldContexts/{local_id}").json() == document


@pytest.mark.parametrize(
    "body",
    [b'{"Parcel": "https://example.org/logistics/Parcel"}', b'{"@context": {"a": ', b"[]"],
)
def test_add_an_invalid_document_is_400_invalid_request(client: httpx.Client, body: bytes) -> None:
    """ETSI 050_02: a body without @context, or not JSON, is InvalidRequest."""
    response = client.post(
        "/jsonldContexts", content=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, "InvalidRequest")
    assert listing(client, kind="Hosted") == []


def test_add_a_context_naming_a_remote_document_that_is_not_json_is_400(
    client: httpx.Client, remote: str
) -> None:
    response = client.post("/jsonldContexts", json={"@context": [f"{remote}/broken.jsonld"]})
    assert_problem(response, 400, "BadRequestData")
    assert listing(client, kind="Hosted") == []


def test_an_entity_can_use_a_hosted_context(client: httpx.Client, node_url: str) -> None:
    local_id = host(client, DOCUMENT)
    url = f"{node_url}{BASE}{local_id}"
    parcel = {
        "id": "urn:ngsi-ld:Parcel:1",
        "type": "Parcel",
        "weight": {"type": "Property", "value": 2.5},
    }
    created = client.post("/entities", json={**parcel, "@context": url}, headers=LD_JSON)
    assert created.status_code == 201, created.text
    assert client.get("/entities/urn:ngsi-ld:Parcel:1").json() == {
        "id": "urn:ngsi-ld:Parcel:1",
        "type": "https://example.org/logistics/Parcel",
        "https://example.org/logistics/weight": {"type": "Property", "value": 2.5},
    }
    compacted = client.get("/entities/urn:ngsi-ld:Parcel:1", headers={"Link": link(url)})
    assert compacted.headers["link"] == link(url)
    assert compacted.json() == parcel


# --- listing --------------------------------------------------------------------------------


def test_list_names_the_core_context_and_hosted_ones(client: httpx.Client, node_url: str) -> None:
    assert listing(client) == [CORE]
    first, second = host(client, DOCUMENT), host(client, REMOTE)
    urls = {f"{node_url}{BASE}{first}", f"{node_url}{BASE}{second}"}
    everything = listing(client)
    assert all(isinstance(url, str) for url in everything)
    assert set(everything) == {CORE, *urls}
    assert len(everything) == 3
    assert set(listing(client, kind="Hosted")) == urls
    assert set(listing(client, kind="Hosted", details="false")) == urls
    assert CORE in listing(client, kind="Cached")
    assert listing(client, kind="ImplicitlyCreated") == []


def test_list_with_details(client: httpx.Client, node_url: str) -> None:
    local_id = host(client, DOCUMENT)
    details = listing(client, details="true")
    by_url = {entry["URL"]: entry for entry in details}
    assert set(by_url) == {CORE, f"{node_url}{BASE}{local_id}"}
    assert_details(by_url[f"{node_url}{BASE}{local_id}"], f"{node_url}{BASE}{local_id}", "Hosted")
    assert by_url[f"{node_url}{BASE}{local_id}"]["localId"] == local_id
    hosted = listing(client, details="true", kind="Hosted")
    assert [entry["URL"] for entry in hosted] == [f"{node_url}{BASE}{local_id}"]


@pytest.mark.parametrize(
    "params",
    [{"kind": "Other"}, {"kind": "hosted"}, {"details": "maybe"}, {"details": "true", "kind": "x"}],
)
def test_list_with_an_invalid_kind_or_details_is_400(
    client: httpx.Client, params: dict[str, str]
) -> None:
    assert_problem(client.get("/jsonldContexts", params=params), 400, "BadRequestData")


# --- deleting -------------------------------------------------------------------------------


def test_delete_a_hosted_context(client: httpx.Client, node_url: str) -> None:
    local_id = host(client, DOCUMENT)
    deleted = client.delete(f"/jsonldContexts/{local_id}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_problem(client.get(f"/jsonldContexts/{local_id}"), 404, "ResourceNotFound")
    assert_problem(client.delete(f"/jsonldContexts/{local_id}"), 404, "ResourceNotFound")
    assert listing(client) == [CORE]


def test_reload_of_a_hosted_context_is_400(client: httpx.Client) -> None:
    """ETSI 051_04_05: only cached contexts can be reloaded."""
    local_id = host(client, DOCUMENT)
    response = client.delete(f"/jsonldContexts/{local_id}", params={"reload": "true"})
    assert_problem(response, 400, "BadRequestData")
    assert client.get(f"/jsonldContexts/{local_id}").json() == DOCUMENT


def test_unknown_contexts(client: httpx.Client) -> None:
    """ETSI 051_04: unknown id -> 404, or 400 with reload=true or an invalid reload."""
    assert_problem(client.get("/jsonldContexts/0123456789"), 404, "ResourceNotFound")
    assert_problem(client.delete("/jsonldContexts/0123456789"), 404, "ResourceNotFound")
    assert_problem(
        client.delete("/jsonldContexts/0123456789", params={"reload": "false"}),
        404,
        "ResourceNotFound",
    )
    assert_problem(
        client.delete("/jsonldContexts/0123456789", params={"reload": "true"}),
        400,
        "BadRequestData",
    )
    assert_problem(
        client.delete("/jsonldContexts/0123456789", params={"reload": "xxx"}),
        400,
        "BadRequestData",
    )


@pytest.mark.parametrize("reload", [None, "false"])
def test_the_core_context_cannot_be_deleted(client: httpx.Client, reload: str | None) -> None:
    """ETSI 051_08."""
    params = {} if reload is None else {"reload": reload}
    response = client.delete(f"/jsonldContexts/{quote(CORE, safe='')}", params=params)
    assert_problem(response, 400, "BadRequestData")
    assert listing(client) == [CORE]


def test_the_core_context_can_be_reloaded(client: httpx.Client) -> None:
    """ETSI 051_09."""
    response = client.delete(f"/jsonldContexts/{quote(CORE, safe='')}", params={"reload": "true"})
    assert response.status_code == 204
    assert response.content == b""
    details = client.get(f"/jsonldContexts/{quote(CORE, safe='')}", params={"details": "true"})
    assert details.status_code == 200
    assert details.json()["URL"] == CORE
    assert listing(client) == [CORE]


# --- remote contexts ------------------------------------------------------------------------


def test_a_remote_context_in_a_link_header_is_cached(client: httpx.Client, remote: str) -> None:
    url = f"{remote}/traffic.jsonld"
    car = {"id": "urn:ngsi-ld:Car:1", "type": "Car", "speed": {"type": "Property", "value": 50}}
    created = client.post("/entities", json=car, headers={"Link": link(url)})
    assert created.status_code == 201, created.text

    assert set(listing(client, kind="Cached")) == {CORE, url}
    cached = [entry for entry in listing(client, details="true") if entry["URL"] == url]
    assert len(cached) == 1
    assert_details(cached[0], url, "Cached")

    served = client.get(f"/jsonldContexts/{quote(url, safe='')}")
    assert served.status_code == 200
    assert served.json() == REMOTE
    details = client.get(f"/jsonldContexts/{quote(url, safe='')}", params={"details": "true"})
    assert_details(details.json(), url, "Cached")

    assert client.get("/entities/urn:ngsi-ld:Car:1").json() == {
        "id": "urn:ngsi-ld:Car:1",
        "type": "Car",
        "https://example.org/traffic/speed": {"type": "Property", "value": 50},
    }


def test_a_cached_context_can_be_reloaded_and_deleted(client: httpx.Client, remote: str) -> None:
    url = f"{remote}/traffic.jsonld"
    created = client.post(
        "/entities", json={"id": "urn:ngsi-ld:Car:1", "type": "Car"}, headers={"Link": link(url)}
    )
    assert created.status_code == 201
    reloaded = client.delete(f"/jsonldContexts/{quote(url, safe='')}", params={"reload": "true"})
    assert reloaded.status_code == 204
    assert url in listing(client, kind="Cached")
    deleted = client.delete(f"/jsonldContexts/{quote(url, safe='')}")
    assert deleted.status_code == 204
    assert listing(client, kind="Cached") == [CORE]
    assert_problem(client.get(f"/jsonldContexts/{quote(url, safe='')}"), 404, "ResourceNotFound")


def test_an_unreachable_remote_context_is_504_and_stores_nothing(client: httpx.Client) -> None:
    url = f"http://127.0.0.1:{free_port()}/nothing.jsonld"
    entity = {"id": "urn:ngsi-ld:Car:1", "type": "Car", "speed": {"type": "Property", "value": 5}}
    response = client.post("/entities", json=entity, headers={"Link": link(url)})
    assert_problem(response, 504, "LdContextNotAvailable")
    in_body = client.post("/entities", json={**entity, "@context": url}, headers=LD_JSON)
    assert_problem(in_body, 504, "LdContextNotAvailable")
    assert_problem(client.get("/entities/urn:ngsi-ld:Car:1"), 404, "ResourceNotFound")
    assert listing(client) == [CORE]


def test_a_remote_context_that_answers_404_is_504(client: httpx.Client, remote: str) -> None:
    entity = {"id": "urn:ngsi-ld:Car:1", "type": "Car"}
    response = client.post(
        "/entities", json=entity, headers={"Link": link(f"{remote}/missing.jsonld")}
    )
    assert_problem(response, 504, "LdContextNotAvailable")
    assert_problem(client.get("/entities/urn:ngsi-ld:Car:1"), 404, "ResourceNotFound")


def test_a_remote_context_that_is_not_json_is_400(client: httpx.Client, remote: str) -> None:
    entity = {"id": "urn:ngsi-ld:Car:1", "type": "Car"}
    response = client.post(
        "/entities", json=entity, headers={"Link": link(f"{remote}/broken.jsonld")}
    )
    assert_problem(response, 400, "BadRequestData")
    assert_problem(client.get("/entities/urn:ngsi-ld:Car:1"), 404, "ResourceNotFound")
    assert listing(client, kind="Cached") == [CORE]


def test_an_unreachable_remote_context_on_read_is_504(client: httpx.Client) -> None:
    created = client.post("/entities", json={"id": "urn:ngsi-ld:Car:1", "type": "Car"})
    assert created.status_code == 201
    url = f"http://127.0.0.1:{free_port()}/nothing.jsonld"
    response = client.get("/entities/urn:ngsi-ld:Car:1", headers={"Link": link(url)})
    assert_problem(response, 504, "LdContextNotAvailable")
