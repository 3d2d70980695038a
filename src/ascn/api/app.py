"""create_app(settings): the node's ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ascn import __version__
from ascn.api import batch, contexts, discovery, entities, query, subscriptions, temporal
from ascn.api.problems import on_ascn_error, on_http_error, on_unexpected
from ascn.api.responses import json_response
from ascn.api.tenancy import TenantEcho
from ascn.errors import AscnError
from ascn.service.node import Node
from ascn.settings import Settings


async def root(request: Request) -> Response:
    return json_response({"name": "ascn", "version": __version__, "api": "NGSI-LD 1.8"})


def create_app(settings: Settings, node: Node | None = None) -> Starlette:
    node = node or Node(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await node.open()
        try:
            yield
        finally:
            await node.close()

    app = Starlette(
        routes=[
            Route("/ngsi-ld/v1", root, methods=["GET"]),
            *entities.routes(),
            *query.routes(),
            *discovery.routes(),
            *batch.routes(),
            *contexts.routes(),
            *temporal.routes(),
            *subscriptions.routes(),
        ],
        exception_handlers={
            AscnError: on_ascn_error,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
        middleware=[Middleware(TenantEcho)],
        lifespan=lifespan,
    )
    app.state.node = node
    return app
