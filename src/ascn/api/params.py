"""URL parameters: each route names those it takes; anything else is an InvalidRequest."""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.requests import Request

from ascn.errors import BadRequestData, InvalidRequest
from ascn.ngsild.representation import Format

FORMATS: dict[str, Format] = {
    "normalized": "normalized",
    "concise": "concise",
    "keyValues": "keyValues",
    "simplified": "keyValues",
}
_TENANT = re.compile(r"^[A-Za-z0-9_.:\-/]{1,128}$")


def check_params(request: Request, allowed: Iterable[str]) -> None:
    unknown = set(request.query_params) - set(allowed)
    if unknown:
        raise InvalidRequest(f"unknown URL parameter(s): {', '.join(sorted(unknown))}")


def options(request: Request, known: Iterable[str]) -> set[str]:
    """The options parameter as a set, each value checked against those the route knows."""
    raw = request.query_params.get("options")
    if raw is None:
        return set()
    values = {v.strip() for v in raw.split(",") if v.strip()}
    unknown = values - set(known)
    if unknown:
        raise InvalidRequest(f"unknown option(s): {', '.join(sorted(unknown))}")
    return values


def representation(request: Request, chosen: set[str]) -> Format:
    """format= wins over options= (NGSI-LD 1.8.1); normalized by default."""
    raw = request.query_params.get("format")
    if raw is not None:
        if raw not in FORMATS:
            raise InvalidRequest(f"unknown format {raw!r}")
        return FORMATS[raw]
    for name in ("keyValues", "simplified", "concise", "normalized"):
        if name in chosen:
            return FORMATS[name]
    return "normalized"


def flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw.lower() == "false":
        return False
    if raw.lower() == "true":
        return True
    raise BadRequestData(f"{name} must be true or false, not {raw!r}")


def names(request: Request, param: str) -> list[str] | None:
    raw = request.query_params.get(param)
    if raw is None:
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


def tenant(request: Request) -> str:
    raw = request.headers.get("ngsild-tenant")
    if raw is None:
        return ""
    if not _TENANT.match(raw):
        raise BadRequestData(f"NGSILD-Tenant {raw!r} is not a valid tenant name")
    return raw
