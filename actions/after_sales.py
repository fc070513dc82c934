"""Return intake: find the order and item, check the window, open a numbered case."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import (
    BOT_AUTHOR,
    Events,
    ShopAction,
    item_label,
    latest_entity,
    order_button,
    order_number,
    pick,
    shop_time,
)
from bot import policy, shop
from bot.models import Order, OrderItem

TASK = "return_request"


def _pick_item(
    s: Session, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, lang: str
) -> Optional[OrderItem]:
    if len(order.items) == 1:
        return order.items[0]
    named = shop.match_products(s, latest_entity(tracker, "product"), tracker.latest_message.get("text"))
    ids = {p.id for p in named}
    chosen = [i for i in order.items if i.sku.product_id in ids]
    if len(chosen) == 1:
        return chosen[0]
    dispatcher.utter_message(
        response="utter_choose_return_item",
        order_id=order.order_no,
        buttons=[
            {
                "title": item_label(i, lang),
                "payload": (
                    f'/inform{{"order_id":"{order.order_no}",'
                    f'"product":"{pick(lang, i.sku.product.name_zh, i.sku.product.name_en)}"}}'
                ),
            }
            for i in order.items
        ],
    )
    return None


def _explain_ineligible(dispatcher: CollectingDispatcher, order: Order, check: policy.ReturnCheck) -> None:
    if check.reason == "window_passed":
        dispatcher.utter_message(
            response="utter_return_window_passed",
            order_id=order.order_no,
            days=str(check.days_since_receipt),
            window=str(policy.RETURN_WINDOW.days),
        )
    else:
        dispatcher.utter_message(response=f"utter_return_{check.reason}", order_id=order.order_no, **policy.figures())


def request_return(
    dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
) -> Events:
    shopper = tracker.sender_id
    # "I want to return it" right after discussing an order means that order.
    named = order_number(tracker, use_slot=False)
    number = named or order_number(tracker, use_slot=True)
    if number:
        order = shop.find_order(s, shopper, number)
        if order is None:
            dispatcher.utter_message(response="utter_order_not_found", order_id=number[:32])
            return [SlotSet("pending_task", TASK)]
    else:
        candidates = shop.returnable_orders(s, shopper, now)
        if len(candidates) == 1:
            order = candidates[0]
        elif candidates:
            dispatcher.utter_message(
                response="utter_choose_return_order",
                buttons=[order_button(o, lang) for o in candidates],
            )
            return [SlotSet("pending_task", TASK)]
        else:
            dispatcher.utter_message(
                response="utter_return_no_candidates", window=str(policy.RETURN_WINDOW.days)
            )
            return [SlotSet("pending_task", TASK)]

    check = policy.return_check(order.status, order.delivered_at, now)
    if not check.eligible:
        _explain_ineligible(dispatcher, order, check)
        others = [o for o in shop.returnable_orders(s, shopper, now) if o.id != order.id] if not named else []
        if others:
            # The order in context cannot be returned, but others can: offer them.
            dispatcher.utter_message(
                response="utter_choose_return_order", buttons=[order_button(o, lang) for o in others]
            )
            return [SlotSet("order_id", None), SlotSet("pending_task", TASK)]
        return [SlotSet("order_id", order.order_no), SlotSet("pending_task", None)]

    item = _pick_item(s, dispatcher, tracker, order, lang)
    if item is None:
        return [SlotSet("order_id", order.order_no), SlotSet("pending_task", TASK)]

    existing = shop.open_case_for_item(s, item, "return")
    if existing is not None:
        dispatcher.utter_message(
            response="utter_return_already_open",
            case_no=existing.case_no,
            item=item_label(item, lang),
            address=pick(lang, policy.RETURN_ADDRESS_ZH, policy.RETURN_ADDRESS_EN),
        )
        return [SlotSet("order_id", order.order_no), SlotSet("pending_task", None)]

    reason = tracker.latest_message.get("text") or ""
    if reason.startswith("/"):  # a button press carries no reason of its own
        reason = ""
    case = shop.create_case(s, order, item, "return", reason, now)
    order.transaction_deadline = policy.extended_deadline(order.transaction_deadline, now)
    shop.add_note_once(
        s, order, kind=f"return_{case.case_no}", flag="red", author=BOT_AUTHOR,
        text=(policy.case_note("return", case_no=case.case_no,
                               item=f"{item.sku.product.name_zh} {item.sku.color_zh}/{item.sku.size}")
              + f" — {BOT_AUTHOR} — {shop_time(now)[:10]}"),
    )
    dispatcher.utter_message(
        response="utter_return_created",
        case_no=case.case_no,
        order_id=order.order_no,
        item=item_label(item, lang),
        address=pick(lang, policy.RETURN_ADDRESS_ZH, policy.RETURN_ADDRESS_EN),
        deadline=shop_time(order.transaction_deadline)[:10],
        **policy.figures(),
    )
    return [
        SlotSet("order_id", order.order_no),
        SlotSet("case_no", case.case_no),
        SlotSet("pending_task", None),
    ]


class ActionRequestReturn(ShopAction):
    def name(self) -> str:
        return "action_request_return"

    def needs_shopper(self, tracker: Tracker) -> bool:
        return True

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        return request_return(dispatcher, tracker, s, lang, now)
