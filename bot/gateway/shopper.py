"""The shopper side: Rasa's socket.io protocol, the transcript, and who answers.

A widget written for Rasa's socketio channel works unchanged: it sends
`session_request` and `user_uttered`, and receives `session_confirm` and
`bot_uttered`. Every message is stored before it is relayed; Rasa is only
asked while the bot owns the conversation.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any, Optional
from uuid import uuid4

from sqlalchemy.orm import Session

from bot import conversations as conv
from bot.gateway import rasa
from bot.gateway.store import db, rasa_reply_payload, wire
from bot.gateway.texts import notice
from bot.text import detect_language

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

log = logging.getLogger(__name__)
MAX_MESSAGE = 2000
_SESSION_ID = re.compile(r"^[\w\-]{1,64}$")


def shopper_room(conversation_id: str) -> str:
    return f"c:{conversation_id}"


def _language(custom: dict[str, Any], text: str, current: str) -> str:
    return detect_language(text) or (custom.get("language") if custom.get("language") in ("zh", "en") else current)


class ShopperChannel:
    def __init__(self, gateway: Gateway) -> None:
        self.g = gateway
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        sio = gateway.sio
        sio.on("connect", self.connect)
        sio.on("session_request", self.session_request)
        sio.on("user_uttered", self.user_uttered)
        sio.on("history_request", self.history_request)

    async def connect(self, sid: str, environ: dict, auth: Any = None) -> bool:
        return True

    async def _session_id(self, sid: str) -> Optional[str]:
        session = await self.g.sio.get_session(sid)
        return session.get("session_id")

    async def session_request(self, sid: str, data: Any = None) -> None:
        wanted = data.get("session_id") if isinstance(data, dict) else None
        session_id = wanted if isinstance(wanted, str) and _SESSION_ID.match(wanted) else uuid4().hex
        self.g.sio.enter_room(sid, shopper_room(session_id))
        await self.g.sio.save_session(sid, {"session_id": session_id})
        await self.g.sio.emit("session_confirm", session_id, room=sid)

    async def history_request(self, sid: str, data: Any = None) -> list[dict[str, Any]]:
        session_id = await self._session_id(sid)
        if not session_id:
            return []

        def load(s: Session) -> list[dict[str, Any]]:
            return [wire(m) for m in conv.history(s, session_id)]

        messages = await db(load)
        await self.g.sio.emit("history", messages, room=sid)
        return messages

    async def error(self, sid: str, code: str, lang: str, **values: Any) -> dict[str, Any]:
        await self.g.sio.emit("bot_uttered", {"role": "system", "text": notice(code, lang, **values), "error": code},
                              room=sid)
        return {"ok": False, "error": code}

    async def user_uttered(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Returns an acknowledgement the widget uses to mark a message delivered."""
        session_id = await self._session_id(sid)
        if not isinstance(data, dict):
            return {"ok": False, "error": "malformed"}
        if session_id is None:  # a client that skipped session_request
            wanted = data.get("session_id")
            if not (isinstance(wanted, str) and _SESSION_ID.match(wanted)):
                return {"ok": False, "error": "no_session"}
            await self.session_request(sid, {"session_id": wanted})
            session_id = wanted
        text = data.get("message")
        custom = data.get("customData") or data.get("metadata") or {}
        custom = custom if isinstance(custom, dict) else {}
        if not isinstance(text, str) or not text.strip():
            return {"ok": False, "error": "empty"}
        lang = _language(custom, text, "zh")
        if len(text) > MAX_MESSAGE:
            return await self.error(sid, "too_long", lang, max=MAX_MESSAGE)
        client_id = custom.get("client_id") if isinstance(custom.get("client_id"), str) else None
        client_id = client_id[:64] if client_id else None
        async with self.locks[session_id]:
            return await self._handle(session_id, text.strip(), lang, client_id, custom)

    async def _handle(self, session_id: str, text: str, lang: str, client_id: Optional[str],
                      custom: dict[str, Any]) -> dict[str, Any]:
        def store(s: Session) -> tuple[dict[str, Any], bool, str]:
            conversation = conv.ensure(s, session_id, lang)
            conversation.language = lang
            message, created = conv.add_message(s, session_id, "shopper", text, client_id=client_id)
            return wire(message), created, conversation.owner

        message, created, owner = await db(store)
        if not created:  # a resend after a dropped connection: already handled
            return {"ok": True, "id": message["id"], "duplicate": True}
        await self.g.console.message(session_id, message)
        if owner == "bot":
            await self.ask_bot(session_id, text, lang, custom)
        return {"ok": True, "id": message["id"]}

    async def say(self, session_id: str, role: str, text: str, *, payload: Optional[dict] = None,
                  author: Optional[str] = None) -> dict[str, Any]:
        """Store, then relay to the shopper and to any agent watching."""
        def store(s: Session) -> dict[str, Any]:
            conv.ensure(s, session_id)
            return wire(conv.add_message(s, session_id, role, text, payload=payload, author=author)[0])

        message = await db(store)
        await self.g.sio.emit("bot_uttered", message, room=shopper_room(session_id))
        await self.g.console.message(session_id, message)
        return message

    async def ask_bot(self, session_id: str, text: str, lang: str, custom: dict[str, Any]) -> None:
        room = shopper_room(session_id)
        await self.g.sio.emit("typing", {"on": True, "role": "bot"}, room=room)
        try:
            replies = await rasa.ask(self.g.http, session_id, text, {"language": lang, **{
                k: v for k, v in custom.items() if k in ("language", "shopper_id")}})
        except rasa.RasaUnavailable as exc:
            log.warning("Rasa unavailable for %s: %s", session_id, exc)
            replies = None
        finally:
            await self.g.sio.emit("typing", {"on": False, "role": "bot"}, room=room)
        if replies is None:
            await self.say(session_id, "system", notice("unavailable", lang))
            return
        handoff: Optional[dict[str, Any]] = None
        for reply in replies:
            custom_payload = reply.get("custom")
            if isinstance(custom_payload, dict) and isinstance(custom_payload.get("handoff"), dict):
                handoff = custom_payload["handoff"]
                continue
            payload = rasa_reply_payload(reply)
            if reply.get("text") or payload:
                await self.say(session_id, "bot", reply.get("text") or "", payload=payload)
        if handoff is not None:
            await self.start_handoff(session_id, handoff, lang)

    async def start_handoff(self, session_id: str, handoff: dict[str, Any], lang: str) -> None:
        reason = str(handoff.get("reason") or "human_request")[:32]
        intent = handoff.get("intent")
        facts = handoff.get("facts") if isinstance(handoff.get("facts"), dict) else {}

        def queue_it(s: Session) -> Optional[int]:
            if not conv.hand_off(s, session_id, reason, intent=intent, facts=facts):
                return None
            return conv.queue_position(s, session_id)

        position = await db(queue_it)
        if position is None:
            return
        if self.g.console.agents_online():
            text = notice("queued", lang, ahead=position - 1)
        else:
            text = notice("ticket", lang)
        await self.say(session_id, "system", text, payload={"notice": "queued"})
        await self.g.console.queue_changed()
