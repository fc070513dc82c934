"""What the bot says first (the gateway's outreach sweep triggers these as external intents).

Each one re-reads the record, claims it with a conditional UPDATE and only
then speaks, so two gateway processes or a repeated trigger say it once: the
unpaid-order reminder (催付, blue flag), the address/phone/courier check after
payment, and "it's back in stock" for a recorded restock wish.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import Events, ShopperAction, courier_name, items_label, latest_entity, write_note
from actions.forms import CONTEXT_ORDER
from actions.products import product_name, sku_label
from bot import policy, shop
from bot.catalogue import DEFAULT_COURIER
from bot.models import Order
from bot.words import word


class OutreachAction(ShopperAction):
    """Speaks only for the conversation's own shopper, about a record the entity names."""

    def order(self, s: Session, tracker: Tracker) -> Optional[Order]:
        number = latest_entity(tracker, "order_id")
        return shop.find_order(s, tracker.sender_id, number) if number else None


class ActionUnpaidReminder(OutreachAction):
    def name(self) -> str:
        return "action_unpaid_reminder"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        order = self.order(s, tracker)
        if order is None or not policy.needs_reminder(order.status, order.created_at, order.reminded_at is not None,
                                                      now):
            return []
        if not shop.claim_reminder(s, order, now):
            return []  # another sender got there first
        hours = str(int((now - order.created_at).total_seconds() // 3600))
        write_note(s, order, "payment_reminder", now, note="unpaid_reminder", flag="blue", hours=hours)
        dispatcher.utter_message(response="utter_unpaid_reminder", order_id=order.order_no,
                                 items=items_label(order, lang), total=str(order.total), **policy.figures())
        return [SlotSet(CONTEXT_ORDER, order.order_no)]


class ActionDetailsCheck(OutreachAction):
    def name(self) -> str:
        return "action_details_check"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        order = self.order(s, tracker)
        if order is None or not policy.needs_details_check(order.status, order.paid_at,
                                                           order.details_checked_at is not None, now):
            return []
        if not shop.claim_details_check(s, order, now):
            return []
        dispatcher.utter_message(
            response="utter_details_check", order_id=order.order_no, address=order.address, phone=order.phone,
            courier=courier_name(order.courier or DEFAULT_COURIER, lang),
            buttons=[
                {"title": word("button.details_ok", lang), "payload": "/affirm"},
                {"title": word("button.details_change", lang),
                 "payload": f'/change_order{{"order_id":"{order.order_no}"}}'},
            ],
        )
        return [SlotSet(CONTEXT_ORDER, order.order_no)]


class ActionRestockNotice(OutreachAction):
    def name(self) -> str:
        return "action_restock_notice"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        code = latest_entity(tracker, "sku")
        wish = shop.shopper_restocked(s, tracker.sender_id, code) if code else None
        if wish is None or not shop.claim_restock(s, wish, now):
            return []
        product = wish.sku.product
        name = product_name(product, lang)
        dispatcher.utter_message(
            response="utter_restock_notice", product=name, variant=sku_label(wish.sku, lang),
            count=str(wish.sku.stock),
            buttons=[{"title": word("button.check_stock", lang),
                      "payload": f'/ask_stock{{"product":"{name}"}}'}],
        )
        return [SlotSet("product_code", product.code)]
