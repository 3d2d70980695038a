"""The selection of a query on entities (clause 5.7.2), as the store receives it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ascn.errors import BadRequestData, TooManyResults
from ascn.ngsild.geoquery import GeoQuery
from ascn.ngsild.qlang import Expression

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Selector:
    """Entities by id, id pattern and type expression (clause 5.2.8): all that are given hold."""

    ids: tuple[str, ...] | None = None
    types: Expression | None = None
    """A type expression: TypeName atoms joined by Logical."""
    id_pattern: str | None = None


@dataclass(frozen=True, slots=True)
class EntityQuery:
    """Which entities, in the stable order of their ids, and which page of them. Names in it
    are expanded IRIs. An entity is selected when it matches any of the selectors (if any)
    and every other condition given."""

    selectors: tuple[Selector, ...] = ()
    attrs: tuple[str, ...] | None = None
    """Attribute IRIs, at least one of which an entity must have."""
    q: Expression | None = None
    scope: Expression | None = None
    """A scopeQ expression: ScopeMatch atoms joined by Logical."""
    geo: GeoQuery | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    count: bool = False

    def selective(self) -> bool:
        """Whether it selects on more than ids (clause 5.7.2 asks for one of these)."""
        typed = any(s.types is not None for s in self.selectors)
        return typed or any(x is not None for x in (self.attrs, self.q, self.geo))


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
        raise TooManyResults(f"limit {limit} is above the maximum of {MAX_LIMIT}")
    if limit == 0 and not count:
        raise BadRequestData("limit=0 is only allowed with count=true")
