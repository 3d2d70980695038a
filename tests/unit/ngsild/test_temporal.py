"""The pure parts of the temporal API: ascn.ngsild.temporal (windows, durations, aggregation
periods, temporal payloads), ascn.ngsild.history (records derived from writes, times in ms) and
ascn.ngsild.evolution (the paging cut), over fixed examples and generated input (hypothesis)."""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ascn.errors import BadRequestData, PayloadTooLarge
from ascn.ngsild.context import core_terms
from ascn.ngsild.entity import Limits
from ascn.ngsild.evolution import page
from ascn.ngsild.history import SCOPE, Record, derive, from_millis, millis, record, tombstone
from ascn.ngsild.names import NULL
from ascn.ngsild.temporal import (
    METHODS,
    Period,
    Window,
    aggregation,
    duration_ms,
    latest,
    parse_temporal,
    window,
)

MODEST = settings(max_examples=300, deadline=None)
T = core_terms()
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST_MS = -62_135_596_800_000
"""0001-01-01T00:00:00Z."""
LAST_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z."""
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")


def iso(ms: int) -> str:
    """A DateTime in UTC, with milliseconds only when there are any (computed independently of
    ascn.ngsild.history.from_millis)."""
    moment = EPOCH + timedelta(milliseconds=ms)
    text = moment.isoformat(timespec="milliseconds" if ms % 1000 else "seconds")
    return text.replace("+00:00", "Z")


# --- window(): the time window of a request -------------------------------------------------

AT = "2024-03-01T10:00:00Z"
END = "2024-03-02T10:00:00Z"
AT_MS = 1_709_287_200_000
END_MS = AT_MS + 86_400_000


def test_no_window_selects_everything_by_observed_at() -> None:
    assert window(None, None, None, None, None) == Window()
    assert Window().bounds() == (None, False, None)
    assert Window().column == "observed"


@pytest.mark.parametrize(
    ("timerel", "end", "bounds"),
    [
        ("before", None, (None, False, AT_MS)),
        ("after", None, (AT_MS, False, None)),
        ("between", END, (AT_MS, True, END_MS)),
    ],
)
def test_timerels_and_their_bounds(
    timerel: str, end: str | None, bounds: tuple[int | None, bool, int | None]
) -> None:
    """before: t < timeAt; after: t > timeAt; between: timeAt <= t < endTimeAt."""
    found = window(timerel, AT, end, None, None)
    assert found == Window("observedAt", timerel, AT, end, None)
    assert found.bounds() == bounds


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("observedAt", "observed"),
        ("createdAt", "created"),
        ("modifiedAt", "modified"),
        ("deletedAt", "deleted"),
    ],
)
def test_time_properties(name: str, column: str) -> None:
    found = window("after", AT, None, name, None)
    assert found.timeproperty == name
    assert found.column == column


@pytest.mark.parametrize(("text", "count"), [("1", 1), ("4", 4), ("100", 100), ("007", 7)])
def test_last_n(text: str, count: int) -> None:
    assert window(None, None, None, None, text).last_n == count


@pytest.mark.parametrize(
    "args",
    [
        ("after", None, None, None, None),
        ("before", None, None, None, None),
        ("between", None, END, None, None),
        ("between", AT, None, None, None),
        ("between", AT, AT, None, None),
        ("between", END, AT, None, None),
        ("within", AT, None, None, None),
        ("After", AT, None, None, None),
        (None, AT, None, None, None),
        (None, None, END, None, None),
        ("after", "2024-03-01", None, None, None),
        ("after", "yesterday", None, None, None),
        ("after", "", None, None, None),
        ("between", AT, "tomorrow", None, None),
        ("after", AT, None, "observed", None),
        ("after", AT, None, "", None),
        (None, None, None, None, "0"),
        (None, None, None, None, "-1"),
        (None, None, None, None, "1.5"),
        (None, None, None, None, "x"),
        (None, None, None, None, ""),
        (None, None, None, None, " 3"),
        (None, None, None, None, "²"),
        (None, None, None, None, "³"),
    ],
)
def test_malformed_windows_are_bad_request_data(
    args: tuple[str | None, str | None, str | None, str | None, str | None],
) -> None:
    with pytest.raises(BadRequestData):
        window(*args)


def _text_or_none(*usual: str) -> st.SearchStrategy[str | None]:
    return st.none() | st.sampled_from(usual) | st.text(max_size=30)


@MODEST
@given(
    _text_or_none("before", "after", "between"),
    _text_or_none(AT, "2024-03-01T10:00:00.500+07:00", "1970-01-01T00:00:00Z"),
    _text_or_none(END, "2100-01-01T00:00:00Z"),
    _text_or_none("observedAt", "createdAt", "modifiedAt", "deletedAt"),
    _text_or_none("1", "20", "0"),
)
@example(None, None, None, None, "²")
@example(None, None, None, None, "\u0661\u00b2")
@example("between", AT, "0001-01-01T00:00:00Z", None, None)
def test_window_never_raises_anything_but_bad_request_data(
    timerel: str | None,
    time_at: str | None,
    end_time_at: str | None,
    timeproperty: str | None,
    last_n: str | None,
) -> None:
    """Whatever a client sends, a window is either built (with bounds) or refused with
    BadRequestData: never an internal error."""
    try:
        found = window(timerel, time_at, end_time_at, timeproperty, last_n)
        low, _, high = found.bounds()
    except BadRequestData:
        return
    assert found.timerel in (None, "before", "after", "between")
    assert found.timeproperty in ("observedAt", "createdAt", "modifiedAt", "deletedAt")
    assert found.last_n is None or found.last_n >= 1
    if found.timerel == "between":
        assert low is not None
        assert high is not None
        assert low < high


# --- aggregation(), duration_ms() ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("PT1S", 1_000),
        ("PT0.5S", 500),
        ("PT1M", 60_000),
        ("PT20M", 1_200_000),
        ("PT1H", 3_600_000),
        ("PT1H30M", 5_400_000),
        ("P1D", 86_400_000),
        ("P1DT12H", 129_600_000),
        ("P1.5D", 129_600_000),
        ("P1W", 604_800_000),
        ("P2W", 1_209_600_000),
        ("P0Y0M1D", 86_400_000),
    ],
)
def test_durations_of_fixed_length(text: str, ms: int) -> None:
    assert duration_ms(text) == ms


@pytest.mark.parametrize(
    "text",
    [
        "P1M",
        "P1Y",
        "P1Y2M",
        "P0.5Y",
        "P1MT1H",
        "P3M",
        "PT0S",
        "P0D",
        "PT",
        "P",
        "-PT1H",
        "PT-1H",
        "1H",
        "PT1e3S",
        "bad",
        "",
        "PT0.0001S",
        "P99999999999D",
        "P9999999999W",
        "PT99999999999999999999H",
    ],
)
def test_durations_that_are_refused(text: str) -> None:
    """Months and years have no fixed length; zero, negative, malformed and absurdly long
    durations are refused too, as BadRequestData."""
    with pytest.raises(BadRequestData):
        duration_ms(text)


@MODEST
@given(
    st.integers(0, 400),
    st.integers(0, 48),
    st.integers(0, 120),
    st.integers(0, 4000),
)
def test_durations_from_their_parts(days: int, hours: int, minutes: int, seconds: int) -> None:
    text = f"P{days}DT{hours}H{minutes}M{seconds}S"
    expected = (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000
    if expected == 0:
        with pytest.raises(BadRequestData):
            duration_ms(text)
    else:
        assert duration_ms(text) == expected


@MODEST
@given(st.text(max_size=40) | st.from_regex(r"\AP(\d{1,14}[YMWD])?(T\d{1,20}[HMS])?\Z"))
@example("P99999999999D")
@example("PT99999999999999999999H")
def test_duration_ms_never_raises_anything_but_bad_request_data(text: str) -> None:
    try:
        ms = duration_ms(text)
    except BadRequestData:
        return
    assert isinstance(ms, int)
    assert ms > 0


def test_aggregation_methods_are_checked_and_deduplicated() -> None:
    found = aggregation("max, min,max,sum", "PT1H")
    assert found.methods == ("max", "min", "sum")
    assert found.period_ms == 3_600_000
    assert aggregation(",".join(METHODS), None).period_ms is None
    assert aggregation(",".join(METHODS), None).methods == METHODS


@pytest.mark.parametrize(
    ("methods", "period"),
    [
        (None, "PT1H"),
        ("", "PT1H"),
        ("median", "PT1H"),
        ("sum,median", "PT1H"),
        ("Sum", None),
        ("sum,", None),
        ("sum", "P1M"),
        ("sum", "nonsense"),
    ],
)
def test_bad_aggregations_are_bad_request_data(methods: str | None, period: str | None) -> None:
    with pytest.raises(BadRequestData):
        aggregation(methods, period)


# --- Period.value ----------------------------------------------------------------------------


def period_of(values: list[float], others: int = 0) -> Period:
    """The aggregates a store computes over `values` (and `others` non-numeric values)."""
    count = len(values)
    return Period(
        entity_id="urn:ngsi-ld:Sensor:1",
        attribute="https://example.org/temperature",
        dataset="",
        kind="Property",
        index=0,
        count=count + others,
        distinct=len(set(values)) + others,
        numbers=count,
        total=float(sum(values)) if values else None,
        mean=sum(values) / count if values else None,
        least=float(min(values)) if values else None,
        most=float(max(values)) if values else None,
        squares=float(sum(v * v for v in values)) if values else None,
    )


def test_period_values_of_every_method() -> None:
    period = period_of([2, 4, 4, 4, 5, 5, 7, 9])
    assert period.value("totalCount") == 8
    assert period.value("distinctCount") == 5
    assert period.value("sum") == 40.0
    assert period.value("avg") == 5.0
    assert period.value("min") == 2.0
    assert period.value("max") == 9.0
    assert period.value("sumsq") == 232.0
    assert period.value("stddev") == pytest.approx(statistics.stdev([2, 4, 4, 4, 5, 5, 7, 9]))
    for method in ("sum", "avg", "min", "max", "sumsq", "stddev"):
        assert isinstance(period.value(method), float)


def test_stddev_is_the_sample_standard_deviation() -> None:
    """n - 1 in the denominator (statistics.stdev), not n (statistics.pstdev)."""
    assert period_of([1, 3]).value("stddev") == pytest.approx(math.sqrt(2))
    assert period_of([1, 3]).value("stddev") != pytest.approx(statistics.pstdev([1, 3]))


def test_stddev_of_one_number_is_zero_and_of_none_is_null() -> None:
    assert period_of([42.5]).value("stddev") == 0.0
    nothing = period_of([], others=3)
    assert nothing.value("stddev") is None
    for method in ("sum", "avg", "min", "max", "sumsq"):
        assert nothing.value(method) is None
    assert nothing.value("totalCount") == 3
    assert nothing.value("distinctCount") == 3


@MODEST
@given(st.lists(st.integers(-1000, 1000) | st.sampled_from([0.5, -2.25, 99.75]), min_size=1))
def test_period_values_agree_with_plain_python(values: list[float]) -> None:
    period = period_of(values)
    assert period.value("totalCount") == len(values)
    assert period.value("sum") == pytest.approx(sum(values))
    assert period.value("avg") == pytest.approx(statistics.fmean(values))
    assert period.value("min") == min(values)
    assert period.value("max") == max(values)
    assert period.value("sumsq") == pytest.approx(sum(v * v for v in values))
    expected = statistics.stdev(values) if len(values) > 1 else 0.0
    assert period.value("stddev") == pytest.approx(expected, rel=1e-9, abs=1e-6)


# --- parse_temporal() and latest() ---------------------------------------------------------


def reading(value: Any, observed: str | None = None, **more: Any) -> dict[str, Any]:
    instance: dict[str, Any] = {"type": "Property", "value": value, **more}
    if observed is not None:
        instance["observedAt"] = observed
    return instance


def test_parse_temporal_gives_every_instance() -> None:
    raw = {
        "id": "urn:ngsi-ld:Sensor:1",
        "type": "Sensor",
        "temperature": [reading(1, "2024-01-01T00:00:00Z"), reading(2, "2024-01-01T01:00:00Z")],
        "humidity": reading(50, "2024-01-01T00:00:00Z", datasetId="urn:ngsi-ld:Dataset:a"),
    }
    head, instances = parse_temporal(raw, T, Limits())
    assert head["id"] == "urn:ngsi-ld:Sensor:1"
    assert head["type"] == [T.expand("Sensor")]
    assert [(iri, i["value"]) for iri, i in instances] == [
        (T.expand("temperature"), 1),
        (T.expand("temperature"), 2),
        (T.expand("humidity"), 50),
    ]
    assert instances[2][1]["datasetId"] == "urn:ngsi-ld:Dataset:a"


def test_a_fragment_has_attributes_only() -> None:
    head, instances = parse_temporal(
        {"speed": [reading(1, "2024-01-01T00:00:00Z")]}, T, Limits(), fragment=True
    )
    assert "id" not in head
    assert len(instances) == 1


@pytest.mark.parametrize(
    "raw",
    [
        [],
        "entity",
        {"type": "Sensor"},
        {"id": "not a uri", "type": "Sensor"},
        {"id": "urn:ngsi-ld:Sensor:1"},
        {"id": "urn:ngsi-ld:Sensor:1", "type": "Sensor", "speed": []},
        {"id": "urn:ngsi-ld:Sensor:1", "type": "Sensor", "speed": [1, 2]},
        {"id": "urn:ngsi-ld:Sensor:1", "type": "Sensor", "speed": reading(1, "yesterday")},
        {"id": "urn:ngsi-ld:Sensor:1", "type": "Sensor", "bad(name": reading(1)},
    ],
)
def test_malformed_temporal_payloads(raw: Any) -> None:
    with pytest.raises(BadRequestData):
        parse_temporal(raw, T, Limits())


def test_too_many_attributes() -> None:
    raw = {"id": "urn:ngsi-ld:Sensor:1", "type": "Sensor", "a": reading(1), "b": reading(2)}
    with pytest.raises(PayloadTooLarge):
        parse_temporal(raw, T, Limits(max_attributes=1))


def test_latest_keeps_the_newest_observed_instance_per_attribute_and_dataset() -> None:
    a, b = "https://example.org/a", "https://example.org/b"
    instances = [
        (a, reading(1, "2024-01-01T02:00:00Z")),
        (a, reading(2, "2024-01-01T01:00:00Z")),
        (a, reading(3, "2024-01-01T00:00:00Z", datasetId="urn:d")),
        (a, reading(4, "2024-01-01T00:30:00+00:00", datasetId="urn:d")),
        (b, reading(5)),
        (b, reading(6)),
    ]
    current = latest(instances)
    assert sorted(i["value"] for i in current[a]) == [1, 4]
    assert [i["value"] for i in current[b]] == [6]


# --- millis() and from_millis() ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.001Z", 1),
        ("1969-12-31T23:59:59.999Z", -1),
        ("2024-03-01T10:00:00Z", AT_MS),
        ("2024-03-01T17:00:00+07:00", AT_MS),
        ("2024-03-01T10:00:00", AT_MS),
        ("2024-03-01T10:00:00.250Z", AT_MS + 250),
    ],
)
def test_millis(text: str, ms: int) -> None:
    assert millis(text) == ms


def test_millis_of_none_is_none() -> None:
    assert millis(None) is None


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (AT_MS, "2024-03-01T10:00:00Z"),
        (AT_MS + 500, "2024-03-01T10:00:00.500Z"),
        (LAST_MS, "9999-12-31T23:59:59.999Z"),
        (FIRST_MS, "0001-01-01T00:00:00Z"),
        (-30_610_224_000_001, "0999-12-31T23:59:59.999Z"),
    ],
)
def test_from_millis(ms: int, text: str) -> None:
    """Without milliseconds when the time is a whole second; years always have four digits."""
    assert from_millis(ms) == text


@MODEST
@given(st.integers(FIRST_MS, LAST_MS))
@example(FIRST_MS)
@example(0)
def test_from_millis_and_millis_round_trip(ms: int) -> None:
    text = from_millis(ms)
    assert DATETIME.match(text), text
    assert ("." in text) == (ms % 1000 != 0)
    assert text == iso(ms)
    assert millis(text) == ms


# --- record(), tombstone() and derive() ------------------------------------------------------

E = "urn:ngsi-ld:Sensor:1"
A = "https://example.org/a"
B = "https://example.org/b"
C = "https://example.org/c"
STAMPS = ["2024-01-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z", "2024-01-03T00:00:00.000Z"]
MOMENT = "2024-06-01T00:00:00.000Z"


def stamped(value: Any, modified: str, dataset: str | None = None, **more: Any) -> dict[str, Any]:
    instance: dict[str, Any] = {
        "type": "Property",
        "value": value,
        "createdAt": STAMPS[0],
        "modifiedAt": modified,
        **more,
    }
    if dataset is not None:
        instance["datasetId"] = dataset
    return instance


def entity(attrs: Mapping[str, list[dict[str, Any]]], **more: Any) -> dict[str, Any]:
    return {
        "id": E,
        "type": ["https://example.org/Sensor"],
        "createdAt": STAMPS[0],
        "modifiedAt": MOMENT,
        "attrs": {k: list(v) for k, v in attrs.items()},
        **more,
    }


def test_record_moves_the_system_times_out_of_the_instance() -> None:
    instance = stamped(5, STAMPS[1], "urn:d", observedAt="2023-01-01T00:00:00Z")
    found = record(E, A, instance)
    assert found.entity_id == E
    assert found.attribute == A
    assert found.dataset == "urn:d"
    assert found.instance == {
        "type": "Property",
        "value": 5,
        "datasetId": "urn:d",
        "observedAt": "2023-01-01T00:00:00Z",
    }
    assert found.observed_at == "2023-01-01T00:00:00Z"
    assert found.created_at == STAMPS[0]
    assert found.modified_at == STAMPS[1]
    assert found.deleted_at is None
    assert found.instance_id.startswith("urn:ngsi-ld:")
    assert record(E, A, instance).instance_id != found.instance_id
    assert record(E, A, stamped(5, STAMPS[1])).dataset == ""


@pytest.mark.parametrize(
    ("attribute", "instance", "kept"),
    [
        (A, {"type": "Property", "value": 3}, {"type": "Property", "value": NULL}),
        (A, {"type": "GeoProperty", "value": {}}, {"type": "GeoProperty", "value": NULL}),
        (A, {"type": "Relationship", "object": "urn:x"}, {"type": "Relationship", "object": NULL}),
        (
            A,
            {"type": "LanguageProperty", "languageMap": {"en": "x"}},
            {"type": "LanguageProperty", "languageMap": {"@none": NULL}},
        ),
        (A, {"type": "JsonProperty", "json": {"a": 1}}, {"type": "JsonProperty", "json": NULL}),
        (A, {"type": "VocabProperty", "vocab": "x"}, {"type": "VocabProperty", "vocab": NULL}),
        (
            A,
            {"type": "Property", "value": 3, "datasetId": "urn:d", "observedAt": "2024-01-01"},
            {"type": "Property", "value": NULL, "datasetId": "urn:d"},
        ),
        (SCOPE, {"type": "Property", "value": ["/a"]}, {"type": "Property", "value": []}),
    ],
)
def test_tombstones_carry_the_kind_a_null_value_and_the_deletion_time(
    attribute: str, instance: dict[str, Any], kept: dict[str, Any]
) -> None:
    found = tombstone(E, attribute, instance, MOMENT)
    assert found.instance == kept
    assert found.deleted_at == MOMENT
    assert found.observed_at is None
    assert found.created_at is None
    assert found.modified_at is None
    assert found.dataset == instance.get("datasetId", "")


def summary(records: list[Record]) -> set[tuple[str, str, str, Any]]:
    """(attribute, dataset, "set" or "deleted", the value or the deletion time) of records."""
    out: set[tuple[str, str, str, Any]] = set()
    for found in records:
        if found.deleted_at is None:
            out.add((found.attribute, found.dataset, "set", found.instance.get("value")))
        else:
            out.add((found.attribute, found.dataset, "deleted", found.deleted_at))
    return out


def test_creating_an_entity_records_every_instance() -> None:
    created = entity(
        {A: [stamped(1, STAMPS[0])], B: [stamped(2, STAMPS[0]), stamped(3, STAMPS[0], "urn:d")]}
    )
    found = derive([created], [], {})
    assert summary(found) == {(A, "", "set", 1), (B, "", "set", 2), (B, "urn:d", "set", 3)}
    assert all(r.created_at == STAMPS[0] and r.modified_at == STAMPS[0] for r in found)
    assert all("createdAt" not in r.instance and "modifiedAt" not in r.instance for r in found)
    assert len({r.instance_id for r in found}) == 3


def test_an_update_records_only_the_touched_instances_and_tombstones_the_removed() -> None:
    before = entity(
        {
            A: [stamped(1, STAMPS[0])],
            B: [stamped(2, STAMPS[0]), stamped(3, STAMPS[0], "urn:d")],
            C: [stamped(4, STAMPS[0])],
        }
    )
    after = entity(
        {A: [stamped(1, STAMPS[0])], B: [stamped(20, STAMPS[1])]},
        modifiedAt=STAMPS[2],
    )
    found = derive([after], [], {E: before})
    assert summary(found) == {
        (B, "", "set", 20),
        (B, "urn:d", "deleted", STAMPS[2]),
        (C, "", "deleted", STAMPS[2]),
    }


def test_an_unchanged_entity_records_nothing() -> None:
    same = entity({A: [stamped(1, STAMPS[0])]}, scope=["/x"])
    assert derive([same], [], {E: same}) == []


def test_scope_is_recorded_when_it_changes() -> None:
    before = entity({}, scope=["/x"])
    changed = derive([entity({}, scope=["/y"], modifiedAt=STAMPS[2])], [], {E: before})
    assert len(changed) == 1
    assert changed[0].attribute == SCOPE
    assert changed[0].instance == {"type": "Property", "value": ["/y"]}
    assert changed[0].created_at == STAMPS[2]
    assert changed[0].modified_at == STAMPS[2]
    removed = derive([entity({}, modifiedAt=STAMPS[2])], [], {E: before})
    assert summary(removed) == {(SCOPE, "", "deleted", STAMPS[2])}
    assert removed[0].instance == {"type": "Property", "value": []}


def test_deleting_an_entity_tombstones_every_instance() -> None:
    gone = entity(
        {A: [stamped(1, STAMPS[0])], B: [stamped(2, STAMPS[0]), stamped(3, STAMPS[0], "urn:d")]},
        scope="/x",
    )
    found = derive([], [E, "urn:ngsi-ld:Sensor:unknown"], {E: gone})
    assert {(r.attribute, r.dataset) for r in found} == {
        (A, ""),
        (B, ""),
        (B, "urn:d"),
        (SCOPE, ""),
    }
    assert all(r.deleted_at is not None for r in found)
    assert len({r.deleted_at for r in found}) == 1
    assert all(r.instance.get("value") in (NULL, []) for r in found)


ATTRIBUTES = [A, B, C]
DATASETS = [None, "urn:ngsi-ld:Dataset:a", "urn:ngsi-ld:Dataset:b"]
attribute_maps = st.dictionaries(
    st.sampled_from(ATTRIBUTES),
    st.dictionaries(
        st.sampled_from(DATASETS),
        st.tuples(st.integers(0, 3), st.sampled_from(STAMPS)),
        min_size=1,
    ),
)


def build(shape: dict[str, dict[str | None, tuple[int, str]]]) -> dict[str, list[dict[str, Any]]]:
    return {
        iri: [
            stamped(value, modified, dataset) for dataset, (value, modified) in by_dataset.items()
        ]
        for iri, by_dataset in shape.items()
    }


@MODEST
@given(st.none() | attribute_maps, attribute_maps)
def test_derive_records_exactly_the_touched_instances_and_the_removed_ones(
    then: dict[str, dict[str | None, tuple[int, str]]] | None,
    now: dict[str, dict[str | None, tuple[int, str]]],
) -> None:
    existing = {} if then is None else {E: entity(build(then))}
    after = entity(build(now), modifiedAt=MOMENT)
    expected: set[tuple[str, str, str, Any]] = set()
    old = then or {}
    for iri, by_dataset in now.items():
        for dataset, (value, modified) in by_dataset.items():
            previous = old.get(iri, {}).get(dataset)
            if previous is None or previous[1] != modified:
                expected.add((iri, dataset or "", "set", value))
    for iri, by_dataset in old.items():
        for dataset in by_dataset:
            if dataset not in now.get(iri, {}):
                expected.add((iri, dataset or "", "deleted", MOMENT))
    found = derive([after], [], existing)
    assert summary(found) == expected
    assert len(found) == len(expected)
    for r in found:
        if r.deleted_at is None:
            value, modified = now[r.attribute][r.dataset or None]
            assert r.modified_at == modified
            assert r.instance["value"] == value


# --- page(): cutting long histories ----------------------------------------------------------

F = "urn:ngsi-ld:Sensor:2"
BASE_MS = AT_MS


def rec(entity_id: str, attribute: str, minute: int, value: int = 0) -> Record:
    return Record(
        entity_id,
        attribute,
        "",
        f"urn:ngsi-ld:Instance:{entity_id}:{attribute}:{minute}",
        {"type": "Property", "value": value},
        observed_at=iso(BASE_MS + minute * 60_000),
    )


def minutes(found: Mapping[str, list[Record]]) -> dict[str, dict[str, list[int]]]:
    out: dict[str, dict[str, list[int]]] = {}
    for entity_id, records in found.items():
        for r in records:
            at = millis(r.observed_at)
            assert at is not None
            out.setdefault(entity_id, {}).setdefault(r.attribute, []).append(
                (at - BASE_MS) // 60_000
            )
    return out


def test_nothing_is_cut_when_no_attribute_has_more_than_the_limit() -> None:
    records = {E: [rec(E, A, m) for m in range(3)] + [rec(E, B, m) for m in range(3)]}
    found = page(records, Window(), 3)
    assert found.records == records
    assert found.emptied == {}
    assert found.content_range is None


def test_the_cut_is_one_instant_for_every_attribute_of_every_entity() -> None:
    """The ETSI 020_14 case: speed on day one, fuelLevel later; the oldest first, the cut
    falls inside speed, so fuelLevel stays as an empty attribute."""
    records = {
        E: [rec(E, A, m) for m in range(4)] + [rec(E, B, 1000 + m) for m in range(4)],
        F: [rec(F, A, m) for m in (1, 2, 50)],
    }
    found = page(records, Window(), 3)
    assert minutes(found.records) == {E: {A: [0, 1, 2]}, F: {A: [1, 2]}}
    assert found.emptied == {E: frozenset({B}), F: frozenset()}
    assert found.content_range == f"date-time {iso(BASE_MS)}-{iso(BASE_MS + 120_000)}/*"


def test_with_last_n_the_newest_are_kept() -> None:
    records = {E: [rec(E, A, m) for m in range(4)] + [rec(E, B, 1000 + m) for m in range(4)]}
    found = page(records, Window(last_n=5), 3)
    assert minutes(found.records) == {E: {B: [1001, 1002, 1003]}}
    assert found.emptied == {E: frozenset({A})}
    newest, cut = iso(BASE_MS + 1003 * 60_000), iso(BASE_MS + 1001 * 60_000)
    assert found.content_range == f"date-time {newest}-{cut}/5"


@pytest.mark.parametrize(
    ("span", "start"),
    [
        (Window(timerel="after", time_at="2000-01-01T00:00:00Z"), "2000-01-01T00:00:00Z"),
        (
            Window(timerel="between", time_at="2000-01-01T00:00:00Z", end_time_at=END),
            "2000-01-01T00:00:00Z",
        ),
        (Window(timerel="before", time_at="2100-01-01T00:00:00Z"), iso(BASE_MS)),
        (
            Window(timerel="before", time_at="2100-01-01T00:00:00Z", last_n=9),
            "2100-01-01T00:00:00Z",
        ),
        (
            Window(timerel="between", time_at="2000-01-01T00:00:00Z", end_time_at=END, last_n=9),
            END,
        ),
        (
            Window(timerel="after", time_at="2000-01-01T00:00:00Z", last_n=9),
            iso(BASE_MS + 3 * 60_000),
        ),
    ],
)
def test_where_the_content_range_starts(span: Window, start: str) -> None:
    """After and between: at timeAt (oldest first); with lastN, before: at timeAt, between: at
    endTimeAt; otherwise at the first instance returned."""
    found = page({E: [rec(E, A, m) for m in range(4)]}, span, 2)
    assert found.content_range is not None
    assert found.content_range.startswith(f"date-time {start}-")
    size = "*" if span.last_n is None else str(span.last_n)
    assert found.content_range.endswith(f"/{size}")


histories = st.dictionaries(
    st.sampled_from([E, F, "urn:ngsi-ld:Sensor:3"]),
    st.dictionaries(
        st.sampled_from(ATTRIBUTES),
        st.sets(st.integers(0, 500), min_size=1, max_size=8),
        min_size=1,
    ),
    min_size=1,
)


@MODEST
@given(histories, st.integers(1, 6), st.none() | st.integers(1, 10))
def test_page_keeps_everything_up_to_the_earliest_cut(
    shape: dict[str, dict[str, set[int]]], limit: int, last_n: int | None
) -> None:
    records = {
        entity_id: [
            rec(entity_id, iri, m) for iri, times in attributes.items() for m in sorted(times)
        ]
        for entity_id, attributes in shape.items()
    }
    newest_first = last_n is not None
    found = page(records, Window(last_n=last_n), limit)
    cuts = [
        (sorted(times)[-limit] if newest_first else sorted(times)[limit - 1])
        for attributes in shape.values()
        for times in attributes.values()
        if len(times) > limit
    ]
    if not cuts:
        assert found.content_range is None
        assert found.records == records
        return
    cut = max(cuts) if newest_first else min(cuts)
    expected = {
        entity_id: {
            iri: kept
            for iri, times in attributes.items()
            if (kept := sorted(m for m in times if (m >= cut if newest_first else m <= cut)))
        }
        for entity_id, attributes in shape.items()
    }
    assert minutes(found.records) == {k: v for k, v in expected.items() if v}
    for entity_id, attributes in shape.items():
        assert found.emptied[entity_id] == set(attributes) - set(expected[entity_id])
        for kept in expected[entity_id].values():
            assert len(kept) <= limit
    returned = [m for attributes in expected.values() for kept in attributes.values() for m in kept]
    start = max(returned) if newest_first else min(returned)
    size = str(last_n) if newest_first else "*"
    assert found.content_range == (
        f"date-time {iso(BASE_MS + start * 60_000)}-{iso(BASE_MS + cut * 60_000)}/{size}"
    )
