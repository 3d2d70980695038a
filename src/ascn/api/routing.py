"""Routes by resource: one route per path with a handler per method, so that a 405 names every
method the resource allows; collection paths are served with and without a trailing slash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

Handler = Callable[[Request], Awaitable[Response]]


def resource(path: str, handlers: dict[str, Handler], *, slash: bool = False) -> list[BaseRoute]:
    """Routes for `path` (and `path/` with slash) dispatching on the method to `handlers`."""

    async def dispatch(request: Request) -> Response:
        return await handlers[request.method](request)

    paths = [path, path + "/"] if slash else [path]
    return [Route(p, dispatch, methods=list(handlers)) for p in paths]
