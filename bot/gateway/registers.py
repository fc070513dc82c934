"""The shop's registers in the console, and the case changes agents make (bot/registers.py).

Any logged-in agent reads the registers and updates cases (after-sales is every
agent's work); paying more compensation than the rules allow takes a supervisor.
Setting the tracking number of a parcel sent back tells the shopper in the chat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import registers
from bot.clock import utcnow
from bot.gateway.store import db
from bot.gateway.texts import notice
from bot.models import Conversation, Shopper

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

ERRORS = {"not_found": 404, "bad_status": 400, "bad_amount": 400, "bad_text": 400, "over_cap": 403, "nothing": 400}


class Registers:
    def __init__(self, gateway: Gateway) -> None:
        self.g = gateway

    def routes(self) -> list[Route]:
        return [
            Route("/console/api/registers/{name}", self.read),
            Route("/console/api/cases/{case_no}", self.update, methods=["POST"]),
        ]

    async def read(self, request: Request) -> Response:
        agent, denied = await self.g.console.guard(request)
        if denied:
            return denied
        rows = await db(registers.register, request.path_params["name"])
        if rows is None:
            return JSONResponse({"error": "no such register", "registers": list(registers.REGISTERS)},
                                status_code=404)
        return JSONResponse(rows)

    async def update(self, request: Request) -> Response:
        agent, denied = await self.g.console.guard(request)
        if denied:
            return denied
        assert agent is not None
        changes = await self.g.console.body(request)
        case_no = request.path_params["case_no"]

        def run(s: Session) -> tuple[registers.CaseUpdate, str]:
            result = registers.update_case(s, case_no, changes, agent["name"], agent["role"] == "supervisor",
                                           utcnow())
            lang = "zh"
            if result.case is not None:
                c = s.get(Conversation, result.case["shopper"])
                shopper = s.get(Shopper, result.case["shopper"])
                lang = c.language if c else (shopper.language if shopper else "zh")
            return result, lang

        result, lang = await db(run)
        if not result.ok:
            return JSONResponse({"error": result.error}, status_code=ERRORS.get(result.error or "", 400))
        assert result.case is not None
        if result.shipped_back:
            await self.g.shoppers.say(result.case["shopper"], "bot", notice(
                "shipped_back", lang, case_no=result.case["case_no"], tracking_no=result.shipped_back))
        return JSONResponse({"ok": True, "case": result.case})


