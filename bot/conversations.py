"""Conversation ownership (bot -> waiting -> agent -> bot) and the transcript.

Ownership changes are single conditional UPDATEs, so the database itself
decides races: of two agents claiming one conversation exactly one row update
succeeds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot import policy
from bot.clock import utcnow
from bot.models import Agent, ChatMessage, Conversation, Shopper

MAX_TEXT = 2000


def ensure(s: Session, conversation_id: str, language: str = "zh") -> Conversation:
    conv = s.get(Conversation, conversation_id)
    if conv is None:
        known = s.get(Shopper, conversation_id) is not None
        conv = Conversation(
            id=conversation_id, shopper_id=conversation_id if known else None, owner="bot", language=language
        )
        s.add(conv)
        s.flush()
    return conv


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
) -> tuple[ChatMessage, bool]:
    """Store a message; (message, False) when this client id was stored already. `reply_by`: the
    bot is being asked now and, if the asker dies on the way, the retry sweep takes it up then (set in
    the INSERT, not in an UPDATE after it)."""
    if client_id:
        stmt = select(ChatMessage).where(
            ChatMessage.conversation_id == conversation_id, ChatMessage.client_id == client_id
        )
        existing = s.execute(stmt).scalars().first()
        if existing is not None:
            return existing, False
    message = ChatMessage(
        conversation_id=conversation_id, role=role, text=text[:MAX_TEXT], payload=payload or {},
        author=author, client_id=client_id, created_at=utcnow(),
        awaiting_reply=reply_by is not None, retry_at=reply_by,
    )
    s.add(message)
    s.flush()
    return message, True


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
    stmt = (
        select(ChatMessage.id, ChatMessage.text, ChatMessage.payload)
        .where(ChatMessage.conversation_id == conversation_id, ChatMessage.awaiting_reply.is_(True))
        .order_by(ChatMessage.id)
    )
    return [(mid, text, payload) for mid, text, payload in s.execute(stmt)]


def mark_answered(s: Session, message_id: int) -> None:
    # The gateway's answering transaction has not loaded the shopper message: nothing to synchronise
    # (the ORM's default evaluated the criteria against every object in the session).
    s.execute(update(ChatMessage).where(ChatMessage.id == message_id).values(awaiting_reply=False, retry_at=None)
              .execution_options(synchronize_session=False))


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
