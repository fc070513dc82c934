"""The shopper side: Rasa's socket.io protocol, the transcript, and who answers.

A widget written for Rasa's socketio channel works unchanged: it sends
`session_request` and `user_uttered`, and receives `session_confirm` and
`bot_uttered`. Who the client is comes from a shopper token (socket.io `auth`,
or `token` in `session_request`), never from a session id it names; without
one it is an anonymous visitor. Every message is stored before it is relayed;
Rasa is only asked while the bot owns the conversation.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Optional

from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot import conversations as conv
from bot import review, timing
from bot.clock import utcnow
from bot.gateway import rasa
from bot.gateway.identities import Identity
from bot.gateway.locks import KeyedLocks
from bot.gateway.store import db, rasa_messages, rasa_reply_payload, wire
from bot.gateway.texts import notice
from bot.settings import public_url, redis_prefix
from bot.text import detect_language, well_formed, without_directive

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

log = logging.getLogger(__name__)
MAX_MESSAGE = 2000
# bot/channel.py's marker (the gateway's environment has no Rasa to import it from).
ACTION_FAILED = {"action_failed": True}
# The button of our own "can't answer" notice: the gateway hands over itself, Rasa may be down.
HANDOFF_PAYLOAD = "/gateway_handoff"
# The button of the queue notices: stop waiting for a person.
LEAVE_PAYLOAD = "/gateway_leave_queue"
# After this long the shopper is told the bot is still working on it.
NOTICE_SECONDS = float(os.environ.get("RASA_NOTICE_SECONDS", "15"))
# A message being asked: if its gateway dies meanwhile, the retry sweep takes it up after this.
IN_FLIGHT = timedelta(seconds=rasa.TIMEOUT_SECONDS + 30)
RETRY_SWEEP_SECONDS = 5
# When the database cannot take a message, the widget sends it again after this.
STORE_RETRY_SECONDS = 5


# What our widget sends as `shape` (socket.io auth or session_request) to get messages with who said
# them, ids, cards and notices; any other client gets Rasa's own shapes (store.rasa_messages).
EXTENDED = "shop-assist"


def shopper_room(conversation_id: str) -> str:
    """The conversation's sockets that asked for the extended messages."""
    return f"c:{conversation_id}"


def rasa_room(conversation_id: str) -> str:
    """The conversation's sockets of Rasa's own widgets."""
    return f"r:{conversation_id}"


def _language(custom: dict[str, Any], text: str, current: str) -> str:
    # A button's payload ("/gateway_handoff", "/inform{…}") is no language: the conversation's stays.
    detected = None if text.startswith("/") else detect_language(text)
    return detected or (custom.get("language") if custom.get("language") in ("zh", "en") else current)


def _pending(s: Session, conversation_id: str, owner: Optional[str] = None) -> list[tuple[int, str]]:
    """A bot-owned conversation's unanswered shopper messages, oldest first, as the bot is to read them
    (`owner`: the caller has just read it)."""
    if owner is None:
        found = conv.state(s, conversation_id)
        owner = found.owner if found is not None else None
    if owner != "bot":
        return []
    return [(mid, (payload or {}).get("to_bot") or text) for mid, text, payload in conv.awaiting_texts(s, conversation_id)]


def _language_of(s: Session, conversation_id: str) -> str:
    found = conv.state(s, conversation_id)
    return found.language if found is not None else "zh"


def client_address(environ: dict[str, Any]) -> str:
    client = (environ.get("asgi.scope") or {}).get("client")
    return str(client[0]) if client else "unknown"


def _token(data: Any) -> Any:
    """A token sent in `session_request` (for widgets that cannot set socket.io `auth`)."""
    if not isinstance(data, dict):
        return None
    custom = data.get("customData") if isinstance(data.get("customData"), dict) else {}
    return data.get("token") or custom.get("token")


