"""The gateway's ASGI app: Starlette pages and APIs with python-socketio on top.

    python -m bot.gateway.app      (make run starts it; GATEWAY_PORT, RASA_URL, WIDGET_ORIGINS, SHOP_ENV)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from typing import Optional

import aiohttp
import socketio
import uvicorn
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot import agents, heap, keys, timing
from bot.db import get_engine
from bot.gateway.console import AgentConsole
from bot.gateway.demo import DemoTokens
from bot.gateway.identities import Identities
from bot.gateway.labelling import Labelling
from bot.gateway.limits import RateLimits
from bot.gateway.outreach import Outreach
from bot.gateway.queue_watch import QueueWatch
from bot.gateway.registers import Registers
from bot.gateway.shop_api import ShopApi
from bot.gateway.shopper import ShopperChannel
from bot.gateway.store import db
from bot.gateway.uploads import Uploads
from bot.settings import ROOT, gateway_port, is_production, redis_prefix, redis_url, trusted_proxies, widget_origins

WEB = ROOT / "bot" / "web"
# A socket frame larger than this drops the connection before any handler sees it. Large enough that
# any text a person could paste reaches the handler, which answers "too long" (MAX_MESSAGE characters);
# only a client sending a megabyte at once is cut off.
MAX_SOCKET_MESSAGE = 1024 * 1024


class Gateway:
    def __init__(self) -> None:
        secret = keys.get("GATEWAY_SECRET")
        origins = widget_origins()
        # Several gateway processes share Redis: socket.io emits fan out through it (python-socketio
        # >= 5.14 sends JSON there, never pickles), and conversation locks and agent presence live there.
        url = redis_url()
        self.redis: Optional[Redis] = Redis.from_url(url) if url else None
        manager = socketio.AsyncRedisManager(url, channel=f"{redis_prefix()}:socketio") if url else None
        # Browsers on the listed origins only; a client sending no Origin (not a browser) still needs a token.
        self.sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins=origins, client_manager=manager,
                                        max_http_buffer_size=MAX_SOCKET_MESSAGE)
        self.http: aiohttp.ClientSession  # created at start-up, inside the event loop
        self.identities = Identities(secret, keys.get("SHOPPER_TOKEN_SECRET"))
        self.limits = RateLimits()
        self.console = AgentConsole(self, secret)
        self.shoppers = ShopperChannel(self)
        self.uploads = Uploads(self, secret)
        self.outreach = Outreach(self)
        self.registers = Registers(self)
        self.labelling = Labelling(self)
        self.shop_api = ShopApi(self, keys.get("SHOP_API_SECRET"))
        self.queue_watch = QueueWatch(self)
        self.demo = None if is_production() else DemoTokens(self)
        if timing.start("gateway"):  # make bench: where a message's time goes
            timing.time_database(get_engine())
        starlette = Starlette(
            routes=[
                Route("/", lambda r: self.page("index.html")),
                Route("/healthz", self.health),
                Route("/api/upload", self.uploads.upload, methods=["POST"]),
                Route("/uploads/{name}", self.uploads.serve),
                *(self.demo.routes() if self.demo else []),
                *self.console.routes(),
                *self.registers.routes(),
                *self.labelling.routes(),
                *self.shop_api.routes(),
                Mount("/static", StaticFiles(directory=WEB / "static"), name="static"),
            ],
            middleware=[
                # The widget on the shop's own pages posts photos here; nothing else is cross-origin.
                Middleware(CORSMiddleware, allow_origins=origins, allow_methods=["POST"],
                           allow_headers=["Authorization", "Content-Type", "X-Case-No"]),
                Middleware(SessionMiddleware, secret_key=secret, session_cookie="shop_console",
                           same_site="strict", max_age=12 * 3600, https_only=is_production()),
            ],
            lifespan=self.lifespan,
        )
        self.asgi = socketio.ASGIApp(self.sio, other_asgi_app=starlette, socketio_path="socket.io")

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.http = aiohttp.ClientSession()
        sweeps = [asyncio.create_task(self.console.sweep()), asyncio.create_task(self.outreach.run()),
                  asyncio.create_task(self.shoppers.retry_sweep()), asyncio.create_task(self.queue_watch.run())]
        heap.settle()
        try:
            yield
        finally:
            for sweep in sweeps:
                sweep.cancel()
            await self.http.close()
            if self.redis is not None:
                await self.redis.aclose()

    async def health(self, request: Request) -> Response:
        # open_locks: conversations with a message in flight; it returns to 0, whatever ids clients made up.
        return JSONResponse({"ok": True, "open_locks": len(self.shoppers.locks)})

    def page(self, name: str) -> Response:
        html = (WEB / name).read_text(encoding="utf-8")
        return HTMLResponse(html, headers={
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
        })


def create_app() -> socketio.ASGIApp:
    return Gateway().asgi


def preflight() -> list[str]:
    """Why the gateway must not start; empty when it may."""
    if not is_production():
        return []
    stuck = asyncio.run(db(agents.on_demo_password))
    if stuck:
        return [f"SHOP_ENV=production, but agents still have the demo password: {', '.join(stuck)}. "
                "Set theirs with `python -m bot.agents set-password USERNAME`."]
    return []


def main() -> None:
    problems = preflight()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(2)
    proxies = trusted_proxies()
    # uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 (or FORWARDED_ALLOW_IPS).
    uvicorn.run(create_app(), host=os.environ.get("GATEWAY_HOST", "127.0.0.1"), port=gateway_port(),
                log_level="info", proxy_headers=bool(proxies), forwarded_allow_ips=proxies or [])


if __name__ == "__main__":
    main()


