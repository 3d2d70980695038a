"""The temporal API over real HTTP (clauses 5.6.11-5.6.18, 5.7.3, 5.7.4, 6.18-6.24): history
written through /temporal/entities and through the core API, read back normalized, as
temporalValues and as aggregatedValues over every kind of window, paged, and refused when the
request is wrong.

Reads run against one known data set per backend (a node shared by the module); tests that write
get a fresh node of their own (the `client` fixture)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ascn.settings import Settings
from tests.support.http import assert_no_content, assert_problem
from tests.support.servers import free_port, running_node
from tests.support.stores import BACKENDS
from tests.support.stores import store_url as make_store_url

API = "/ngsi-ld/v1"
NULL = "urn:ngsi-ld:null"
KNOWN = "urn:ngsi-ld:Sensor:known"
OTHER = "urn:ngsi-ld:Sensor:other"
KINDS = "urn:ngsi-ld:Vehicle:kinds"
TARGET = "urn:ngsi-ld:Vehicle:target"
"""An entity of the known data set that tests of refused writes aim at."""
INDOOR = "urn:ngsi-ld:Dataset:indoor"
OUTDOOR = "urn:ngsi-ld:Dataset:outdoor"
METHODS = ("totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq")
DURATIONS = {"PT20M": 1_200_000, "PT1H": 3_600_000, "P1D": 86_400_000}


@dataclass(frozen=True)
class Reading:
    entity: str
    attr: str
    dataset: str | None
    value: float
    at: str

    @property
    def ms(self) -> int:
        return ms_of(self.at)


READINGS = [
    Reading(KNOWN, "temperature", None, 20, "2024-03-01T10:00:00Z"),
    Reading(KNOWN, "temperature", None, 22.5, "2024-03-01T10:20:00Z"),
    Reading(KNOWN, "temperature", None, 21, "2024-03-01T10:59:59.250Z"),
    Reading(KNOWN, "temperature", None, 25, "2024-03-01T11:30:00Z"),
    Reading(KNOWN, "temperature", None, 19.5, "2024-03-01T13:15:00Z"),
    Reading(KNOWN, "temperature", None, 18, "2024-03-02T09:00:00Z"),
    Reading(KNOWN, "temperature", None, 18, "2024-03-02T10:00:00Z"),
    Reading(KNOWN, "temperature", None, -3.5, "2024-03-03T12:00:00Z"),
    Reading(KNOWN, "humidity", None, 50, "2024-03-01T15:00:00Z"),
    Reading(KNOWN, "humidity", INDOOR, 40, "2024-03-01T10:30:00Z"),
    Reading(KNOWN, "humidity", INDOOR, 45, "2024-03-01T11:10:00Z"),
    Reading(KNOWN, "humidity", INDOOR, 45, "2024-03-02T09:30:00Z"),
    Reading(KNOWN, "humidity", OUTDOOR, 70, "2024-03-01T10:05:00Z"),
    Reading(KNOWN, "humidity", OUTDOOR, 80, "2024-03-01T12:00:00Z"),
    Reading(KNOWN, "humidity", OUTDOOR, 75, "2024-03-02T10:00:00Z"),
    Reading(KNOWN, "humidity", OUTDOOR, 60.25, "2024-03-03T00:00:00Z"),
    Reading(OTHER, "temperature", None, 10, "2024-03-01T10:00:00Z"),
    Reading(OTHER, "temperature", None, 12, "2024-03-01T14:00:00Z"),
    Reading(OTHER, "temperature", None, 11, "2024-03-02T08:00:00Z"),
]
"""Readings at fixed times over three days. Both sensors start at the same instant, so the
origin of aggregation periods without timeAt is the same per entity and per query."""

WINDOWS: dict[str, dict[str, str]] = {
    "none": {},
    "before": {"timerel": "before", "timeAt": "2024-03-02T09:00:00Z"},
    "after": {"timerel": "after", "timeAt": "2024-03-01T10:20:00Z"},
    "between": {
        "timerel": "between",
        "timeAt": "2024-03-01T10:20:00Z",
        "endTimeAt": "2024-03-02T10:00:00Z",
    },
}
"""Every timerel, each with readings exactly at its bounds: before excludes timeAt, after
excludes timeAt, between includes timeAt and excludes endTimeAt."""

KIND_ATTRIBUTES: dict[str, list[dict[str, Any]]] = {
    "owner": [
        {
            "type": "Relationship",
            "object": "urn:ngsi-ld:Person:1",
            "observedAt": "2024-01-01T00:00:00Z",
        },
        {
            "type": "Relationship",
            "object": "urn:ngsi-ld:Person:2",
            "observedAt": "2024-01-02T00:00:00Z",
        },
    ],
    "label": [
        {
            "type": "LanguageProperty",
            "languageMap": {"en": "Grand Palace", "th": "พระบรมมหาราชวัง"},
            "observedAt": "2024-01-01T00:00:00Z",
        },
        {
            "type": "LanguageProperty",
            "languageMap": {"en": "Wat Arun"},
            "observedAt": "2024-01-02T00:00:00Z",
        },
    ],
    "config": [
        {"type": "JsonProperty", "json": {"speed": 120}, "observedAt": "2024-01-01T00:00:00Z"},
        {"type": "JsonProperty", "json": [1, {"a": None}], "observedAt": "2024-01-02T00:00:00Z"},
    ],
    "category": [
        {"type": "VocabProperty", "vocab": "monument", "observedAt": "2024-01-01T00:00:00Z"},
        {
            "type": "VocabProperty",
            "vocab": ["monument", "sightseeing"],
            "observedAt": "2024-01-02T00:00:00Z",
        },
    ],
    "location": [
        {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [100.4913, 13.75]},
            "observedAt": "2024-01-01T00:00:00Z",
        },
        {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [100.4889, 13.7437]},
            "observedAt": "2024-01-02T00:00:00Z",
        },
    ],
}
SIMPLIFIED: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    "owner": ("objects", lambda i: i["object"]),
    "label": ("languageMaps", lambda i: {"languageMap": i["languageMap"]}),
    "config": ("jsons", lambda i: {"json": i["json"]}),
    "category": ("vocabs", lambda i: {"vocab": i["vocab"]}),
    "location": ("values", lambda i: i["value"]),
}


def ms_of(text: str) -> int:
    moment = datetime.fromisoformat(text)
    return round(moment.timestamp() * 1000)


def iso(ms: int) -> str:
    """A DateTime in UTC, with milliseconds only when there are any."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    text = moment.isoformat(timespec="milliseconds" if ms % 1000 else "seconds")
    return text.replace("+00:00", "Z")


def prop(value: Any, at: str | None = None, **more: Any) -> dict[str, Any]:
    instance: dict[str, Any] = {"type": "Property", "value": value, **more}
    if at is not None:
        instance["observedAt"] = at
    return instance


def temporal_entity(entity_id: str, kind: str = "Sensor", **attrs: Any) -> dict[str, Any]:
    return {"id": entity_id, "type": kind, **attrs}


def readings_payload(entity_id: str) -> dict[str, Any]:
    attrs: dict[str, list[dict[str, Any]]] = {}
    # Newest first: the node must sort them.
    for r in reversed([r for r in READINGS if r.entity == entity_id]):
        extra = {"datasetId": r.dataset} if r.dataset else {}
        attrs.setdefault(r.attr, []).append(prop(r.value, r.at, **extra))
    return {"id": entity_id, "type": "Sensor", **attrs}


def load(http: httpx.Client) -> None:
    for entity_id in (KNOWN, OTHER):
        created = http.post("/temporal/entities", json=readings_payload(entity_id))
        assert created.status_code == 201, created.text
    created = http.post(
        "/temporal/entities", json={"id": KINDS, "type": "Vehicle", **KIND_ATTRIBUTES}
    )
    assert created.status_code == 201, created.text
    target = temporal_entity(
        TARGET,
        "Vehicle",
        speed=[prop(120, "2020-08-01T12:03:00Z"), prop(80, "2020-08-01T12:05:00Z")],
    )
    assert http.post("/temporal/entities", json=target).status_code == 201


