"""History over the life of a node: it survives a restart of real `ascn serve` processes, and
retention pruning removes exactly the instances older than the retention period, on every
backend."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ascn.errors import InvalidSetting
from ascn.service.retention import Retention, retention_ms
from ascn.settings import Settings
from ascn.store import open_store
from tests.integration.test_lifecycle import API, serve
from tests.support.servers import free_port, running_node

SENSOR = "urn:ngsi-ld:Sensor:history"
ROOM = "urn:ngsi-ld:Room:history"
HANOI = {"NGSILD-Tenant": "hanoi"}
DAY = timedelta(days=1)


def prop(value: Any, at: str | None = None, **more: Any) -> dict[str, Any]:
    instance: dict[str, Any] = {"type": "Property", "value": value, **more}
    if at is not None:
        instance["observedAt"] = at
    return instance


def stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def ok(response: httpx.Response, *statuses: int) -> httpx.Response:
    assert response.status_code in (statuses or (200,)), (
        f"{response.request.method} {response.request.url}: {response.text}"
    )
    return response


# --- a restart ------------------------------------------------------------------------------


def write_history(client: httpx.Client) -> None:
    """Temporal writes (several datasets and kinds, an upsert, an amended and a deleted
    instance), core writes and an attribute delete (a tombstone), in two tenants."""
    sensor = {
        "id": SENSOR,
        "type": "Sensor",
        "temperature": [
            prop(20, "2024-03-01T10:00:00Z"),
            prop(22.5, "2024-03-01T10:20:00.250Z"),
            prop(25, "2024-03-02T11:30:00Z"),
        ],
        "humidity": [
            prop(40, "2024-03-01T10:30:00Z", datasetId="urn:ngsi-ld:Dataset:indoor"),
            prop(70, "2024-03-01T10:05:00Z", datasetId="urn:ngsi-ld:Dataset:outdoor"),
        ],
        "owner": {
            "type": "Relationship",
            "object": "urn:ngsi-ld:Person:1",
            "observedAt": "2024-03-01T10:00:00Z",
        },
        "label": {
            "type": "LanguageProperty",
            "languageMap": {"en": "roof", "th": "หลังคา"},
            "observedAt": "2024-03-01T10:00:00Z",
        },
    }
    ok(client.post("/temporal/entities", json=sensor), 201)
    update = {"id": SENSOR, "type": "Sensor", "temperature": prop(21, "2024-03-01T10:00:00Z")}
    ok(client.post("/temporal/entities", json=update), 204)
    ok(
        client.post(
            f"/temporal/entities/{SENSOR}/attrs",
            json={"pressure": [prop(1013, "2024-03-01T12:00:00Z")]},
        ),
        204,
    )
    humidity = ok(client.get(f"/temporal/entities/{SENSOR}", params={"attrs": "humidity"}))
    first, second = (i["instanceId"] for i in humidity.json()["humidity"])
    ok(client.patch(f"/temporal/entities/{SENSOR}/attrs/humidity/{first}", json={"value": 71}), 204)
    ok(client.delete(f"/temporal/entities/{SENSOR}/attrs/humidity/{second}"), 204)

    room = {
        "id": ROOM,
        "type": "Room",
        "temperature": prop(19, "2024-03-01T08:00:00Z"),
        "name": prop("kitchen"),
    }
    ok(client.post("/entities", json=room), 201)
    ok(
        client.patch(
            f"/entities/{ROOM}/attrs", json={"temperature": prop(18, "2024-03-01T09:00:00Z")}
        ),
        204,
    )
    ok(client.delete(f"/entities/{ROOM}/attrs/name"), 204)

    in_hanoi = {"id": SENSOR, "type": "Sensor", "temperature": [prop(31, "2024-03-01T10:00:00Z")]}
    ok(client.post("/temporal/entities", json=in_hanoi, headers=HANOI), 201)


READS: list[tuple[str, dict[str, str], dict[str, str]]] = [
    (f"/temporal/entities/{SENSOR}", {"options": "sysAttrs"}, {}),
    (f"/temporal/entities/{SENSOR}", {"options": "temporalValues"}, {}),
    (
        f"/temporal/entities/{SENSOR}",
        {
            "options": "aggregatedValues",
            "aggrMethods": "totalCount,distinctCount,sum,avg,min,max,stddev,sumsq",
            "aggrPeriodDuration": "PT1H",
            "attrs": "temperature,humidity,pressure",
        },
        {},
    ),
    (f"/temporal/entities/{ROOM}", {"options": "sysAttrs"}, {}),
    (f"/temporal/entities/{ROOM}", {"timeproperty": "modifiedAt", "options": "sysAttrs"}, {}),
    (f"/temporal/entities/{ROOM}", {"timeproperty": "deletedAt"}, {}),
    (
        "/temporal/entities",
        {"type": "Sensor,Room", "timerel": "after", "timeAt": "2024-03-01T09:30:00Z"},
        {},
    ),
    (f"/temporal/entities/{SENSOR}", {"options": "sysAttrs"}, HANOI),
    (f"/entities/{SENSOR}", {}, {}),
]


def read_history(url: str) -> list[Any]:
    with httpx.Client(base_url=url + API, timeout=10) as client:
        return [
            ok(client.get(path, params=params, headers=headers)).json()
            for path, params, headers in READS
        ]


def test_history_survives_a_restart(tmp_path: Path, store_url: str) -> None:
    with serve(tmp_path, "--store", store_url) as (process, url):
        with httpx.Client(base_url=url + API, timeout=10) as client:
            write_history(client)
        before = read_history(url)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode in (0, -signal.SIGTERM)

    temperature = before[0]["temperature"]
    assert [(i["value"], i["observedAt"]) for i in temperature] == [
        (21, "2024-03-01T10:00:00Z"),
        (22.5, "2024-03-01T10:20:00.250Z"),
        (25, "2024-03-02T11:30:00Z"),
    ]
    assert [i["value"] for i in before[0]["humidity"]] == [71]
    assert before[5]["name"][0]["value"] == "urn:ngsi-ld:null"
    assert [i["value"] for i in before[7]["temperature"]] == [31]

    with serve(tmp_path, "--store", store_url) as (process, url):
        assert read_history(url) == before
        # The node goes on writing the same history.
        with httpx.Client(base_url=url + API, timeout=10) as client:
            more = {"temperature": prop(30, "2024-03-04T00:00:00Z")}
            ok(client.post(f"/temporal/entities/{SENSOR}/attrs", json=more), 204)
            after = ok(client.get(f"/temporal/entities/{SENSOR}", params={"options": "sysAttrs"}))
        assert after.json()["temperature"] == [*temperature, after.json()["temperature"][-1]]
        assert after.json()["temperature"][-1]["value"] == 30
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


# --- retention --------------------------------------------------------------------------------


def aged(now: datetime, margin: timedelta) -> dict[str, str]:
    """Times relative to now around a retention of 3 days; `margin` either side of it."""
    return {
        "10d": stamp(now - 10 * DAY),
        "3d+": stamp(now - 3 * DAY - margin),
        "3d-": stamp(now - 3 * DAY + margin),
        "2d": stamp(now - 2 * DAY),
        "1h": stamp(now - timedelta(hours=1)),
    }


def write_aged(client: httpx.Client, times: dict[str, str]) -> None:
    """The sensor: one reading per age; in tenant hanoi: one 10 days old, one of an hour; the
    room: an attribute without observedAt, and one 10 days old that is then deleted (its
    tombstone is of now)."""
    readings = [prop(age, at) for age, at in times.items()]
    ok(
        client.post(
            "/temporal/entities", json={"id": SENSOR, "type": "Sensor", "reading": readings}
        ),
        201,
    )
    hanoi = [prop("10d", times["10d"]), prop("1h", times["1h"])]
    ok(
        client.post(
            "/temporal/entities",
            json={"id": SENSOR, "type": "Sensor", "reading": hanoi},
            headers=HANOI,
        ),
        201,
    )
    room = {"id": ROOM, "type": "Room", "name": prop("kitchen"), "old": prop(7, times["10d"])}
    ok(client.post("/entities", json=room), 201)
    ok(client.delete(f"/entities/{ROOM}/attrs/old"), 204)


PRUNED = 4
"""The sensor's readings of 10 days and just over 3 days, hanoi's of 10 days, and the room's
old attribute as created."""


def kept(url: str) -> dict[str, Any]:
    """What the history holds after pruning, read through the temporal API."""
    with httpx.Client(base_url=url + API, timeout=10) as client:
        sensor = ok(client.get(f"/temporal/entities/{SENSOR}")).json()
        hanoi = ok(client.get(f"/temporal/entities/{SENSOR}", headers=HANOI)).json()
        created = ok(
            client.get(f"/temporal/entities/{ROOM}", params={"timeproperty": "createdAt"})
        ).json()
        deleted = ok(
            client.get(f"/temporal/entities/{ROOM}", params={"timeproperty": "deletedAt"})
        ).json()
        current = ok(client.get(f"/entities/{SENSOR}")).json()
    return {
        "sensor": [i["value"] for i in sensor.get("reading", [])],
        "hanoi": [i["value"] for i in hanoi.get("reading", [])],
        "room created": sorted(created.keys() - {"id", "type"}),
        "room deleted": sorted(deleted.keys() - {"id", "type"}),
        "current": current["reading"]["value"],
    }


BEFORE_PRUNING = {
    "sensor": ["10d", "3d+", "3d-", "2d", "1h"],
    "hanoi": ["10d", "1h"],
    "room created": ["name", "old"],
    "room deleted": ["old"],
    "current": "1h",
}
AFTER_PRUNING = {
    "sensor": ["3d-", "2d", "1h"],
    "hanoi": ["1h"],
    "room created": ["name"],
    "room deleted": ["old"],
    "current": "1h",
}


def node_settings(store_url: str) -> Settings:
    return Settings(port=free_port(), store=store_url, open=True)


def test_a_node_started_with_a_retention_prunes_what_is_older(
    tmp_path: Path, store_url: str
) -> None:
    """`ascn serve --history-retention 3d` prunes on start: what is older than 3 days goes (the
    reading 3 days and 10 minutes old too), the rest stays (the reading 3 days less 10 minutes
    old too), in every tenant; the current state is untouched."""
    with running_node(node_settings(store_url)) as url, httpx.Client(base_url=url + API) as client:
        write_aged(client, aged(datetime.now(UTC), timedelta(minutes=10)))
        assert kept(url) == BEFORE_PRUNING
    with serve(tmp_path, "--store", store_url, "--history-retention", "3d") as (process, url):
        # Pruning runs beside the serving: wait for it (not for any given time).
        deadline = time.monotonic() + 20
        while kept(url)["sensor"] != AFTER_PRUNING["sensor"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert kept(url) == AFTER_PRUNING
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


async def prune(store_url: str, period: str) -> int:
    store = open_store(store_url)
    await store.open()
    try:
        return await Retention(store, period).prune()
    finally:
        await store.close()


def test_retention_prunes_exactly_what_is_older_than_the_limit(store_url: str) -> None:
    """Retention(store, "3d").prune(): a reading one minute older than the limit goes, one a
    minute younger stays; the count of pruned instances is returned."""
    with running_node(node_settings(store_url)) as url, httpx.Client(base_url=url + API) as client:
        write_aged(client, aged(datetime.now(UTC), timedelta(minutes=1)))
    assert asyncio.run(prune(store_url, "")) == 0
    assert asyncio.run(prune(store_url, "400d")) == 0
    with running_node(node_settings(store_url)) as url:
        assert kept(url) == BEFORE_PRUNING
    assert asyncio.run(prune(store_url, "3d")) == PRUNED
    assert asyncio.run(prune(store_url, "3d")) == 0
    with running_node(node_settings(store_url)) as url:
        assert kept(url) == AFTER_PRUNING


async def prune_before(store_url: str, before: int) -> int:
    store = open_store(store_url)
    await store.open()
    try:
        return await store.prune_history(before)
    finally:
        await store.close()


def test_the_boundary_is_exact_to_the_millisecond(store_url: str) -> None:
    """Older than the limit means strictly before it: an instance observed 1 ms before goes, one
    observed at the limit stays, however its time is written."""
    limit = datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC)
    limit_ms = int(limit.timestamp() * 1000)
    body = {
        "id": SENSOR,
        "type": "Sensor",
        "reading": [
            prop("before", stamp(limit - timedelta(milliseconds=1))),
            prop("at", stamp(limit)),
            prop("after", stamp(limit + timedelta(milliseconds=1))),
        ],
        "offset": [
            prop("before", "2024-03-01T16:59:59.999+07:00"),
            prop("at", "2024-03-01T17:00:00+07:00"),
        ],
    }
    with running_node(node_settings(store_url)) as url, httpx.Client(base_url=url + API) as client:
        ok(client.post("/temporal/entities", json=body), 201)
    assert asyncio.run(prune_before(store_url, limit_ms)) == 2
    with running_node(node_settings(store_url)) as url, httpx.Client(base_url=url + API) as client:
        found = ok(client.get(f"/temporal/entities/{SENSOR}")).json()
    assert [i["value"] for i in found["reading"]] == ["at", "after"]
    assert [i["value"] for i in found["offset"]] == ["at"]


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("", None),
        ("400d", 400 * 86_400_000),
        ("12h", 43_200_000),
        ("30m", 1_800_000),
        (" 3d ", 259_200_000),
    ],
)
def test_retention_periods(text: str, ms: int | None) -> None:
    assert retention_ms(text) == ms


@pytest.mark.parametrize("text", ["0d", "3w", "3", "d", "-1d", "1.5d", "forever"])
def test_malformed_retention_periods(text: str) -> None:
    with pytest.raises(InvalidSetting):
        retention_ms(text)
