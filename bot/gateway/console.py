"""The agent console: login, queue, claim, reply, notes, bad reviews, transfer,
hand back. Every endpoint needs a logged-in agent; live updates come over the
`/console` socket.io namespace, which needs a token only a logged-in agent gets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Optional

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot import agents as agent_records
from bot import conversations as conv
from bot import registers, shop
from bot.catalogue import COURIERS
from bot.clock import utcnow
from bot.gateway.limits import client_of
from bot.gateway.logins import DEVICE_AGE, DEVICE_COOKIE, LoginGuard
from bot.gateway.presence import AgentPresence
from bot.gateway.store import db, wire
from bot.gateway.texts import notice
from bot.models import Agent, BadReview, Conversation, Order, OrderNote
from bot.settings import is_production, redis_prefix
from bot.text import well_formed
from bot.words import phrases

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

log = logging.getLogger(__name__)
NAMESPACE = "/console"
TOKEN_AGE = 12 * 3600
SWEEP_SECONDS = 3  # how soon a revoked session's live socket is closed, whichever process revoked it


def _agent_json(a: Agent) -> dict[str, Any]:
    return {"id": a.id, "username": a.username, "name": a.display_name, "role": a.role, "active": a.active,
            "version": a.session_version}


def _current(s: Session, agent_id: object, version: object) -> Optional[dict[str, Any]]:
    """The agent a cookie or socket token names, as JSON, while that session holds."""
    a = agent_records.current(s, agent_id, version)
    return _agent_json(a) if a else None


def may_see(agent: dict[str, Any], c: Conversation) -> bool:
    """Queued conversations, the agent's own (transferred ones included); a supervisor sees all."""
    return agent["role"] == "supervisor" or c.owner == "waiting" or (
        c.owner == "agent" and c.agent_id == agent["id"])


def _conversation_json(c: Conversation, now: datetime) -> dict[str, Any]:
    return {
        "id": c.id,
        "owner": c.owner,
        "agent": c.agent.display_name if c.agent else None,
        "agent_id": c.agent_id,
        "reason": c.reason,
        "priority": c.priority,
        "intent": c.intent,
        "facts": c.facts or {},
        "language": c.language,
        "waiting_seconds": int((now - c.waiting_since).total_seconds()) if c.waiting_since else None,
    }


def _order_json(o: Order, photos: dict[int, list[str]]) -> dict[str, Any]:
    last = o.tracking_events[-1] if o.tracking_events else None
    return {
        "order_no": o.order_no,
        "status": o.status,
        "total": str(o.total),
        "created_at": o.created_at.isoformat(),
        "courier": COURIERS.get(o.courier or "", (o.courier, o.courier))[0] if o.courier else None,
        "tracking_no": o.tracking_no,
        "last_tracking": {"at": last.at.isoformat(), "text": last.text_zh} if last else None,
        "items": [f"{i.sku.product.name_zh} {i.sku.color_zh}/{i.sku.size} ×{i.quantity}" for i in o.items],
        # Each case as the registers show it, with its evidence photos.
        "cases": [registers.case_json(c, photos.get(c.id, [])) for c in o.cases],
        "notes": [{"flag": n.flag, "text": n.text, "author": n.author} for n in o.notes],
    }


