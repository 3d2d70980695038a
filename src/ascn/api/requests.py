"""What every route reads off a request: the node, the tenant and @context it works in, and
how the reader wants entities shown."""

from __future__ import annotations

from starlette.requests import Request

from ascn.api import params
from ascn.api.negotiation import JSON, JSON_LD, Payload, link_context, read_payload
from ascn.errors import BadRequestData
from ascn.ngsild.context import TermMap
from ascn.ngsild.representation import View, parse_lang
from ascn.service.entities import Scope
from ascn.service.node import Node

BASE = "/ngsi-ld/v1"
READ_OPTIONS = ("sysAttrs", "keyValues", "concise", "normalized", "simplified")


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
    chosen = params.options(request, known_options)
    attrs = params.names(request, "attrs")
    pick = params.names(request, "pick")
    omit = params.names(request, "omit")
    if pick is not None and omit is not None:
        raise BadRequestData("pick and omit cannot be used together")
    lang = request.query_params.get("lang")
    return View(
        format=params.representation(request, chosen),
        sys_attrs="sysAttrs" in chosen,
        attrs=frozenset(terms.expand(a) for a in attrs) if attrs is not None else None,
        pick=_members(pick, terms),
        omit=_members(omit, terms) or frozenset(),
        lang=parse_lang(lang) if lang is not None else None,
    )


def _members(names: list[str] | None, terms: TermMap) -> frozenset[str] | None:
    if names is None:
        return None
    return frozenset(n if n in ("id", "type", "scope") else terms.expand(n) for n in names)
