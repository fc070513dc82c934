import asyncio
from typing import Any
from uuid import uuid4

import aiohttp
import socketio

from tests.conftest import token_for


class Shopper:
    """A plain python-socketio client speaking Rasa's socket.io protocol.

    `shopper` logs in with a token the shop's site would sign; `token` sends
    that exact token instead (forged, expired, ...); neither: a visitor.
    `session_id` is what the client claims to be, which the gateway ignores.
    """

    def __init__(self, url: str, shopper: str | None = None, *, token: str | None = None,
                 session_id: str | None = None) -> None:
        self.url = url
        self.token = token if token is not None else (token_for(shopper) if shopper else None)
        self.claimed = session_id
        self.session_id: str | None = None  # what the gateway confirmed
        self.sio = socketio.AsyncClient()
        self.received: list[dict[str, Any]] = []
        self.confirmed = asyncio.Event()
        self.sio.on("bot_uttered", self.received.append)
        self.sio.on("session_confirm", self._confirmed)

    def _confirmed(self, session_id: str) -> None:
        self.session_id = session_id
        self.confirmed.set()

    async def __aenter__(self) -> "Shopper":
        # shape: our widget's messages (who said it, ids, cards); without it, Rasa's own shapes.
        auth = {"shape": "shop-assist", **({"token": self.token} if self.token else {})}
        await self.sio.connect(self.url, transports=["websocket"], auth=auth)
        await self.sio.emit("session_request", {"session_id": self.claimed} if self.claimed else {})
        await asyncio.wait_for(self.confirmed.wait(), 10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sio.disconnect()

    async def say(self, text: str, client_id: str | None = None, lang: str = "zh", settle: float = 0.3) -> dict:
        """Send, wait for the acknowledgement (Rasa has answered by then), return it."""
        self.received.clear()
        ack = await self.sio.call("user_uttered", {
            "message": text,
            "customData": {"language": lang, "client_id": client_id or uuid4().hex},
        }, timeout=60)
        await asyncio.sleep(settle)
        return ack

    def texts(self) -> list[str]:
        return [m.get("text") or "" for m in self.received]


async def agent_session(url: str, username: str) -> aiohttp.ClientSession:
    # unsafe=True: keep cookies from a bare IP host (127.0.0.1), as a browser does.
    http = aiohttp.ClientSession(base_url=url, cookie_jar=aiohttp.CookieJar(unsafe=True))
    response = await http.post("/console/login", data={"username": username, "password": "shop-assist-demo"},
                               allow_redirects=False)
    assert response.status == 303 and response.headers["location"] == "/console"
    return http
