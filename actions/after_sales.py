"""After-sales (售后): one form and one engine for every kind of case in policy.CASES.

`case_form` asks for what the kind's spec collects (order, item, reason, the
size wanted, whether the parcel was signed for, whether to keep a wrong item);
`action_submit_case` opens the numbered case with the spec's starting status,
note, deadline and remedy, and asks for the evidence photos the spec names.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
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
from actions.forms import (
    LEAD_IN,
    ShopFormValidation,
    SubmitAction,
    confirm_buttons,
    event_entity,
    latest_intent,
    topic_events,
    user_texts_since,
)
from actions.orders import this_order
from bot import policy, shop
from bot.models import AfterSalesCase, Order, OrderItem
from bot.text import (
    describes_problem,
    find_order_numbers,
    mentioned_colour,
    own_fault,
    says_missing,
    says_received,
    says_worn,
    wants_refund_only,
)
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


def goodwill_left(order: Order) -> Decimal:
    """The compensation still open to offer on this order: the cap less what its cases were paid."""
    return policy.goodwill_left(order.total, [c.amount_paid for c in order.cases if c.amount_paid is not None])


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


def item_named(s: Session, order: Order, text: str, product: Optional[str]) -> Optional[OrderItem]:
    """The one line of the order a message names: by product name or alias, then colour or size among
    lines of the same product ("黑色羽绒服", "the beanie")."""
    ids = {p.id for p in shop.match_products(s, product, text)}
    matching = [i for i in order.items if i.sku.product_id in ids]
    if len(matching) > 1:
        colour = mentioned_colour(text, [(i.sku.color_zh, i.sku.color_en) for i in matching])
        matching = [i for i in matching if colour in (i.sku.color_zh, i.sku.color_en)] if colour else matching
    if len(matching) > 1:
        sized = [i for i in matching if re.search(rf"(?<![A-Za-z0-9]){re.escape(i.sku.size)}(?![A-Za-z0-9])", text)]
        matching = sized or matching
    return matching[0] if len(matching) == 1 else None


def pick_item(s: Session, tracker: Tracker, order: Order) -> Optional[OrderItem]:
    """The item the shopper means: the only one, a button's item id, else the newest message since the
    topic began that names one of the order's lines."""
    if len(order.items) == 1:
        return order.items[0]
    chosen = latest_entity(tracker, "order_item")
    if chosen:
        return next((i for i in order.items if str(i.id) == chosen), None)
    for event in reversed(topic_events(tracker, "case_form", lead_in=LEAD_IN)):
        item = item_named(s, order, event.get("text") or "", event_entity(event, "product"))
        if item is not None:
            return item
    return None


def reason_told(tracker: Tracker) -> Optional[str]:
    """The shopper's own account of the problem, the newest message since the topic began that gives one
    (a button press or a bare order number is no account)."""
    for event in reversed(topic_events(tracker, "case_form", lead_in=LEAD_IN)):
        text = (event.get("text") or "").strip()
        if text and not text.startswith("/") and describes_problem(text) and find_order_numbers(text) != [text]:
            return text[:1000]
    return None


def received_told(tracker: Tracker) -> Optional[bool]:
    """Signed for (收到/arrived) or refused at the door (拒收), as the shopper already said."""
    for event in reversed(topic_events(tracker, "case_form", lead_in=LEAD_IN)):
        said = says_received(event.get("text") or "")
        if said is not None:
            return said
    return None


