"""Media types, the JSON-LD Link header and request bodies (clause 6.3)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from ascn.errors import (
    BadRequestData,
    InvalidRequest,
    LengthRequired,
    NotAcceptable,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from ascn.ngsild.entity import check_nesting

JSON = "application/json"
JSON_LD = "application/ld+json"
GEO_JSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"

_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_PARAM = re.compile(r';\s*([A-Za-z-]+)\s*=\s*"?([^";]*)"?')


@dataclass(frozen=True, slots=True)
class Payload:
    """A parsed request body, its media type and the @context URL of its Link header."""

    body: Any
    media_type: str
    link: str | None

    def context(self, document: Any | None = None) -> Any:
        """The user @context of the body, or of one document in it (a batch item); None: core.

        application/ld+json carries it in the document and forbids the Link header;
        application/json takes it from the Link header and forbids it in the document."""
        document = self.body if document is None else document
        if self.media_type == JSON_LD:
            if not isinstance(document, dict) or "@context" not in document:
                raise BadRequestData("a body sent as application/ld+json needs an @context member")
            return document["@context"]
        if isinstance(document, dict) and "@context" in document:
            raise BadRequestData("a body sent as application/json must not hold an @context")
        return self.link


def media_type(header: str | None) -> str:
    return (header or "").split(";")[0].strip().lower()


def link_context(request: Request) -> str | None:
    """The @context URL of a Link header with the JSON-LD context relation, if any."""
    header = request.headers.get("link")
    if not header:
        return None
    found: list[str] = []
    for match in _LINK.finditer(header):
        params = {k.lower(): v for k, v in _PARAM.findall(match.group(2))}
        if params.get("rel") == CONTEXT_REL:
            found.append(match.group(1).strip())
    if len(found) > 1:
        raise BadRequestData("more than one JSON-LD context Link header")
    if found and not found[0]:
        raise BadRequestData("the JSON-LD context Link header names no URL")
    return found[0] if found else None


def check_content_type(request: Request, allowed: tuple[str, ...] = (JSON, JSON_LD)) -> str:
    kind = media_type(request.headers.get("content-type"))
    if kind not in allowed:
        raise UnsupportedMediaType(
            f"Content-Type {kind or '(none)'} is not supported here: use {' or '.join(allowed)}"
        )
    return kind


async def read_payload(
    request: Request,
    max_bytes: int,
    max_nesting: int,
    allowed: tuple[str, ...] = (JSON, JSON_LD),
    shape: type = dict,
) -> Payload:
    """Read and parse a request body, which must be a JSON object (or array, with shape=list)."""
    kind = check_content_type(request, allowed)
    body = await read_body(request, max_bytes)
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidRequest(f"the body is not valid JSON: {error}") from None
    if not isinstance(document, shape):
        raise InvalidRequest(f"the body must be a JSON {'array' if shape is list else 'object'}")
    check_nesting(document, max_nesting)
    link = link_context(request)
    if kind == JSON_LD and link is not None:
        raise BadRequestData("with application/ld+json the @context goes in the body, not Link")
    return Payload(document, kind, link)


async def read_body(request: Request, max_bytes: int) -> bytes:
    length = request.headers.get("content-length")
    if length is None and request.headers.get("transfer-encoding") is None:
        raise LengthRequired("a request with a body needs a Content-Length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def accepted(request: Request, offered: tuple[str, ...] = (JSON, JSON_LD)) -> str:
    """The response media type for the Accept header (clause 6.3.6), else 406."""
    header = request.headers.get("accept")
    if not header:
        return offered[0]
    ranges: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        kind, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranges.append((-quality, index, kind.lower()))
    for _, _, kind in sorted(ranges):
        if kind in offered:
            return kind
        if kind in ("*/*", "application/*"):
            return offered[0]
    raise NotAcceptable(f"none of {header!r} can be served: offered {', '.join(offered)}")
