"""What every route reads off a request: the node, the tenant and @context it works in, and
how the reader wants entities shown."""

from __future__ import annotations

from starlette.requests import Request

from ascn.api import params
from ascn.api.negotiation import JSON, JSON_LD, Payload, link_context, read_payload
from ascn.errors import BadRequestData
from ascn.ngsild.context import TermMap
from ascn.ngsild.projection import Projection, expand_projection, parse_projection
from ascn.ngsild.representation import Format, View, parse_lang
from ascn.service.entities import Scope
from ascn.service.node import Node

BASE = "/ngsi-ld/v1"
READ_OPTIONS = ("sysAttrs", "keyValues", "concise", "normalized", "simplified")
MAX_JOIN_LEVEL = 5


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


async def payload_scope(
    request: Request,
    allowed: tuple[str, ...] = (JSON, JSON_LD),
) -> tuple[Payload, Scope]:
    """The body of a write and the scope (tenant, terms) it is read in."""
    node = node_of(request)
    payload = await read_payload(
        request, node.settings.max_body_bytes, node.settings.max_nesting, allowed
    )
    terms = await node.contexts.terms(payload.context())
    return payload, Scope(params.tenant(request), terms)


async def read_terms(request: Request) -> TermMap:
    """The terms a read is compacted with: its Link header's @context, or the core one."""
    return await node_of(request).contexts.terms(link_context(request))


def view_of(request: Request, terms: TermMap, known_options: tuple[str, ...]) -> View:
    """How the reader wants entities shown: options, format, attrs, pick, omit, lang,
    datasetId and join (clause 6.3.18, 4.21, 4.5.22)."""
    chosen = params.options(request, known_options)
    return view_with(request, terms, chosen, params.representation(request, chosen))


def view_with(request: Request, terms: TermMap, chosen: set[str], form: Format) -> View:
    """The view of `view_of`, with the options and format already read."""
    get = request.query_params.get
    attrs = params.names(request, "attrs")
    if attrs is not None and {"id", "type", "scope"} & set(attrs):
        raise BadRequestData("attrs names attributes; id, type and scope are not attributes")
    pick, omit = get("pick"), get("omit")
    if pick is not None and omit is not None:
        raise BadRequestData("pick and omit cannot be used together")
    if (pick is not None or omit is not None) and attrs is not None:
        raise BadRequestData("attrs cannot be used together with pick or omit")
    lang = get("lang")
    datasets = params.names(request, "datasetId")
    join = get("join")
    if join not in (None, "inline", "flat"):
        raise BadRequestData(f"join must be inline or flat, not {join!r}")
    level = get("joinLevel", "1")
    if not level.isdigit() or int(level) < 1:
        raise BadRequestData(f"joinLevel must be a positive integer, not {level!r}")
    return View(
        format=form,
        sys_attrs="sysAttrs" in chosen,
        attrs=frozenset(terms.expand(a) for a in attrs) if attrs is not None else None,
        pick=_projection(pick, "pick", terms),
        omit=_projection(omit, "omit", terms),
        lang=parse_lang(lang) if lang is not None else None,
        datasets=frozenset(datasets) if datasets is not None else None,
        join="inline" if join == "inline" else "flat" if join == "flat" else None,
        join_level=min(int(level), MAX_JOIN_LEVEL),
    )


def _projection(text: str | None, what: str, terms: TermMap) -> Projection | None:
    if text is None:
        return None
    return expand_projection(parse_projection(text, what), terms.expand)
