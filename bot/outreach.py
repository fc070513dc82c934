"""What the bot should say first, now: the gateway's outreach sweep asks this, then triggers Rasa.

Pure reads: nothing is marked here. The action that speaks claims its record
with a conditional UPDATE (bot/shop.py), so a repeated or racing trigger says
nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import identity, policy, shop
from bot.models import ChatMessage, Conversation, Shopper


@dataclass(frozen=True)
class Outreach:
    conversation_id: str  # the shopper id (= Rasa sender id)
    intent: str  # an EXTERNAL_ intent of domain/outreach.yml
    entities: dict[str, str] = field(default_factory=dict)


def _speakable(s: Session, shopper_id: str, now: datetime, fallback: Optional[str]) -> Optional[str]:
    """The conversation's language when the bot may speak first there now, else None."""
    if identity.is_visitor(shopper_id):
        return None
    conversation = s.get(Conversation, shopper_id)
    last = s.execute(select(func.max(ChatMessage.created_at)).where(
        ChatMessage.conversation_id == shopper_id)).scalar()
    if not policy.may_speak_first(conversation.owner if conversation else "bot", last, now):
        return None
    if conversation is not None:
        return conversation.language  # the language the shopper last wrote in
    if fallback:
        return fallback
    shopper = s.get(Shopper, shopper_id)
    return shopper.language if shopper else "zh"


def due(s: Session, now: datetime) -> list[Outreach]:
    """At most one message per conversation per sweep; the quiet rule spaces out the next."""
    found: dict[str, Outreach] = {}

    def offer(shopper_id: str, intent: str, language: Optional[str], **entities: str) -> None:
        if shopper_id in found:
            return
        lang = _speakable(s, shopper_id, now, language)
        if lang is not None:
            found[shopper_id] = Outreach(shopper_id, intent, {**entities, "language": lang})

    for order in shop.paid_due_details_check(s, now):
        offer(order.shopper_id, "EXTERNAL_details_check", None, order_id=order.order_no)
    for wish in shop.restocked_wishes(s):
        offer(wish.shopper_id, "EXTERNAL_restocked", wish.language, sku=wish.sku.code)
    for order in shop.unpaid_due_reminder(s, now):
        offer(order.shopper_id, "EXTERNAL_unpaid_reminder", None, order_id=order.order_no)
    return list(found.values())