class AgentConsole:
    def __init__(self, gateway: Gateway, secret: str) -> None:
        self.g = gateway
        self.tokens = URLSafeTimedSerializer(secret, salt="console-socket")
        self.logins = LoginGuard(gateway.limits, secret)
        self.presence = AgentPresence(gateway.redis, redis_prefix())
        self.versions: dict[str, int] = {}  # socket -> the session version it was opened with
        sio = gateway.sio
        sio.on("connect", self.connect, namespace=NAMESPACE)
        sio.on("disconnect", self.disconnect, namespace=NAMESPACE)

    # --- live updates ---------------------------------------------------------

    async def agents_online(self) -> int:
        """Agents with the console open on any gateway process."""
        return await self.presence.count()

    async def connect(self, sid: str, environ: dict, auth: Any = None) -> bool:
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            claims = self.tokens.loads(token, max_age=TOKEN_AGE) if isinstance(token, str) else None
        except BadSignature:
            claims = None
        if not isinstance(claims, dict):
            return False  # refuses the connection
        agent = await db(_current, claims.get("a"), claims.get("v"))
        if agent is None:
            return False
        await self.g.sio.save_session(sid, {"agent_id": agent["id"]}, namespace=NAMESPACE)
        await self.presence.add(agent["id"], sid)
        self.versions[sid] = agent["version"]
        await self.g.sio.enter_room(sid, "agents", namespace=NAMESPACE)
        await self.g.sio.enter_room(sid, f"agent:{agent['id']}", namespace=NAMESPACE)
        if agent["role"] == "supervisor":
            await self.g.sio.enter_room(sid, "supervisors", namespace=NAMESPACE)
        return True

    async def disconnect(self, sid: str) -> None:
        self.versions.pop(sid, None)
        await self.presence.remove(sid)

    async def close_revoked(self) -> int:
        """Disconnect every console socket whose session no longer holds; how many were closed."""
        if not self.versions:
            return 0
        by_agent = {agent_id: set(sids) for agent_id, sids in self.presence.local.items()}

        def still_valid(s: Session) -> dict[int, Optional[int]]:
            out: dict[int, Optional[int]] = {}
            for agent_id in by_agent:
                a = s.get(Agent, agent_id)
                out[agent_id] = a.session_version if a is not None and a.active else None
            return out

        valid = await db(still_valid)
        closed = 0
        for agent_id, sids in by_agent.items():
            for sid in sids:
                if valid.get(agent_id) is None or self.versions.get(sid) != valid[agent_id]:
                    await self.g.sio.disconnect(sid, namespace=NAMESPACE)
                    await self.disconnect(sid)
                    closed += 1
        return closed

    async def sweep(self) -> None:
        """Runs for the gateway's life: revocations made anywhere reach live sockets within seconds."""
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.close_revoked()
                await self.presence.renew()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the sweep
                log.exception("console sweep failed")

    async def message(self, conversation_id: str, message: dict[str, Any], owner: str,
                      agent_id: Optional[int]) -> None:
        """A new message reaches supervisors, and the agents who may see that conversation."""
        rooms = ["supervisors"]
        if owner == "waiting":
            rooms.append("agents")
        elif owner == "agent" and agent_id is not None:
            rooms.append(f"agent:{agent_id}")
        await self.g.sio.emit("message", {"conversation_id": conversation_id, "message": message},
                              room=rooms, namespace=NAMESPACE)

    async def queue_changed(self) -> None:
        await self.g.sio.emit("queue_changed", {}, room="agents", namespace=NAMESPACE)

    # --- HTTP -----------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/console", self.page),
            Route("/console/login", self.login, methods=["POST"]),
            Route("/console/logout", self.logout, methods=["POST"]),
            Route("/console/api/me", self.me),
            Route("/console/api/queue", self.queue),
            Route("/console/api/agents", self.agents),
            Route("/console/api/agents/{aid:int}/active", self.set_active, methods=["POST"]),
            Route("/console/api/phrases", self.phrases),
            Route("/console/api/conversations/{cid}", self.conversation),
            Route("/console/api/conversations/{cid}/claim", self.claim, methods=["POST"]),
            Route("/console/api/conversations/{cid}/messages", self.reply, methods=["POST"]),
            Route("/console/api/conversations/{cid}/notes", self.note, methods=["POST"]),
            Route("/console/api/conversations/{cid}/bad_reviews", self.bad_review, methods=["POST"]),
            Route("/console/api/conversations/{cid}/transfer", self.transfer, methods=["POST"]),
            Route("/console/api/conversations/{cid}/resolve", self.resolve, methods=["POST"]),
        ]

    async def agent_of(self, request: Request) -> Optional[dict[str, Any]]:
        """The logged-in agent, while that session still holds (not logged out, not disabled)."""
        agent_id, version = request.session.get("agent_id"), request.session.get("v")
        if not isinstance(agent_id, int):
            return None
        return await db(_current, agent_id, version)

    async def page(self, request: Request) -> Response:
        name = "console.html" if await self.agent_of(request) else "login.html"
        return self.g.page(name)

    async def login(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=4)
        username = str(form.get("username") or "")[:64]
        password = str(form.get("password") or "")[:256]
        attempt = self.logins.attempt(username, client_of(request), request.cookies.get(DEVICE_COOKIE))
        # Throttled: the same answer whether or not the user exists or the password is right, and
        # still after a scrypt's time, so neither the answer nor its timing tells.
        wait = await self.logins.wait(attempt)

        def check(s: Session) -> Optional[tuple[int, int]]:
            a = agent_records.authenticate(s, username, password)
            return (a.id, a.session_version) if a else None

        found = await db(check)
        if wait:
            return RedirectResponse(f"/console?error=1&wait={wait}", status_code=303,
                                    headers={"Retry-After": str(wait)})
        if found is None:
            await self.logins.failed(attempt)
            return RedirectResponse("/console?error=1", status_code=303)
        request.session.clear()
        request.session["agent_id"], request.session["v"] = found
        response = RedirectResponse("/console", status_code=303)
        response.set_cookie(DEVICE_COOKIE, self.logins.remember(attempt, username), max_age=DEVICE_AGE,
                            path="/console", httponly=True, samesite="strict", secure=is_production())
        return response

    async def logout(self, request: Request) -> Response:
        agent = await self.agent_of(request)
        request.session.clear()
        if agent is not None:
            # Ends every session of this agent, and its live sockets now.
            await db(agent_records.end_sessions, agent["id"])
            await self.close_revoked()
        return RedirectResponse("/console", status_code=303)

    async def me(self, request: Request) -> Response:
        agent = await self.agent_of(request)
        if agent is None:
            return JSONResponse({"error": "login required"}, status_code=401)
        return JSONResponse({**agent, "token": self.tokens.dumps({"a": agent["id"], "v": agent["version"]})})

    async def guard(self, request: Request) -> tuple[Optional[dict[str, Any]], Optional[Response]]:
        agent = await self.agent_of(request)
        if agent is None:
            return None, JSONResponse({"error": "login required"}, status_code=401)
        if request.method == "POST" and request.headers.get("content-type", "").split(";")[0] != "application/json":
            # JSON only: a cross-site form cannot post here with the agent's cookie.
            return None, JSONResponse({"error": "JSON body required"}, status_code=415)
        return agent, None

    async def body(self, request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    async def queue(self, request: Request) -> Response:
        agent, denied = await self.guard(request)
        if denied:
            return denied
        assert agent is not None

        def load(s: Session) -> dict[str, Any]:
            now = utcnow()
            mine = s.execute(
                select(Conversation).where(Conversation.owner == "agent", Conversation.agent_id == agent["id"])
            ).scalars()
            return {"waiting": [_conversation_json(c, now) for c in conv.queue(s)],
                    "mine": [_conversation_json(c, now) for c in mine]}

        return JSONResponse(await db(load))

    async def agents(self, request: Request) -> Response:
        agent, denied = await self.guard(request)
        if denied:
            return denied

        def load(s: Session) -> list[dict[str, Any]]:
            listed = s.execute(select(Agent).order_by(Agent.id)).scalars()
            if agent["role"] == "supervisor":  # who manages accounts sees the login names
                return [{k: v for k, v in _agent_json(a).items() if k != "version"} for a in listed]
            # Others pick a colleague to transfer to: a name is enough, a login name would help a guesser.
            return [{"id": a.id, "name": a.display_name, "role": a.role, "active": a.active} for a in listed]

        return JSONResponse(await db(load))

    async def set_active(self, request: Request) -> Response:
        """Supervisor only: disable an agent (ends its sessions, requeues its chats) or enable it again."""
        agent, denied = await self.guard(request)
        if denied:
            return denied
        assert agent is not None
        if agent["role"] != "supervisor":
            return JSONResponse({"error": "supervisors only"}, status_code=403)
        target = request.path_params["aid"]
        active = (await self.body(request)).get("active")
        if not isinstance(active, bool) or target == agent["id"]:
            return JSONResponse({"error": "active: true or false, for another agent"}, status_code=400)
        if not await db(agent_records.set_active, target, active):
            return JSONResponse({"error": "no such agent"}, status_code=404)
        await self.close_revoked()
        await self.queue_changed()
        return JSONResponse({"ok": True})

    async def phrases(self, request: Request) -> Response:
        agent, denied = await self.guard(request)
        return denied or JSONResponse(phrases())

    async def conversation(self, request: Request) -> Response:
        agent, denied = await self.guard(request)
        if denied:
            return denied
        cid = request.path_params["cid"]

        def load(s: Session) -> Optional[dict[str, Any]]:
            c = s.get(Conversation, cid)
            if c is None or not may_see(agent, c):  # another agent's chat looks like none at all
                return None
            shopper = shop.get_shopper(s, c.shopper_id) if c.shopper_id else None
            orders = shop.recent_orders(s, c.shopper_id, limit=10) if c.shopper_id else []
            photos = registers.photos_by_case(s, [k.id for o in orders for k in o.cases])
            return {
                "conversation": _conversation_json(c, utcnow()),
                "transcript": [wire(m) for m in conv.history(s, cid)],
                "shopper": {"id": shopper.id, "nickname": shopper.nickname, "phone": shopper.phone,
                            "address": shopper.address} if shopper else None,
                "orders": [_order_json(o, photos) for o in orders],
            }

        data = await db(load)
        return JSONResponse(data) if data else JSONResponse({"error": "no such conversation"}, status_code=404)

    async def _change(self, cid: str, change: Callable[[Session], bool]) -> Optional[str]:
        """Run an ownership change; the conversation's language if it happened, else None."""
        def run(s: Session) -> Optional[str]:
            if not change(s):
                return None
            c = s.get(Conversation, cid)
            return c.language if c else "zh"

        return await db(run)

    async def claim(self, request: Request) -> Response:
        agent, denied = await self.guard(request)
        if denied:
            return denied
        assert agent is not None
        cid = request.path_params["cid"]

        lang = await self._change(cid, lambda s: conv.claim(s, cid, agent["id"]))
        if lang is None:
            return JSONResponse({"error": "already claimed or not waiting"}, status_code=409)
        await self.g.shoppers.say(cid, "system", notice("joined", lang, agent=agent["name"]),
                                  payload={"notice": "agent_joined"})
        await self.queue_changed()
        return JSONResponse({"ok": True})

    async def _owned(self, request: Request) -> tuple[Optional[dict], Optional[str], Optional[Response]]:
        agent, denied = await self.guard(request)
        if denied:
            return None, None, denied
        assert agent is not None
        cid = request.path_params["cid"]

        def owns(s: Session) -> bool:
            c = s.get(Conversation, cid)
            return c is not None and c.owner == "agent" and c.agent_id == agent["id"]

        if not await db(owns):
            return None, None, JSONResponse({"error": "claim the conversation first"}, status_code=409)
        return agent, cid, None

    async def reply(self, request: Request) -> Response:
        agent, cid, denied = await self._owned(request)
        if denied:
            return denied
        assert agent and cid
        text = well_formed(str((await self.body(request)).get("text") or "")).strip()
        if not text or len(text) > conv.MAX_TEXT:
            return JSONResponse({"error": f"text must be 1–{conv.MAX_TEXT} characters"}, status_code=400)
        message = await self.g.shoppers.say(cid, "agent", text, author=agent["name"])
        return JSONResponse({"ok": True, "message": message})

    async def note(self, request: Request) -> Response:
        agent, cid, denied = await self._owned(request)
        if denied:
            return denied
        assert agent and cid
        body = await self.body(request)
        text = well_formed(str(body.get("text") or "")).strip()[:1000]
        flag = body.get("flag") if body.get("flag") in ("red", "blue") else None
        order_no = str(body.get("order_no") or "")

        def add(s: Session) -> bool:
            c = s.get(Conversation, cid)
            order = shop.find_order(s, c.shopper_id, order_no) if c and c.shopper_id else None
            if order is None or not text:
                return False
            # WORKFLOWS.md: "content + agent + date"
            s.add(OrderNote(order_id=order.id, flag=flag, kind="agent_note", author=agent["name"],
                            text=f"{text} — {agent['name']} — {utcnow():%Y-%m-%d}"))
            return True

        if not await db(add):
            return JSONResponse({"error": "need text and one of this shopper's order numbers"}, status_code=400)
        return JSONResponse({"ok": True})

    async def bad_review(self, request: Request) -> Response:
        agent, cid, denied = await self._owned(request)
        if denied:
            return denied
        assert agent and cid
        body = await self.body(request)
        text = str(body.get("review_text") or "").strip()[:2000]
        try:
            severity = min(max(int(body.get("severity") or 2), 1), 3)
        except (TypeError, ValueError):
            severity = 2
        status = body.get("status") if body.get("status") in ("messaged", "sms", "called") else "messaged"
        progress = body.get("progress") if body.get("progress") in (
            "revised", "promised", "refused", "waiting") else "waiting"

        def add(s: Session) -> Optional[int]:
            c = s.get(Conversation, cid)
            if c is None or not text:
                return None
            shopper = shop.get_shopper(s, c.shopper_id) if c.shopper_id else None
            order = shop.find_order(s, c.shopper_id, str(body.get("order_no") or "")) if c.shopper_id else None
            review = BadReview(
                shopper_id=c.id, phone=shopper.phone if shopper else None, order_id=order.id if order else None,
                item=str(body.get("item") or "")[:128], review_text=text, severity=severity, status=status,
                progress=progress, agent=agent["name"],
            )
            s.add(review)
            s.flush()
            return review.id

        review_id = await db(add)
        if review_id is None:
            return JSONResponse({"error": "review text required"}, status_code=400)
        return JSONResponse({"ok": True, "id": review_id})

    async def transfer(self, request: Request) -> Response:
        agent, cid, denied = await self._owned(request)
        if denied:
            return denied
        assert agent and cid
        try:
            to_agent = int((await self.body(request)).get("agent_id"))
        except (TypeError, ValueError):
            return JSONResponse({"error": "agent_id required"}, status_code=400)

        def move(s: Session) -> Optional[tuple[str, str]]:
            if to_agent == agent["id"] or not conv.transfer(s, cid, agent["id"], to_agent):
                return None
            target = s.get(Agent, to_agent)
            c = s.get(Conversation, cid)
            return (target.display_name if target else "", c.language if c else "zh")

        moved = await db(move)
        if moved is None:
            return JSONResponse({"error": "cannot transfer"}, status_code=400)
        await self.g.shoppers.say(cid, "system", notice("transferred", moved[1], agent=moved[0]),
                                  payload={"notice": "transferred"})
        await self.g.sio.emit("assigned", {"conversation_id": cid}, room=f"agent:{to_agent}", namespace=NAMESPACE)
        await self.queue_changed()
        return JSONResponse({"ok": True})

    async def resolve(self, request: Request) -> Response:
        agent, cid, denied = await self._owned(request)
        if denied:
            return denied
        assert agent and cid

        lang = await self._change(cid, lambda s: conv.resolve(s, cid, agent["id"]))
        if lang is None:
            return JSONResponse({"error": "cannot resolve"}, status_code=409)
        # Tell Rasa, so the bot resumes knowing a person handled it.
        await self.g.shoppers.ask_bot(cid, "/agent_handback", lang)
        await self.queue_changed()
        return JSONResponse({"ok": True})

