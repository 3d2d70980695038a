"""pick and omit (clause 4.21): which members of an entity to show, and, inside braces, of the
entities its relationships link to: "id,locatedAt{id,name,isInCountry{description}}"."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ascn.errors import BadRequestData

Projection = dict[str, Any]
"""Member name -> the Projection of the linked entity (for relationships), or None."""

_NAME = re.compile(r"[^\s,{};|()\[\]\"'=<>]+")


def parse_projection(text: str, what: str) -> Projection:
    """A pick or omit list, or BadRequestData naming the position where it went wrong."""
    projection, at = _items(text, 0, what, 0)
    if at != len(text):
        raise BadRequestData(f"invalid {what} at position {at}: unexpected {text[at]!r}")
    return projection


def _items(text: str, at: int, what: str, depth: int) -> tuple[Projection, int]:
    if depth > 8:
        raise BadRequestData(f"invalid {what}: braces nest too deeply")
    items: Projection = {}
    while True:
        match = _NAME.match(text, at)
        if match is None:
            raise BadRequestData(f"invalid {what} at position {at}: expected a member name")
        name, at = match.group(), match.end()
        nested = None
        if text.startswith("{", at):
            nested, at = _items(text, at + 1, what, depth + 1)
            if not text.startswith("}", at):
                raise BadRequestData(f"invalid {what} at position {at}: expected '}}'")
            at += 1
        items[name] = nested
        if not text.startswith(",", at):
            return items, at
        at += 1


def expand_projection(projection: Projection, iri: Callable[[str], str]) -> Projection:
    """Member names as IRIs; id, type and scope stay as they are."""
    return {
        (name if name in ("id", "type", "scope") else iri(name)): (
            expand_projection(nested, iri) if nested is not None else None
        )
        for name, nested in projection.items()
    }
