"""The console's review list: shopper messages the bot was unsure of, labelled by agents (bot/review.py).

Any logged-in agent lists, flags and labels; `make train` takes the labels into the
reviewed training file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import review
from bot.gateway.store import db

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

ERRORS = {"bad_intent": 400, "not_found": 404}


class Labelling:
    def __init__(self, gateway: Gateway) -> None:
        self.g = gateway

    def routes(self) -> list[Route]:
        return [
            Route("/console/api/review", self.list),
            Route("/console/api/review/{mid:int}/label", self.label, methods=["POST"]),
            Route("/console/api/review/{mid:int}/flag", self.flag, methods=["POST"]),
        ]

    async def list(self, request: Request) -> Response:
        agent, denied = await self.g.console.guard(request)
        if denied:
            return denied
        return JSONResponse({"labels": list(review.labels()), "messages": await db(review.to_review)})

    async def label(self, request: Request) -> Response:
        agent, denied = await self.g.console.guard(request)
        if denied:
            return denied
        assert agent is not None
        intent = (await self.g.console.body(request)).get("intent")
        error = await db(review.label, request.path_params["mid"], intent if isinstance(intent, str) else "",
                         agent["name"])
        if error:
            return JSONResponse({"error": error}, status_code=ERRORS[error])
        return JSONResponse({"ok": True})

    async def flag(self, request: Request) -> Response:
        agent, denied = await self.g.console.guard(request)
        if denied:
            return denied
        assert agent is not None
        if not await db(review.flag, request.path_params["mid"], agent["name"]):
            return JSONResponse({"error": "not_found"}, status_code=404)
        return JSONResponse({"ok": True})
