"""After-sales (售后): one form and one engine for every kind of case in policy.CASES.

`case_form` asks for what the kind's spec collects (order, item, reason, the
size wanted, whether the parcel was signed for, whether to keep a wrong item);
`action_submit_case` opens the numbered case with the spec's starting status,
note, deadline and remedy, and asks for the evidence photos the spec names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import (
    BOT_AUTHOR,
    Events,
    ShopperAction,
    item_label,
    latest_entity,
    pick,
    shop_time,
)
from actions.forms import ShopFormValidation, SubmitAction, latest_intent
from actions.orders import this_order, user_texts_since
from bot import policy, shop
from bot.models import AfterSalesCase, Order, OrderItem
from bot.text import own_fault, refused_at_door, says_missing, says_worn, wants_refund_only
from bot.words import WORDS, word

KIND_FOR_INTENT = {
    "return_request": "return",
    "exchange_request": "exchange",
    "repair_request": "repair",
    "wrong_or_missing_item": "wrong_item",
    "damaged_item": "damaged",
    "quality_issue": "quality",
    "compensation_request": "compensation",
}
def kind_from_message(tracker: Tracker) -> Optional[str]:
    intent = latest_intent(tracker) or ""
    text = tracker.latest_message.get("text") or ""
    kind = KIND_FOR_INTENT.get(intent)
    if kind == "return" and wants_refund_only(text):
        return "refund_only"
    if kind == "wrong_item" and says_missing(text):
        return "missing_item"
    return kind


def kind_name(kind: str, lang: str) -> str:
    return word(f"kind.{kind}", lang)


def item_buttons(order: Order, lang: str) -> list[dict[str, str]]:
    return [{"title": item_label(i, lang), "payload": f'/inform{{"order_item":"{i.id}"}}'} for i in order.items]


def pick_item(s: Session, tracker: Tracker, order: Order) -> Optional[OrderItem]:
    """The item this message names: a button's item id, else a product named in the text."""
    if len(order.items) == 1:
        return order.items[0]
    chosen = latest_entity(tracker, "order_item")
    if chosen:
        return next((i for i in order.items if str(i.id) == chosen), None)
    named = shop.match_products(s, latest_entity(tracker, "product"), tracker.latest_message.get("text"))
    ids = {p.id for p in named}
    matching = [i for i in order.items if i.sku.product_id in ids]
    return matching[0] if len(matching) == 1 else None


