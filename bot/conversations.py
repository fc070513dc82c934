"""Conversation ownership (bot -> waiting -> agent -> bot) and the transcript.

Ownership changes are single conditional UPDATEs, so the database itself
decides races: of two agents claiming one conversation exactly one row update
succeeds.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Optional

from sqlalchemy import bindparam, func, insert, select, true, update
from sqlalchemy.orm import Session

from bot import policy
from bot.clock import utcnow
from bot.models import Agent, ChatMessage, Conversation, Shopper

MAX_TEXT = 2000


class ConversationState(NamedTuple):
    owner: str
    agent_id: Optional[int]
    language: str
    shopper_id: Optional[str]


class Said(NamedTuple):
    """A stored message, as the gateway relays it."""

    id: int
    role: str
    author: Optional[str]
    text: str
    payload: dict[str, Any]
    created_at: datetime
    awaiting_reply: bool


# The gateway stores every message and reads what to answer: Core statements on the tables, built once.
# Through the ORM (unit of work, identity map, statements built and keyed each time) its two
# transactions per message took 5.1-5.5 ms of CPU on SQLite; so, 1.3-1.5 ms (same slow machine).
_conversations = Conversation.__table__
_messages = ChatMessage.__table__
_STATE = select(*(_conversations.c[f] for f in ConversationState._fields)).where(
    _conversations.c.id == bindparam("cid"))
_KNOWN_SHOPPER = select(Shopper.__table__.c.id).where(Shopper.__table__.c.id == bindparam("cid"))
_NEW_CONVERSATION = insert(_conversations).values(owner="bot")
_SET_LANGUAGE = update(_conversations).where(_conversations.c.id == bindparam("cid")).values(
    language=bindparam("language"))
_BY_CLIENT_ID = select(*(_messages.c[f] for f in Said._fields)).where(
    _messages.c.conversation_id == bindparam("cid"), _messages.c.client_id == bindparam("client_id"))
_NEW_MESSAGE = insert(_messages)
_AWAITING = (select(_messages.c.id, _messages.c.text, _messages.c.payload)
             .where(_messages.c.conversation_id == bindparam("cid"), _messages.c.awaiting_reply.is_(true()))
             .order_by(_messages.c.id))
_ANSWERED = update(_messages).where(_messages.c.id == bindparam("mid")).values(awaiting_reply=False, retry_at=None)


def state(s: Session, conversation_id: str) -> Optional[ConversationState]:
    """Who answers the conversation now, its language and shopper; None if there is none."""
    row = s.connection().execute(_STATE, {"cid": conversation_id}).first()
    return ConversationState(*row) if row is not None else None


def ensure(s: Session, conversation_id: str, language: str = "zh", *, speaking: bool = False) -> ConversationState:
    """The conversation, made bot-owned if new; `speaking`: the shopper speaks `language` now."""
    conn = s.connection()
    found = state(s, conversation_id)
    if found is None:
        known = conn.execute(_KNOWN_SHOPPER, {"cid": conversation_id}).first() is not None
        shopper_id = conversation_id if known else None
        conn.execute(_NEW_CONVERSATION, {"id": conversation_id, "shopper_id": shopper_id, "language": language})
        return ConversationState("bot", None, language, shopper_id)
    if speaking and found.language != language:
        conn.execute(_SET_LANGUAGE, {"cid": conversation_id, "language": language})
        return found._replace(language=language)
    return found


def add_message(
    s: Session,
    conversation_id: str,
    role: str,
    text: str,
    *,
    payload: Optional[dict[str, Any]] = None,
    author: Optional[str] = None,
    client_id: Optional[str] = None,
    reply_by: Optional[datetime] = None,
) -> tuple[Said, bool]:
    """Store a message; (message, False) when this client id was stored already. `reply_by`: the
    bot is being asked now and, if the asker dies on the way, the retry sweep takes it up then (set in
    the INSERT, not in an UPDATE after it)."""
    conn = s.connection()
    if client_id:
        existing = conn.execute(_BY_CLIENT_ID, {"cid": conversation_id, "client_id": client_id}).first()
        if existing is not None and Said(*existing).text != text[:MAX_TEXT]:
            # The same id on another text is a client reusing ids, not a resend: kept, under an id of its
            # own that a resend of this text finds again.
            digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
            client_id = f"{client_id[:48]}~{digest}"
            existing = conn.execute(_BY_CLIENT_ID, {"cid": conversation_id, "client_id": client_id}).first()
        if existing is not None:
            return Said(*existing), False
    said = Said(0, role, author, text[:MAX_TEXT], payload or {}, utcnow(), reply_by is not None)
    result = conn.execute(_NEW_MESSAGE, {
        "conversation_id": conversation_id, "role": role, "author": author, "text": said.text,
        "payload": said.payload, "client_id": client_id, "created_at": said.created_at,
        "awaiting_reply": said.awaiting_reply, "retry_at": reply_by,
    })
    return said._replace(id=result.inserted_primary_key[0]), True


def history(s: Session, conversation_id: str, limit: int = 200) -> list[ChatMessage]:
    stmt = (
        select(ChatMessage)
        .where(ChatMessage.conversation_id == conversation_id)
        .order_by(ChatMessage.id.desc())
        .limit(limit)
    )
    return list(reversed(s.execute(stmt).scalars().all()))


def offered_payload(s: Session, conversation_id: str, text: str, recent: int = 20) -> bool:
    """Whether `text` is the payload of a button the bot offered in this conversation lately."""
    stmt = (
        select(ChatMessage.payload)
        .where(ChatMessage.conversation_id == conversation_id, ChatMessage.role == "bot")
        .order_by(ChatMessage.id.desc())
        .limit(recent)
    )
    for payload in s.execute(stmt).scalars():
        for button in (payload or {}).get("buttons") or []:
            if isinstance(button, dict) and button.get("payload") == text:
                return True
    return False


def hand_off(
    s: Session, conversation_id: str, reason: str, *, intent: Optional[str], facts: dict[str, Any],
    now: Optional[datetime] = None,
) -> bool:
    """Put a bot-owned conversation in the queue; False if a person has it already."""
    result = s.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.owner == "bot")
        .values(owner="waiting", reason=reason, priority=policy.queue_priority(reason), intent=intent,
                facts=facts, waiting_since=now or utcnow(), agent_id=None)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def queue(s: Session) -> list[Conversation]:
    stmt = (
        select(Conversation)
        .where(Conversation.owner == "waiting")
        .order_by(Conversation.priority, Conversation.waiting_since)
    )
    return list(s.execute(stmt).scalars())


def queue_position(s: Session, conversation_id: str) -> Optional[int]:
    for place, conv in enumerate(queue(s), start=1):
        if conv.id == conversation_id:
            return place
    return None


def claim(s: Session, conversation_id: str, agent_id: int) -> bool:
    result = s.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.owner == "waiting")
        .values(owner="agent", agent_id=agent_id, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def transfer(s: Session, conversation_id: str, from_agent: int, to_agent: int) -> bool:
    if s.get(Agent, to_agent) is None:
        return False
    result = s.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.owner == "agent",
               Conversation.agent_id == from_agent)
        .values(agent_id=to_agent, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def resolve(s: Session, conversation_id: str, agent_id: int) -> bool:
    """Hand the conversation back to the bot."""
    result = s.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.owner == "agent",
               Conversation.agent_id == agent_id)
        .values(owner="bot", agent_id=None, reason=None, waiting_since=None, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def requeue(s: Session, conversation_id: str, agent_id: int, now: Optional[datetime] = None) -> bool:
    """The agent is gone: their conversation waits in the queue again (at its priority)."""
    result = s.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.owner == "agent", Conversation.agent_id == agent_id)
        .values(owner="waiting", agent_id=None, waiting_since=now or utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def leave_queue(s: Session, conversation_id: str) -> bool:
    """The shopper stops waiting for a person (or waited too long): the bot answers again."""
    result = s.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.owner == "waiting")
        .values(owner="bot", agent_id=None, reason=None, waiting_since=None, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def agents_chats(s: Session) -> list[tuple[str, int]]:
    """(conversation, agent) for every conversation a person owns."""
    stmt = select(Conversation.id, Conversation.agent_id).where(Conversation.owner == "agent")
    return [(cid, aid) for cid, aid in s.execute(stmt) if aid is not None]


def waiting_since(s: Session) -> list[tuple[str, datetime]]:
    stmt = select(Conversation.id, Conversation.waiting_since).where(Conversation.owner == "waiting")
    return [(cid, since) for cid, since in s.execute(stmt) if since is not None]


def waiting_count(s: Session) -> int:
    return int(s.scalar(select(func.count()).where(Conversation.owner == "waiting")) or 0)


# --- shopper messages the bot has not answered yet ------------------------------

# The retry sweep tries again after 15 s, then backs off to every 5 minutes, and
# gives up on a message after 30 minutes: by then the shopper has been told, was
# offered a person, and would find an answer to something that old confusing.
RETRY_FIRST = timedelta(seconds=15)
RETRY_LONGEST = timedelta(minutes=5)
GIVE_UP_AFTER = timedelta(minutes=30)


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next try, after `attempts` failed ones: 15 s, 30 s, 1 min, … at most 5 min."""
    doublings = min(max(attempts - 1, 0), 16)  # past the cap long before 2**16
    return min(RETRY_FIRST * (2 ** doublings), RETRY_LONGEST)


