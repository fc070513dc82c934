"""Rasa's input channel for the gateway: the REST webhook, closed to everyone else.

Listed in credentials.yml as `bot.channel.GatewayInput`; it serves
`/webhooks/gateway/webhook`. Whoever can post there chooses the sender id,
that is whose orders the bot reads, so every request must carry
`Authorization: Bearer <INTERNAL_TOKEN>`, which only the gateway holds.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import keys


def bearer_ok(header: Optional[str], token: str) -> bool:
    """Constant-time check of an `Authorization: Bearer …` header."""
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer "):].encode(), token.encode())


class GatewayInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "gateway"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> GatewayInput:
        return cls(keys.get("INTERNAL_TOKEN"))

    def __init__(self, token: str) -> None:
        self.token = token

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def authorise(request: Request) -> Optional[HTTPResponse]:
            if request.method == "POST" and not bearer_ok(request.headers.get("authorization"), self.token):
                return response.json({"error": "unauthorised"}, status=401)
            return None

        return blueprint
