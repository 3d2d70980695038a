"""/subscriptions (clauses 6.10, 6.11): subscriptions to changes of entities."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from ascn.api import params
from ascn.api.negotiation import JSON, JSON_LD, accepted, check_content_type
from ascn.api.requests import BASE, node_of, payload_scope, read_terms
from ascn.api.responses import linked_data, no_content
from ascn.api.routing import resource
from ascn.errors import BadRequestData
from ascn.ngsild import subscription
from ascn.ngsild.query import DEFAULT_LIMIT, MAX_LIMIT
from ascn.service.subscriptions import now_ms


async def create(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, ())
    payload, scope = await payload_scope(request)
    context = payload.context() if payload.media_type == JSON_LD else payload.link
    new_id = await node_of(request).subscriptions.create(scope, payload.body, context)
    return no_content(201, {"Location": f"{BASE}/subscriptions/{new_id}"})


async def retrieve(request: Request) -> Response:
    media = accepted(request, (JSON, JSON_LD))
    params.check_params(request, ("options",))
    sys_attrs = "sysAttrs" in params.options(request, ("sysAttrs",))
    terms = await read_terms(request)
    stored = await node_of(request).subscriptions.retrieve(
        params.tenant(request), request.path_params["subscription_id"]
    )
    body = subscription.render(stored, terms, now_ms(), sys_attrs)
    return linked_data(body, media, terms.source_url)


async def query(request: Request) -> Response:
    media = accepted(request, (JSON, JSON_LD))
    params.check_params(request, ("limit", "offset", "count", "options"))
    sys_attrs = "sysAttrs" in params.options(request, ("sysAttrs",))
    limit = _integer(request, "limit", DEFAULT_LIMIT)
    offset = _integer(request, "offset", 0)
    if limit > MAX_LIMIT:
        raise BadRequestData(f"limit must be at most {MAX_LIMIT}")
    terms = await read_terms(request)
    found, total = await node_of(request).subscriptions.query(params.tenant(request), limit, offset)
    moment = now_ms()
    body = [subscription.render(s, terms, moment, sys_attrs) for s in found]
    headers = {"NGSILD-Results-Count": str(total)} if params.flag(request, "count") else {}
    response = linked_data(body, media, terms.source_url, headers=headers)
    links = _page_links(request, limit, offset, limit > 0 and offset + limit < total)
    if links:
        existing = response.headers.get("link")
        response.headers["Link"] = ", ".join([*([existing] if existing else []), *links])
    return response


async def update(request: Request) -> Response:
    check_content_type(request)
    params.check_params(request, ())
    payload, scope = await payload_scope(request)
    await node_of(request).subscriptions.update(
        scope, request.path_params["subscription_id"], payload.body
    )
    return no_content()


async def delete(request: Request) -> Response:
    params.check_params(request, ())
    await node_of(request).subscriptions.delete(
        params.tenant(request), request.path_params["subscription_id"]
    )
    return no_content()


def _page_links(request: Request, limit: int, offset: int, more: bool) -> list[str]:
    """rel="prev" and rel="next" Link values (clause 5.5.9) for the pages that exist."""
    path = request.url.path.rstrip("/")
    pages = []
    if offset > 0 and limit:
        pages.append(("prev", max(0, offset - limit)))
    if more:
        pages.append(("next", offset + limit))
    return [
        f'<{path}?limit={limit}&offset={at}>;rel="{rel}";type="application/ld+json"'
        for rel, at in pages
    ]


def _integer(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit():
        raise BadRequestData(f"{name} must be a non-negative integer, not {raw!r}")
    return int(raw)


def routes() -> list[BaseRoute]:
    base = f"{BASE}/subscriptions"
    return [
        *resource(base, {"POST": create, "GET": query}, slash=True),
        *resource(
            f"{base}/{{subscription_id}}", {"GET": retrieve, "PATCH": update, "DELETE": delete}
        ),
    ]
