"""The shopper side: Rasa's socket.io protocol, the transcript, and who answers.

A widget written for Rasa's socketio channel works unchanged: it sends
`session_request` and `user_uttered`, and receives `session_confirm` and
`bot_uttered`. Who the client is comes from a shopper token (socket.io `auth`,
or `token` in `session_request`), never from a session id it names; without
one it is an anonymous visitor. Every message is stored before it is relayed;
Rasa is only asked while the bot owns the conversation.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Optional

from sqlalchemy.orm import Session

from bot import conversations as conv
from bot.gateway import rasa
from bot.gateway.identities import Identity
from bot.gateway.locks import KeyedLocks
from bot.gateway.store import db, rasa_reply_payload, wire
from bot.gateway.texts import notice
from bot.text import detect_language

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

log = logging.getLogger(__name__)
MAX_MESSAGE = 2000


def shopper_room(conversation_id: str) -> str:
    return f"c:{conversation_id}"


def _language(custom: dict[str, Any], text: str, current: str) -> str:
    return detect_language(text) or (custom.get("language") if custom.get("language") in ("zh", "en") else current)


def client_address(environ: dict[str, Any]) -> str:
    client = (environ.get("asgi.scope") or {}).get("client")
    return str(client[0]) if client else "unknown"


def _token(data: Any) -> Any:
    """A token sent in `session_request` (for widgets that cannot set socket.io `auth`)."""
    if not isinstance(data, dict):
        return None
    custom = data.get("customData") if isinstance(data.get("customData"), dict) else {}
    return data.get("token") or custom.get("token")


def steering_free(text: str) -> str:
    """Shopper text Rasa will read as words: a leading '/' would be an intent directive."""
    return text.lstrip("/ \t\r\n")


class ShopperChannel:
    def __init__(self, gateway: Gateway) -> None:
        self.g = gateway
        self.locks = KeyedLocks()
        sio = gateway.sio
        sio.on("connect", self.connect)
        sio.on("session_request", self.session_request)
        sio.on("user_uttered", self.user_uttered)
        sio.on("history_request", self.history_request)

    async def connect(self, sid: str, environ: dict, auth: Any = None) -> bool:
        # Remember what the client offered; who it is is decided at session_request.
        await self.g.sio.save_session(sid, {"auth": auth if isinstance(auth, dict) else {},
                                            "address": client_address(environ)})
        return True

    async def _identity(self, sid: str) -> Optional[Identity]:
        session = await self.g.sio.get_session(sid)
        found = session.get("identity")
        return found if isinstance(found, Identity) else None

    async def session_request(self, sid: str, data: Any = None) -> Optional[Identity]:
        session = await self.g.sio.get_session(sid)
        offered = session.get("auth") or {}
        who = self.g.identities.from_token(offered.get("token") or _token(data))
        if who is None:
            # A signed visitor id the gateway gave out earlier (kept by the widget as its session id).
            hint = data.get("session_id") if isinstance(data, dict) else None
            who = self.g.identities.from_visitor(hint) or self.g.identities.from_visitor(offered.get("visitor"))
        if who is None:
            verdict = await self.g.limits.hit("visitor", session.get("address", "unknown"))
            if not verdict.allowed:
                await self.g.sio.emit("bot_uttered", {"role": "system", "error": "rate_limited",
                                                      "text": notice("busy", "zh", seconds=verdict.retry_after)},
                                      room=sid)
                return None
            who = self.g.identities.new_visitor()
        previous = session.get("identity")
        if isinstance(previous, Identity) and previous.conversation_id != who.conversation_id:
            await self.g.sio.leave_room(sid, shopper_room(previous.conversation_id))
        await self.g.sio.enter_room(sid, shopper_room(who.conversation_id))
        session["identity"] = who
        await self.g.sio.save_session(sid, session)
        await self.g.sio.emit("session_confirm", who.session_id, room=sid)
        await self.g.sio.emit("identity", {"shopper": who.shopper, "session_id": who.session_id}, room=sid)
        return who

    async def history_request(self, sid: str, data: Any = None) -> list[dict[str, Any]]:
        who = await self._identity(sid)
        if who is None:
            return []

        def load(s: Session) -> list[dict[str, Any]]:
            return [wire(m, self.g.uploads.link) for m in conv.history(s, who.conversation_id)]

        messages = await db(load)
        await self.g.sio.emit("history", messages, room=sid)
        return messages

    async def error(self, sid: str, code: str, lang: str, **values: Any) -> dict[str, Any]:
        await self.g.sio.emit("bot_uttered", {"role": "system", "text": notice(code, lang, **values), "error": code},
                              room=sid)
        return {"ok": False, "error": code}

    async def user_uttered(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Returns an acknowledgement the widget uses to mark a message delivered."""
        if not isinstance(data, dict):
            return {"ok": False, "error": "malformed"}
        who = await self._identity(sid) or await self.session_request(sid, data)
        if who is None:
            return {"ok": False, "error": "no_session"}
        text = data.get("message")
        custom = data.get("customData") or data.get("metadata") or {}
        custom = custom if isinstance(custom, dict) else {}
        if not isinstance(text, str) or not text.strip():
            return {"ok": False, "error": "empty"}
        lang = _language(custom, text, "zh")
        if len(text) > MAX_MESSAGE:
            return await self.error(sid, "too_long", lang, max=MAX_MESSAGE)
        verdict = await self.g.limits.hit("message", who.conversation_id)
        if not verdict.allowed:
            # Not stored: the widget keeps it and sends it again after `seconds`.
            return {**await self.error(sid, "busy", lang, seconds=verdict.retry_after), "seconds": verdict.retry_after}
        client_id = custom.get("client_id") if isinstance(custom.get("client_id"), str) else None
        client_id = client_id[:64] if client_id else None
        async with self.locks.hold(who.conversation_id):
            return await self._handle(who, text.strip(), lang, client_id)

    async def _handle(self, who: Identity, text: str, lang: str, client_id: Optional[str]) -> dict[str, Any]:
        cid = who.conversation_id

        def store(s: Session) -> tuple[dict[str, Any], bool, str, Optional[int], bool]:
            conversation = conv.ensure(s, cid, lang)
            conversation.language = lang
            # Only a button the bot offered here may speak to Rasa as an intent ("/inform{...}").
            offered = text.startswith("/") and conv.offered_payload(s, cid, text)
            message, created = conv.add_message(s, cid, "shopper", text, client_id=client_id)
            return wire(message), created, conversation.owner, conversation.agent_id, offered

        message, created, owner, agent_id, offered = await db(store)
        if not created:  # a resend after a dropped connection: already handled
            return {"ok": True, "id": message["id"], "duplicate": True}
        await self.g.console.message(cid, message, owner, agent_id)
        if owner == "bot":
            said = text if offered else steering_free(text)
            if said:
                await self.ask_bot(cid, said, lang)
            else:
                await self.say(cid, "system", notice("say_more", lang))
        return {"ok": True, "id": message["id"]}

    async def say(self, conversation_id: str, role: str, text: str, *, payload: Optional[dict] = None,
                  author: Optional[str] = None) -> dict[str, Any]:
        """Store, then relay to the shopper and to the agents who may see it."""
        def store(s: Session) -> tuple[Any, str, Optional[int]]:
            c = conv.ensure(s, conversation_id)
            message = conv.add_message(s, conversation_id, role, text, payload=payload, author=author)[0]
            return message, c.owner, c.agent_id

        message, owner, agent_id = await db(store)
        await self.g.sio.emit("bot_uttered", wire(message, self.g.uploads.link), room=shopper_room(conversation_id))
        plain = wire(message)
        await self.g.console.message(conversation_id, plain, owner, agent_id)
        return plain

    async def ask_bot(self, conversation_id: str, text: str, lang: str) -> None:
        room = shopper_room(conversation_id)
        await self.g.sio.emit("typing", {"on": True, "role": "bot"}, room=room)
        try:
            replies = await rasa.ask(self.g.http, conversation_id, text, {"language": lang})
        except rasa.RasaUnavailable as exc:
            log.warning("Rasa unavailable for %s: %s", conversation_id, exc)
            replies = None
        finally:
            await self.g.sio.emit("typing", {"on": False, "role": "bot"}, room=room)
        if replies is None:
            await self.say(conversation_id, "system", notice("unavailable", lang))
            return
        await self.relay(conversation_id, replies, lang)

    async def relay(self, conversation_id: str, replies: list[dict[str, Any]], lang: str) -> None:
        """Rasa's replies to the shopper (stored first); a handoff payload queues the conversation."""
        handoff: Optional[dict[str, Any]] = None
        for reply in replies:
            custom_payload = reply.get("custom")
            if isinstance(custom_payload, dict) and isinstance(custom_payload.get("handoff"), dict):
                handoff = custom_payload["handoff"]
                continue
            payload = rasa_reply_payload(reply)
            if reply.get("text") or payload:
                await self.say(conversation_id, "bot", reply.get("text") or "", payload=payload)
        if handoff is not None:
            await self.start_handoff(conversation_id, handoff, lang)

    async def start_handoff(self, conversation_id: str, handoff: dict[str, Any], lang: str) -> None:
        reason = str(handoff.get("reason") or "human_request")[:32]
        intent = handoff.get("intent")
        facts = handoff.get("facts") if isinstance(handoff.get("facts"), dict) else {}

        def queue_it(s: Session) -> Optional[int]:
            if not conv.hand_off(s, conversation_id, reason, intent=intent, facts=facts):
                return None
            return conv.queue_position(s, conversation_id)

        position = await db(queue_it)
        if position is None:
            return
        if self.g.console.agents_online():
            text = notice("queued", lang, ahead=position - 1)
        else:
            text = notice("ticket", lang)
        await self.say(conversation_id, "system", text, payload={"notice": "queued"})
        await self.g.console.queue_changed()
