"""Where is my order: the 48 h shipping promise and the 24/48/72 h tracking rules."""

from __future__ import annotations

from datetime import datetime

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import (
    BOT_AUTHOR,
    Events,
    ShopAction,
    courier_name,
    item_label,
    items_label,
    order_button,
    order_number,
    pick,
    shop_time,
)
from bot import policy, shop
from bot.models import Order

TASK = "order_status"


STATUS_NAMES = {
    "unpaid": ("待付款", "awaiting payment"), "paid": ("待发货", "paid, not shipped"),
    "shipped": ("运输中", "on its way"), "delivered": ("已签收", "delivered"),
    "completed": ("已完成", "completed"), "cancelled": ("已取消", "cancelled"),
}


def order_card(order: Order, lang: str) -> dict:
    """A card the widget shows under the reply (Rasa widgets ignore it)."""
    zh, en = STATUS_NAMES[order.status]
    lines = [item_label(i, lang) for i in order.items]
    lines.append(pick(lang, f"合计 ¥{order.total}", f"Total ¥{order.total}"))
    if order.tracking_no:
        lines.append(f"{courier_name(order.courier, lang)} {order.tracking_no}")
    return {"card": {"type": "order", "title": f"{order.order_no} · {pick(lang, zh, en)}", "lines": lines}}


def report_order(
    dispatcher: CollectingDispatcher, s: Session, order: Order, lang: str, now: datetime
) -> None:
    """Tell the shopper where the order is, and record what the rules require."""
    _report(dispatcher, s, order, lang, now)
    dispatcher.utter_message(json_message=order_card(order, lang))


def _report(
    dispatcher: CollectingDispatcher, s: Session, order: Order, lang: str, now: datetime
) -> None:
    common = {"order_id": order.order_no, "items": items_label(order, lang), **policy.figures()}
    if order.status == "unpaid":
        dispatcher.utter_message(response="utter_order_unpaid", total=f"{order.total}", **common)
    elif order.status == "paid":
        check = policy.shipping_check(order.paid_at, now)
        if check.state == "within_promise":
            dispatcher.utter_message(
                response="utter_order_paid_within", deadline=shop_time(check.deadline), **common
            )
        else:
            shop.add_note_once(
                s, order, kind="ship_overdue_followup", flag="red", author=BOT_AUTHOR,
                text=(f"超{policy.figures()['ship_hours']}小时未发货，买家催发货：已登记跟进，查明原因（漏发/缺货）并告知发货时间，"
                      f"赠送小礼品 — {BOT_AUTHOR} — {shop_time(now)[:10]}"),
            )
            dispatcher.utter_message(response="utter_order_paid_overdue", **common)
    elif order.status == "shipped":
        _report_transit(dispatcher, s, order, lang, now, common)
    elif order.status in ("delivered", "completed"):
        dispatcher.utter_message(
            response="utter_order_delivered", delivered=shop_time(order.delivered_at), **common
        )
    else:
        dispatcher.utter_message(response="utter_order_cancelled", **common)


def _report_transit(
    dispatcher: CollectingDispatcher, s: Session, order: Order, lang: str, now: datetime, common: dict
) -> None:
    events = order.tracking_events
    last = events[-1] if events else None
    last_at = last.at if last else (order.shipped_at or now)
    check = policy.tracking_check(last_at, now)
    details = {
        "courier": courier_name(order.courier, lang),
        "tracking_no": order.tracking_no or "-",
        "last_event": pick(lang, last.text_zh, last.text_en) if last else "-",
        "last_time": shop_time(last_at),
        "hours": str(check.hours_quiet),
        **common,
    }
    if check.state == "stale":
        shop.add_note_once(
            s, order, kind="courier_chase", flag="red", author=BOT_AUTHOR,
            text=f"物流{check.hours_quiet}小时无更新，已联系快递核实 — {BOT_AUTHOR} — {shop_time(now)[:10]}",
        )
    elif check.state == "lost":
        shop.add_note_once(
            s, order, kind="lost_claim", flag="red", author=BOT_AUTHOR,
            text=(f"物流{check.hours_quiet}小时无更新，按丢件处理：向快递索赔并立即补发 — "
                  f"{BOT_AUTHOR} — {shop_time(now)[:10]}"),
        )
    dispatcher.utter_message(response=f"utter_order_shipped_{check.state}", **details)


def check_order_status(
    dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
) -> Events:
    shopper = tracker.sender_id
    number = order_number(tracker, use_slot=False)
    if number:
        order = shop.find_order(s, shopper, number)
        if order is None:
            dispatcher.utter_message(response="utter_order_not_found", order_id=number[:32])
            return [SlotSet("pending_task", TASK)]
        report_order(dispatcher, s, order, lang, now)
        return [SlotSet("order_id", order.order_no), SlotSet("pending_task", None)]
    open_orders = shop.orders_with_status(s, shopper, shop.OPEN_STATUSES)
    if len(open_orders) == 1:
        report_order(dispatcher, s, open_orders[0], lang, now)
        return [SlotSet("order_id", open_orders[0].order_no), SlotSet("pending_task", None)]
    candidates = open_orders or shop.recent_orders(s, shopper, limit=3)
    if not candidates:
        dispatcher.utter_message(response="utter_no_orders")
        return [SlotSet("pending_task", None)]
    dispatcher.utter_message(
        response="utter_choose_order", buttons=[order_button(o, lang) for o in candidates]
    )
    return [SlotSet("pending_task", TASK)]


class ActionCheckOrderStatus(ShopAction):
    def name(self) -> str:
        return "action_check_order_status"

    def needs_shopper(self, tracker: Tracker) -> bool:
        return True

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        return check_order_status(dispatcher, tracker, s, lang, now)
