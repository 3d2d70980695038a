"""NGSI-LD DateTime values: ISO 8601 in UTC, written with milliseconds and a Z."""

from __future__ import annotations

from datetime import UTC, datetime

from ascn.errors import BadRequestData


def now() -> str:
    return format_time(datetime.now(UTC))


def format_time(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def parse_time(value: object, what: str) -> datetime:
    """A DateTime with a time zone (a naive one is read as UTC), else BadRequestData."""
    if not isinstance(value, str) or "T" not in value:
        raise BadRequestData(f"{what} must be an ISO 8601 DateTime, not {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequestData(f"{what} must be an ISO 8601 DateTime, not {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_time(value: object, what: str) -> str:
    parse_time(value, what)
    assert isinstance(value, str)
    return value
