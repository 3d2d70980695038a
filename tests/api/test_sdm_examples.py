"""The official Smart Data Models examples (SHARED/data/sdm-examples) through a node: the
"roundtrip" ones are stored and come back unchanged, the "refuse" ones get 400 and store nothing.

Their @context URLs name Smart Data Models files on the internet; the copies in contexts/ are
served on 127.0.0.1 and each example's URLs are pointed there before it is sent."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest

from ascn.settings import Settings
from tests.conftest import SHARED
from tests.support.http import ERRORS, link
from tests.support.servers import free_port, running_node, static_files
from tests.support.stores import BACKENDS, store_url

SDM = SHARED / "data" / "sdm-examples"
LD_JSON = "application/ld+json"
SYSTEM_TIMES = ("createdAt", "modifiedAt")

pytestmark = pytest.mark.skipif(
    not SDM.is_dir(), reason=f"the shared Smart Data Models examples are not at {SDM}"
)


def load_manifest() -> dict[str, Any]:
    if not SDM.is_dir():
        return {"examples": [], "contexts": {}}
    manifest: dict[str, Any] = json.loads((SDM / "manifest.json").read_text())
    return manifest


MANIFEST = load_manifest()
ROUNDTRIP = [e for e in MANIFEST["examples"] if e["expect"] == "roundtrip"]
REFUSE = [e for e in MANIFEST["examples"] if e["expect"] == "refuse"]


def readme_contexts() -> dict[str, str]:
    """The README's table of context URLs and the file served for each."""
    text = (SDM / "README.md").read_text()
    return dict(re.findall(r"^\| (https://\S+) \| `(contexts/[^`]+)` \|$", text, re.MULTILINE))


@pytest.fixture(scope="module")
def contexts_url() -> Iterator[str]:
    """The base URL of the examples' folder, served on 127.0.0.1."""
    with static_files(SDM) as base:
        yield base


@pytest.fixture(scope="module", params=BACKENDS)
def sdm_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One node per backend for the whole module (every example has its own id)."""
    folder = tmp_path_factory.mktemp("sdm")
    with store_url(request.param, folder) as url:
        settings = Settings(port=free_port(), store=url, open=True)
        with running_node(settings) as node:
            yield node


@pytest.fixture(scope="module")
def sdm_client(sdm_node: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{sdm_node}/ngsi-ld/v1", timeout=30) as client:
        yield client


def local_copy(example: dict[str, Any], contexts_url: str) -> dict[str, Any]:
    """The example with each Smart Data Models @context URL pointed at the local copy."""
    document: dict[str, Any] = json.loads((SDM / example["file"]).read_text())
    mapping = MANIFEST["contexts"]

    def local(url: Any) -> Any:
        if isinstance(url, str) and url in mapping:
            return f"{contexts_url}/{mapping[url]['file']}"
        return url

    context = document["@context"]
    document["@context"] = (
        [local(u) for u in context] if isinstance(context, list) else local(context)
    )
    return document


def entity_path(entity_id: str) -> str:
    return "/entities/" + quote(entity_id, safe=":")


def reading_context(client: httpx.Client, node_url: str, context: Any) -> str:
    """A URL naming the example's @context: the URL itself if it is one, else a hosted copy."""
    items = context if isinstance(context, list) else [context]
    if len(items) == 1 and isinstance(items[0], str):
        url: str = items[0]
        return url
    hosted = client.post("/jsonldContexts", json={"@context": context})
    assert hosted.status_code == 201, hosted.text
    return node_url + hosted.headers["location"]


def test_the_manifest_lists_the_examples_of_the_readme() -> None:
    assert len(MANIFEST["examples"]) == 40
    assert len(ROUNDTRIP) == 38
    assert sorted(e["type"] for e in REFUSE) == ["FloodMonitoring", "WeatherForecast"]
    readme = readme_contexts()
    assert readme == {url: entry["file"] for url, entry in MANIFEST["contexts"].items()}
    for path in readme.values():
        assert (SDM / path).is_file()


@pytest.mark.parametrize("example", ROUNDTRIP, ids=[e["type"] for e in ROUNDTRIP])
def test_a_roundtrip_example_comes_back_unchanged(
    sdm_client: httpx.Client, sdm_node: str, contexts_url: str, example: dict[str, Any]
) -> None:
    document = local_copy(example, contexts_url)
    created = sdm_client.post("/entities", json=document, headers={"Content-Type": LD_JSON})
    assert created.status_code == 201, created.text
    assert unquote(created.headers["location"]) == "/ngsi-ld/v1/entities/" + document["id"]
    assert created.content == b""

    # A client-supplied createdAt/modifiedAt names what the node keeps itself; it is ignored.
    expected = {k: v for k, v in document.items() if k != "@context" and k not in SYSTEM_TIMES}
    url = reading_context(sdm_client, sdm_node, document["@context"])

    as_ld = sdm_client.get(
        entity_path(document["id"]), headers={"Accept": LD_JSON, "Link": link(url)}
    )
    assert as_ld.status_code == 200, as_ld.text
    assert as_ld.headers["content-type"] == LD_JSON
    body = as_ld.json()
    assert "@context" in body
    del body["@context"]
    assert body == expected

    as_json = sdm_client.get(entity_path(document["id"]), headers={"Link": link(url)})
    assert as_json.status_code == 200
    assert as_json.headers["link"] == link(url)
    assert as_json.json() == expected


@pytest.mark.parametrize("example", REFUSE, ids=[e["type"] for e in REFUSE])
def test_a_refused_example_is_400_and_stores_nothing(
    sdm_client: httpx.Client, sdm_node: str, contexts_url: str, example: dict[str, Any]
) -> None:
    document = local_copy(example, contexts_url)
    response = sdm_client.post("/entities", json=document, headers={"Content-Type": LD_JSON})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    problem = response.json()
    assert problem["type"] == ERRORS + "BadRequestData"
    assert problem["status"] == 400
    assert problem["title"]
    assert problem["detail"]

    url = reading_context(sdm_client, sdm_node, document["@context"])
    got = sdm_client.get(entity_path(document["id"]), headers={"Link": link(url)})
    if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", document["id"]):
        assert got.status_code == 404
        assert got.json()["type"] == ERRORS + "ResourceNotFound"
    else:
        # An id that is not a URI cannot even be asked for (clause 5.7.1.4): BadRequestData.
        assert got.status_code == 400
        assert got.json()["type"] == ERRORS + "BadRequestData"
    same_type = sdm_client.get(
        "/entities", params={"type": document["type"]}, headers={"Link": link(url)}
    )
    assert same_type.status_code == 200
    assert same_type.json() == []
