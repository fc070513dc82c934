"""Demo only: shopper tokens for the sample shoppers, as a shop's own site would sign them.

Served only by a gateway told it is a demo (`SHOP_ENV=demo`, which `make run`
sets unless the operator set SHOP_ENV): a deployment that forgets it serves none. The demo page's shopper picker sets the `demo_shopper`
cookie; the widget fetches its token here (`data-token-url`). A real shop signs
the token in its own backend for whoever is logged in (docs/embedding.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import identity, keys, shop
from bot.gateway.limits import client_of
from bot.gateway.store import db

if TYPE_CHECKING:
    from bot.gateway.app import Gateway


class DemoTokens:
    def __init__(self, gateway: Gateway) -> None:
        self.g = gateway

    def routes(self) -> list[Route]:
        return [Route("/demo/token", self.token)]

    async def token(self, request: Request) -> Response:
        address = client_of(request)
        verdict = await self.g.limits.hit("token", address)
        if not verdict.allowed:
            return JSONResponse({"error": "rate_limited", "retry_after": verdict.retry_after}, status_code=429)
        wanted = request.query_params.get("shopper") or request.cookies.get("demo_shopper") or ""
        if not identity.SHOPPER_ID.match(wanted):
            return JSONResponse({"token": None})  # the guest: an anonymous visitor
        if not await db(lambda s: shop.get_shopper(s, wanted) is not None):
            return JSONResponse({"token": None})
        token = identity.issue(wanted, keys.get("SHOPPER_TOKEN_SECRET"))
        return JSONResponse({"token": token, "shopper": wanted, "expires_in": identity.TOKEN_TTL},
                            headers={"Cache-Control": "no-store"})