def wanted_told(tracker: Tracker) -> Optional[str]:
    """The size or colour asked for since the topic began: in "M码太大了，换S" the last size named."""
    for event in reversed(topic_events(tracker, "case_form", lead_in=LEAD_IN)):
        entities = (event.get("parse_data") or {}).get("entities") or []
        sizes = [str(e["value"]) for e in entities if e.get("entity") == "size"]
        color = event_entity(event, "color")
        if sizes or color:
            return f"{color or ''}/{sizes[-1] if sizes else ''}"
    return None


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
        # Opening a case cannot be taken back: one short confirmation of what will be done, last.
        return ["case_kind", *policy.CASES[kind].collect, "confirm"]

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

    def nearest_refused(self, tracker: Tracker) -> Optional[Order]:
        """A return or exchange past its window: the newest order that was delivered."""
        if (tracker.get_slot("case_kind") or "return") not in ("return", "exchange"):
            return None
        return next((o for o in shop.recent_orders(self.s, tracker.sender_id, limit=10)
                     if o.delivered_at is not None and o.status not in ("cancelled", "unpaid")), None)

    def explain_refusal(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, reason: str) -> None:
        kind = tracker.get_slot("case_kind") or "return"
        values: dict[str, Any] = {"order_id": order.order_no, "kind": kind_name(kind, self.lang(tracker)),
                                  **policy.figures()}
        buttons: list[dict[str, str]] = []
        if reason == "window_passed" and order.delivered_at is not None:
            lang = self.lang(tracker)
            values["days"] = str(max((self.now - order.delivered_at).days, 0))
            values["ended"] = shop_time(order.delivered_at + policy.RETURN_WINDOW)[:10]
            values["cap"] = str(goodwill_left(order))
            # Outside the rules: what still applies rather than a bare no (WORKFLOWS.md): a repair for a
            # quality problem, compensation, a person.
            buttons = [{"title": word("button.repair", lang), "payload": f'/repair_request{{"order_id":"{order.order_no}"}}'},
                       {"title": word("button.compensation", lang),
                        "payload": f'/compensation_request{{"order_id":"{order.order_no}"}}'},
                       {"title": word("button.person", lang), "payload": "/human_handoff"}]
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
        if order is None or self.activating(tracker):
            return {}
        if tracker.get_slot("requested_slot") != "order_item":
            # "不对，是帽子" / "no, the hat" after the item was settled: the item it names instead.
            text = tracker.latest_message.get("text") or ""
            named = item_named(self.s, order, text, latest_entity(tracker, "product"))
            if named is not None and str(named.id) != str(tracker.get_slot("order_item")) and len(order.items) > 1:
                return {"order_item": str(named.id), "confirm": None}
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

    def extract_case_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("case_reason"):
            return {}
        told = reason_told(tracker)
        return {"case_reason": told} if told else {}

    def validate_case_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"case_reason": None}
        text = str(value).strip()
        if not text or text.startswith("/") or find_order_numbers(text) == [text]:
            return self.refuse(dispatcher, tracker, "case_reason", "utter_case_reason_empty")
        return self.accept("case_reason", text[:1000])

    def extract_wanted(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("case_kind") != "exchange":
            return {}
        product = latest_entity(tracker, "product")
        told = wanted_told(tracker)
        if told and (not tracker.get_slot("wanted") or latest_entity(tracker, "size") or latest_entity(tracker, "color")):
            return {"wanted": told}
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
        if tracker.get_slot("case_kind") != "damaged" or tracker.get_slot("signed_for") is not None:
            return {}
        told = received_told(tracker)
        return {} if told is None else {"signed_for": told}

    def validate_signed_for(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"signed_for": value} if value is None else self.accept("signed_for", bool(value))

    # --- the confirmation -----------------------------------------------------------------------------

    def redo_slots(self, tracker: Tracker) -> tuple[str, ...]:
        # "Change": the details are asked again from the item on.
        return (*super().redo_slots(tracker), "order_item", "case_reason", "wanted", "signed_for")


def case_summary(s: Session, tracker: Tracker, lang: str) -> dict[str, str]:
    """What the case about to be opened is: kind, order, item and the shopper's reason or wish."""
    kind = str(tracker.get_slot("case_kind") or "return")
    order = this_order(s, tracker)
    item = next((i for i in order.items if str(i.id) == str(tracker.get_slot("order_item"))), None) if order else None
    detail = (tracker.get_slot("case_reason") or str(tracker.get_slot("wanted") or "").strip("/")
              or reason_told(tracker) or word("label.no_reason", lang))
    return {"kind": kind_name(kind, lang), "order_id": order.order_no if order else "-",
            "item": item_label(item, lang) if item else word("label.whole_order", lang), "reason": str(detail)[:120]}


class ActionAskCaseConfirm(ShopperAction):
    """Before the case is opened: what will be done, with Yes / Change."""

    def name(self) -> str:
        return "action_ask_case_form_confirm"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        dispatcher.utter_message(response="utter_ask_case_confirm", buttons=confirm_buttons(lang, "case_form"),
                                 **case_summary(s, tracker, lang))
        return []


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
        # The evidence comes first (WORKFLOWS.md): whether the shopper keeps it is settled once the photos
        # are in; until then the case carries what happens if they don't.
        return policy.wrong_item_remedy(False, policy.RETURN_POSTAGE, value)
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

    required = ("case_kind", "order_id", "confirm")

    def name(self) -> str:
        return "action_submit_case"

    def submit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        kind = str(tracker.get_slot("case_kind"))
        spec = policy.CASES[kind]
        order = this_order(s, tracker)
        if not tracker.get_slot("confirm"):
            dispatcher.utter_message(response="utter_case_not_opened")
            return []
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
            case.amount = goodwill_left(order)
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

