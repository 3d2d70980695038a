"""Temporal queries (clauses 5.7.3, 5.7.4, 4.11): the time window, lastN, the representation
asked for (normalized, temporalValues, aggregatedValues) and the aggregation's methods and
period."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import isodate

from ascn.errors import BadRequestData, PayloadTooLarge
from ascn.ngsild import names
from ascn.ngsild.attribute import Instance, parse_instance
from ascn.ngsild.context import TermMap
from ascn.ngsild.entity import (
    GEO_ATTRIBUTES,
    Entity,
    Limits,
    check_text,
    parse_scope,
    parse_types,
)
from ascn.ngsild.history import millis
from ascn.ngsild.query import EntityQuery
from ascn.ngsild.timestamps import check_time

TIMERELS = ("before", "after", "between")
TIMEPROPERTIES = {
    "observedAt": "observed",
    "createdAt": "created",
    "modifiedAt": "modified",
    "deletedAt": "deleted",
}
"""Each time property, and the stores' column prefix for it."""
METHODS = ("totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq")
FORMATS = ("normalized", "temporalValues", "aggregatedValues")
MAX_PERIOD_MS = 10_000 * 366 * 86_400_000


@dataclass(frozen=True, slots=True)
class Window:
    """Which instances of an attribute's history: by a time property, within bounds."""

    timeproperty: str = "observedAt"
    timerel: str | None = None
    time_at: str | None = None
    end_time_at: str | None = None
    last_n: int | None = None

    @property
    def column(self) -> str:
        return TIMEPROPERTIES[self.timeproperty]

    def bounds(self) -> tuple[int | None, bool, int | None]:
        """(lower bound in ms, whether it is included, upper bound in ms, excluded)."""
        at, end = millis(self.time_at), millis(self.end_time_at)
        if self.timerel == "before":
            return None, False, at
        if self.timerel == "after":
            return at, False, None
        if self.timerel == "between":
            return at, True, end
        return None, False, None


def window(
    timerel: str | None,
    time_at: str | None,
    end_time_at: str | None,
    timeproperty: str | None,
    last_n: str | None,
) -> Window:
    """A Window from the parameters of a request (or the members of a temporalQ)."""
    if timeproperty is not None and timeproperty not in TIMEPROPERTIES:
        raise BadRequestData(f"timeproperty must be one of {', '.join(TIMEPROPERTIES)}")
    if timerel is not None:
        if timerel not in TIMERELS:
            raise BadRequestData(f"timerel must be one of {', '.join(TIMERELS)}")
        if time_at is None:
            raise BadRequestData(f"timerel={timerel} needs timeAt")
        check_time(time_at, "timeAt")
        if timerel == "between":
            if end_time_at is None:
                raise BadRequestData("timerel=between needs endTimeAt")
            check_time(end_time_at, "endTimeAt")
            if (millis(end_time_at) or 0) <= (millis(time_at) or 0):
                raise BadRequestData("endTimeAt must be later than timeAt")
    elif time_at is not None or end_time_at is not None:
        raise BadRequestData("timeAt and endTimeAt need timerel")
    count = None
    if last_n is not None:
        if re.fullmatch(r"[0-9]{1,9}", last_n) is None or int(last_n) < 1:
            raise BadRequestData(f"lastN must be a positive integer, not {last_n!r}")
        count = int(last_n)
    return Window(timeproperty or "observedAt", timerel, time_at, end_time_at, count)


@dataclass(frozen=True, slots=True)
class Aggregation:
    methods: tuple[str, ...]
    period_ms: int | None
    """The length of each period; None: one period over the whole window."""


def aggregation(methods: str | None, period: str | None) -> Aggregation:
    if not methods:
        raise BadRequestData("aggregatedValues needs aggrMethods")
    chosen = tuple(dict.fromkeys(m.strip() for m in methods.split(",")))
    unknown = [m for m in chosen if m not in METHODS]
    if unknown:
        raise BadRequestData(f"unknown aggrMethods {unknown}: use {', '.join(METHODS)}")
    return Aggregation(chosen, duration_ms(period) if period else None)


