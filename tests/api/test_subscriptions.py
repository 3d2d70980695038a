"""Subscriptions and their notifications over real HTTP (clauses 5.8, 5.2.12, 5.2.14, 6.10,
6.11): create, retrieve, query, update and delete, the errors, tenants; then notifications to a
real receiver on 127.0.0.1 (every trigger, the selection, the formats, the headers, the status
kept on the subscription), none lost while the receiver is away, the give-up bound, and MQTT
through the Mosquitto broker on 127.0.0.1:1883.

Most tests share one node per backend and keep apart by working in a tenant of their own (the
`api` fixture); tests that need other delivery settings start a node of their own."""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ascn.ngsild.history import millis
from ascn.settings import Settings
from tests.support.http import CORE, assert_no_content, assert_problem, link
from tests.support.servers import free_port, running_node, static_files
from tests.support.stores import BACKENDS
from tests.support.stores import store_url as make_store_url

API = "/ngsi-ld/v1"
NULL = "urn:ngsi-ld:null"
EXAMPLE = "https://example.org/ns/"
ROOM_1 = "urn:ngsi-ld:Room:1"
ROOM_2 = "urn:ngsi-ld:Room:2"
DEFAULT_TRIGGERS = ["attributeCreated", "attributeUpdated"]
PATIENCE = 10.0
"""Seconds a test waits for something that should happen."""
GRACE = 0.2
"""Seconds a test gives notifications that should not come, before it counts them."""
MQTT_BROKER = ("127.0.0.1", 1883)
UNREACHABLE = "http://127.0.0.1:9/notify"
GIVING_UP = 20
"""Subscriptions that give up together in the give-up test."""

T = TypeVar("T")


# --- a notification receiver ----------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    path: str
    headers: httpx.Headers
    names: tuple[str, ...]
    """The header names as they were sent."""
    body: dict[str, Any]

    @property
    def entity(self) -> dict[str, Any]:
        """The one entity the notification carries."""
        data = self.body["data"]
        assert isinstance(data, list)
        assert len(data) == 1, data
        entity: dict[str, Any] = data[0]
        return entity