def awaiting(s: Session, conversation_id: str) -> list[ChatMessage]:
    """This conversation's unanswered shopper messages, oldest first."""
    stmt = (
        select(ChatMessage)
        .where(ChatMessage.conversation_id == conversation_id, ChatMessage.awaiting_reply.is_(True))
        .order_by(ChatMessage.id)
    )
    return list(s.execute(stmt).scalars())


def awaiting_texts(s: Session, conversation_id: str) -> list[tuple[int, str, Optional[dict]]]:
    """`awaiting` as (id, text, payload) rows: the gateway's per-message read, without loading messages."""
    return [(mid, text, payload) for mid, text, payload in s.connection().execute(_AWAITING, {"cid": conversation_id})]


def mark_answered(s: Session, message_id: int) -> None:
    # A Core UPDATE: a message the session had loaded would keep a stale `awaiting_reply` until
    # refreshed; the gateway's answering transaction loads none.
    s.connection().execute(_ANSWERED, {"mid": message_id})


def mark_failed(s: Session, message_id: int, now: Optional[datetime] = None) -> None:
    message = s.get(ChatMessage, message_id)
    if message is not None and message.awaiting_reply:
        message.attempts += 1
        message.retry_at = (now or utcnow()) + retry_delay(message.attempts)


def settle_awaiting(s: Session, conversation_id: str) -> int:
    """A person takes over: the bot must not answer old messages later. How many were waiting."""
    result = s.execute(
        update(ChatMessage)
        .where(ChatMessage.conversation_id == conversation_id, ChatMessage.awaiting_reply.is_(True))
        .values(awaiting_reply=False, retry_at=None)
    )
    return int(result.rowcount or 0)


def due_for_retry(s: Session, now: Optional[datetime] = None, limit: int = 50) -> list[str]:
    """Bot-owned conversations with an unanswered message whose retry time has come; messages
    older than GIVE_UP_AFTER are let go."""
    now = now or utcnow()
    s.execute(
        update(ChatMessage)
        .where(ChatMessage.awaiting_reply.is_(True), ChatMessage.created_at < now - GIVE_UP_AFTER)
        .values(awaiting_reply=False, retry_at=None)
    )
    stmt = (
        select(ChatMessage.conversation_id)
        .join(Conversation, Conversation.id == ChatMessage.conversation_id)
        .where(ChatMessage.awaiting_reply.is_(True), Conversation.owner == "bot",
               ChatMessage.retry_at <= now)
        .group_by(ChatMessage.conversation_id)
        .order_by(func.min(ChatMessage.id))
        .limit(limit)
    )
    return list(s.execute(stmt).scalars())