@pytest.fixture(scope="module", params=BACKENDS)
def known_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A node holding the known data set, shared by the tests of the module that only read."""
    folder: Path = tmp_path_factory.mktemp("known")
    with make_store_url(request.param, folder) as url:
        settings = Settings(port=free_port(), store=url, open=True)
        with running_node(settings) as node, httpx.Client(base_url=node + API, timeout=10) as http:
            load(http)
            yield node


@pytest.fixture
def known(known_url: str) -> Iterator[httpx.Client]:
    """A client of its own for each test: an error in one never breaks the connection of
    another."""
    with httpx.Client(base_url=known_url + API, timeout=10) as http:
        yield http


@pytest.fixture
def paged(store_url: str) -> Iterator[httpx.Client]:
    """A node that returns at most 3 instances per attribute, then pages."""
    settings = Settings(port=free_port(), store=store_url, open=True, temporal_instance_limit=3)
    with running_node(settings) as node, httpx.Client(base_url=node + API, timeout=10) as http:
        yield http


# --- the expectations, computed from READINGS -----------------------------------------------


def inside(reading: Reading, span: Mapping[str, str]) -> bool:
    timerel = span.get("timerel")
    if timerel is None:
        return True
    at = ms_of(span["timeAt"])
    if timerel == "before":
        return reading.ms < at
    if timerel == "after":
        return reading.ms > at
    return at <= reading.ms < ms_of(span["endTimeAt"])


def chosen(
    entities: list[str],
    span: Mapping[str, str],
    attrs: set[str] | None = None,
    datasets: set[str | None] | None = None,
) -> list[Reading]:
    return sorted(
        (
            r
            for r in READINGS
            if r.entity in entities
            and inside(r, span)
            and (attrs is None or r.attr in attrs)
            and (datasets is None or r.dataset in datasets)
        ),
        key=lambda r: r.ms,
    )


def figure(method: str, values: list[float]) -> float | int:
    if method == "totalCount":
        return len(values)
    if method == "distinctCount":
        return len(set(values))
    if method == "sum":
        return float(sum(values))
    if method == "avg":
        return statistics.fmean(values)
    if method == "min":
        return float(min(values))
    if method == "max":
        return float(max(values))
    if method == "stddev":
        return statistics.stdev(values) if len(values) > 1 else 0.0
    assert method == "sumsq"
    return float(sum(v * v for v in values))


Series = dict[str, dict[str | None, list[list[Any]]]]
"""Per attribute, per datasetId (None: the default instance): [value, start, end] rows."""


def expected_aggregates(
    entities: list[str],
    span: Mapping[str, str],
    period: int | None,
    method: str,
    attrs: set[str] | None = None,
    datasets: set[str | None] | None = None,
    end: int | None = None,
) -> dict[str, Series]:
    """Periods start at timeAt (after, between) or at the earliest reading in the window, every
    `period` ms (None: one period to `end`); periods without readings are left out."""
    readings = chosen(entities, span, attrs, datasets)
    if span.get("timerel") in ("after", "between"):
        origin = ms_of(span["timeAt"])
    else:
        origin = min(r.ms for r in readings)
    grouped: dict[tuple[str, str, str | None], dict[int, list[float]]] = {}
    for r in readings:
        index = (r.ms - origin) // period if period else 0
        grouped.setdefault((r.entity, r.attr, r.dataset), {}).setdefault(index, []).append(r.value)
    out: dict[str, Series] = {}
    for (entity_id, attr, dataset), buckets in grouped.items():
        rows = []
        for index in sorted(buckets):
            if period:
                start, stop = origin + index * period, origin + (index + 1) * period
            else:
                assert end is not None
                start, stop = origin, end
            rows.append([figure(method, buckets[index]), iso(start), iso(stop)])
        out.setdefault(entity_id, {}).setdefault(attr, {})[dataset] = rows
    return out


def by_dataset(member: Any) -> dict[str | None, dict[str, Any]]:
    """An attribute of a temporalValues or aggregatedValues body, per datasetId: one object, or
    a list of objects for several datasets."""
    objects = member if isinstance(member, list) else [member]
    found: dict[str | None, dict[str, Any]] = {}
    for item in objects:
        assert isinstance(item, dict)
        assert item.get("datasetId") not in found, "two objects for one datasetId"
        found[item.get("datasetId")] = item
    return found


def assert_rows(actual: list[list[Any]], expected: list[list[Any]], method: str) -> None:
    assert [row[1:] for row in actual] == [row[1:] for row in expected]
    for (value, *_), (want, *_) in zip(actual, expected, strict=True):
        if method in ("totalCount", "distinctCount"):
            assert value == want
            assert isinstance(value, int)
        else:
            assert isinstance(value, float)
            assert value == pytest.approx(want, rel=1e-9, abs=1e-9)


def expect_all(
    entities: list[str], span: Mapping[str, str], period: int | None, methods: tuple[str, ...]
) -> dict[str, dict[str, Series]]:
    """Per method, per entity: the expected series."""
    return {m: expected_aggregates(entities, span, period, m) for m in methods}


def check_entity(
    body: dict[str, Any], per_method: dict[str, Series], methods: tuple[str, ...]
) -> None:
    attributes = {k for k in body if k not in ("id", "type")}
    assert attributes == set(per_method[methods[0]])
    for attr in attributes:
        found = by_dataset(body[attr])
        assert set(found) == set(per_method[methods[0]][attr])
        for dataset, item in found.items():
            assert item["type"] == "Property"
            assert set(item) - {"type", "datasetId"} == set(methods)
            for method in methods:
                assert_rows(item[method], per_method[method][attr][dataset], method)


def aggregated_params(
    span: Mapping[str, str], methods: tuple[str, ...], duration: str | None
) -> dict[str, str]:
    out = {**span, "options": "aggregatedValues", "aggrMethods": ",".join(methods)}
    if duration is not None:
        out["aggrPeriodDuration"] = duration
    return out


# --- aggregatedValues: every timerel x every method x several period durations ---------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("duration", list(DURATIONS))
@pytest.mark.parametrize("timerel", list(WINDOWS))
def test_aggregated_values_of_an_entity(
    known: httpx.Client, timerel: str, duration: str, method: str
) -> None:
    span = WINDOWS[timerel]
    response = known.get(
        f"/temporal/entities/{KNOWN}", params=aggregated_params(span, (method,), duration)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == KNOWN
    assert body["type"] == "Sensor"
    expected = expected_aggregates([KNOWN], span, DURATIONS[duration], method)[KNOWN]
    check_entity(body, {method: expected}, (method,))


@pytest.mark.parametrize("duration", list(DURATIONS))
@pytest.mark.parametrize("timerel", list(WINDOWS))
def test_every_method_at_once_through_the_query_endpoints(
    known: httpx.Client, timerel: str, duration: str
) -> None:
    """GET /temporal/entities and POST /temporal/entityOperations/query aggregate each entity
    as a retrieval does."""
    span = WINDOWS[timerel]
    per_method = expect_all([KNOWN, OTHER], span, DURATIONS[duration], METHODS)
    got = known.get(
        "/temporal/entities",
        params={"type": "Sensor", **aggregated_params(span, METHODS, duration)},
    )
    posted = known.post(
        "/temporal/entityOperations/query",
        params={
            "options": "aggregatedValues",
            "aggrMethods": ",".join(METHODS),
            "aggrPeriodDuration": duration,
        },
        json={"type": "Query", "entities": [{"type": "Sensor"}], "temporalQ": span},
    )
    for response in (got, posted):
        assert response.status_code == 200, response.text
        bodies = {body["id"]: body for body in response.json()}
        assert set(bodies) == {KNOWN, OTHER}
        for entity_id, body in bodies.items():
            check_entity(body, {m: s[entity_id] for m, s in per_method.items()}, METHODS)


@pytest.mark.parametrize(
    ("timerel", "end"),
    [("before", "2024-03-02T09:00:00Z"), ("between", "2024-03-02T10:00:00Z")],
)
def test_without_a_period_duration_one_period_spans_the_window(
    known: httpx.Client, timerel: str, end: str
) -> None:
    span = WINDOWS[timerel]
    response = known.get(
        f"/temporal/entities/{KNOWN}", params=aggregated_params(span, METHODS, None)
    )
    assert response.status_code == 200, response.text
    per_method = {
        m: expected_aggregates([KNOWN], span, None, m, end=ms_of(end))[KNOWN] for m in METHODS
    }
    check_entity(response.json(), per_method, METHODS)


@pytest.mark.parametrize("timerel", ["none", "after"])
def test_without_a_period_duration_an_open_window_ends_now(
    known: httpx.Client, timerel: str
) -> None:
    span = WINDOWS[timerel]
    response = known.get(
        f"/temporal/entities/{KNOWN}",
        params={**aggregated_params(span, ("totalCount",), None), "attrs": "temperature"},
    )
    assert response.status_code == 200, response.text
    rows = response.json()["temperature"]["totalCount"]
    assert len(rows) == 1
    count, start, end = rows[0]
    assert count == len(chosen([KNOWN], span, {"temperature"}))
    assert start == span.get("timeAt", "2024-03-01T10:00:00Z")
    assert ms_of(end) > ms_of("2024-03-03T12:00:00Z")


@pytest.mark.parametrize("timerel", list(WINDOWS))
def test_aggregating_some_attributes_or_datasets(known: httpx.Client, timerel: str) -> None:
    """attrs and datasetId narrow what is aggregated, and so where periods start without
    timeAt (the earliest reading left)."""
    span = WINDOWS[timerel]
    cases: list[tuple[dict[str, str], set[str] | None, set[str | None] | None]] = [
        ({"attrs": "humidity"}, {"humidity"}, None),
        ({"datasetId": INDOOR}, None, {INDOOR}),
        ({"datasetId": f"{OUTDOOR},@none"}, None, {OUTDOOR, None}),
    ]
    for extra, attrs, datasets in cases:
        response = known.get(
            f"/temporal/entities/{KNOWN}",
            params={**aggregated_params(span, ("sum", "totalCount"), "PT1H"), **extra},
        )
        assert response.status_code == 200, (extra, response.text)
        per_method = {
            m: expected_aggregates([KNOWN], span, 3_600_000, m, attrs, datasets)[KNOWN]
            for m in ("sum", "totalCount")
        }
        check_entity(response.json(), per_method, ("sum", "totalCount"))


def test_period_bounds_keep_the_milliseconds_of_time_at(
    known: httpx.Client,
) -> None:
    span = {"timerel": "after", "timeAt": "2024-03-01T10:00:00.500Z"}
    response = known.get(
        f"/temporal/entities/{KNOWN}",
        params={**aggregated_params(span, ("max",), "P1D"), "attrs": "temperature"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["temperature"]["max"] == [
        [25.0, "2024-03-01T10:00:00.500Z", "2024-03-02T10:00:00.500Z"],
        [-3.5, "2024-03-03T10:00:00.500Z", "2024-03-04T10:00:00.500Z"],
    ]


def test_period_bounds_before_the_year_1000_have_four_digit_years(known: httpx.Client) -> None:
    """The first period starts at timeAt, which is a DateTime: 0001-01-01, not 1-01-01."""
    span = {
        "timerel": "between",
        "timeAt": "0001-01-01T00:00:00Z",
        "endTimeAt": "2100-01-01T00:00:00Z",
    }
    response = known.get(
        f"/temporal/entities/{KNOWN}",
        params={**aggregated_params(span, ("totalCount",), None), "attrs": "temperature"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["temperature"]["totalCount"] == [
        [8, "0001-01-01T00:00:00Z", "2100-01-01T00:00:00Z"]
    ]


# --- normalized and temporalValues over every timerel -----------------------------------------


def normalized_of(readings: list[Reading]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in readings:
        extra = {"datasetId": r.dataset} if r.dataset else {}
        out.setdefault(r.attr, []).append(prop(r.value, r.at, **extra))
    return out


def without_ids(body: dict[str, Any]) -> dict[str, Any]:
    """The body with every instanceId checked (a URI, unique) and removed."""
    out: dict[str, Any] = {}
    seen: set[str] = set()
    for key, member in body.items():
        if isinstance(member, list):
            instances = []
            for given in member:
                instance = dict(given)
                instance_id = instance.pop("instanceId")
                assert instance_id.startswith("urn:")
                assert instance_id not in seen
                seen.add(instance_id)
                instances.append(instance)
            out[key] = instances
        else:
            out[key] = member
    return out


@pytest.mark.parametrize("timerel", list(WINDOWS))
def test_normalized_instances_of_a_window_oldest_first(known: httpx.Client, timerel: str) -> None:
    span = WINDOWS[timerel]
    response = known.get(f"/temporal/entities/{KNOWN}", params=span)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert "content-range" not in response.headers
    expected = {"id": KNOWN, "type": "Sensor", **normalized_of(chosen([KNOWN], span))}
    assert without_ids(response.json()) == expected


@pytest.mark.parametrize("timerel", list(WINDOWS))
def test_temporal_values_of_a_window(known: httpx.Client, timerel: str) -> None:
    span = WINDOWS[timerel]
    for form in ({"options": "temporalValues"}, {"format": "temporalValues"}):
        response = known.get(f"/temporal/entities/{KNOWN}", params={**span, **form})
        assert response.status_code == 200, response.text
        body = response.json()
        readings = chosen([KNOWN], span)
        assert set(body) == {"id", "type"} | {r.attr for r in readings}
        for attr in {r.attr for r in readings}:
            found = by_dataset(body[attr])
            datasets = {r.dataset for r in readings if r.attr == attr}
            assert set(found) == datasets
            for dataset, item in found.items():
                pairs = [
                    [r.value, r.at] for r in readings if r.attr == attr and r.dataset == dataset
                ]
                expected = {"type": "Property", "values": pairs}
                if dataset is not None:
                    expected["datasetId"] = dataset
                assert item == expected


@pytest.mark.parametrize("timerel", list(WINDOWS))
@pytest.mark.parametrize("last_n", [1, 2, 3, 50])
def test_last_n_keeps_the_newest_of_the_window(
    known: httpx.Client, timerel: str, last_n: int
) -> None:
    span = WINDOWS[timerel]
    response = known.get(
        f"/temporal/entities/{KNOWN}",
        params={**span, "lastN": str(last_n), "attrs": "temperature"},
    )
    assert response.status_code == 200, response.text
    assert "content-range" not in response.headers
    newest = chosen([KNOWN], span, {"temperature"})[-last_n:]
    assert without_ids(response.json()) == {
        "id": KNOWN,
        "type": "Sensor",
        **normalized_of(newest),
    }
    outdoor = known.get(
        f"/temporal/entities/{KNOWN}",
        params={**span, "lastN": str(last_n), "datasetId": OUTDOOR, "options": "temporalValues"},
    )
    assert outdoor.status_code == 200, outdoor.text
    pairs = [[r.value, r.at] for r in chosen([KNOWN], span, None, {OUTDOOR})[-last_n:]]
    assert outdoor.json() == {
        "id": KNOWN,
        "type": "Sensor",
        "humidity": {"type": "Property", "datasetId": OUTDOOR, "values": pairs},
    }


def test_last_n_in_a_posted_query_may_be_a_number(known: httpx.Client) -> None:
    response = known.post(
        "/temporal/entityOperations/query",
        json={
            "type": "Query",
            "entities": [{"type": "Sensor"}],
            "attrs": ["temperature"],
            "temporalQ": {"lastN": 2},
        },
    )
    assert response.status_code == 200, response.text
    bodies = {body["id"]: without_ids(body) for body in response.json()}
    for entity_id in (KNOWN, OTHER):
        newest = chosen([entity_id], {}, {"temperature"})[-2:]
        assert bodies[entity_id] == {"id": entity_id, "type": "Sensor", **normalized_of(newest)}


@pytest.mark.parametrize(
    ("params", "attrs", "datasets"),
    [
        ({"attrs": "humidity"}, {"humidity"}, None),
        ({"attrs": "temperature,humidity"}, {"temperature", "humidity"}, None),
        ({"datasetId": INDOOR}, None, {INDOOR}),
        ({"datasetId": "@none"}, None, {None}),
        ({"datasetId": f"{INDOOR},{OUTDOOR}"}, None, {INDOOR, OUTDOOR}),
    ],
)
def test_attrs_and_dataset_ids_select_instances(
    known: httpx.Client,
    params: dict[str, str],
    attrs: set[str] | None,
    datasets: set[str | None] | None,
) -> None:
    span = WINDOWS["after"]
    response = known.get(f"/temporal/entities/{KNOWN}", params={**span, **params})
    assert response.status_code == 200, response.text
    expected = normalized_of(chosen([KNOWN], span, attrs, datasets))
    assert without_ids(response.json()) == {"id": KNOWN, "type": "Sensor", **expected}


def test_pick_and_omit(known: httpx.Client) -> None:
    picked = known.get(f"/temporal/entities/{KNOWN}", params={"pick": "temperature"})
    assert picked.status_code == 200, picked.text
    assert without_ids(picked.json()) == {
        "temperature": normalized_of(chosen([KNOWN], {}, {"temperature"}))["temperature"]
    }
    omitted = known.get(f"/temporal/entities/{KNOWN}", params={"omit": "type,humidity"})
    assert omitted.status_code == 200, omitted.text
    assert without_ids(omitted.json()) == {
        "id": KNOWN,
        **normalized_of(chosen([KNOWN], {}, {"temperature"})),
    }


def test_sys_attrs_add_the_system_times(known: httpx.Client) -> None:
    plain = known.get(f"/temporal/entities/{KNOWN}").json()
    with_times = known.get(f"/temporal/entities/{KNOWN}", params={"options": "sysAttrs"}).json()
    for attr in ("temperature", "humidity"):
        for bare, timed in zip(plain[attr], with_times[attr], strict=True):
            assert "createdAt" not in bare
            assert "modifiedAt" not in bare
            assert {k: v for k, v in timed.items() if k not in ("createdAt", "modifiedAt")} == bare
            assert ms_of(timed["createdAt"]) <= ms_of(timed["modifiedAt"])


def test_every_kind_of_attribute_normalized(known: httpx.Client) -> None:
    response = known.get(f"/temporal/entities/{KINDS}")
    assert response.status_code == 200, response.text
    assert without_ids(response.json()) == {"id": KINDS, "type": "Vehicle", **KIND_ATTRIBUTES}


def test_every_kind_of_attribute_as_temporal_values(known: httpx.Client) -> None:
    """values, objects, languageMaps, jsons and vocabs: [value, observedAt] pairs, the last
    three with the value wrapped in its member."""
    response = known.get(f"/temporal/entities/{KINDS}", params={"options": "temporalValues"})
    assert response.status_code == 200, response.text
    expected: dict[str, Any] = {"id": KINDS, "type": "Vehicle"}
    for attr, instances in KIND_ATTRIBUTES.items():
        key, value_of = SIMPLIFIED[attr]
        expected[attr] = {
            "type": instances[0]["type"],
            key: [[value_of(i), i["observedAt"]] for i in instances],
        }
    assert response.json() == expected


def test_format_wins_over_options(known: httpx.Client) -> None:
    path = f"/temporal/entities/{KNOWN}"
    simplified = known.get(path, params={"options": "temporalValues", "attrs": "temperature"})
    normal = known.get(path, params={"attrs": "temperature"})
    aggregated = known.get(
        path,
        params={
            "options": "aggregatedValues",
            "aggrMethods": "sum",
            "aggrPeriodDuration": "P1D",
            "attrs": "temperature",
        },
    )
    cases = [
        (
            {"format": "temporalValues", "options": "aggregatedValues", "aggrMethods": "sum"},
            simplified,
        ),
        ({"format": "normalized", "options": "temporalValues"}, normal),
        (
            {
                "format": "aggregatedValues",
                "options": "temporalValues",
                "aggrMethods": "sum",
                "aggrPeriodDuration": "P1D",
            },
            aggregated,
        ),
    ]
    for params, reference in cases:
        response = known.get(path, params={**params, "attrs": "temperature"})
        assert response.status_code == 200, (params, response.text)
        assert response.json() == reference.json(), params


def test_query_selects_entities_and_leaves_out_those_without_instances(known: httpx.Client) -> None:
    late = {"timerel": "after", "timeAt": "2024-03-02T08:30:00Z"}
    response = known.get("/temporal/entities", params={"type": "Sensor", **late})
    assert response.status_code == 200, response.text
    assert [without_ids(b) for b in response.json()] == [
        {"id": KNOWN, "type": "Sensor", **normalized_of(chosen([KNOWN], late))}
    ]
    one = known.get("/temporal/entities", params={"type": "Sensor", "id": OTHER})
    assert [without_ids(b) for b in one.json()] == [
        {"id": OTHER, "type": "Sensor", **normalized_of(chosen([OTHER], {}))}
    ]
    by_attrs = known.get("/temporal/entities", params={"attrs": "humidity"})
    assert [b["id"] for b in by_attrs.json()] == [KNOWN]
    vehicles = known.get("/temporal/entities", params={"type": "Vehicle", "attrs": "speed"})
    assert [b["id"] for b in vehicles.json()] == [TARGET]
    nothing = known.get(
        "/temporal/entities",
        params={"type": "Sensor", "timerel": "before", "timeAt": "2000-01-01T00:00:00Z"},
    )
    assert nothing.status_code == 200
    assert nothing.json() == []


@pytest.mark.parametrize("timerel", list(WINDOWS))
def test_posted_query_equals_the_get_query(known: httpx.Client, timerel: str) -> None:
    span = WINDOWS[timerel]
    got = known.get("/temporal/entities", params={"type": "Sensor", **span})
    posted = known.post(
        "/temporal/entityOperations/query",
        json={"type": "Query", "entities": [{"type": "Sensor"}], "temporalQ": span},
    )
    assert got.status_code == posted.status_code == 200
    assert sorted(got.json(), key=lambda b: b["id"]) == sorted(posted.json(), key=lambda b: b["id"])
    expected = {
        entity_id: {"id": entity_id, "type": "Sensor", **normalized_of(readings)}
        for entity_id in (KNOWN, OTHER)
        if (readings := chosen([entity_id], span))
    }
    assert {b["id"]: without_ids(b) for b in got.json()} == expected


# --- writing history through the temporal API --------------------------------------------------

CAR = "urn:ngsi-ld:Vehicle:car"


def instances_of(client: httpx.Client, entity_id: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/temporal/entities/{entity_id}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def values(body: Mapping[str, Any], attr: str) -> list[tuple[Any, str | None, str | None]]:
    return [(i["value"], i.get("observedAt"), i.get("datasetId")) for i in body.get(attr, [])]


def test_creating_then_updating_a_temporal_entity(client: httpx.Client) -> None:
    body = temporal_entity(CAR, "Vehicle", speed=[prop(120, "2020-08-01T12:03:00Z")])
    created = client.post("/temporal/entities", json=body)
    assert created.status_code == 201, created.text
    assert created.content == b""
    assert created.headers["location"] == f"{API}/temporal/entities/{CAR}"
    assert_no_content(client.post("/temporal/entities", json=body))
    assert_no_content(client.post("/temporal/entities/", json=body))
    assert values(instances_of(client, CAR), "speed") == [(120, "2020-08-01T12:03:00Z", None)]


def test_an_upsert_replaces_the_instances_observed_at_the_same_time(client: httpx.Client) -> None:
    first = temporal_entity(
        CAR,
        "Vehicle",
        speed=[prop(120, "2020-08-01T12:03:00Z"), prop(80, "2020-08-01T12:05:00Z")],
        fuel=[prop(67, "2020-08-01T12:03:00Z", datasetId="urn:ngsi-ld:Dataset:a")],
    )
    second = temporal_entity(
        CAR,
        "Vehicle",
        speed=[prop(121, "2020-08-01T12:03:00Z"), prop(100, "2020-08-01T12:07:00Z")],
        fuel=[
            prop(60, "2020-08-01T12:03:00Z", datasetId="urn:ngsi-ld:Dataset:a"),
            prop(50, "2020-08-01T12:03:00Z", datasetId="urn:ngsi-ld:Dataset:b"),
            prop(40, "2020-08-01T12:03:00Z"),
        ],
    )
    assert client.post("/temporal/entities", json=first).status_code == 201
    assert_no_content(client.post("/temporal/entities", json=second))
    body = instances_of(client, CAR)
    assert values(body, "speed") == [
        (121, "2020-08-01T12:03:00Z", None),
        (80, "2020-08-01T12:05:00Z", None),
        (100, "2020-08-01T12:07:00Z", None),
    ]
    assert sorted(values(body, "fuel"), key=str) == sorted(
        [
            (60, "2020-08-01T12:03:00Z", "urn:ngsi-ld:Dataset:a"),
            (50, "2020-08-01T12:03:00Z", "urn:ngsi-ld:Dataset:b"),
            (40, "2020-08-01T12:03:00Z", None),
        ],
        key=str,
    )
    current = client.get(f"/entities/{CAR}").json()
    assert current["speed"] == prop(100, "2020-08-01T12:07:00Z")
    assert sorted(json.dumps(i, sort_keys=True) for i in current["fuel"]) == sorted(
        json.dumps(i, sort_keys=True)
        for i in (
            prop(60, "2020-08-01T12:03:00Z", datasetId="urn:ngsi-ld:Dataset:a"),
            prop(50, "2020-08-01T12:03:00Z", datasetId="urn:ngsi-ld:Dataset:b"),
            prop(40, "2020-08-01T12:03:00Z"),
        )
    )


def test_an_upsert_recognises_the_same_instant_written_differently(client: httpx.Client) -> None:
    """observedAt is a DateTime: 12:03:00Z, 12:03:00.000Z and 19:03:00+07:00 are one instant,
    so each upsert replaces the instance observed then."""
    for value, at in [
        (1, "2020-08-01T12:03:00Z"),
        (2, "2020-08-01T12:03:00.000Z"),
        (3, "2020-08-01T19:03:00+07:00"),
    ]:
        body = temporal_entity(CAR, "Vehicle", speed=[prop(value, at)])
        assert client.post("/temporal/entities", json=body).status_code in (201, 204)
    speed = instances_of(client, CAR)["speed"]
    assert [i["value"] for i in speed] == [3]


def test_the_current_state_keeps_the_newest_observation(client: httpx.Client) -> None:
    newer = temporal_entity(CAR, "Vehicle", speed=[prop(90, "2020-08-01T12:05:00Z")])
    older = temporal_entity(CAR, "Vehicle", speed=[prop(10, "2020-08-01T08:00:00Z")])
    assert client.post("/temporal/entities", json=newer).status_code == 201
    assert_no_content(client.post("/temporal/entities", json=older))
    assert client.get(f"/entities/{CAR}").json()["speed"] == prop(90, "2020-08-01T12:05:00Z")
    assert values(instances_of(client, CAR), "speed") == [
        (10, "2020-08-01T08:00:00Z", None),
        (90, "2020-08-01T12:05:00Z", None),
    ]


def test_appending_instances(client: httpx.Client) -> None:
    created = client.post(
        "/temporal/entities",
        json=temporal_entity(CAR, "Vehicle", speed=[prop(120, "2020-08-01T12:03:00Z")]),
    )
    assert created.status_code == 201
    fragment = {
        "speed": [prop(80, "2020-08-01T12:05:00Z"), prop(125, "2020-08-01T12:03:00Z")],
        "added": [prop(1, "2020-08-01T12:00:00Z"), prop(2, "2020-08-01T12:01:00Z")],
    }
    assert_no_content(client.post(f"/temporal/entities/{CAR}/attrs", json=fragment))
    assert_no_content(
        client.post(
            f"/temporal/entities/{CAR}/attrs/", json={"added": prop(3, "2020-08-01T12:02:00Z")}
        )
    )
    body = instances_of(client, CAR)
    assert values(body, "speed") == [
        (125, "2020-08-01T12:03:00Z", None),
        (80, "2020-08-01T12:05:00Z", None),
    ]
    assert [v for v, _, _ in values(body, "added")] == [1, 2, 3]
    current = client.get(f"/entities/{CAR}").json()
    assert current["speed"] == prop(80, "2020-08-01T12:05:00Z")
    assert current["added"] == prop(3, "2020-08-01T12:02:00Z")


FUEL_A = "urn:ngsi-ld:Dataset:fuel-a"
FUEL_B = "urn:ngsi-ld:Dataset:fuel-b"


def with_fuel(client: httpx.Client) -> None:
    body = temporal_entity(
        CAR,
        "Vehicle",
        fuel=[
            prop(67, "2020-08-01T12:03:00Z"),
            prop(53, "2020-08-01T13:05:00Z"),
            prop(40, "2020-08-01T14:07:00Z", datasetId=FUEL_A),
            prop(30, "2020-08-01T15:00:00Z", datasetId=FUEL_B),
        ],
        speed=[prop(120, "2020-08-01T12:03:00Z")],
    )
    assert client.post("/temporal/entities", json=body).status_code == 201


@pytest.mark.parametrize(
    ("params", "left"),
    [
        ({}, [(40, FUEL_A), (30, FUEL_B)]),
        ({"deleteAll": "false"}, [(40, FUEL_A), (30, FUEL_B)]),
        ({"datasetId": FUEL_A}, [(67, None), (53, None), (30, FUEL_B)]),
        ({"datasetId": FUEL_B, "deleteAll": "false"}, [(67, None), (53, None), (40, FUEL_A)]),
        ({"deleteAll": "true"}, []),
    ],
)
def test_deleting_the_history_of_an_attribute(
    client: httpx.Client, params: dict[str, str], left: list[tuple[int, str | None]]
) -> None:
    """The default instance, one datasetId, or with deleteAll every instance."""
    with_fuel(client)
    assert_no_content(client.delete(f"/temporal/entities/{CAR}/attrs/fuel", params=params))
    body = instances_of(client, CAR)
    assert [(v, d) for v, _, d in values(body, "fuel")] == left
    assert ("fuel" in body) == bool(left)
    assert values(body, "speed") == [(120, "2020-08-01T12:03:00Z", None)]
    again = client.delete(f"/temporal/entities/{CAR}/attrs/fuel", params=params)
    assert_problem(again, 404, "ResourceNotFound")


def test_modifying_an_instance_keeps_its_id(client: httpx.Client) -> None:
    with_fuel(client)
    before = instances_of(client, CAR)["fuel"]
    first = before[0]["instanceId"]
    assert_no_content(
        client.patch(
            f"/temporal/entities/{CAR}/attrs/fuel/{first}",
            json={"type": "Property", "value": 129, "observedAt": "2020-08-01T12:03:00Z"},
        )
    )
    after = instances_of(client, CAR, options="sysAttrs")["fuel"]
    assert [i["instanceId"] for i in after] == [i["instanceId"] for i in before]
    assert after[0]["value"] == 129
    assert after[0]["observedAt"] == "2020-08-01T12:03:00Z"
    assert ms_of(after[0]["modifiedAt"]) >= ms_of(after[0]["createdAt"])
    assert [i["value"] for i in after[1:]] == [i["value"] for i in before[1:]]

    # A partial body keeps the rest of the instance; a new observedAt moves it in time.
    assert_no_content(
        client.patch(
            f"/temporal/entities/{CAR}/attrs/fuel/{first}",
            json={"observedAt": "2020-08-02T00:00:00Z"},
        )
    )
    moved = instances_of(client, CAR)["fuel"]
    assert moved[-1]["instanceId"] == first
    assert moved[-1]["value"] == 129
    assert moved[-1]["observedAt"] == "2020-08-02T00:00:00Z"
    simplified = instances_of(client, CAR, options="temporalValues", datasetId="@none")["fuel"]
    assert simplified["values"] == [[53, "2020-08-01T13:05:00Z"], [129, "2020-08-02T00:00:00Z"]]

    wrong_attribute = client.patch(
        f"/temporal/entities/{CAR}/attrs/speed/{first}", json={"value": 1}
    )
    assert_problem(wrong_attribute, 404, "ResourceNotFound")
    unknown = client.patch(f"/temporal/entities/{CAR}/attrs/fuel2/{first}", json={"value": 1})
    assert_problem(unknown, 404, "ResourceNotFound")


def test_deleting_an_instance(client: httpx.Client) -> None:
    with_fuel(client)
    before = instances_of(client, CAR)
    first = before["fuel"][0]["instanceId"]
    assert_no_content(client.delete(f"/temporal/entities/{CAR}/attrs/fuel/{first}"))
    after = instances_of(client, CAR)
    assert after["fuel"] == before["fuel"][1:]
    assert after["speed"] == before["speed"]
    again = client.delete(f"/temporal/entities/{CAR}/attrs/fuel/{first}")
    assert_problem(again, 404, "ResourceNotFound")
    only = before["speed"][0]["instanceId"]
    assert_no_content(client.delete(f"/temporal/entities/{CAR}/attrs/speed/{only}"))
    assert "speed" not in instances_of(client, CAR)


def test_deleting_a_temporal_entity_removes_its_history_and_current_state(
    client: httpx.Client,
) -> None:
    with_fuel(client)
    assert_no_content(client.delete(f"/temporal/entities/{CAR}"))
    assert_problem(client.get(f"/temporal/entities/{CAR}"), 404, "ResourceNotFound")
    assert_problem(client.get(f"/entities/{CAR}"), 404, "ResourceNotFound")
    assert_problem(client.delete(f"/temporal/entities/{CAR}"), 404, "ResourceNotFound")
    query = client.get("/temporal/entities", params={"type": "Vehicle"})
    assert query.json() == []
    again = temporal_entity(CAR, "Vehicle", speed=[prop(1, "2021-01-01T00:00:00Z")])
    assert client.post("/temporal/entities", json=again).status_code == 201
    assert without_ids(instances_of(client, CAR)) == {
        "id": CAR,
        "type": "Vehicle",
        "speed": [prop(1, "2021-01-01T00:00:00Z")],
    }


# --- history recorded by the core API ----------------------------------------------------------

ROOM = "urn:ngsi-ld:Room:1"


def test_core_writes_are_recorded(client: httpx.Client) -> None:
    """Create, update, append, merge and batch upsert each record the instances they set, with
    createdAt and modifiedAt; the temporal API reads them back."""
    created = client.post(
        "/entities",
        json={
            "id": ROOM,
            "type": "Room",
            "temperature": prop(20, "2024-01-01T00:00:00Z"),
            "name": prop("kitchen"),
        },
    )
    assert created.status_code == 201, created.text
    writes = [
        client.patch(
            f"/entities/{ROOM}/attrs", json={"temperature": prop(21, "2024-01-01T01:00:00Z")}
        ),
        client.post(
            f"/entities/{ROOM}/attrs", json={"pressure": prop(1013, "2024-01-01T01:30:00Z")}
        ),
        client.patch(f"/entities/{ROOM}", json={"temperature": prop(22, "2024-01-01T02:00:00Z")}),
        client.post(
            "/entityOperations/upsert",
            params={"options": "update"},
            json=[{"id": ROOM, "type": "Room", "temperature": prop(23, "2024-01-01T03:00:00Z")}],
        ),
        client.patch(f"/entities/{ROOM}/attrs/temperature", json=prop(24, "2024-01-01T04:00:00Z")),
    ]
    for response in writes:
        assert response.status_code in (201, 204), response.text

    observed = instances_of(client, ROOM, options="sysAttrs")
    assert [v for v, _, _ in values(observed, "temperature")] == [20, 21, 22, 23, 24]
    assert values(observed, "pressure") == [(1013, "2024-01-01T01:30:00Z", None)]
    assert "name" not in observed, "an instance without observedAt is no observation"
    for instance in observed["temperature"] + observed["pressure"]:
        assert ms_of(instance["createdAt"]) <= ms_of(instance["modifiedAt"])

    by_modification = instances_of(client, ROOM, timeproperty="modifiedAt", options="sysAttrs")
    assert [i["value"] for i in by_modification["name"]] == ["kitchen"]
    records = [
        (attr, i["value"], i["modifiedAt"], i["createdAt"])
        for attr in ("temperature", "pressure", "name")
        for i in by_modification[attr]
    ]
    assert len(records) == 7
    simplified = instances_of(client, ROOM, timeproperty="modifiedAt", options="temporalValues")
    assert simplified["temperature"]["values"] == [
        [i["value"], i["modifiedAt"]] for i in by_modification["temperature"]
    ]

    # Windows over the system times select by the times recorded.
    middle = sorted(modified for _, _, modified, _ in records)[3]
    for timeproperty, column in (("modifiedAt", 2), ("createdAt", 3)):
        for timerel in ("before", "after"):
            found = instances_of(
                client, ROOM, timeproperty=timeproperty, timerel=timerel, timeAt=middle
            )
            got = sorted(
                (attr, i["value"])
                for attr in ("temperature", "pressure", "name")
                for i in found.get(attr, [])
            )
            pivot = ms_of(middle)
            expected = sorted(
                (r[0], r[1])
                for r in records
                if (ms_of(r[column]) < pivot if timerel == "before" else ms_of(r[column]) > pivot)
            )
            assert got == expected, (timeproperty, timerel)


@pytest.mark.parametrize(
    ("attr", "instance", "tombstone", "simplified"),
    [
        (
            "fuelLevel",
            prop(67, "2024-01-01T00:00:00Z"),
            {"type": "Property", "value": NULL},
            {"type": "Property", "values": [[NULL, "<deletedAt>"]]},
        ),
        (
            "isParkedIn",
            {"type": "Relationship", "object": "urn:ngsi-ld:Parking:1"},
            {"type": "Relationship", "object": NULL},
            {"type": "Relationship", "objects": [[NULL, "<deletedAt>"]]},
        ),
        (
            "name",
            {"type": "LanguageProperty", "languageMap": {"en": "car", "fr": "voiture"}},
            {"type": "LanguageProperty", "languageMap": {"@none": NULL}},
            {
                "type": "LanguageProperty",
                "languageMaps": [[{"languageMap": {"@none": NULL}}, "<deletedAt>"]],
            },
        ),
        (
            "config",
            {"type": "JsonProperty", "json": {"a": 1}},
            {"type": "JsonProperty", "json": NULL},
            {"type": "JsonProperty", "jsons": [[{"json": NULL}, "<deletedAt>"]]},
        ),
        (
            "scope",
            None,
            {"type": "Property", "value": []},
            {"type": "Property", "values": [[[], "<deletedAt>"]]},
        ),
    ],
)
def test_a_core_attribute_delete_leaves_a_tombstone(
    client: httpx.Client,
    attr: str,
    instance: dict[str, Any] | None,
    tombstone: dict[str, Any],
    simplified: dict[str, Any],
) -> None:
    entity: dict[str, Any] = {
        "id": CAR,
        "type": "Vehicle",
        "speed": prop(10, "2024-01-01T00:00:00Z"),
        "scope": "/Bangkok/PhraNakhon",
    }
    if instance is not None:
        entity[attr] = instance
    # The entity is created through the temporal API, deleted from through the core API.
    created = client.post("/temporal/entities", json=entity)
    assert created.status_code == 201, created.text
    assert_no_content(client.delete(f"/entities/{CAR}/attrs/{attr}"))

    found = instances_of(client, CAR, timeproperty="deletedAt")
    assert set(found) == {"id", "type", attr}
    (only,) = found[attr]
    deleted_at = only.pop("deletedAt")
    assert only.pop("instanceId").startswith("urn:")
    assert only == tombstone
    assert ms_of(deleted_at) > ms_of("2024-01-02T00:00:00Z")

    as_values = instances_of(client, CAR, timeproperty="deletedAt", options="temporalValues")
    key = next(k for k in simplified if k != "type")
    pairs = [[simplified[key][0][0], deleted_at]]
    assert as_values == {"id": CAR, "type": "Vehicle", attr: {**simplified, key: pairs}}

    after = instances_of(
        client, CAR, timeproperty="deletedAt", timerel="after", timeAt="2000-01-01T00:00:00Z"
    )
    assert set(after) == {"id", "type", attr}
    before = instances_of(
        client, CAR, timeproperty="deletedAt", timerel="before", timeAt="2000-01-01T00:00:00Z"
    )
    assert before == {"id": CAR, "type": "Vehicle"}
    assert instances_of(client, CAR, timeproperty="createdAt").keys() >= {"speed"}


def test_deleting_one_dataset_through_the_core_api(client: httpx.Client) -> None:
    entity = {
        "id": CAR,
        "type": "Vehicle",
        "fuel": [prop(50), prop(40, datasetId=FUEL_A)],
    }
    assert client.post("/entities", json=entity).status_code == 201
    assert_no_content(client.delete(f"/entities/{CAR}/attrs/fuel", params={"datasetId": FUEL_A}))
    found = without_ids(instances_of(client, CAR, timeproperty="deletedAt"))
    (tombstone,) = found["fuel"]
    assert tombstone.pop("deletedAt")
    assert tombstone == {"type": "Property", "value": NULL, "datasetId": FUEL_A}


def test_a_core_entity_delete_tombstones_every_instance_and_keeps_the_history(
    client: httpx.Client,
) -> None:
    entity = {
        "id": CAR,
        "type": "Vehicle",
        "speed": prop(80, "2024-01-01T00:00:00Z"),
        "fuel": [
            prop(50, "2024-01-01T00:00:00Z"),
            prop(40, "2024-01-01T00:00:00Z", datasetId=FUEL_A),
        ],
    }
    assert client.post("/entities", json=entity).status_code == 201
    assert_no_content(client.delete(f"/entities/{CAR}"))
    assert_problem(client.get(f"/entities/{CAR}"), 404, "ResourceNotFound")
    tombstones = without_ids(instances_of(client, CAR, timeproperty="deletedAt"))
    assert set(tombstones) == {"id", "type", "speed", "fuel"}
    for instances in (tombstones["speed"], tombstones["fuel"]):
        for tombstone in instances:
            assert ms_of(tombstone.pop("deletedAt")) > ms_of("2024-01-02T00:00:00Z")
    assert tombstones["speed"] == [{"type": "Property", "value": NULL}]
    assert sorted(tombstones["fuel"], key=lambda i: i.get("datasetId", "")) == [
        {"type": "Property", "value": NULL},
        {"type": "Property", "value": NULL, "datasetId": FUEL_A},
    ]
    observed = instances_of(client, CAR)
    assert values(observed, "speed") == [(80, "2024-01-01T00:00:00Z", None)]
    assert sorted(values(observed, "fuel"), key=str) == sorted(
        [(50, "2024-01-01T00:00:00Z", None), (40, "2024-01-01T00:00:00Z", FUEL_A)], key=str
    )


# --- paging ---------------------------------------------------------------------------------------

LONG = "urn:ngsi-ld:Vehicle:long"
SHORT = "urn:ngsi-ld:Vehicle:short"


def day(d: int, hour: int) -> str:
    return f"2020-01-0{d}T{hour:02d}:00:00Z"


def long_histories(client: httpx.Client) -> None:
    """LONG: speed 0..5 on day 1, fuel 0..5 on day 2; SHORT: speed at 00:30 and 01:30 on day
    1."""
    long = temporal_entity(
        LONG,
        "Vehicle",
        speed=[prop(i, day(1, i)) for i in range(6)],
        fuel=[prop(i, day(2, i)) for i in range(6)],
    )
    short = temporal_entity(
        SHORT,
        "Vehicle",
        speed=[prop(i, f"2020-01-01T0{i}:30:00Z") for i in range(2)],
    )
    assert client.post("/temporal/entities", json=long).status_code == 201
    assert client.post("/temporal/entities", json=short).status_code == 201


def numbers(body: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {k: [i["value"] for i in v] for k, v in body.items() if isinstance(v, list)}


def test_a_long_history_is_paged_with_one_cut_for_every_attribute(paged: httpx.Client) -> None:
    long_histories(paged)
    response = paged.get(f"/temporal/entities/{LONG}")
    assert response.status_code == 206, response.text
    assert response.headers["content-range"] == f"date-time {day(1, 0)}-{day(1, 2)}/*"
    assert numbers(response.json()) == {"speed": [0, 1, 2], "fuel": []}
    simplified = paged.get(f"/temporal/entities/{LONG}", params={"options": "temporalValues"})
    assert simplified.status_code == 206
    assert simplified.json()["fuel"] == {"type": "Property", "values": []}


def test_last_n_pages_from_the_newest(paged: httpx.Client) -> None:
    long_histories(paged)
    response = paged.get(f"/temporal/entities/{LONG}", params={"lastN": "5"})
    assert response.status_code == 206, response.text
    assert response.headers["content-range"] == f"date-time {day(2, 5)}-{day(2, 3)}/5"
    assert numbers(response.json()) == {"fuel": [3, 4, 5], "speed": []}
    before = paged.get(
        f"/temporal/entities/{LONG}",
        params={"lastN": "4", "timerel": "before", "timeAt": "2021-01-01T00:00:00Z"},
    )
    assert before.status_code == 206
    assert before.headers["content-range"] == f"date-time 2021-01-01T00:00:00Z-{day(2, 3)}/4"
    between = paged.get(
        f"/temporal/entities/{LONG}",
        params={
            "lastN": "4",
            "timerel": "between",
            "timeAt": "2019-01-01T00:00:00Z",
            "endTimeAt": "2021-01-01T00:00:00Z",
        },
    )
    assert between.status_code == 206
    assert between.headers["content-range"] == f"date-time 2021-01-01T00:00:00Z-{day(2, 3)}/4"


@pytest.mark.parametrize(
    "params",
    [{"lastN": "3"}, {"lastN": "2"}, {"attrs": "speed", "timerel": "after", "timeAt": day(1, 2)}],
)
def test_no_more_than_the_limit_is_not_paged(paged: httpx.Client, params: dict[str, str]) -> None:
    long_histories(paged)
    response = paged.get(f"/temporal/entities/{LONG}", params=params)
    assert response.status_code == 200, response.text
    assert "content-range" not in response.headers


def test_paging_a_query_cuts_every_entity_at_the_same_instant(paged: httpx.Client) -> None:
    long_histories(paged)
    after = {"timerel": "after", "timeAt": "2019-01-01T00:00:00Z"}
    response = paged.get("/temporal/entities", params={"type": "Vehicle", **after})
    assert response.status_code == 206, response.text
    assert response.headers["content-range"] == f"date-time 2019-01-01T00:00:00Z-{day(1, 2)}/*"
    bodies = {body["id"]: numbers(body) for body in response.json()}
    assert bodies == {LONG: {"speed": [0, 1, 2], "fuel": []}, SHORT: {"speed": [0, 1]}}
    posted = paged.post(
        "/temporal/entityOperations/query",
        json={"type": "Query", "entities": [{"type": "Vehicle"}], "temporalQ": after},
    )
    assert posted.status_code == 206
    assert posted.headers["content-range"] == response.headers["content-range"]


def test_walking_the_pages_returns_every_instance_once(paged: httpx.Client) -> None:
    long_histories(paged)
    seen: dict[str, list[Any]] = {}
    start = "2019-01-01T00:00:00Z"
    for _ in range(10):
        response = paged.get(
            f"/temporal/entities/{LONG}", params={"timerel": "after", "timeAt": start}
        )
        assert response.status_code in (200, 206), response.text
        for attr, found in numbers(response.json()).items():
            seen.setdefault(attr, []).extend(found)
        if response.status_code == 200:
            break
        unit, rest = response.headers["content-range"].split(" ", 1)
        assert unit == "date-time"
        assert rest.startswith(f"{start}-")
        assert rest.endswith("/*")
        start = rest[len(start) + 1 : -2]
    else:
        pytest.fail("paging did not end")
    assert seen == {"speed": list(range(6)), "fuel": list(range(6))}


# --- errors -------------------------------------------------------------------------------------

T0 = "2024-03-01T10:00:00Z"
T1 = "2024-03-02T10:00:00Z"
K = f"/temporal/entities/{KNOWN}"
V = f"/temporal/entities/{TARGET}"
UNKNOWN = "/temporal/entities/urn:ngsi-ld:Vehicle:unknown"
SOME_INSTANCE = "urn:ngsi-ld:Instance:01234567890123456789"
QUERY = "/temporal/entityOperations/query"


def case(
    method: str,
    path: str,
    params: dict[str, str] | None = None,
    body: Any = None,
    *,
    id: str,
    raw: bytes | None = None,
) -> Any:
    return pytest.param(method, path, params or {}, body, raw, id=id)


BAD_REQUEST_DATA = [
    case("GET", K, {"timerel": "after"}, id="after-without-timeAt"),
    case("GET", K, {"timerel": "before"}, id="before-without-timeAt"),
    case("GET", K, {"timerel": "between", "timeAt": T0}, id="between-without-endTimeAt"),
    case("GET", K, {"timerel": "between", "timeAt": T1, "endTimeAt": T0}, id="end-before-start"),
    case("GET", K, {"timerel": "between", "timeAt": T0, "endTimeAt": T0}, id="empty-between"),
    case("GET", K, {"timerel": "during", "timeAt": T0}, id="unknown-timerel"),
    case("GET", K, {"timeAt": T0}, id="timeAt-without-timerel"),
    case("GET", K, {"timerel": "after", "timeAt": "yesterday"}, id="bad-timeAt"),
    case("GET", K, {"timerel": "after", "timeAt": "2024-03-01"}, id="date-timeAt"),
    case("GET", K, {"timerel": "between", "timeAt": T0, "endTimeAt": "soon"}, id="bad-endTimeAt"),
    case("GET", K, {"timeproperty": "observed"}, id="unknown-timeproperty"),
    case("GET", K, {"lastN": "0"}, id="lastN-0"),
    case("GET", K, {"lastN": "-1"}, id="lastN-negative"),
    case("GET", K, {"lastN": "abc"}, id="lastN-text"),
    case("GET", K, {"lastN": "1.5"}, id="lastN-fraction"),
    case("GET", K, {"lastN": "²"}, id="lastN-superscript-two"),
    case("GET", K, {"options": "aggregatedValues"}, id="no-aggrMethods"),
    case("GET", K, {"options": "aggregatedValues", "aggrMethods": "median"}, id="unknown-method"),
    case(
        "GET", K, {"format": "aggregatedValues", "aggrMethods": "sum,mode"}, id="one-unknown-method"
    ),
    *[
        case(
            "GET",
            K,
            {"options": "aggregatedValues", "aggrMethods": "sum", "aggrPeriodDuration": duration},
            id=f"duration-{duration}",
        )
        for duration in ("P1M", "P1Y", "P1Y2M", "P1MT1H", "PT0S", "-PT1H", "bad", "P99999999999D")
    ],
    case("GET", K, {"pick": "temperature", "omit": "temperature"}, id="pick-and-omit"),
    case("GET", K, {"pick": "temperature", "attrs": "temperature"}, id="pick-and-attrs"),
    case("GET", "/temporal/entities/invalidId", id="get-invalid-id"),
    case("GET", "/temporal/entities", {"timerel": "after", "timeAt": T0}, id="query-without-type"),
    case("GET", "/temporal/entities", {"type": "Sensor", "lastN": "0"}, id="query-lastN-0"),
    case("GET", "/temporal/entities", {"type": "Sensor", "timerel": "after"}, id="query-no-timeAt"),
    case(
        "POST",
        QUERY,
        body={"type": "Query", "entities": [{"type": "Sensor"}], "temporalQ": {"timerel": "after"}},
        id="post-no-timeAt",
    ),
    case(
        "POST",
        QUERY,
        body={
            "type": "Query",
            "entities": [{"type": "Sensor"}],
            "temporalQ": {"timerel": "after", "timeAt": 5},
        },
        id="post-numeric-timeAt",
    ),
    case(
        "POST",
        QUERY,
        body={"type": "Query", "entities": [{"type": "Sensor"}], "temporalQ": {"lastN": -1}},
        id="post-negative-lastN",
    ),
    case(
        "POST",
        QUERY,
        body={"type": "Query", "entities": [{"type": "Sensor"}], "temporalQ": "after"},
        id="post-temporalQ-text",
    ),
    case("POST", QUERY, body={"entities": [{"type": "Sensor"}]}, id="post-not-a-query"),
    case(
        "POST",
        "/temporal/entities",
        body={"id": "invalidId", "type": "Sensor"},
        id="create-invalid-id",
    ),
    case("POST", "/temporal/entities", body={"id": "", "type": "Sensor"}, id="create-empty-id"),
    case(
        "POST",
        "/temporal/entities",
        body={"type": "Sensor", "speed": prop(1, T0)},
        id="create-without-id",
    ),
    case(
        "POST",
        "/temporal/entities",
        body={"id": TARGET, "type": "Vehicle", "speed": prop(1, "later")},
        id="create-bad-observedAt",
    ),
    case(
        "POST",
        "/temporal/entities",
        body={"id": TARGET, "type": "Vehicle", "speed": []},
        id="create-no-instance",
    ),
    case("DELETE", "/temporal/entities/invalidId", id="delete-invalid-id"),
    case(
        "POST",
        "/temporal/entities/invalidId/attrs",
        body={"speed": prop(1, T0)},
        id="append-invalid-id",
    ),
    case("POST", "/temporal/entities//attrs", body={"speed": prop(1, T0)}, id="append-empty-id"),
    case("POST", f"{V}/attrs", body={"speed": [1]}, id="append-bad-instance"),
    case("DELETE", "/temporal/entities//attrs/speed", id="delete-attr-empty-id"),
    case("DELETE", "/temporal/entities/invalidId/attrs/speed", id="delete-attr-invalid-id"),
    case("DELETE", f"{V}/attrs/invalid(Name", id="delete-attr-invalid-name"),
    case("DELETE", f"{V}/attrs/speed", {"deleteAll": "maybe"}, id="delete-attr-bad-deleteAll"),
    case(
        "PATCH",
        f"/temporal/entities/invalidId/attrs/speed/{SOME_INSTANCE}",
        body={"value": 1},
        id="patch-invalid-id",
    ),
    case(
        "PATCH",
        f"/temporal/entities//attrs/speed/{SOME_INSTANCE}",
        body={"value": 1},
        id="patch-empty-id",
    ),
    case("PATCH", f"{V}/attrs/speed/invalidId", body={"value": 1}, id="patch-invalid-instance"),
    case(
        "PATCH",
        f"{V}/attrs/invalid(Name/{SOME_INSTANCE}",
        body={"value": 1},
        id="patch-invalid-name",
    ),
    case(
        "DELETE",
        f"/temporal/entities/invalidId/attrs/speed/{SOME_INSTANCE}",
        id="delete-instance-invalid-id",
    ),
    case(
        "DELETE", f"/temporal/entities//attrs/speed/{SOME_INSTANCE}", id="delete-instance-empty-id"
    ),
    case("DELETE", f"{V}/attrs/speed/invalidId", id="delete-instance-invalid-instance"),
    case("DELETE", f"{V}/attrs/invalid(Name/{SOME_INSTANCE}", id="delete-instance-invalid-name"),
    case("DELETE", f"{V}/attrs//{SOME_INSTANCE}", id="delete-instance-empty-name"),
]
INVALID_REQUEST = [
    case("GET", K, {"format": "invalidFormat"}, id="unknown-format"),
    case("GET", K, {"options": "invalidOptions"}, id="unknown-option"),
    case("GET", K, {"options": "temporalValues,invalidOptions"}, id="one-unknown-option"),
    case(
        "GET",
        K,
        {"format": "temporalValues", "options": "aggregatedValues,x"},
        id="format-and-unknown-option",
    ),
    case("GET", K, {"invalidParams": "invalidValue"}, id="retrieve-unknown-param"),
    case("GET", K, {"count": "true"}, id="retrieve-query-param"),
    case(
        "GET",
        "/temporal/entities",
        {"type": "Sensor", "invalidParams": "x"},
        id="query-unknown-param",
    ),
    case(
        "GET",
        "/temporal/entities",
        {"type": "Sensor", "format": "keyValues"},
        id="query-core-format",
    ),
    case(
        "POST",
        QUERY,
        {"timerel": "after"},
        {"type": "Query", "entities": [{"type": "Sensor"}]},
        id="post-window-in-url",
    ),
    case(
        "POST", "/temporal/entities", {"invalidParams": "x"}, "a string", id="create-unknown-param"
    ),
    case(
        "POST",
        "/temporal/entities",
        raw=b'{"id": "urn:ngsi-ld:Vehicle:x",, }',
        id="create-invalid-json",
    ),
    case("POST", "/temporal/entities", raw=b"", id="create-empty-body"),
    case("POST", f"{V}/attrs", raw=b'{"speed": ', id="append-invalid-json"),
    case("DELETE", f"{V}/attrs/speed", {"invalidParams": "x"}, id="delete-attr-unknown-param"),
    case("DELETE", V, {"invalidParams": "x"}, id="delete-unknown-param"),
]
NOT_FOUND = [
    case("GET", UNKNOWN, id="get-unknown"),
    case("GET", K, {"attrs": "unknownAttribute"}, id="get-unknown-attribute"),
    case("GET", K, {"pick": "unknownAttribute"}, id="pick-nothing"),
    case("GET", K, {"omit": "id,type,temperature,humidity"}, id="omit-everything"),
    case("DELETE", UNKNOWN, id="delete-unknown"),
    case("POST", f"{UNKNOWN}/attrs", body={"speed": prop(1, T0)}, id="append-unknown"),
    case("DELETE", f"{UNKNOWN}/attrs/speed", id="delete-attr-unknown-entity"),
    case("DELETE", f"{V}/attrs/notExistingAttribute", id="delete-attr-unknown-attribute"),
    case(
        "DELETE",
        f"{V}/attrs/speed",
        {"datasetId": "urn:ngsi-ld:Dataset:none"},
        id="delete-attr-unknown-dataset",
    ),
    case(
        "PATCH",
        f"{UNKNOWN}/attrs/speed/{SOME_INSTANCE}",
        body={"value": 1},
        id="patch-unknown-entity",
    ),
    case(
        "PATCH",
        f"{V}/attrs/speed2/{SOME_INSTANCE}",
        body={"value": 1},
        id="patch-unknown-attribute",
    ),
    case(
        "PATCH", f"{V}/attrs/speed/{SOME_INSTANCE}", body={"value": 1}, id="patch-unknown-instance"
    ),
    case("DELETE", f"{UNKNOWN}/attrs/speed/{SOME_INSTANCE}", id="delete-instance-unknown-entity"),
    case("DELETE", f"{V}/attrs/speed2/{SOME_INSTANCE}", id="delete-instance-unknown-attribute"),
    case("DELETE", f"{V}/attrs/speed/{SOME_INSTANCE}", id="delete-instance-unknown-instance"),
]


def send(
    client: httpx.Client,
    method: str,
    path: str,
    params: dict[str, str],
    body: Any,
    raw: bytes | None,
) -> httpx.Response:
    if raw is not None:
        return client.request(
            method, path, params=params, content=raw, headers={"Content-Type": "application/json"}
        )
    if body is None:
        return client.request(method, path, params=params)
    return client.request(method, path, params=params, json=body)


def assert_target_untouched(client: httpx.Client) -> None:
    body = without_ids(instances_of(client, TARGET))
    assert body == {
        "id": TARGET,
        "type": "Vehicle",
        "speed": [prop(120, "2020-08-01T12:03:00Z"), prop(80, "2020-08-01T12:05:00Z")],
    }


@pytest.mark.parametrize(("method", "path", "params", "body", "raw"), BAD_REQUEST_DATA)
def test_bad_request_data(
    known: httpx.Client,
    method: str,
    path: str,
    params: dict[str, str],
    body: Any,
    raw: bytes | None,
) -> None:
    assert_problem(send(known, method, path, params, body, raw), 400, "BadRequestData")
    with httpx.Client(base_url=str(known.base_url), timeout=10) as fresh:
        assert_target_untouched(fresh)


@pytest.mark.parametrize(("method", "path", "params", "body", "raw"), INVALID_REQUEST)
def test_invalid_request(
    known: httpx.Client,
    method: str,
    path: str,
    params: dict[str, str],
    body: Any,
    raw: bytes | None,
) -> None:
    assert_problem(send(known, method, path, params, body, raw), 400, "InvalidRequest")
    with httpx.Client(base_url=str(known.base_url), timeout=10) as fresh:
        assert_target_untouched(fresh)


@pytest.mark.parametrize(("method", "path", "params", "body", "raw"), NOT_FOUND)
def test_resource_not_found(
    known: httpx.Client,
    method: str,
    path: str,
    params: dict[str, str],
    body: Any,
    raw: bytes | None,
) -> None:
    assert_problem(send(known, method, path, params, body, raw), 404, "ResourceNotFound")
    with httpx.Client(base_url=str(known.base_url), timeout=10) as fresh:
        assert_target_untouched(fresh)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/temporal/entities/"),
        ("PATCH", f"{V}/attrs/speed/"),
        ("PATCH", f"{V}/attrs//{SOME_INSTANCE}"),
    ],
)
def test_empty_path_segments_that_name_no_resource(
    known: httpx.Client, method: str, path: str
) -> None:
    # As the ETSI suite's client does, follow a redirect to the path without the slash.
    response = known.request(method, path, json={"value": 1}, follow_redirects=True)
    assert response.status_code == 405, response.text
    assert_target_untouched(known)


def test_an_instance_id_of_another_attribute_is_not_found(known: httpx.Client) -> None:
    speed = instances_of(known, TARGET)["speed"][0]["instanceId"]
    other = known.patch(f"{K}/attrs/temperature/{speed}", json={"value": 1})
    assert_problem(other, 404, "ResourceNotFound")
    assert_problem(known.delete(f"{K}/attrs/temperature/{speed}"), 404, "ResourceNotFound")
    assert_problem(known.delete(f"{V}/attrs/speed2/{speed}"), 404, "ResourceNotFound")
    assert_target_untouched(known)


# --- tenants ------------------------------------------------------------------------------------

BANGKOK = {"NGSILD-Tenant": "bangkok"}
HANOI = {"NGSILD-Tenant": "hanoi"}


def test_tenants_keep_their_histories_apart(client: httpx.Client) -> None:
    in_bangkok = temporal_entity(CAR, "Vehicle", speed=[prop(1, T0), prop(2, T1)])
    assert client.post("/temporal/entities", json=in_bangkok, headers=BANGKOK).status_code == 201
    path = f"/temporal/entities/{CAR}"

    assert_problem(client.get(path, headers=HANOI), 404, "NonexistentTenant")
    assert_problem(
        client.get("/temporal/entities", params={"type": "Vehicle"}, headers=HANOI),
        404,
        "NonexistentTenant",
    )
    assert_problem(client.get(path), 404, "ResourceNotFound")
    assert client.get("/temporal/entities", params={"type": "Vehicle"}).json() == []

    in_hanoi = temporal_entity(CAR, "Vehicle", speed=[prop(9, T0)])
    assert client.post("/temporal/entities", json=in_hanoi, headers=HANOI).status_code == 201
    assert [v for v, _, _ in values(instances_of_in(client, path, BANGKOK), "speed")] == [1, 2]
    assert [v for v, _, _ in values(instances_of_in(client, path, HANOI), "speed")] == [9]

    assert_problem(client.delete(path), 404, "ResourceNotFound")
    assert_no_content(client.delete(path, headers=HANOI))
    assert_problem(client.get(path, headers=HANOI), 404, "ResourceNotFound")
    assert [v for v, _, _ in values(instances_of_in(client, path, BANGKOK), "speed")] == [1, 2]
    query = client.get("/temporal/entities", params={"type": "Vehicle"}, headers=BANGKOK)
    assert [b["id"] for b in query.json()] == [CAR]
    assert query.headers.get("ngsild-tenant") == "bangkok"


def instances_of_in(client: httpx.Client, path: str, tenant: dict[str, str]) -> dict[str, Any]:
    response = client.get(path, headers=tenant)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
