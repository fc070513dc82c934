import asyncio
from typing import Any

import aiohttp
import socketio


class Shopper:
    """A plain python-socketio client speaking Rasa's socket.io protocol."""

    def __init__(self, url: str, session_id: str) -> None:
        self.url = url
        self.session_id = session_id
        self.sio = socketio.AsyncClient()
        self.received: list[dict[str, Any]] = []
        self.confirmed = asyncio.Event()
        self.sio.on("bot_uttered", self.received.append)
        self.sio.on("session_confirm", lambda sid: self.confirmed.set())

    async def __aenter__(self) -> "Shopper":
        await self.sio.connect(self.url, transports=["websocket"])
        await self.sio.emit("session_request", {"session_id": self.session_id})
        await asyncio.wait_for(self.confirmed.wait(), 10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sio.disconnect()

    async def say(self, text: str, client_id: str | None = None, lang: str = "zh", settle: float = 0.3) -> dict:
        """Send, wait for the acknowledgement (Rasa has answered by then), return it."""
        self.received.clear()
        ack = await self.sio.call("user_uttered", {
            "message": text, "session_id": self.session_id,
            "customData": {"language": lang, "client_id": client_id or f"{self.session_id}-{text[:20]}-{id(text)}"},
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