class ShopperChannel:
    def __init__(self, gateway: Gateway) -> None:
        self.g = gateway
        self.locks = KeyedLocks(gateway.redis, redis_prefix())
        sio = gateway.sio
        sio.on("connect", self.connect)
        sio.on("session_request", self.session_request)
        sio.on("user_uttered", self.user_uttered)
        sio.on("history_request", self.history_request)

    async def connect(self, sid: str, environ: dict, auth: Any = None) -> bool:
        # Remember what the client offered; who it is is decided at session_request.
        offered = auth if isinstance(auth, dict) else {}
        await self.g.sio.save_session(sid, {"auth": offered, "address": client_address(environ),
                                            "extended": offered.get("shape") == EXTENDED})
        return True

    async def to_socket(self, sid: str, message: dict[str, Any]) -> None:
        """One message to one socket, in the shape it asked for."""
        session = await self.g.sio.get_session(sid)
        for shaped in [message] if session.get("extended") else rasa_messages(message, public_url()):
            await self.g.sio.emit("bot_uttered", shaped, room=sid)

    async def to_conversation(self, conversation_id: str, message: dict[str, Any]) -> None:
        """One message to every socket of a conversation, each in the shape it asked for."""
        await self.g.sio.emit("bot_uttered", message, room=shopper_room(conversation_id))
        for shaped in rasa_messages(message, public_url()):
            await self.g.sio.emit("bot_uttered", shaped, room=rasa_room(conversation_id))

    async def _identity(self, sid: str) -> Optional[Identity]:
        session = await self.g.sio.get_session(sid)
        found = session.get("identity")
        return found if isinstance(found, Identity) else None

    async def session_request(self, sid: str, data: Any = None) -> None:
        # The event answers with session_confirm; a client that asked for an acknowledgement gets none
        # rather than the identity object, which socket.io cannot send.
        await self.identify(sid, data)

    async def identify(self, sid: str, data: Any = None) -> Optional[Identity]:
        """Who this socket speaks for: a valid token, a visitor id the gateway signed, or a new visitor."""
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
                await self.to_socket(sid, {"role": "system", "error": "rate_limited",
                                           "text": notice("busy", "zh", seconds=verdict.retry_after)})
                return None
            who = self.g.identities.new_visitor()
        await self.join(sid, session, who, data)
        await self.g.sio.emit("session_confirm", who.session_id, room=sid)
        await self.g.sio.emit("identity", {"shopper": who.shopper, "session_id": who.session_id}, room=sid)
        return who

    async def join(self, sid: str, session: dict[str, Any], who: Identity, data: Any = None) -> None:
        """This socket now speaks for `who`: it hears that conversation, in the shape it asked for."""
        if isinstance(data, dict) and data.get("shape") == EXTENDED:
            session["extended"] = True
        previous = session.get("identity")
        if isinstance(previous, Identity):
            await self.g.sio.leave_room(sid, shopper_room(previous.conversation_id))
            await self.g.sio.leave_room(sid, rasa_room(previous.conversation_id))
        room = shopper_room if session.get("extended") else rasa_room
        await self.g.sio.enter_room(sid, room(who.conversation_id))
        session["identity"] = who
        await self.g.sio.save_session(sid, session)

    async def logged_in(self, sid: str, who: Identity, data: dict[str, Any]) -> Identity:
        """Rasa's widgets can send a token only in each message's customData (rasa-webchat's
        `customData: {token}`): a valid one for another shopper makes the socket speak for them."""
        token = _token(data)
        found = self.g.identities.from_token(token) if token else None
        if found is None or found.conversation_id == who.conversation_id:
            return who
        await self.join(sid, await self.g.sio.get_session(sid), found)
        return found

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
        await self.to_socket(sid, {"role": "system", "text": notice(code, lang, **values), "error": code})
        return {"ok": False, "error": code}

    async def user_uttered(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Returns an acknowledgement the widget uses to mark a message delivered."""
        if not isinstance(data, dict):
            return {"ok": False, "error": "malformed"}
        who = await self._identity(sid) or await self.identify(sid, data)
        if who is None:
            return {"ok": False, "error": "no_session"}
        who = await self.logged_in(sid, who, data)
        text = well_formed(data["message"]) if isinstance(data.get("message"), str) else None
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
        try:
            with timing.timed("message"):
                async with self.locks.hold(who.conversation_id):
                    return await self._handle(who, text.strip(), lang, client_id)
        except (DBAPIError, RedisError) as exc:
            # The database or Redis is restarting: the widget keeps the message and sends it again.
            log.warning("could not take a message of %s: %s", who.conversation_id, exc)
            return {**await self.error(sid, "retry", lang, seconds=STORE_RETRY_SECONDS), "seconds": STORE_RETRY_SECONDS}

    async def _handle(self, who: Identity, text: str, lang: str, client_id: Optional[str]) -> dict[str, Any]:
        cid = who.conversation_id

        def store(s: Session) -> tuple[dict[str, Any], bool, bool, str, Optional[int], str, list[tuple[int, str]]]:
            conversation = conv.ensure(s, cid, lang, speaking=True)
            # Only a button the bot offered here may speak to Rasa as an intent ("/inform{...}").
            offered = text.startswith("/") and conv.offered_payload(s, cid, text)
            said = text if offered else without_directive(text)
            # The bot is asked now; if this gateway dies on the way, the sweep takes it up after IN_FLIGHT.
            asks_bot = conversation.owner == "bot" and bool(said) and text != HANDOFF_PAYLOAD
            message, created = conv.add_message(s, cid, "shopper", text, client_id=client_id,
                                                payload={"to_bot": said} if said != text else None,
                                                reply_by=utcnow() + IN_FLIGHT if asks_bot else None)
            # A resend of a message the bot never answered is asked again, not dropped as a duplicate.
            unanswered = not created and message.awaiting_reply
            # What the bot is to answer, read in this transaction rather than another.
            return (wire(message), created, unanswered, conversation.owner, conversation.agent_id, said,
                    _pending(s, cid, conversation.owner))

        message, created, unanswered, owner, agent_id, said, pending = await db(store)
        if not created and not unanswered:  # a resend after a dropped connection: already handled
            return {"ok": True, "id": message["id"], "duplicate": True}
        if created:
            await self.g.console.message(cid, message, owner, agent_id)
        if owner == "waiting" and text == LEAVE_PAYLOAD:
            await self.leave_queue(cid, lang)
        if owner != "bot":
            return {"ok": True, "id": message["id"]}
        if text == HANDOFF_PAYLOAD:  # the person button of our own notice: works while the bot is down
            await self.start_handoff(cid, {"reason": "human_request", "intent": "bot_unavailable"}, lang)
        elif not said:
            await self.say(cid, "system", notice("say_more", lang))
        else:
            await self.answer_awaiting(cid, lang, notify=True, pending=pending)
        return {"ok": True, "id": message["id"], **({"retried": True} if unanswered else {})}

    async def say(self, conversation_id: str, role: str, text: str, *, payload: Optional[dict] = None,
                  author: Optional[str] = None) -> dict[str, Any]:
        """Store, then relay to the shopper and to the agents who may see it."""
        return (await self.say_all(conversation_id, [(role, text, payload)], author=author))[0]

    async def say_all(self, conversation_id: str, said: list[tuple[str, str, Optional[dict]]], *,
                      author: Optional[str] = None, answered: Optional[int] = None,
                      verdict: Optional[dict[str, Any]] = None) -> list[dict[str, Any]]:
        """Several messages (role, text, payload) stored in one transaction, with the shopper message
        they answer marked answered in it (and NLU's `verdict` on it kept), then relayed in order: the
        replies and "answered" are stored together or not at all, so a retry never answers twice."""
        def store(s: Session) -> tuple[list[Any], str, Optional[int]]:
            c = conv.ensure(s, conversation_id)
            messages = [conv.add_message(s, conversation_id, role, text, payload=payload, author=author)[0]
                        for role, text, payload in said]
            if answered is not None:
                conv.mark_answered(s, answered)
                if verdict:
                    review.record_verdict(s, answered, verdict.get("intent"), verdict.get("confidence"))
            return messages, c.owner, c.agent_id

        messages, owner, agent_id = await db(store)
        out: list[dict[str, Any]] = []
        for message in messages:
            await self.to_conversation(conversation_id, wire(message, self.g.uploads.link))
            plain = wire(message)
            await self.g.console.message(conversation_id, plain, owner, agent_id)
            out.append(plain)
        return out

    async def answer_awaiting(self, conversation_id: str, lang: str, *, notify: bool,
                              pending: Optional[list[tuple[int, str]]] = None) -> bool:
        """Ask the bot every unanswered message of this conversation, oldest first (caller holds its lock;
        `pending` when it has just read them).

        False when the bot could not answer: that message and the later ones stay
        awaiting for the retry sweep; `notify` tells the shopper, with a person button.
        """
        for message_id, said in pending if pending is not None else await db(_pending, conversation_id):
            outcome = await self.ask_bot(conversation_id, said, lang, notify=notify, answered=message_id)
            if outcome == "answered":  # and marked so, with the replies
                continue
            await db(conv.mark_failed, message_id)
            if notify:
                button = {"title": notice("person_button", lang), "payload": HANDOFF_PAYLOAD}
                await self.say(conversation_id, "system", notice("unavailable", lang),
                               payload={"notice": "unavailable", "buttons": [button]})
            return False
        return True

    async def ask_bot(self, conversation_id: str, text: str, lang: str, *, notify: bool = True,
                      answered: Optional[int] = None) -> str:
        """Ask Rasa and relay its replies: "answered" (the shopper message `answered`, if given, marked so
        with them), or why not ("unavailable", "timed_out", "no_answer").

        Past NOTICE_SECONDS the shopper is told it is taking a while, and the answer
        still comes when Rasa has it (up to rasa.TIMEOUT_SECONDS).
        """
        room = shopper_room(conversation_id)
        await self.g.sio.emit("typing", {"on": True, "role": "bot"}, room=room)
        asking = asyncio.ensure_future(timing.timed_async("rasa", rasa.ask(
            self.g.http, conversation_id, text, {"language": lang})))
        try:
            try:
                replies = await asyncio.wait_for(asyncio.shield(asking), NOTICE_SECONDS)
            # On Python 3.10 asyncio's time-outs are asyncio.TimeoutError, not the builtin.
            except (asyncio.TimeoutError, TimeoutError):
                if notify:
                    await self.say(conversation_id, "system", notice("slow", lang), payload={"notice": "slow"})
                replies = await asking
        except rasa.RasaTimedOut as exc:
            log.warning("Rasa too slow for %s: %s", conversation_id, exc)
            return "timed_out"
        except rasa.RasaUnavailable as exc:
            log.warning("Rasa unavailable for %s: %s", conversation_id, exc)
            return "unavailable"
        finally:
            if not asking.done():
                asking.cancel()
            await self.g.sio.emit("typing", {"on": False, "role": "bot"}, room=room)
        verdict, replies = review.split_verdict(replies)
        if not replies or any(r.get("custom") == ACTION_FAILED for r in replies):
            # An action could not run (the action server down or erring; bot/channel.py notes it) and
            # Rasa carried on without its events: what it said instead would mislead. Nothing at all
            # is a failure too: every message of ours gets an answer.
            log.warning("Rasa could not answer %s: %s", conversation_id, "action failed" if replies else "no reply")
            return "no_answer"
        await self.relay(conversation_id, replies, lang, answered=answered, verdict=verdict)
        return "answered"

    async def retry_sweep(self) -> None:
        """Runs for the gateway's life: unanswered messages are asked again once the bot is back."""
        while True:
            await asyncio.sleep(RETRY_SWEEP_SECONDS)
            try:
                due = await db(conv.due_for_retry)
                await asyncio.gather(*(self._retry(cid) for cid in due))
            except Exception:  # noqa: BLE001 - a database hiccup must not end the sweep
                log.exception("retry sweep failed")

    async def _retry(self, conversation_id: str) -> None:
        async with self.locks.hold(conversation_id):
            lang = await db(_language_of, conversation_id)
            await self.answer_awaiting(conversation_id, lang, notify=False)

    async def relay(self, conversation_id: str, replies: list[dict[str, Any]], lang: str, *,
                    answered: Optional[int] = None, verdict: Optional[dict[str, Any]] = None) -> None:
        """Rasa's replies to the shopper (stored first); a handoff payload queues the conversation."""
        handoff: Optional[dict[str, Any]] = None
        said: list[tuple[str, str, Optional[dict]]] = []
        for reply in replies:
            custom_payload = reply.get("custom")
            if isinstance(custom_payload, dict) and isinstance(custom_payload.get("handoff"), dict):
                handoff = custom_payload["handoff"]
                continue
            payload = rasa_reply_payload(reply)
            previous = said[-1] if said else None
            if (not reply.get("text") and set(payload) == {"image"} and previous is not None and previous[1]
                    and not (previous[2] or {}).get("image")):
                # Rasa sends a response's image apart from its text: kept with the text it illustrates.
                said[-1] = (previous[0], previous[1], {**(previous[2] or {}), **payload})
            elif reply.get("text") or payload:
                said.append(("bot", reply.get("text") or "", payload))
        if said or answered is not None:
            await self.say_all(conversation_id, said, answered=answered, verdict=verdict)
        if handoff is not None:
            await self.start_handoff(conversation_id, handoff, lang)

    async def start_handoff(self, conversation_id: str, handoff: dict[str, Any], lang: str) -> None:
        reason = str(handoff.get("reason") or "human_request")[:32]
        intent = handoff.get("intent")
        facts = handoff.get("facts") if isinstance(handoff.get("facts"), dict) else {}

        def queue_it(s: Session) -> Optional[int]:
            if not conv.hand_off(s, conversation_id, reason, intent=intent, facts=facts):
                return None
            conv.settle_awaiting(s, conversation_id)  # a person answers from here on, not the bot later
            return conv.queue_position(s, conversation_id)

        position = await db(queue_it)
        if position is None:
            return
        if await self.g.console.agents_online():
            text = notice("queued", lang, ahead=position - 1)
        else:
            text = notice("ticket", lang)
        leave = {"title": notice("leave_button", lang), "payload": LEAVE_PAYLOAD}
        await self.say(conversation_id, "system", text, payload={"notice": "queued", "buttons": [leave]})
        await self.g.console.queue_changed()

    async def leave_queue(self, conversation_id: str, lang: str) -> None:
        """The shopper stops waiting for a person: the bot answers again."""
        if await db(conv.leave_queue, conversation_id):
            await self.say(conversation_id, "system", notice("left_queue", lang), payload={"notice": "left_queue"})
            await self.g.console.queue_changed()