def duration_ms(text: str) -> int:
    """An ISO 8601 duration of fixed length (weeks, days, hours, minutes, seconds) in ms."""
    try:
        duration = isodate.parse_duration(text)
        if isinstance(duration, isodate.Duration):
            if duration.years or duration.months:
                raise BadRequestData(
                    f"aggrPeriodDuration {text!r}: periods of months or years are not supported"
                )
            duration = duration.tdelta
        ms = round(float(duration.total_seconds()) * 1000)
    except (isodate.ISO8601Error, ValueError, OverflowError):
        raise BadRequestData(f"aggrPeriodDuration {text!r} is not a usable duration") from None
    if ms > MAX_PERIOD_MS:
        raise BadRequestData(f"aggrPeriodDuration {text!r} is longer than 10,000 years")
    if ms <= 0:
        raise BadRequestData(f"aggrPeriodDuration {text!r} must be longer than zero")
    return ms


@dataclass(frozen=True, slots=True)
class TemporalQuery:
    """What a temporal retrieval or query asks: which entities (a query's selection, or ids),
    which attributes and datasets, which instances, and how to show them."""

    selection: EntityQuery
    window: Window
    attrs: frozenset[str] | None = None
    datasets: frozenset[str] | None = None
    """datasetIds to keep ("@none": the default instance)."""
    format: str = "normalized"
    aggregation: Aggregation | None = None
    instance_limit: int = 100
    """Most instances of one attribute in one response (then the response is paged)."""


@dataclass(frozen=True, slots=True)
class Period:
    """The aggregates of one attribute (of one dataset) of an entity over one period."""

    entity_id: str
    attribute: str
    dataset: str
    kind: str
    index: int
    count: int
    distinct: int
    numbers: int
    total: float | None
    mean: float | None
    least: float | None
    most: float | None
    squares: float | None

    def value(self, method: str) -> Any:
        if method == "totalCount":
            return self.count
        if method == "distinctCount":
            return self.distinct
        if method == "stddev":
            if not self.numbers or self.mean is None or self.squares is None:
                return None
            if self.numbers == 1:
                return 0.0
            spread = (self.squares - self.numbers * self.mean**2) / (self.numbers - 1)
            return math.sqrt(max(0.0, spread))
        figure = {
            "sum": self.total,
            "avg": self.mean,
            "min": self.least,
            "max": self.most,
            "sumsq": self.squares,
        }[method]
        return None if figure is None else float(figure)


def parse_temporal(
    raw: Any, terms: TermMap, limits: Limits, *, fragment: bool = False
) -> tuple[Entity, list[tuple[str, Instance]]]:
    """A temporal representation (clause 5.6.11): the entity's id, type and scope, and every
    attribute instance it holds (an attribute is one instance or an array of them, any number
    per datasetId). A `fragment` (clause 5.6.12) has attributes only."""
    if not isinstance(raw, dict):
        raise BadRequestData("a temporal entity must be a JSON object")
    head: Entity = {"attrs": {}}
    if not fragment:
        head["id"] = names.check_uri(raw.get("id"), "entity id")
        head["type"] = parse_types(raw.get("type"), terms)
    attributes = [key for key in raw if key not in names.ENTITY_MEMBERS]
    if len(attributes) > limits.max_attributes:
        raise PayloadTooLarge(
            f"{len(attributes)} attributes: at most {limits.max_attributes} are accepted"
        )
    check_text(raw)
    if "scope" in raw and not fragment:
        head["scope"] = parse_scope(raw["scope"])
    instances: list[tuple[str, Instance]] = []
    for key in attributes:
        name = names.check_name(key, "attribute name")
        if name in names.RESERVED_ATTRIBUTE_NAMES:
            raise BadRequestData(f"{name!r} is reserved and cannot name an attribute")
        iri = terms.expand(name)
        items = raw[key] if isinstance(raw[key], list) else [raw[key]]
        if not items:
            raise BadRequestData(f"attribute {name!r} has no instance")
        for item in items:
            if not isinstance(item, dict):
                raise BadRequestData(f"each instance of {name!r} must be a JSON object")
            instance = parse_instance(name, item, terms, geo=iri in GEO_ATTRIBUTES)
            if "observedAt" in instance:
                check_time(instance["observedAt"], "observedAt")
            instances.append((iri, instance))
    return head, instances


def latest(instances: list[tuple[str, Instance]]) -> dict[str, list[Instance]]:
    """The current instance of each attribute and datasetId: the latest observed (or the last
    given, without observedAt)."""
    chosen: dict[tuple[str, str | None], Instance] = {}
    for iri, instance in instances:
        key = (iri, instance.get("datasetId"))
        before = chosen.get(key)
        if before is None or (millis(instance.get("observedAt")) or 0) >= (
            millis(before.get("observedAt")) or 0
        ):
            chosen[key] = instance
    current: dict[str, list[Instance]] = {}
    for (iri, _), instance in chosen.items():
        current.setdefault(iri, []).append(instance)
    return current
