"""What every shop action shares: language, the shopper, the order number, time.

`ShopAction` is abstract, so rasa-sdk does not register it as an action.
"""

from __future__ import annotations

import asyncio
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from bot import identity, policy, shop
from bot.catalogue import COURIERS
from bot.clock import utcnow
from bot.db import get_sessionmaker
from bot.models import Order, OrderItem, OrderNote
from bot.text import detect_language, find_order_numbers
from bot.words import word

log = logging.getLogger(__name__)

BOT_AUTHOR = policy.NOTE_AUTHOR
SHOP_TZ = timedelta(hours=8)  # the shop works in China Standard Time

Events = list[dict[str, Any]]


def language(tracker: Tracker) -> str:
    """The slot set by action_detect_language, else this message's, else zh."""
    slot = tracker.get_slot("language")
    if slot in ("zh", "en"):
        return str(slot)
    return detect_language(tracker.latest_message.get("text") or "") or "zh"


def pick(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def events_back(tracker: Tracker, *kinds: str) -> Iterator[dict[str, Any]]:
    """The conversation's events of these kinds ("user", "active_loop", ...), newest first."""
    return (event for event in reversed(tracker.events) if event.get("event") in kinds)


def latest_entity(tracker: Tracker, name: str) -> Optional[str]:
    """The entity's value in this message; values with no word in them are noise."""
    value = next(tracker.get_latest_entity_values(name), None)
    if value is None or not re.search(r"\w", str(value)):
        return None
    return str(value)


def order_number(tracker: Tracker, use_slot: bool = True) -> Optional[str]:
    """Order number from this message (entity, then digits in text), else the slot."""
    entity = latest_entity(tracker, "order_id")
    digits = find_order_numbers(entity) if entity else []
    if digits:
        return digits[0]  # a house number the model took for an order is not one
    found = find_order_numbers(tracker.latest_message.get("text") or "")
    if found:
        return found[0]
    if use_slot:
        slot = tracker.get_slot("order_id")
        return str(slot) if slot else None
    return None


def shop_time(at: Optional[datetime]) -> str:
    if at is None:
        return "-"
    return (at + SHOP_TZ).strftime("%Y-%m-%d %H:%M")


def courier_name(code: Optional[str], lang: str) -> str:
    zh, en = COURIERS.get(code or "", (code or "-", code or "-"))
    return pick(lang, zh, en)


def size_label(size: str, lang: str) -> str:
    return word("label.one_size", lang) if size == "F" else size


def item_label(item: OrderItem, lang: str) -> str:
    p, size = item.sku.product, size_label(item.sku.size, lang)
    if lang == "en":
        return f"{p.name_en} ({item.sku.color_en}/{size}) ×{item.quantity}"
    return f"{p.name_zh}（{item.sku.color_zh}/{size}）×{item.quantity}"


def items_label(order: Order, lang: str) -> str:
    sep = ", " if lang == "en" else "，"
    return sep.join(item_label(i, lang) for i in order.items)


def order_button(order: Order, lang: str, intent: str = "inform") -> dict[str, str]:
    first = order.items[0].sku.product if order.items else None
    name = (first.name_en if lang == "en" else first.name_zh) if first else ""
    more = len(order.items) - 1
    extra = (f" +{more}" if more > 0 else "")
    return {
        "title": f"{order.order_no} · {name}{extra} · {shop_time(order.created_at)[:10]}",
        "payload": f'/{intent}{{"order_id":"{order.order_no}"}}',
    }


def write_note(
    s: Session, order: Order, kind: str, now: datetime, *, note: str, flag: Optional[str] = "red",
    once: bool = True, **values: str,
) -> bool:
    """A note on the order in the shop's format: "content — author — date" (policy.ORDER_NOTES)."""
    text = f"{policy.order_note(note, **values)} — {BOT_AUTHOR} — {shop_time(now)[:10]}"
    if once:
        return shop.add_note_once(s, order, kind=kind, flag=flag, author=BOT_AUTHOR, text=text)
    s.add(OrderNote(order_id=order.id, kind=kind, flag=flag, author=BOT_AUTHOR, text=text))
    return True


class ShopAction(Action, ABC):
    """Runs `act` in a worker thread inside one `Session.begin()` transaction.

    Blocking database work stays off the action server's event loop; any
    unexpected error becomes a polite apology instead of a silent bot.
    """

    @abstractmethod
    def name(self) -> str: ...

    def needs_shopper(self, tracker: Tracker) -> bool:
        """Whether this turn reads or changes a shopper's records (orders, cases)."""
        return False

    @abstractmethod
    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events: ...

    def _run_sync(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        lang = language(tracker)
        if self.needs_shopper(tracker) and identity.is_visitor(tracker.sender_id):
            # An anonymous visitor: nothing about orders or cases, whatever number they name.
            dispatcher.utter_message(response="utter_login_required")
            return []
        try:
            with get_sessionmaker().begin() as s:
                return self.act(dispatcher, tracker, s, lang, utcnow())
        except Exception:
            log.exception("action %s failed for %s", self.name(), tracker.sender_id)
            dispatcher.messages.clear()
            dispatcher.utter_message(response="utter_technical_problem")
            return []

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> Events:
        return await asyncio.to_thread(self._run_sync, dispatcher, tracker)


class ShopperAction(ShopAction, ABC):
    """Works on a shopper's own records (orders, cases): a visitor is asked to log in instead."""

    def needs_shopper(self, tracker: Tracker) -> bool:
        return True