class ValidateCaseForm(ShopFormValidation):
    flow = "case"
    # "can I get compensation instead?" mid-way (the refusal's button, or typed) becomes that case.
    restart_on = ("compensation_request",)

    def name(self) -> str:
        return "validate_case_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        kind = tracker.get_slot("case_kind")
        if self.activating(tracker):
            kind = kind_from_message(tracker) or "return"  # what this form is about to become
        if kind not in policy.CASES:
            return ["case_kind", "order_id", "order_item"]
        return ["case_kind", *policy.CASES[kind].collect]

    # --- kind ------------------------------------------------------------------------------------

    def extract_case_kind(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        kind = kind_from_message(tracker)
        if self.activating(tracker):
            return {"case_kind": kind or "return"}
        return {}

    def validate_case_kind(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"case_kind": value if value in policy.CASES else "return"}

    # --- order -----------------------------------------------------------------------------------

    def check(self, tracker: Tracker, order: Order) -> policy.OrderCheck:
        spec = policy.CASES[tracker.get_slot("case_kind") or "return"]
        found = spec.eligible(order.status, order.delivered_at, self.now)
        return policy.OrderCheck(found.eligible, found.reason)

    def explain_refusal(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, reason: str) -> None:
        kind = tracker.get_slot("case_kind") or "return"
        values: dict[str, Any] = {"order_id": order.order_no, "kind": kind_name(kind, self.lang(tracker)),
                                  **policy.figures()}
        buttons: list[dict[str, str]] = []
        if reason == "window_passed" and order.delivered_at is not None:
            values["days"] = str(max((self.now - order.delivered_at).days, 0))
            # Outside the rules: keep the shopper with compensation rather than a bare no (WORKFLOWS.md).
            buttons = [{"title": word("button.compensation", self.lang(tracker)),
                        "payload": f'/compensation_request{{"order_id":"{order.order_no}"}}'}]
        dispatcher.utter_message(response=f"utter_case_refused_{reason}", buttons=buttons, **values)

    def order_accepted(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, reason: str
    ) -> dict[str, Any]:
        slots = self.accept("order_id", order.order_no)
        item = pick_item(self.s, tracker, order)
        if item is not None and "order_item" in policy.CASES[tracker.get_slot("case_kind") or "return"].collect:
            slots.update(self._item_ok(dispatcher, tracker, item))
        return slots

    # --- item ------------------------------------------------------------------------------------

    def extract_order_item(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        order = this_order(self.s, tracker)
        if order is None or tracker.get_slot("requested_slot") != "order_item":
            return {}
        item = pick_item(self.s, tracker, order)
        if item is not None:
            return {"order_item": str(item.id)}
        if latest_intent(tracker) in ("inform", "affirm"):
            return {"order_item": "?"}
        return {}

    def validate_order_item(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"order_item": None}
        order = this_order(self.s, tracker)
        item = next((i for i in order.items if str(i.id) == str(value)), None) if order else None
        if item is None:
            return self.refuse(dispatcher, tracker, "order_item", "utter_item_not_in_order",
                               order_id=tracker.get_slot("order_id") or "-")
        return self._item_ok(dispatcher, tracker, item)

    def _item_ok(self, dispatcher: CollectingDispatcher, tracker: Tracker, item: OrderItem) -> dict[str, Any]:
        kind = tracker.get_slot("case_kind") or "return"
        existing = shop.open_case_for_item(self.s, item, kind)
        if existing is not None:
            dispatcher.utter_message(
                response="utter_case_already_open", case_no=existing.case_no,
                item=item_label(item, self.lang(tracker)), kind=kind_name(kind, self.lang(tracker)),
            )
            return self.finish(order_item=None)
        return self.accept("order_item", str(item.id))

    # --- what the kind collects ----------------------------------------------------------------------

    def validate_case_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"case_reason": None}
        text = str(value).strip()
        if not text or text.startswith("/"):
            return self.refuse(dispatcher, tracker, "case_reason", "utter_case_reason_empty")
        return self.accept("case_reason", text[:1000])

    def extract_wanted(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("case_kind") != "exchange":
            return {}
        size, color = latest_entity(tracker, "size"), latest_entity(tracker, "color")
        product = latest_entity(tracker, "product")
        if size or color:
            # "M码太大了，换S": the last size named is the one wanted.
            sizes = list(tracker.get_latest_entity_values("size"))
            return {"wanted": f"{color or ''}/{sizes[-1] if sizes else ''}"}
        if tracker.get_slot("requested_slot") == "wanted":
            if product:
                return {"wanted": f"product:{product}"}
            if latest_intent(tracker) in ("inform", "affirm", "exchange_request"):
                return {"wanted": "?"}
        return {}

    def validate_wanted(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"wanted": None}
        if value == "?":
            return self.refuse(dispatcher, tracker, "wanted", "utter_wanted_unclear")
        return self.accept("wanted", str(value)[:64])

    def extract_signed_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("case_kind") == "damaged" and refused_at_door(tracker.latest_message.get("text") or ""):
            return {"signed_for": False}
        return {}

    def validate_signed_for(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"signed_for": value} if value is None else self.accept("signed_for", bool(value))

    def validate_keep_item(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"keep_item": value} if value is None else self.accept("keep_item", bool(value))


class ActionAskOrderItem(ShopperAction):
    def name(self) -> str:
        return "action_ask_order_item"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        order = this_order(s, tracker)
        if order is not None:
            dispatcher.utter_message(response="utter_ask_order_item", order_id=order.order_no,
                                     buttons=item_buttons(order, lang))
        return []


# --- the engine ----------------------------------------------------------------------------------------

def _remedy(kind: str, order: Order, item: Optional[OrderItem], tracker: Tracker, now: datetime) -> str:
    kind_hearted = policy.own_fault_remedy(kind, own_fault(str(tracker.get_slot("case_reason") or "")))
    if kind_hearted:
        return kind_hearted
    if kind == "wrong_item":
        value = item.unit_price if item else order.total
        return policy.wrong_item_remedy(bool(tracker.get_slot("keep_item")), policy.RETURN_POSTAGE, value)
    if kind == "quality" and order.delivered_at is not None:
        worn = says_worn(str(tracker.get_slot("case_reason") or ""))
        return policy.quality_remedy(order.delivered_at, now, worn)
    if kind == "damaged":
        return policy.damaged_remedy(tracker.get_slot("signed_for") is not False)
    if kind == "missing_item":
        return policy.missing_item_remedy(other_parcel_on_its_way=False, shop_at_fault=False)
    return kind




class ActionSubmitCase(SubmitAction):
    """One engine for every kind: the numbered case, its note, deadline, remedy and evidence request."""

    required = ("case_kind", "order_id")

    def name(self) -> str:
        return "action_submit_case"

    def submit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        kind = str(tracker.get_slot("case_kind"))
        spec = policy.CASES[kind]
        order = this_order(s, tracker)
        if order is None or any(tracker.get_slot(slot) is None for slot in spec.collect):
            return []
        item_id = tracker.get_slot("order_item")
        item = next((i for i in order.items if str(i.id) == str(item_id)), None)
        if kind == "damaged" and tracker.get_slot("signed_for") is False:
            # Refused at the door: the parcel comes back to us; an ordinary return, no photos.
            kind, spec = "return", policy.CASES["return"]
        reason = str(tracker.get_slot("case_reason") or "")
        if not reason:
            reason = " / ".join(t for t in user_texts_since(tracker, "case_form") if not t.startswith("/"))[:1000]
        remedy = _remedy(kind, order, item, tracker, now)
        case = shop.create_case(s, order, item, kind, reason, now)
        case.remedy = remedy
        case.wanted = tracker.get_slot("wanted") if kind == "exchange" else None
        if kind == "repair" and remedy != "own_fault_goodwill":
            case.progress = f"{shop_time(now)[:10]} {policy.REPAIR_REGISTERED}"
        if kind == "compensation":
            case.amount = policy.max_goodwill(order.total)
        if spec.extends_transaction:
            order.transaction_deadline = policy.extended_deadline(order.transaction_deadline, now)
        item_zh = f"{item.sku.product.name_zh} {item.sku.color_zh}/{item.sku.size}" if item else policy.WHOLE_ORDER
        note = policy.case_note(kind, case_no=case.case_no, item=item_zh, reason=reason[:60],
                                wanted=str(case.wanted or ""), cap=str(case.amount or ""),
                                remedy=policy.remedy_note(remedy))
        if remedy == "own_fault_goodwill":  # whatever the kind's note says, the agent must see this first
            note = f"{note}；{policy.remedy_note(remedy)}"
        shop.add_note_once(s, order, kind=f"{kind}_{case.case_no}", flag="red", author=BOT_AUTHOR,
                           text=f"{note} — {BOT_AUTHOR} — {shop_time(now)[:10]}")
        response = f"utter_case_created_{kind}"
        if remedy == "own_fault_goodwill":
            response = "utter_case_created_own_fault"
        elif kind in ("wrong_item", "quality") or (kind == "return" and tracker.get_slot("case_kind") == "damaged"):
            response = f"utter_case_created_{kind}_{remedy}" if kind != "return" else "utter_case_created_damaged_refused"
        dispatcher.utter_message(
            response=response,
            case_no=case.case_no, order_id=order.order_no,
            item=item_label(item, lang) if item else word("label.whole_order", lang),
            address=pick(lang, policy.RETURN_ADDRESS_ZH, policy.RETURN_ADDRESS_EN),
            deadline=shop_time(order.transaction_deadline)[:10], wanted=str(case.wanted or "").strip("/"),
            cap=str(case.amount or ""), kind=kind_name(kind, lang),
            **policy.figures(),
        )
        if spec.evidence:
            dispatcher.utter_message(json_message={"photo_request": {"case_no": case.case_no,
                                                                      "evidence": list(spec.evidence)}})
        return [SlotSet("case_no", case.case_no)]


# --- where do my cases stand -------------------------------------------------------------------------

def case_line(case: AfterSalesCase, lang: str) -> str:
    status = case.status if f"status.{case.status}" in WORDS else "open"
    what = item_label(case.item, lang) if case.item else word("label.whole_order", lang)
    next_step = word(f"next.{status}", lang)
    if case.kind == "repair" and case.progress:
        # Agents append dated lines; the shopper sees the newest.
        next_step = word("case.progress", lang, next=next_step, progress=case.progress.splitlines()[-1])
    if case.return_tracking_no:
        next_step = word("case.shipped_back", lang, next=next_step, tracking_no=case.return_tracking_no)
    return word("case.line", lang, case_no=case.case_no, kind=kind_name(case.kind, lang), what=what,
                status=word(f"status.{status}", lang), next=next_step)


class ActionRefundStatus(ShopperAction):
    """Where the shopper's after-sales stand: the return, repair or exchange and the money back.

    Shoppers ask one question for all of them ("退货怎么还没处理", "where's my refund", "维修要多久"),
    as JD's own service taxonomy has it, so one answer lists the cases, the refunds of cancelled orders
    and when money arrives.
    """

    def name(self) -> str:
        return "action_refund_status"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        named = latest_entity(tracker, "case_no")
        if named:
            case = shop.find_case(s, tracker.sender_id, named.strip().upper()[:32])
            if case is None:
                dispatcher.utter_message(response="utter_case_not_found", case_no=named.strip()[:32])
                return []
            cases = [case]
            cancelled = []
        else:
            cases = shop.shopper_cases(s, tracker.sender_id, limit=5)
            cancelled = [o for o in shop.orders_with_status(s, tracker.sender_id, ["cancelled"], limit=3)
                         if o.paid_at is not None and o.cancelled_at is not None]
        if not cases and not cancelled:
            dispatcher.utter_message(response="utter_refund_rules", **policy.figures())
            return []
        lines = [case_line(c, lang) for c in cases]
        for order in cancelled:
            lines.append(word("refund.cancelled", lang, order_id=order.order_no,
                              date=shop_time(order.cancelled_at)[:10], total=order.total))
        dispatcher.utter_message(response="utter_refund_status", refunds="\n".join(lines), **policy.figures())
        return [SlotSet("case_no", cases[0].case_no)] if cases else []

