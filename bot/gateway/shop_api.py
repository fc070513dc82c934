"""/shop-api/v1: the shop's backend keeps orders, shipping and stock current, and reads the cases the bot
opened. Every call is signed (bot/shop_api.py); a nonce seen within the window is a replay."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional

from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import shop_api
from bot.gateway.store import db
from bot.gateway.uploads import TooLarge, read_capped
from bot.settings import redis_prefix

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

MAX_BODY = 5 * 1024 * 1024
PREFIX = "/shop-api/v1"


class Nonces:
    """Nonces seen within the signing window: in Redis when gateways share one, else in this process."""

    def __init__(self, redis: Optional[Redis]) -> None:
        self.redis = redis
        self.seen: dict[str, float] = {}

    async def first_time(self, nonce: str) -> bool:
        if self.redis is not None:
            key = f"{redis_prefix()}:shop-api-nonce:{nonce}"
            return bool(await self.redis.set(key, b"1", nx=True, ex=2 * shop_api.WINDOW))
        now = time.monotonic()
        if len(self.seen) > 10_000:  # forget what has left the window
            self.seen = {n: t for n, t in self.seen.items() if now - t < 2 * shop_api.WINDOW}
        if nonce in self.seen and now - self.seen[nonce] < 2 * shop_api.WINDOW:
            return False
        self.seen[nonce] = now
        return True


class ShopApi:
    def __init__(self, gateway: Gateway, secret: str) -> None:
        self.g = gateway
        self.secret = secret
        self.nonces = Nonces(gateway.redis)

    def routes(self) -> list[Route]:
        return [
            Route(f"{PREFIX}/orders", self.call(shop_api.upsert_orders), methods=["POST"]),
            Route(f"{PREFIX}/stock", self.call(shop_api.set_stock), methods=["POST"]),
            Route(f"{PREFIX}/shipping-events", self.call(shop_api.add_shipping_events), methods=["POST"]),
            Route(f"{PREFIX}/cases", self.cases, methods=["GET"]),
        ]

    async def verified(self, request: Request) -> tuple[Optional[bytes], Optional[Response]]:
        """The body of a signed, fresh, first-time request, or the refusal."""
        try:
            body = await read_capped(request, MAX_BODY)
        except TooLarge:
            return None, JSONResponse({"error": "too_large", "max_bytes": MAX_BODY}, status_code=413)
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        why = shop_api.check(self.secret, request.method, path, dict(request.headers), body)
        if why is None and not await self.nonces.first_time(request.headers["x-shop-nonce"]):
            why = "replayed"
        if why is not None:
            return None, JSONResponse({"error": why}, status_code=401)
        return body, None

    def call(self, work: Callable[[Any, Any], dict[str, Any]]) -> Callable[[Request], Any]:
        async def handle(request: Request) -> Response:
            body, refused = await self.verified(request)
            if refused is not None:
                return refused
            try:
                data = json.loads(body or b"null")
            except (json.JSONDecodeError, UnicodeDecodeError):
                return JSONResponse({"error": "not JSON"}, status_code=400)
            if not isinstance(data, dict):
                return JSONResponse({"error": "a JSON object is expected"}, status_code=400)
            return JSONResponse(await db(work, data))
        return handle

    async def cases(self, request: Request) -> Response:
        _, refused = await self.verified(request)
        if refused is not None:
            return refused
        try:
            since = shop_api.since(request.query_params.get("since", ""))
        except ValueError:
            return JSONResponse({"error": "since: an ISO time, UTC"}, status_code=400)
        return JSONResponse({"cases": await db(shop_api.cases_since, since)})
