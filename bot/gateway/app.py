"""The gateway's ASGI app: Starlette pages and APIs with python-socketio on top.

    python -m bot.gateway.app      (make run starts it; GATEWAY_PORT, RASA_URL)
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator

import aiohttp
import socketio
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.gateway.console import AgentConsole
from bot.gateway.shopper import ShopperChannel
from bot.gateway.uploads import Uploads
from bot.settings import ROOT

WEB = ROOT / "bot" / "web"
GATEWAY_PORT = int(os.environ.get("GATEWAY_PORT", "8000"))


def secret_key() -> str:
    """GATEWAY_SECRET, else one generated once and kept in var/ (signs agent sessions)."""
    if os.environ.get("GATEWAY_SECRET"):
        return os.environ["GATEWAY_SECRET"]
    path = ROOT / "var" / "gateway_secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class Gateway:
    def __init__(self) -> None:
        # Socket.io and HTTP share one origin here; cross-origin widgets would be listed.
        self.sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins=[], max_http_buffer_size=64 * 1024)
        self.http: aiohttp.ClientSession  # created at start-up, inside the event loop
        secret = secret_key()
        self.console = AgentConsole(self, secret)
        self.shoppers = ShopperChannel(self)
        self.uploads = Uploads(self)
        starlette = Starlette(
            routes=[
                Route("/", lambda r: self.page("index.html")),
                Route("/healthz", lambda r: JSONResponse({"ok": True})),
                Route("/api/upload", self.uploads.upload, methods=["POST"]),
                Route("/uploads/{name}", self.uploads.serve),
                *self.console.routes(),
                Mount("/static", StaticFiles(directory=WEB / "static"), name="static"),
            ],
            middleware=[Middleware(SessionMiddleware, secret_key=secret, session_cookie="shop_console",
                                   same_site="strict", max_age=12 * 3600)],
            lifespan=self.lifespan,
        )
        self.asgi = socketio.ASGIApp(self.sio, other_asgi_app=starlette, socketio_path="socket.io")

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.http = aiohttp.ClientSession()
        try:
            yield
        finally:
            await self.http.close()

    def page(self, name: str) -> Response:
        html = (WEB / name).read_text(encoding="utf-8")
        return HTMLResponse(html, headers={
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
            "X-Content-Type-Options": "nosniff",
        })


def create_app() -> socketio.ASGIApp:
    return Gateway().asgi


def main() -> None:
    uvicorn.run(create_app(), host=os.environ.get("GATEWAY_HOST", "127.0.0.1"), port=GATEWAY_PORT,
                log_level="info")


if __name__ == "__main__":
    main()