class Receiver:
    """An HTTP server on 127.0.0.1 that takes notifications: it records each one it accepts
    (answering `status` 2xx) and refuses the others; it can stop and start again on its port.
    Its URLs carry a token of its own, so it records nothing meant for another receiver."""

    def __init__(self) -> None:
        self.port = free_port()
        self.status = 200
        self.refused = 0
        self.token = uuid.uuid4().hex[:8]
        self._received: list[Received] = []
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None

    def url(self, path: str = "/notify") -> str:
        return f"http://127.0.0.1:{self.port}/{self.token}{path}"

    def start(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                prefix = f"/{receiver.token}"
                status = receiver.status if self.path.startswith(prefix) else 404
                if status < 300:
                    item = Received(
                        self.path.removeprefix(prefix),
                        httpx.Headers(list(self.headers.items())),
                        tuple(self.headers.keys()),
                        json.loads(raw),
                    )
                    with receiver._lock:
                        receiver._received.append(item)
                else:
                    with receiver._lock:
                        receiver.refused += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        self._server = server

    def stop(self) -> None:
        """Stop listening: the node's connections are refused until it starts again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def at(self, path: str = "/notify") -> list[Received]:
        with self._lock:
            return [r for r in self._received if r.path == path]

    def wait(self, count: int, path: str = "/notify") -> list[Received]:
        """The notifications to `path` once there are at least `count` of them."""
        deadline = time.monotonic() + PATIENCE
        while len(found := self.at(path)) < count:
            if time.monotonic() > deadline:
                bodies = [r.body for r in found]
                raise AssertionError(f"{count} notifications expected at {path}, got {bodies}")
            time.sleep(0.02)
        return found

    def exactly(self, count: int, path: str = "/notify") -> list[Received]:
        """The notifications to `path`, once `count` came and no more came within GRACE."""
        return self.expect({path: count})[path]

    def expect(self, counts: dict[str, int]) -> dict[str, list[Received]]:
        """The notifications to each path, once the count of each came and no more came
        within GRACE."""
        for path, count in counts.items():
            self.wait(count, path)
        settle()
        found = {path: self.at(path) for path in counts}
        assert {p: len(f) for p, f in found.items()} == counts, {
            p: [r.body for r in f] for p, f in found.items()
        }
        return found


def settle() -> None:
    """Give notifications that should not come the time to come anyway."""
    time.sleep(GRACE)


def eventually(check: Callable[[], T | None], what: str) -> T:
    """The first truthy result of `check`, polled until PATIENCE runs out."""
    deadline = time.monotonic() + PATIENCE
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def quick(store: str, **more: Any) -> Settings:
    """A node's settings with quick retries, so that a receiver that comes back is served
    within half a second."""
    return Settings(
        port=free_port(),
        store=store,
        open=True,
        notification_first_retry=0.2,
        notification_max_retry=0.5,
        **more,
    )


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def shared_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A node with quick retries, shared by the module's tests on one backend."""
    folder: Path = tmp_path_factory.mktemp("subscriptions")
    with make_store_url(request.param, folder) as url, running_node(quick(url)) as node:
        yield node


@pytest.fixture
def api(shared_url: str) -> Iterator[httpx.Client]:
    """A client working in a tenant of its own on the shared node. Its subscriptions (and with
    them their pending notifications) are deleted afterwards."""
    tenant = f"test-{uuid.uuid4().hex[:12]}"
    headers = {"NGSILD-Tenant": tenant}
    with httpx.Client(base_url=shared_url + API, headers=headers, timeout=10) as http:
        yield http
        for item in http.get("/subscriptions", params={"limit": 1000}).json():
            http.delete(f"/subscriptions/{item['id']}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    taker = Receiver()
    taker.start()
    yield taker
    taker.stop()


@pytest.fixture(scope="module")
def context_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A user @context served over HTTP: Room and temperature in the example.org vocabulary."""
    folder = tmp_path_factory.mktemp("contexts")
    terms = {"Room": EXAMPLE + "Room", "temperature": EXAMPLE + "temperature"}
    (folder / "ctx.jsonld").write_text(json.dumps({"@context": terms}))
    with static_files(folder) as base:
        yield f"{base}/ctx.jsonld"


# --- helpers ----------------------------------------------------------------------------------


def prop(value: Any, **members: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **members}


def room(number: int | str, **attrs: Any) -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:Room:{number}", "type": "Room", **attrs}


def done(response: httpx.Response) -> None:
    """The write was done (201 or 204)."""
    assert response.status_code in (201, 204), response.text


def create(http: httpx.Client, entity: dict[str, Any], **kwargs: Any) -> None:
    response = http.post("/entities", json=entity, **kwargs)
    assert response.status_code == 201, response.text


def subscription(endpoint: str, **members: Any) -> dict[str, Any]:
    """A subscription payload to rooms, with any other member: `notification` gives the
    notification members besides the endpoint, and accept, receiverInfo and notifierInfo go
    into the endpoint."""
    notification = dict(members.pop("notification", {}))
    target: dict[str, Any] = {"uri": endpoint}
    for key in ("accept", "receiverInfo", "notifierInfo"):
        if key in members:
            target[key] = members.pop(key)
    notification["endpoint"] = target
    return {
        "type": "Subscription",
        "entities": [{"type": "Room"}],
        **members,
        "notification": notification,
    }


def subscribe(
    http: httpx.Client, endpoint: str, headers: dict[str, str] | None = None, **members: Any
) -> str:
    """Create a subscription (see `subscription`); its id."""
    response = http.post("/subscriptions", json=subscription(endpoint, **members), headers=headers)
    assert response.status_code == 201, response.text
    location = response.headers["Location"]
    assert location.startswith(f"{API}/subscriptions/")
    return location.removeprefix(f"{API}/subscriptions/")


def retrieve(http: httpx.Client, subscription_id: str, **kwargs: Any) -> dict[str, Any]:
    response = http.get(f"/subscriptions/{subscription_id}", **kwargs)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def status_of(http: httpx.Client, subscription_id: str) -> dict[str, Any]:
    """The notification member of a subscription, with its status."""
    notification: dict[str, Any] = retrieve(http, subscription_id)["notification"]
    return notification


def is_instant(text: Any) -> bool:
    """A DateTime in UTC, as the node writes them."""
    return isinstance(text, str) and text.endswith("Z") and millis(text) is not None


def page_links(response: httpx.Response) -> dict[str, dict[str, list[str]]]:
    """The rel="prev"/"next" links of a response: their query parameters, by rel."""
    found = {}
    for target, rel in re.findall(r'<([^>]*)>\s*;\s*rel="([^"]+)"', response.headers["Link"]):
        if rel in ("prev", "next"):
            parts = urlsplit(target)
            assert parts.path.rstrip("/") == f"{API}/subscriptions"
            found[rel] = parse_qs(parts.query)
    return found


def soon(seconds: float) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- create and retrieve ----------------------------------------------------------------------


def test_create_answers_201_with_the_location_of_a_generated_id(api: httpx.Client) -> None:
    response = api.post("/subscriptions", json=subscription(UNREACHABLE))
    assert response.status_code == 201, response.text
    assert response.content == b""
    location = response.headers["Location"]
    match = re.fullmatch(rf"{API}/subscriptions/(urn:ngsi-ld:Subscription:\S+)", location)
    assert match is not None, location
    assert retrieve(api, match.group(1))["id"] == match.group(1)


def test_an_id_given_is_kept_and_taken_only_once(api: httpx.Client) -> None:
    mine = "urn:ngsi-ld:Subscription:mine"
    first = api.post("/subscriptions", json={"id": mine, **subscription(UNREACHABLE)})
    assert first.status_code == 201, first.text
    assert first.headers["Location"] == f"{API}/subscriptions/{mine}"
    again = {"id": mine, **subscription(UNREACHABLE, description="second")}
    assert_problem(api.post("/subscriptions", json=again), 409, "AlreadyExists")
    assert "description" not in retrieve(api, mine)


def test_retrieve_shows_the_subscription_as_created_with_its_status_and_default_trigger(
    api: httpx.Client,
) -> None:
    payload = {
        "id": "urn:ngsi-ld:Subscription:full",
        "type": "Subscription",
        "subscriptionName": "warm rooms",
        "description": "rooms above 20 degrees",
        "entities": [
            {"type": "Room", "idPattern": "^urn:ngsi-ld:Room:"},
            {"type": "Office", "id": "urn:ngsi-ld:Office:1"},
        ],
        "watchedAttributes": ["temperature"],
        "q": "temperature>20",
        "throttling": 5,
        "expiresAt": "2099-01-01T00:00:00Z",
        "datasetId": ["urn:ngsi-ld:Dataset:a"],
        "notification": {
            "attributes": ["temperature"],
            "format": "keyValues",
            "endpoint": {
                "uri": UNREACHABLE,
                "accept": "application/json",
                "receiverInfo": [{"key": "X-Token", "value": "t"}],
            },
        },
    }
    created = api.post("/subscriptions", json=payload)
    assert created.status_code == 201, created.text
    response = api.get(f"/subscriptions/{payload['id']}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Link"] == link(CORE)
    # As sent (single-element arrays stay arrays), with the status and default trigger added,
    # and nothing the node keeps for itself.
    assert response.json() == {
        **payload,
        "status": "active",
        "notificationTrigger": DEFAULT_TRIGGERS,
    }


def test_retrieve_as_json_ld_puts_the_context_in_the_body(api: httpx.Client) -> None:
    sid = subscribe(api, UNREACHABLE, notificationTrigger=["entityCreated"])
    response = api.get(f"/subscriptions/{sid}", headers={"Accept": "application/ld+json"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/ld+json"
    body = response.json()
    assert body["@context"] in (CORE, [CORE])
    assert body["notificationTrigger"] == ["entityCreated"]


def test_names_are_compacted_with_the_context_of_each_read(
    api: httpx.Client, context_url: str
) -> None:
    sid = subscribe(
        api,
        UNREACHABLE,
        headers={"Link": link(context_url)},
        watchedAttributes=["temperature"],
        notification={"attributes": ["temperature"]},
    )
    with_context = retrieve(api, sid, headers={"Link": link(context_url)})
    assert with_context["entities"] == [{"type": "Room"}]
    assert with_context["watchedAttributes"] == ["temperature"]
    assert with_context["notification"]["attributes"] == ["temperature"]
    without = retrieve(api, sid)
    assert without["entities"] == [{"type": EXAMPLE + "Room"}]
    assert without["watchedAttributes"] == [EXAMPLE + "temperature"]
    assert without["notification"]["attributes"] == [EXAMPLE + "temperature"]
    listed = api.get("/subscriptions", headers={"Link": link(context_url)}).json()
    assert [item["entities"] for item in listed] == [[{"type": "Room"}]]


def test_the_status_follows_is_active(api: httpx.Client) -> None:
    sid = subscribe(api, UNREACHABLE, isActive=False)
    paused = retrieve(api, sid)
    assert (paused["status"], paused["isActive"]) == ("paused", False)
    assert_no_content(api.patch(f"/subscriptions/{sid}", json={"isActive": True}))
    active = retrieve(api, sid)
    assert (active["status"], active["isActive"]) == ("active", True)


def test_sys_attrs_show_when_the_subscription_was_created_and_modified(
    api: httpx.Client,
) -> None:
    sid = subscribe(api, UNREACHABLE)
    assert {"createdAt", "modifiedAt"}.isdisjoint(retrieve(api, sid))
    assert_no_content(api.patch(f"/subscriptions/{sid}", json={"description": "changed"}))
    shown = retrieve(api, sid, params={"options": "sysAttrs"})
    assert is_instant(shown["createdAt"])
    assert is_instant(shown["modifiedAt"])
    assert (millis(shown["modifiedAt"]) or 0) >= (millis(shown["createdAt"]) or 0)


# --- query ------------------------------------------------------------------------------------


def test_query_pages_through_the_tenant_subscriptions(api: httpx.Client) -> None:
    ids = [f"urn:ngsi-ld:Subscription:{letter}" for letter in "abc"]
    for subscription_id in reversed(ids):
        done(api.post("/subscriptions", json={"id": subscription_id, **subscription(UNREACHABLE)}))
    every = api.get("/subscriptions")
    assert every.status_code == 200
    assert [s["id"] for s in every.json()] == ids
    assert all(s["type"] == "Subscription" and s["status"] == "active" for s in every.json())
    assert "NGSILD-Results-Count" not in every.headers

    middle = api.get("/subscriptions", params={"limit": 1, "offset": 1, "count": "true"})
    assert [s["id"] for s in middle.json()] == ids[1:2]
    assert middle.headers["NGSILD-Results-Count"] == "3"
    links = page_links(middle)
    assert (links["prev"]["limit"], links["prev"]["offset"]) == (["1"], ["0"])
    assert (links["next"]["limit"], links["next"]["offset"]) == (["1"], ["2"])

    last = api.get("/subscriptions", params={"limit": 1, "offset": 2})
    assert [s["id"] for s in last.json()] == ids[2:]
    assert set(page_links(last)) == {"prev"}
    first = api.get("/subscriptions", params={"limit": 2})
    assert [s["id"] for s in first.json()] == ids[:2]
    assert set(page_links(first)) == {"next"}


def test_a_count_only_query_has_no_next_page(api: httpx.Client) -> None:
    for _ in range(2):
        subscribe(api, UNREACHABLE)
    counted = api.get("/subscriptions", params={"limit": 0, "count": "true"})
    assert counted.status_code == 200
    assert counted.json() == []
    assert counted.headers["NGSILD-Results-Count"] == "2"
    # A next page of limit=0 from offset 0 is this same request again.
    assert "next" not in page_links(counted)


def test_query_refuses_a_limit_beyond_the_maximum(api: httpx.Client) -> None:
    assert_problem(api.get("/subscriptions", params={"limit": 100000}), 400, "BadRequestData")
    assert_problem(api.get("/subscriptions", params={"offset": -1}), 400, "BadRequestData")


# --- update and delete ------------------------------------------------------------------------


def test_patch_replaces_each_member_it_names_whole(api: httpx.Client) -> None:
    sid = subscribe(
        api,
        UNREACHABLE,
        watchedAttributes=["temperature", "humidity"],
        q="temperature>1",
        description="first",
        notification={"format": "keyValues", "attributes": ["temperature"]},
        accept="application/json",
    )
    other = "http://127.0.0.1:9/other"
    update = {
        "watchedAttributes": ["co2"],
        "description": "second",
        "notification": {"endpoint": {"uri": other}},
    }
    assert_no_content(api.patch(f"/subscriptions/{sid}", json=update))
    shown = retrieve(api, sid)
    assert shown["watchedAttributes"] == ["co2"]
    assert shown["description"] == "second"
    assert shown["notification"] == {"endpoint": {"uri": other}}
    assert shown["entities"] == [{"type": "Room"}]
    assert shown["q"] == "temperature>1"


@pytest.mark.parametrize(
    "update",
    [
        {"expiresAt": "2000-01-01T00:00:00Z"},
        {"notification": {"format": "keyValues"}},
        {"notification": {"endpoint": None}},
        {"notification": {"endpoint": {"uri": "ftp://127.0.0.1/notify"}}},
        {},
        {"id": "urn:ngsi-ld:Subscription:another"},
        {"type": "Registration"},
        {"throttling": -5},
        {"timeInterval": 10},
        {"notificationTrigger": ["entityChanged"]},
        {"q": "temperature>"},
    ],
    ids=json.dumps,
)
def test_a_refused_patch_changes_nothing(api: httpx.Client, update: dict[str, Any]) -> None:
    sid = subscribe(api, UNREACHABLE, throttling=2, description="kept")
    before = retrieve(api, sid)
    assert_problem(api.patch(f"/subscriptions/{sid}", json=update), 400, "BadRequestData")
    assert retrieve(api, sid) == before


def test_delete_removes_the_subscription_and_its_notifications(
    api: httpx.Client, receiver: Receiver
) -> None:
    sid = subscribe(api, receiver.url("/gone"), notificationTrigger=["entityCreated"])
    response = api.delete(f"/subscriptions/{sid}")
    assert_no_content(response)
    assert_problem(api.get(f"/subscriptions/{sid}"), 404, "ResourceNotFound")
    assert_problem(api.delete(f"/subscriptions/{sid}"), 404, "ResourceNotFound")
    assert api.get("/subscriptions").json() == []
    subscribe(api, receiver.url("/kept"), notificationTrigger=["entityCreated"])
    create(api, room(1))
    receiver.exactly(1, "/kept")
    assert receiver.at("/gone") == []


# --- errors -----------------------------------------------------------------------------------

GOOD = subscription(UNREACHABLE)


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD.items() if k != key}


def with_notification(**members: Any) -> dict[str, Any]:
    return {**GOOD, "notification": {**GOOD["notification"], **members}}


def with_endpoint(**members: Any) -> dict[str, Any]:
    return with_notification(endpoint={**GOOD["notification"]["endpoint"], **members})


REFUSED: dict[str, Any] = {
    "empty object": {},
    "no type": without("type"),
    "another type": {**GOOD, "type": "Registration"},
    "no notification": without("notification"),
    "notification without endpoint": {**GOOD, "notification": {"format": "keyValues"}},
    "endpoint without uri": with_notification(endpoint={"accept": "application/json"}),
    "endpoint uri not a uri": with_endpoint(uri="not a uri"),
    "endpoint uri of ftp": with_endpoint(uri="ftp://127.0.0.1/notify"),
    "endpoint accept text": with_endpoint(accept="text/plain"),
    "receiverInfo not pairs": with_endpoint(receiverInfo=[{"key": "X-A"}]),
    "id not a uri": {**GOOD, "id": "subscription one"},
    "neither entities nor watchedAttributes": without("entities"),
    "entity selector without type": {**GOOD, "entities": [{"id": ROOM_1}]},
    "entities empty": {**GOOD, "entities": []},
    "timeInterval and throttling": {**GOOD, "timeInterval": 10, "throttling": 5},
    "timeInterval and watchedAttributes": {
        **GOOD,
        "timeInterval": 10,
        "watchedAttributes": ["temperature"],
    },
    "negative throttling": {**GOOD, "throttling": -1},
    "negative timeInterval": {**GOOD, "timeInterval": -10},
    "expiresAt in the past": {**GOOD, "expiresAt": "2000-01-01T00:00:00Z"},
    "expiresAt not a DateTime": {**GOOD, "expiresAt": "tomorrow"},
    "jsonldContext not a uri": {**GOOD, "jsonldContext": "my context"},
    "pick and omit overlap": with_notification(pick=["id", "name"], omit=["name"]),
    "attributes with pick": with_notification(attributes=["name"], pick=["name"]),
    "attributes with omit": with_notification(attributes=["name"], omit=["type"]),
    "unknown format": with_notification(format="compact"),
    "unknown trigger": {**GOOD, "notificationTrigger": ["entityChanged"]},
    "no trigger": {**GOOD, "notificationTrigger": []},
    "invalid q": {**GOOD, "q": "(temperature>3"},
    "invalid scopeQ": {**GOOD, "scopeQ": "Madrid"},
    "isActive not a boolean": {**GOOD, "isActive": "yes"},
    "unknown member": {**GOOD, "colour": "blue"},
    "null member": {**GOOD, "description": None},
}


@pytest.mark.parametrize("payload", list(REFUSED.values()), ids=list(REFUSED))
def test_create_refuses_a_bad_subscription(api: httpx.Client, payload: Any) -> None:
    assert_problem(api.post("/subscriptions", json=payload), 400, "BadRequestData")
    assert api.get("/subscriptions").json() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/subscriptions?colour=blue"),
        ("GET", "/subscriptions?colour=blue"),
        ("GET", "/subscriptions/urn:ngsi-ld:Subscription:x?colour=blue"),
        ("PATCH", "/subscriptions/urn:ngsi-ld:Subscription:x?colour=blue"),
        ("DELETE", "/subscriptions/urn:ngsi-ld:Subscription:x?colour=blue"),
    ],
)
def test_unknown_url_parameters_are_invalid_requests(
    api: httpx.Client, method: str, path: str
) -> None:
    response = api.request(method, path, json=GOOD if method != "GET" else None)
    assert_problem(response, 400, "InvalidRequest")


@pytest.mark.parametrize("body", [b'{"type": "Subscription",', b"[]"], ids=["invalid", "array"])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_body_that_is_no_json_object_is_an_invalid_request(
    api: httpx.Client, method: str, body: bytes
) -> None:
    sid = subscribe(api, UNREACHABLE)
    path = "/subscriptions" if method == "POST" else f"/subscriptions/{sid}"
    headers = {"Content-Type": "application/json"}
    assert_problem(api.request(method, path, content=body, headers=headers), 400, "InvalidRequest")


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_and_malformed_ids(api: httpx.Client, method: str) -> None:
    body = {"description": "x"} if method == "PATCH" else None
    unknown = api.request(method, "/subscriptions/urn:ngsi-ld:Subscription:none", json=body)
    assert_problem(unknown, 404, "ResourceNotFound")
    malformed = api.request(method, "/subscriptions/not-a-uri", json=body)
    assert_problem(malformed, 400, "BadRequestData")


@pytest.mark.parametrize("path", ["/subscriptions", "/subscriptions/"])
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_the_collection_cannot_be_patched_or_deleted(
    api: httpx.Client, method: str, path: str
) -> None:
    response = api.request(method, path)
    assert response.status_code == 405
    assert set(re.split(r",\s*", response.headers["Allow"])) >= {"GET", "POST"}


# --- tenants ----------------------------------------------------------------------------------


def test_tenants_are_kept_apart(api: httpx.Client, shared_url: str, receiver: Receiver) -> None:
    tenant = api.headers["NGSILD-Tenant"]
    sid = subscribe(api, receiver.url(), notificationTrigger=["entityCreated"])
    other = {"NGSILD-Tenant": f"{tenant}-other"}
    with httpx.Client(base_url=shared_url + API, headers=other, timeout=10) as elsewhere:
        assert_problem(elsewhere.get(f"/subscriptions/{sid}"), 404, "ResourceNotFound")
        assert_problem(elsewhere.delete(f"/subscriptions/{sid}"), 404, "ResourceNotFound")
        assert elsewhere.get("/subscriptions").json() == []
        create(elsewhere, room(1))
        # The same id can be taken in another tenant.
        same = elsewhere.post("/subscriptions", json={"id": sid, **subscription(UNREACHABLE)})
        assert same.status_code == 201, same.text
        elsewhere.delete(f"/subscriptions/{sid}")
    with httpx.Client(base_url=shared_url + API, timeout=10) as default:
        assert sid not in [s["id"] for s in default.get("/subscriptions").json()]
    create(api, room(2))
    (notification,) = receiver.exactly(1)
    assert notification.entity["id"] == ROOM_2
    assert notification.headers["NGSILD-Tenant"] == tenant


# --- notifications: triggers ------------------------------------------------------------------


def test_no_notification_when_a_subscription_is_created(
    api: httpx.Client, receiver: Receiver
) -> None:
    create(api, room(1, temperature=prop(1)))
    sid = subscribe(api, receiver.url(), notificationTrigger=["entityCreated", "attributeUpdated"])
    done(api.patch(f"/entities/{ROOM_1}/attrs", json={"temperature": prop(2)}))
    (notification,) = receiver.exactly(1)
    assert notification.body["subscriptionId"] == sid
    assert notification.entity["temperature"]["value"] == 2


def test_each_trigger_is_told_of_its_own_writes(api: httpx.Client, receiver: Receiver) -> None:
    create(api, room(1, temperature=prop(20), humidity=prop(50)))
    for trigger in ("entityCreated", "entityDeleted", "attributeCreated", "attributeUpdated"):
        subscribe(api, receiver.url(f"/{trigger}"), notificationTrigger=[trigger])
    subscribe(
        api,
        receiver.url("/attributeDeleted"),
        notificationTrigger=["attributeDeleted"],
        watchedAttributes=["humidity"],
    )
    subscribe(api, receiver.url("/entityUpdated"), notificationTrigger=["entityUpdated"])

    done(api.patch(f"/entities/{ROOM_1}/attrs", json={"temperature": prop(21)}))
    done(api.post(f"/entities/{ROOM_1}/attrs", json={"co2": prop(400)}))
    done(api.delete(f"/entities/{ROOM_1}/attrs/humidity"))
    create(api, room(2, temperature=prop(5)))
    done(api.delete(f"/entities/{ROOM_2}"))

    found = receiver.expect(
        {
            "/entityCreated": 1,
            "/entityDeleted": 1,
            "/attributeCreated": 1,
            "/attributeUpdated": 1,
            "/attributeDeleted": 1,
            "/entityUpdated": 3,
        }
    )
    (born,) = found["/entityCreated"]
    assert born.entity == room(2, temperature=prop(5))
    (gone,) = found["/entityDeleted"]
    assert set(gone.entity) == {"id", "type", "deletedAt"}
    assert (gone.entity["id"], gone.entity["type"]) == (ROOM_2, "Room")
    assert is_instant(gone.entity["deletedAt"])
    (appended,) = found["/attributeCreated"]
    assert appended.entity == room(1, temperature=prop(21), humidity=prop(50), co2=prop(400)), (
        "the whole entity, with the new attribute"
    )
    (updated,) = found["/attributeUpdated"]
    assert updated.entity == room(1, temperature=prop(21), humidity=prop(50))
    (deleted,) = found["/attributeDeleted"]
    assert deleted.entity == room(1, temperature=prop(21), co2=prop(400), humidity=prop(NULL))
    changes = found["/entityUpdated"]
    assert [n.entity["temperature"]["value"] for n in changes] == [21, 21, 21]
    assert ["co2" in n.entity for n in changes] == [False, True, True]
    assert changes[0].entity["humidity"] == prop(50)
    assert changes[2].entity.get("humidity") in (None, prop(NULL))


@pytest.mark.parametrize("trigger", ["entityCreated", "entityDeleted"])
def test_watched_attributes_act_alike_with_and_without_entity_selectors(
    api: httpx.Client, receiver: Receiver, trigger: str
) -> None:
    """For a room, a subscription to rooms and one to any type that watch the same attribute
    are told of the same creations and deletions."""
    watched = ["temperature"]
    subscribe(api, receiver.url("/rooms"), watchedAttributes=watched, notificationTrigger=[trigger])
    anything = {
        "type": "Subscription",
        "watchedAttributes": watched,
        "notificationTrigger": [trigger],
        "notification": {"endpoint": {"uri": receiver.url("/any")}},
    }
    done(api.post("/subscriptions", json=anything))
    create(api, room(1, humidity=prop(40)))
    create(api, room(2, temperature=prop(20)))
    if trigger == "entityDeleted":
        done(api.delete(f"/entities/{ROOM_1}"))
        done(api.delete(f"/entities/{ROOM_2}"))
    receiver.wait(1, "/rooms")
    receiver.wait(1, "/any")
    settle()
    told = {path: [n.entity["id"] for n in receiver.at(path)] for path in ("/rooms", "/any")}
    assert told["/rooms"] == told["/any"], told


def test_an_entity_deletion_is_told_to_attribute_deleted_subscriptions(
    api: httpx.Client, receiver: Receiver
) -> None:
    create(api, room(1, name=prop("Tower"), temperature=prop(3)))
    create(api, room(2, temperature=prop(4)))
    subscribe(
        api,
        receiver.url(),
        notificationTrigger=["attributeDeleted"],
        watchedAttributes=["name"],
    )
    done(api.delete(f"/entities/{ROOM_2}"))  # without the watched attribute: nothing
    done(api.delete(f"/entities/{ROOM_1}"))
    (notification,) = receiver.exactly(1)
    entity = notification.entity
    assert is_instant(entity.pop("deletedAt"))
    assert entity == {"id": ROOM_1, "type": "Room", "name": prop(NULL)}


def test_attribute_deletions_show_ngsi_ld_null(api: httpx.Client, receiver: Receiver) -> None:
    dataset = "urn:ngsi-ld:Dataset:indoor"
    humidity = [prop(40), prop(60, datasetId=dataset)]
    create(api, room(1, name=prop("Tower"), temperature=prop(3), humidity=humidity))
    subscribe(api, receiver.url(), notificationTrigger=["attributeDeleted"])
    done(api.patch(f"/entities/{ROOM_1}/attrs", json={"name": prop(NULL)}))
    done(api.delete(f"/entities/{ROOM_1}/attrs/humidity", params={"datasetId": dataset}))
    by_null, by_dataset = receiver.exactly(2)
    assert by_null.entity == room(1, name=prop(NULL), temperature=prop(3), humidity=humidity)
    assert by_dataset.entity == room(
        1, temperature=prop(3), humidity=[prop(40), prop(NULL, datasetId=dataset)]
    )


def test_batch_operations_notify_each_entity(api: httpx.Client, receiver: Receiver) -> None:
    subscribe(api, receiver.url(), notificationTrigger=["entityCreated", "attributeUpdated"])
    subscribe(api, receiver.url("/deleted"), notificationTrigger=["entityDeleted"])
    batch = [room(1, n=prop(1)), room(2, n=prop(1))]
    assert api.post("/entityOperations/upsert", json=batch).status_code == 201
    batch = [room(1, n=prop(2)), room(2, n=prop(2))]
    assert_no_content(api.post("/entityOperations/upsert", json=batch))
    notified = receiver.wait(4)
    seen = [(n.entity["id"], n.entity["n"]["value"]) for n in notified]
    assert seen == [(ROOM_1, 1), (ROOM_2, 1), (ROOM_1, 2), (ROOM_2, 2)]
    deleted = api.post("/entityOperations/delete", json=[ROOM_1, ROOM_2])
    assert_no_content(deleted)
    gone = receiver.expect({"/notify": 4, "/deleted": 2})["/deleted"]
    assert sorted(n.entity["id"] for n in gone) == [ROOM_1, ROOM_2]


# --- notifications: selection -----------------------------------------------------------------


def test_watched_attributes_choose_the_changes_that_notify(
    api: httpx.Client, receiver: Receiver
) -> None:
    create(api, room(1, temperature=prop(20), humidity=prop(50)))
    subscribe(api, receiver.url(), watchedAttributes=["temperature"])
    done(api.patch(f"/entities/{ROOM_1}/attrs", json={"humidity": prop(55)}))
    done(api.post(f"/entities/{ROOM_1}/attrs", json={"co2": prop(400)}))
    done(api.patch(f"/entities/{ROOM_1}/attrs", json={"temperature": prop(25)}))
    (notification,) = receiver.exactly(1)
    assert notification.entity == room(1, temperature=prop(25), humidity=prop(55), co2=prop(400)), (
        "the whole entity, not only the watched attribute"
    )


def test_q_chooses_the_entities_that_notify(api: httpx.Client, receiver: Receiver) -> None:
    subscribe(api, receiver.url(), q="temperature>3", notificationTrigger=DEFAULT_TRIGGERS)
    subscribe(
        api,
        receiver.url("/created"),
        q="temperature>3",
        notificationTrigger=["entityCreated", "attributeUpdated"],
    )
    create(api, room("cold", temperature=prop(1)))
    create(api, room("hot", temperature=prop(5)))
    done(api.patch("/entities/urn:ngsi-ld:Room:cold/attrs", json={"temperature": prop(4)}))
    done(api.patch("/entities/urn:ngsi-ld:Room:hot/attrs", json={"temperature": prop(2)}))
    done(api.patch("/entities/urn:ngsi-ld:Room:cold/attrs", json={"temperature": prop(10)}))
    found = receiver.expect({"/created": 3, "/notify": 2})
    seen = [
        (n.entity["id"].rsplit(":", 1)[1], n.entity["temperature"]["value"])
        for n in found["/created"]
    ]
    assert seen == [("hot", 5), ("cold", 4), ("cold", 10)]
    updated = found["/notify"]
    assert [n.entity["temperature"]["value"] for n in updated] == [4, 10]


def test_a_percent_encoded_q_is_read_decoded(api: httpx.Client, receiver: Receiver) -> None:
    subscribe(
        api, receiver.url(), q='name=="Eiffel%20Tower"', notificationTrigger=["entityCreated"]
    )
    create(api, room(1, name=prop("Tower")))
    create(api, room(2, name=prop("Eiffel Tower")))
    (notification,) = receiver.exactly(1)
    assert notification.entity["id"] == ROOM_2


def test_entity_selectors_choose_by_type_id_and_id_pattern(
    api: httpx.Client, receiver: Receiver
) -> None:
    selectors = {
        "/id": [{"type": "Room", "id": ROOM_1}],
        "/pattern": [{"type": "Room", "idPattern": "^urn:ngsi-ld:Room:[23]$"}],
        "/either": [{"type": "Room|Office"}],
        "/both": [{"type": "Room;Office"}],
        "/any": [{"type": "Shop"}, {"type": "Office", "id": "urn:ngsi-ld:Office:1"}],
    }
    for path, entities in selectors.items():
        subscribe(api, receiver.url(path), entities=entities, notificationTrigger=["entityCreated"])
    for entity_id, types in [
        ("urn:ngsi-ld:Cellar:1", "Cellar"),
        ("urn:ngsi-ld:Office:1", "Office"),
        ("urn:ngsi-ld:Office:2", "Office"),
        (ROOM_2, "Room"),
        ("urn:ngsi-ld:Room:3", "Room"),
        ("urn:ngsi-ld:Suite:1", ["Room", "Office"]),
        ("urn:ngsi-ld:Shop:1", "Shop"),
        (ROOM_1, "Room"),
    ]:
        create(api, {"id": entity_id, "type": types})
    expected = {
        "/id": [ROOM_1],
        "/pattern": [ROOM_2, "urn:ngsi-ld:Room:3"],
        "/either": [
            "urn:ngsi-ld:Office:1",
            "urn:ngsi-ld:Office:2",
            ROOM_2,
            "urn:ngsi-ld:Room:3",
            "urn:ngsi-ld:Suite:1",
            ROOM_1,
        ],
        "/both": ["urn:ngsi-ld:Suite:1"],
        "/any": ["urn:ngsi-ld:Office:1", "urn:ngsi-ld:Shop:1"],
    }
    found = receiver.expect({path: len(ids) for path, ids in expected.items()})
    assert {path: [n.entity["id"] for n in found[path]] for path in expected} == expected


def test_paused_and_expired_subscriptions_notify_nothing(
    api: httpx.Client, receiver: Receiver
) -> None:
    created = ["entityCreated"]
    paused = subscribe(api, receiver.url("/paused"), isActive=False, notificationTrigger=created)
    expiring = subscribe(
        api, receiver.url("/expiring"), expiresAt=soon(0.5), notificationTrigger=created
    )
    subscribe(api, receiver.url("/active"), notificationTrigger=created)
    eventually(lambda: retrieve(api, expiring)["status"] == "expired", "the expiry")
    create(api, room(1))
    receiver.exactly(1, "/active")
    assert receiver.at("/paused") == receiver.at("/expiring") == []

    assert_no_content(api.patch(f"/subscriptions/{paused}", json={"isActive": True}))
    later = {"expiresAt": "2099-01-01T00:00:00Z"}
    assert_no_content(api.patch(f"/subscriptions/{expiring}", json=later))
    assert retrieve(api, expiring)["status"] == "active"
    create(api, room(2))
    found = receiver.expect({"/paused": 1, "/expiring": 1, "/active": 2})
    assert [n.entity["id"] for n in found["/paused"] + found["/expiring"]] == [ROOM_2, ROOM_2]


def test_a_patched_endpoint_takes_the_next_notifications(
    api: httpx.Client, receiver: Receiver
) -> None:
    sid = subscribe(api, receiver.url("/first"), notificationTrigger=["entityCreated"])
    create(api, room(1))
    receiver.wait(1, "/first")
    moved = {"notification": {"endpoint": {"uri": receiver.url("/second")}}}
    assert_no_content(api.patch(f"/subscriptions/{sid}", json=moved))
    create(api, room(2))
    (notification,) = receiver.exactly(1, "/second")
    assert notification.entity["id"] == ROOM_2
    assert len(receiver.at("/first")) == 1


# --- notifications: content -------------------------------------------------------------------


def test_the_notification_envelope(api: httpx.Client, receiver: Receiver) -> None:
    sid = subscribe(api, receiver.url(), notificationTrigger=["entityCreated"])
    create(api, room(1))
    create(api, room(2))
    first, second = receiver.exactly(2)
    for notification in (first, second):
        body = notification.body
        assert set(body) == {"id", "type", "subscriptionId", "notifiedAt", "data"}
        assert re.fullmatch(r"urn:ngsi-ld:Notification:\S+", body["id"])
        assert body["type"] == "Notification"
        assert body["subscriptionId"] == sid
        assert is_instant(body["notifiedAt"])
        assert isinstance(body["data"], list)
        assert len(body["data"]) == 1
        assert notification.headers["Content-Type"] == "application/json"
    assert first.body["id"] != second.body["id"]
    assert [first.entity["id"], second.entity["id"]] == [ROOM_1, ROOM_2]


OWNER = "urn:ngsi-ld:Person:1"
FORMATS: dict[str, dict[str, Any]] = {
    "normalized": {
        "temperature": prop(21, unitCode="CEL"),
        "owner": {"type": "Relationship", "object": OWNER},
        "name": prop("Blue"),
    },
    "keyValues": {"temperature": 21, "owner": OWNER, "name": "Blue"},
    "simplified": {"temperature": 21, "owner": OWNER, "name": "Blue"},
    "concise": {"temperature": {"value": 21, "unitCode": "CEL"}, "owner": {"object": OWNER}},
}


def test_each_format_shapes_the_entity(api: httpx.Client, receiver: Receiver) -> None:
    for form in FORMATS:
        subscribe(
            api,
            receiver.url(f"/{form}"),
            notificationTrigger=["entityCreated"],
            notification={"format": form},
        )
    subscribe(api, receiver.url("/default"), notificationTrigger=["entityCreated"])
    create(api, room(1, **FORMATS["normalized"]))
    found = receiver.expect({f"/{form}": 1 for form in [*FORMATS, "default"]})
    for form, attrs in FORMATS.items():
        (notification,) = found[f"/{form}"]
        expected = room(1, **attrs)
        if form == "concise":
            expected["name"] = "Blue"
        assert notification.entity == expected, form
    (default,) = found["/default"]
    assert default.entity == room(1, **FORMATS["normalized"])


def test_notification_attributes_and_sys_attrs_shape_the_entity(
    api: httpx.Client, receiver: Receiver
) -> None:
    triggers = ["entityCreated"]
    subscribe(
        api,
        receiver.url("/attributes"),
        notificationTrigger=triggers,
        notification={"attributes": ["temperature"]},
    )
    subscribe(
        api, receiver.url("/sys"), notificationTrigger=triggers, notification={"sysAttrs": True}
    )
    subscribe(
        api,
        receiver.url("/plain"),
        notificationTrigger=triggers,
        notification={"sysAttrs": False},
    )
    create(api, room(1, temperature=prop(21), name=prop("Blue")))
    found = receiver.expect({"/attributes": 1, "/sys": 1, "/plain": 1})
    (chosen,) = found["/attributes"]
    assert chosen.entity == room(1, temperature=prop(21))
    (sys,) = found["/sys"]
    assert is_instant(sys.entity["createdAt"])
    assert is_instant(sys.entity["modifiedAt"])
    assert is_instant(sys.entity["temperature"]["createdAt"])
    assert is_instant(sys.entity["temperature"]["modifiedAt"])
    (plain,) = found["/plain"]
    assert plain.entity == room(1, temperature=prop(21), name=prop("Blue"))


def test_json_names_the_context_in_a_link_and_json_ld_in_each_entity(
    api: httpx.Client, receiver: Receiver
) -> None:
    triggers = ["entityCreated"]
    subscribe(api, receiver.url("/json"), notificationTrigger=triggers, accept="application/json")
    subscribe(api, receiver.url("/ld"), notificationTrigger=triggers, accept="application/ld+json")
    subscribe(api, receiver.url("/default"), notificationTrigger=triggers)
    create(api, room(1))
    found = receiver.expect({"/json": 1, "/default": 1, "/ld": 1})
    for path in ("/json", "/default"):
        (plain,) = found[path]
        assert plain.headers["Content-Type"] == "application/json"
        assert plain.headers["Link"] == link(CORE)
        assert "@context" not in plain.entity
    (linked,) = found["/ld"]
    assert linked.headers["Content-Type"] == "application/ld+json"
    assert "Link" not in linked.headers
    assert linked.entity["@context"] in (CORE, [CORE])


def test_notifications_speak_the_context_of_the_subscription(
    api: httpx.Client, receiver: Receiver, context_url: str
) -> None:
    triggers = ["entityCreated"]
    subscribe(
        api,
        receiver.url("/link"),
        headers={"Link": link(context_url)},
        notificationTrigger=triggers,
    )
    subscribe(
        api,
        receiver.url("/jsonld"),
        entities=[{"type": EXAMPLE + "Room"}],
        jsonldContext=context_url,
        notificationTrigger=triggers,
    )
    subscribe(
        api,
        receiver.url("/core"),
        entities=[{"type": EXAMPLE + "Room"}],
        notificationTrigger=triggers,
    )
    create(api, room(1, temperature=prop(5)), headers={"Link": link(context_url)})
    found = receiver.expect({"/link": 1, "/jsonld": 1, "/core": 1})
    for path in ("/link", "/jsonld"):
        (notification,) = found[path]
        assert notification.headers["Link"] == link(context_url)
        assert notification.entity == room(1, temperature=prop(5))
    (core,) = found["/core"]
    assert core.headers["Link"] == link(CORE)
    assert core.entity == {
        "id": ROOM_1,
        "type": EXAMPLE + "Room",
        EXAMPLE + "temperature": prop(5),
    }


def test_receiver_info_is_sent_as_headers(api: httpx.Client, receiver: Receiver) -> None:
    info = [{"key": "X-Api-Key", "value": "k-123"}, {"key": "Fiware-Correlator", "value": "c9"}]
    subscribe(api, receiver.url(), notificationTrigger=["entityCreated"], receiverInfo=info)
    create(api, room(1))
    (notification,) = receiver.exactly(1)
    assert notification.headers["X-Api-Key"] == "k-123"
    assert notification.headers["Fiware-Correlator"] == "c9"
    assert {"X-Api-Key", "Fiware-Correlator"} <= set(notification.names)
    assert notification.headers["NGSILD-Tenant"] == api.headers["NGSILD-Tenant"]


# --- notification status ----------------------------------------------------------------------


def test_a_delivered_notification_shows_in_the_status(
    api: httpx.Client, receiver: Receiver
) -> None:
    sid = subscribe(api, receiver.url(), notificationTrigger=["entityCreated"])
    assert {"status", "timesSent", "lastNotification"}.isdisjoint(status_of(api, sid))
    create(api, room(1))
    receiver.wait(1)
    status = eventually(lambda: (s := status_of(api, sid)).get("timesSent") == 1 and s, "status")
    assert status["status"] == "ok"
    assert is_instant(status["lastNotification"])
    assert status["lastSuccess"] == status["lastNotification"]
    assert "lastFailure" not in status
    assert retrieve(api, sid)["status"] == "active"


def test_a_failed_notification_shows_in_the_status_until_one_succeeds(
    api: httpx.Client, receiver: Receiver
) -> None:
    receiver.status = 500
    sid = subscribe(api, receiver.url(), notificationTrigger=["entityCreated"])
    create(api, room(1))
    failed = eventually(
        lambda: (s := status_of(api, sid)).get("status") == "failed" and s, "a failure"
    )
    assert is_instant(failed["lastFailure"])
    assert is_instant(failed["lastNotification"])
    assert failed["timesSent"] >= 1
    assert "lastSuccess" not in failed
    receiver.status = 200
    (notification,) = receiver.exactly(1)
    assert notification.entity["id"] == ROOM_1
    ok = eventually(lambda: (s := status_of(api, sid)).get("status") == "ok" and s, "success")
    assert is_instant(ok["lastSuccess"])
    assert (millis(ok["lastSuccess"]) or 0) >= (millis(ok["lastFailure"]) or 0)


# --- no loss ----------------------------------------------------------------------------------


def go_away(receiver: Receiver, how: str) -> None:
    if how == "refused":
        receiver.stop()
    else:
        receiver.status = 500


def come_back(receiver: Receiver, how: str) -> None:
    if how == "refused":
        receiver.start()
    else:
        receiver.status = 200


def failed_at_least(http: httpx.Client, sid: str, times: int) -> bool:
    status = status_of(http, sid)
    return status.get("status") == "failed" and status.get("timesFailed", times) >= times


@pytest.mark.parametrize("how", ["refused", "500"])
def test_no_notification_is_lost_while_the_receiver_is_away(
    api: httpx.Client, receiver: Receiver, how: str
) -> None:
    go_away(receiver, how)
    sid = subscribe(
        api,
        receiver.url(),
        notificationTrigger=["entityCreated", "attributeUpdated"],
        notification={"format": "keyValues"},
    )
    create(api, room(1, n=prop(0)))
    for n in (1, 2, 3):
        done(api.patch(f"/entities/{ROOM_1}/attrs", json={"n": prop(n)}))
    eventually(lambda: failed_at_least(api, sid, 1), "a failed attempt")
    come_back(receiver, how)
    values = [n.entity["n"] for n in receiver.exactly(4)]
    assert sorted(values) == [0, 1, 2, 3], "every notification, once"
    assert values == [0, 1, 2, 3], "in the order of the writes"


@pytest.mark.parametrize("how", ["refused", "500"])
def test_order_holds_when_the_receiver_comes_back_between_writes(
    api: httpx.Client, receiver: Receiver, how: str
) -> None:
    """Notifications written after the receiver came back wait behind those still retried."""
    go_away(receiver, how)
    sid = subscribe(
        api,
        receiver.url(),
        notificationTrigger=["entityCreated", "attributeUpdated"],
        notification={"format": "keyValues"},
    )
    create(api, room(1, n=prop(0)))
    eventually(lambda: failed_at_least(api, sid, 2), "two failed attempts")
    come_back(receiver, how)
    for n in (1, 2, 3):
        done(api.patch(f"/entities/{ROOM_1}/attrs", json={"n": prop(n)}))
    values = [n.entity["n"] for n in receiver.exactly(4)]
    assert sorted(values) == [0, 1, 2, 3], "every notification, once"
    assert values == [0, 1, 2, 3], "in the order of the writes"


@pytest.fixture
def impatient(store_url: str) -> Iterator[httpx.Client]:
    """A node that gives up on a notification after a second."""
    with (
        running_node(quick(store_url, notification_give_up=1.0)) as node,
        httpx.Client(base_url=node + API, timeout=10) as http,
    ):
        yield http


def test_notifications_undelivered_too_long_are_given_up_and_later_ones_sent(
    impatient: httpx.Client, receiver: Receiver
) -> None:
    """With the receiver away, each subscription gives up (failed, with a reason) and its
    outbox is emptied; a write made after that is notified again once the receiver is back.
    Several subscriptions give up in the same round, as they would for a receiver shared by
    many subscriptions."""
    receiver.stop()
    triggers = ["entityCreated", "attributeUpdated"]
    sids = [
        subscribe(
            impatient,
            receiver.url(f"/{index}"),
            notificationTrigger=triggers,
            notification={"format": "keyValues"},
        )
        for index in range(GIVING_UP)
    ]
    create(impatient, room(1, n=prop(0)))
    written = int(time.time() * 1000)

    def all_given_up() -> list[dict[str, Any]] | None:
        # An attempt that started more than give_up (1 s) after the write failed: the node
        # gave up on that subscription.
        found = impatient.get("/subscriptions", params={"limit": 1000}).json()
        statuses = [s["notification"] for s in found if s["id"] in sids]
        lasts = [millis(s.get("lastFailure")) for s in statuses]
        given_up = all(last is not None and last - written > 1000 for last in lasts)
        return statuses if given_up and len(statuses) == GIVING_UP else None

    for status in eventually(all_given_up, "every subscription to give up"):
        assert status["status"] == "failed"
        assert isinstance(status["failureReason"], str)
        assert status["failureReason"]
    receiver.start()
    subscribe(impatient, receiver.url("/sentinel"), notificationTrigger=triggers)
    done(impatient.patch(f"/entities/{ROOM_1}/attrs", json={"n": prop(1)}))
    receiver.wait(1, "/sentinel")
    # A first attempt after the receiver came back may still fail (and be retried).
    eventually(
        lambda: all(receiver.at(f"/{index}") for index in range(GIVING_UP)),
        "the later write to reach every subscription",
    )
    settle()
    # The notifications given up are gone for good; the later write is notified to each.
    notified = {
        index: [n.entity["n"] for n in receiver.at(f"/{index}")] for index in range(GIVING_UP)
    }
    lost = [index for index, values in notified.items() if values != [1]]
    assert lost == [], f"the write after the give-up was not notified to {lost}: {notified}"
    eventually(lambda: status_of(impatient, sids[0]).get("status") == "ok", "a success")


# --- MQTT -------------------------------------------------------------------------------------


class MqttListener:
    """A client of the local Mosquitto broker, subscribed to one topic (QoS 2, so that each
    message keeps the QoS it was published with)."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.messages: list[mqtt.MQTTMessage] = []
        self._subscribed = threading.Event()
        self._lock = threading.Lock()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, *_: Any) -> None:
        client.subscribe(self.topic, qos=2)

    def _on_subscribe(self, *_: Any) -> None:
        self._subscribed.set()

    def _on_message(self, _: mqtt.Client, __: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def __enter__(self) -> MqttListener:
        self._client.connect(*MQTT_BROKER)
        self._client.loop_start()
        assert self._subscribed.wait(PATIENCE), "the MQTT broker did not take the subscription"
        return self

    def __exit__(self, *_: object) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def wait(self, count: int) -> list[mqtt.MQTTMessage]:
        def enough() -> list[mqtt.MQTTMessage] | None:
            with self._lock:
                return list(self.messages) if len(self.messages) >= count else None

        return eventually(enough, f"{count} MQTT messages on {self.topic}")


@pytest.mark.parametrize(("qos", "version"), [("0", "mqtt3.1.1"), ("1", "mqtt5.0")])
def test_mqtt_notifications_carry_the_headers_as_metadata(
    api: httpx.Client, qos: str, version: str
) -> None:
    topic = f"ascn-test/{uuid.uuid4().hex}/notify"
    notifier = [{"key": "MQTT-QoS", "value": qos}, {"key": "MQTT-Version", "value": version}]
    with MqttListener(topic) as listener:
        sid = subscribe(
            api,
            f"mqtt://{MQTT_BROKER[0]}:{MQTT_BROKER[1]}/{topic}",
            notificationTrigger=["entityCreated"],
            receiverInfo=[{"key": "X-Receiver", "value": "r1"}],
            notifierInfo=notifier,
        )
        create(api, room(1, temperature=prop(7)))
        create(api, room(2))
        first, second = listener.wait(2)
        time.sleep(GRACE)
        assert len(listener.messages) == 2
    assert (first.topic, first.qos) == (topic, int(qos))
    message = json.loads(first.payload)
    assert set(message) == {"metadata", "body"}
    assert message["metadata"] == {
        "Content-Type": "application/json",
        "Link": link(CORE),
        "X-Receiver": "r1",
        "NGSILD-Tenant": api.headers["NGSILD-Tenant"],
    }
    body = message["body"]
    assert body["type"] == "Notification"
    assert body["subscriptionId"] == sid
    assert is_instant(body["notifiedAt"])
    assert body["data"] == [room(1, temperature=prop(7))]
    assert json.loads(second.payload)["body"]["data"][0]["id"] == ROOM_2
    ok = eventually(lambda: (s := status_of(api, sid)).get("timesSent") == 2 and s, "status")
    assert ok["status"] == "ok"


# --- languages, GeoJSON, joins -----------------------------------------------------------------


def test_lang_picks_the_language_of_language_properties(
    api: httpx.Client, receiver: Receiver
) -> None:
    subscribe(api, receiver.url("/lang"), lang="fr", notification={"format": "keyValues"})
    names = {"type": "LanguageProperty", "languageMap": {"en": "Hall", "fr": "Salle"}}
    create(api, room(1, label=names))
    done(api.patch(f"/entities/{ROOM_1}/attrs", json={"label": names}))
    assert receiver.wait(1, "/lang")[0].entity["label"] == "Salle"


def test_geojson_accept_sends_features(api: httpx.Client, receiver: Receiver) -> None:
    subscribe(api, receiver.url("/geo"), accept="application/geo+json")
    point = {"type": "Point", "coordinates": [100.49, 13.75]}
    create(api, room(1, n=prop(1), location={"type": "GeoProperty", "value": point}))
    done(api.patch(f"/entities/{ROOM_1}/attrs", json={"n": prop(2)}))
    notified = receiver.wait(1, "/geo")[0]
    assert notified.headers["content-type"] == "application/geo+json"
    feature = notified.entity
    assert feature["type"] == "Feature"
    assert feature["id"] == ROOM_1
    assert feature["geometry"] == point
    assert "@context" in feature


@pytest.mark.parametrize("member", [{"join": "flat"}, {"joinLevel": 1}])
def test_joins_in_notifications_are_refused(api: httpx.Client, member: dict[str, Any]) -> None:
    payload = subscription("http://127.0.0.1:1/notify", notification=member)
    assert_problem(api.post("/subscriptions", json=payload), 400, "BadRequestData")
