"""ascn.ngsild.timestamps: DateTime values in UTC with milliseconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ascn.errors import BadRequestData
from ascn.ngsild.timestamps import check_time, format_time, now, parse_time

FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def test_now_format() -> None:
    before = datetime.now(UTC)
    stamp = now()
    after = datetime.now(UTC)
    assert FORMAT.match(stamp), stamp
    moment = datetime.fromisoformat(stamp)
    assert before - timedelta(milliseconds=1) <= moment <= after


def test_format_time_utc() -> None:
    moment = datetime(2020, 8, 1, 12, 3, 4, 56789, tzinfo=UTC)
    assert format_time(moment) == "2020-08-01T12:03:04.056Z"


def test_format_time_converts_to_utc() -> None:
    moment = datetime(2020, 1, 1, 2, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(moment) == "2020-01-01T00:00:00.123Z"


def test_format_time_pads_milliseconds() -> None:
    assert format_time(datetime(2021, 3, 4, 5, 6, 7, 0, tzinfo=UTC)) == "2021-03-04T05:06:07.000Z"


@pytest.mark.parametrize(
    "value",
    [
        "2020-08-01T12:03:00Z",
        "2020-08-01T12:03:00.000Z",
        "2020-08-01T12:03:00+02:00",
        "2020-08-01T12:03:00",
        "2024-01-01T00:00:00.123456Z",
    ],
)
def test_check_time_accepts_datetimes(value: str) -> None:
    assert check_time(value, "observedAt") == value


@pytest.mark.parametrize(
    "value",
    [
        "2020-08-01",
        "12:03:00",
        "yesterday",
        "Tuesday",
        "2020-13-01T00:00:00Z",
        "2020-02-30T00:00:00Z",
        "2020-08-01T25:00:00Z",
        "",
        "T",
        5,
        None,
        1596283380.0,
        ["2020-08-01T12:03:00Z"],
    ],
)
def test_check_time_refuses_what_is_not_a_datetime(value: object) -> None:
    with pytest.raises(BadRequestData) as caught:
        check_time(value, "observedAt")
    assert "observedAt" in caught.value.detail


def test_parse_time_reads_naive_times_as_utc() -> None:
    assert parse_time("2020-08-01T12:03:00", "t") == datetime(2020, 8, 1, 12, 3, tzinfo=UTC)


def test_parse_time_keeps_the_offset() -> None:
    parsed = parse_time("2020-08-01T12:03:00+02:00", "t")
    assert parsed == datetime(2020, 8, 1, 10, 3, tzinfo=UTC)
