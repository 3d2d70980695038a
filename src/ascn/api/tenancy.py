"""Every answer to a request that names a tenant names it too (NGSILD-Tenant, clause 6.3.14)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"ngsild-tenant"


class TenantEcho:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tenant = next((v for k, v in scope.get("headers", []) if k == HEADER), None)
        if scope["type"] != "http" or tenant is None:
            await self.app(scope, receive, send)
            return

        async def send_with_tenant(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["NGSILD-Tenant"] = tenant.decode("latin-1")
            await send(message)

        await self.app(scope, receive, send_with_tenant)
