"""Pre-sale (售前): bargaining, gifts and free shipping, by policy.bargain_offer and each item's rules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import Events, ShopAction, latest_entity
from actions.handoff import handoff
from actions.products import product_in_context, product_name
from bot import policy
from bot.text import asked_discount, find_quantity


def basket_size(tracker: Tracker) -> int:
    entity = latest_entity(tracker, "quantity")
    if entity and entity.strip().isdigit():
        return int(entity.strip())
    return find_quantity(tracker.latest_message.get("text") or "") or 1


class ActionBargain(ShopAction):
    def name(self) -> str:
        return "action_bargain"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        items = basket_size(tracker)
        asked = asked_discount(tracker.latest_message.get("text") or "")
        product = product_in_context(s, tracker)
        offer = policy.bargain_offer(items, Decimal(str(asked)) if asked is not None else None)
        values = {"items": str(items), **policy.figures()}
        events: Events = [SlotSet("product_code", product.code)] if product else []
        if offer == "supervisor":
            # More than the rules allow: a supervisor decides, and sees the basket.
            basket = {"items": items, "asked_percent": int(round((asked or 0) * 100)),
                      "product_code": product.code if product else None}
            return [*events, *handoff(dispatcher, tracker, "bargain", extra=basket)]
        if offer == "gift_or_free_shipping" and product is not None and not policy.extras_allowed(product.special_price):
            offer = "hold_price"  # special-price items get neither a cut nor extras
        dispatcher.utter_message(response=f"utter_bargain_{offer}", **values)
        return events


class ActionGiftOrFreeShipping(ShopAction):
    def name(self) -> str:
        return "action_gift_or_free_shipping"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        items = basket_size(tracker)
        product = product_in_context(s, tracker)
        values = {"items": str(items), **policy.figures()}
        if product is None:
            dispatcher.utter_message(response="utter_extras_rules", **values)
            return []
        values["product"] = product_name(product, lang)
        if not policy.extras_allowed(product.special_price):
            response = "utter_extras_special_price"
        elif items >= policy.GIFT_BASKET_MIN_ITEMS:
            response = "utter_extras_granted"
        else:
            response = "utter_extras_from_basket"
        dispatcher.utter_message(response=response, **values)
        return [SlotSet("product_code", product.code)]
