"""The selection of a query on entities (clause 5.7.2), as the store receives it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ascn.errors import BadRequestData

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class EntityQuery:
    """Which entities, in the stable order of their ids, and which page of them."""

    ids: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None
    """Type IRIs, any of which an entity must have."""
    id_pattern: str | None = None
    attrs: tuple[str, ...] | None = None
    """Attribute IRIs, at least one of which an entity must have."""
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    count: bool = False


def check_id_pattern(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        raise BadRequestData(
            f"idPattern {pattern!r} is not a regular expression: {error}"
        ) from None
    return pattern


def check_page(limit: int, offset: int, count: bool) -> None:
    if limit < 0 or offset < 0:
        raise BadRequestData("limit and offset must not be negative")
    if limit > MAX_LIMIT:
        raise BadRequestData(f"limit {limit} is above the maximum of {MAX_LIMIT}")
    if limit == 0 and not count:
        raise BadRequestData("limit=0 is only allowed with count=true")
