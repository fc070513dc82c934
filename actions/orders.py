"""Orders (售中): where is it, please ship it, cancel it, change it, invoice it.

Each flow is a form: `Validate<Flow>Form` checks the answers against the
shopper's own orders and policy.ORDER_FLOWS; the submit action acts on the
order (conditional UPDATEs in bot.shop) and writes the shop's notes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import (
    Events,
    ShopperAction,
    courier_name,
    item_label,
    items_label,
    latest_entity,
    pick,
    shop_time,
    write_note,
)
from actions.forms import (
    ShopFormValidation,
    SubmitAction,
    candidates_for,
    confirm_buttons,
    latest_intent,
    user_texts_since,
)
from actions.products import sku_label
from bot import policy, shop
from bot.models import Order, OrderItem, Sku
from bot.text import (
    find_courier,
    find_order_numbers,
    find_tax_number,
    invoice_title,
    is_urgent,
    means_personal,
    read_contact,
    title_in,
    wants_other_order,
)
from bot.words import word


def order_card(order: Order, lang: str) -> dict:
    """A card the widget shows under the reply (Rasa widgets ignore it)."""
    lines = [item_label(i, lang) for i in order.items]
    lines.append(word("label.total", lang, total=order.total))
    if order.tracking_no:
        lines.append(f"{courier_name(order.courier, lang)} {order.tracking_no}")
    return {"card": {"type": "order", "title": f"{order.order_no} · {word('order.' + order.status, lang)}", "lines": lines}}


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
            _register_overdue(dispatcher, s, order, lang, now)
    elif order.status == "shipped":
        _report_transit(dispatcher, s, order, lang, now, common)
    elif order.status in ("delivered", "completed"):
        dispatcher.utter_message(
            response="utter_order_delivered", delivered=shop_time(order.delivered_at), **common
        )
    else:
        dispatcher.utter_message(response="utter_order_cancelled", **common)


def _register_overdue(
    dispatcher: CollectingDispatcher, s: Session, order: Order, lang: str, now: datetime
) -> None:
    """Past the promise: a follow-up on the order, a small gift, the reason and a new date."""
    sold_out = any(i.sku.stock <= 0 for i in order.items)
    ship_by = shop_time(policy.overdue_ship_by(now))
    write_note(s, order, "ship_overdue_followup", now, note="ship_overdue_followup",
               cause=policy.OVERDUE_CAUSES["sold_out" if sold_out else "missed"], ship_by=ship_by)
    dispatcher.utter_message(
        response="utter_order_paid_overdue_restock" if sold_out else "utter_order_paid_overdue",
        order_id=order.order_no, items=items_label(order, lang), ship_by=ship_by, **policy.figures(),
    )


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
        write_note(s, order, "courier_chase", now, note="courier_chase", hours=str(check.hours_quiet))
    elif check.state == "lost":
        write_note(s, order, "lost_claim", now, note="lost_claim", hours=str(check.hours_quiet))
    dispatcher.utter_message(response=f"utter_order_shipped_{check.state}", **details)


def this_order(s: Session, tracker: Tracker) -> Optional[Order]:
    number = tracker.get_slot("order_id")
    return shop.find_order(s, tracker.sender_id, str(number)) if number else None


# --- where is my order --------------------------------------------------------------------------

class ValidateOrderStatusForm(ShopFormValidation):
    flow = "order_status"
    restart_on = ("order_status",)  # "where is my order?" again, instead of an order number

    def name(self) -> str:
        return "validate_order_status_form"


class ActionCheckOrderStatus(SubmitAction):
    def name(self) -> str:
        return "action_check_order_status"

    def submit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        order = this_order(s, tracker)
        if order is not None:
            report_order(dispatcher, s, order, lang, now)
        return []


# --- please ship it (催发货) -----------------------------------------------------------------------

class ValidateUrgeShipmentForm(ShopFormValidation):
    flow = "urge_shipment"
    restart_on = ("urge_shipment",)

    def name(self) -> str:
        return "validate_urge_shipment_form"

    def explain_refusal(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, reason: str) -> None:
        if reason == "shipped":
            # Already on its way (or delivered): the useful answer is where it is.
            report_order(dispatcher, self.s, order, self.lang(tracker), self.now)
            return
        super().explain_refusal(dispatcher, tracker, order, reason)


class ActionUrgeShipment(SubmitAction):
    def name(self) -> str:
        return "action_urge_shipment"

    def submit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        order = this_order(s, tracker)
        if order is None:
            return []
        if order.status != "paid":
            report_order(dispatcher, s, order, lang, now)
            return []
        check = policy.shipping_check(order.paid_at, now)
        if check.state == "within_promise":
            dispatcher.utter_message(
                response="utter_urge_within_promise", order_id=order.order_no,
                deadline=shop_time(check.deadline), **policy.figures(),
            )
        else:
            _register_overdue(dispatcher, s, order, lang, now)
        return []


# --- cancel before shipment ------------------------------------------------------------------------

class ValidateCancelOrderForm(ShopFormValidation):
    flow = "cancel_order"

    def name(self) -> str:
        return "validate_cancel_order_form"

    def explain_refusal(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, reason: str) -> None:
        dispatcher.utter_message(
            response=f"utter_cancel_order_refused_{reason}", order_id=order.order_no, **policy.figures()
        )


class ActionAskCancelConfirm(ShopperAction):
    def name(self) -> str:
        return "action_ask_cancel_order_form_confirm"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        order = this_order(s, tracker)
        if order is None:
            return []
        dispatcher.utter_message(
            response="utter_ask_cancel_confirm", order_id=order.order_no, items=items_label(order, lang),
            total=f"{order.total}",
            buttons=confirm_buttons(lang, "cancel_order_form", len(candidates_for("cancel_order_form", s, tracker, now)) > 1),
        )
        return []


class ActionSubmitCancel(SubmitAction):
    required = ("order_id", "confirm")

    def name(self) -> str:
        return "action_submit_cancel_order"

    def submit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        order = this_order(s, tracker)
        if order is None:
            return []
        if not tracker.get_slot("confirm"):
            dispatcher.utter_message(response="utter_cancel_kept", order_id=order.order_no)
            return []
        was_paid = order.status == "paid"
        if not shop.cancel_order(s, order, now):
            # It shipped between the question and the answer.
            dispatcher.utter_message(response="utter_cancel_order_refused_shipped", order_id=order.order_no,
                                     **policy.figures())
            return []
        refund = policy.CANCEL_REFUND["paid" if was_paid else "unpaid"].format(**policy.figures())
        write_note(s, order, "cancelled", now, note="cancelled", refund=refund)
        dispatcher.utter_message(
            response="utter_cancel_done_refund" if was_paid else "utter_cancel_done_unpaid",
            order_id=order.order_no, total=f"{order.total}", **policy.figures(),
        )
        return []


# --- change an order (订单修改) -------------------------------------------------------------------

def read_change(tracker: Tracker) -> Optional[str]:
    """The change the shopper asks for, as "field:value"; "contact:" for an address or phone (their own
    slots, new_address and new_phone); None when the message names none."""
    text = (tracker.latest_message.get("text") or "").strip()
    address, phone = read_contact(text)
    if phone or address:
        return "contact:"
    courier = find_courier(text)
    if courier:
        return f"courier:{courier}"
    size, color = latest_entity(tracker, "size"), latest_entity(tracker, "color")
    if size or color:
        return f"variant:{color or ''}/{size or ''}"
    if latest_entity(tracker, "product"):
        return f"product:{latest_entity(tracker, 'product')}"
    return None


CONTACT_SEP = "\x1f"  # between address and phone while the extraction carries both


def contact_of(tracker: Tracker) -> tuple[Optional[str], Optional[str]]:
    return tracker.get_slot("new_address"), tracker.get_slot("new_phone")


class ChangePlan:
    """What a change request would do to an order, or why it cannot."""

    def __init__(self, field: str, value: str, *, refused: Optional[str] = None,
                 item: Optional[OrderItem] = None, sku: Optional[Sku] = None,
                 address: Optional[str] = None, phone: Optional[str] = None) -> None:
        self.field, self.value, self.refused, self.item, self.sku = field, value, refused, item, sku
        self.address, self.phone = address, phone

    def describe(self, lang: str) -> str:
        if self.field == "variant" and self.item is not None and self.sku is not None:
            after = sku_label(self.sku, lang)
            return f"{item_label(self.item, lang)} → {after}"
        if self.field == "contact":
            parts = ([word("change.address", lang, value=self.address)] if self.address else []) + (
                [word("change.phone", lang, value=self.phone)] if self.phone else [])
            return word("list.semicolon", lang).join(parts)
        if self.field == "phone":
            return word("change.phone", lang, value=self.value)
        if self.field == "courier":
            return word("change.courier", lang, value=courier_name(self.value, lang))
        return word("change.address", lang, value=self.value)


def plan_change(s: Session, order: Order, detail: str, address: Optional[str] = None,
                phone: Optional[str] = None) -> ChangePlan:
    field, _, value = detail.partition(":")
    check = policy.can_change(order.status)
    if not check.allowed:
        return ChangePlan(field, value, refused=check.reason, address=address, phone=phone)
    if field in ("address", "phone", "contact"):
        return ChangePlan(field, value, address=address, phone=phone)
    if check.reason == "address_only":  # the courier has the parcel: neither it nor the item can change now
        return ChangePlan(field, value, refused="shipped_item")
    if field == "product":
        return ChangePlan(field, value, refused="other_item")
    if field == "courier":
        return ChangePlan(field, value)
    color, _, size = value.partition("/")
    for item in order.items:
        product = item.sku.product
        want_color = color or None
        want_size = shop.normalise_size(size) if size else item.sku.size
        options = [k for k in shop.matching_skus(product, want_color or item.sku.color_zh, want_size)
                   if k.id != item.sku_id]
        if not want_color:
            options = [k for k in options if k.color_zh == item.sku.color_zh]
        if options:
            sku = options[0]
            if sku.stock < item.quantity:
                return ChangePlan(field, value, refused="variant_sold_out", item=item, sku=sku)
            return ChangePlan(field, value, item=item, sku=sku)
    return ChangePlan(field, value, refused="variant_unknown")


class ValidateChangeOrderForm(ShopFormValidation):
    flow = "change_order"

    def redo_slots(self, tracker: Tracker) -> tuple[str, ...]:
        return (*super().redo_slots(tracker), "change_detail")

    def name(self) -> str:
        return "validate_change_order_form"

    def extract_change_detail(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        asked = tracker.get_slot("requested_slot") == "change_detail"
        # "不对，地址是…" at the confirmation corrects the change: it is read like an answer.
        correcting = tracker.get_slot("requested_slot") == "confirm" and latest_intent(tracker) in (
            "inform", "change_order", "affirm", "deny")
        if not correcting and (latest_intent(tracker) not in ("inform", "change_order", "affirm")
                               or not (asked or self.activating(tracker))):
            return {}  # a question mid-form is not an answer to this one
        detail = read_change(tracker)
        if correcting and not detail:
            return {}
        if detail == "contact:":
            # Address and phone are two slots: a message giving one keeps the other said before.
            # (Carried in the value: the SDK keeps only the form's required slots from an extraction;
            # validate_change_detail sets the two.)
            address, phone = read_contact(tracker.latest_message.get("text") or "")
            old_address, old_phone = contact_of(tracker) if tracker.get_slot("change_detail") == "contact:" else (None, None)
            return {"change_detail": f"contact:{address or old_address or ''}{CONTACT_SEP}{phone or old_phone or ''}",
                    "confirm": None}
        if detail:
            return {"change_detail": detail, "confirm": None}
        if asked and latest_intent(tracker) in ("inform", "change_order", "affirm"):
            return {"change_detail": "unclear:"}
        return {}

    def validate_change_detail(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"change_detail": None}
        if str(value).startswith("unclear:"):
            return self.refuse(dispatcher, tracker, "change_detail", "utter_change_unclear")
        contact: dict[str, Any] = {}
        if str(value).startswith("contact:"):
            address, _, phone = str(value).removeprefix("contact:").partition(CONTACT_SEP)
            contact = {"new_address": address or None, "new_phone": phone or None}
            value = "contact:"
            tracker.slots.update(contact)
        order = this_order(self.s, tracker)
        if order is None:
            return {"change_detail": value, **contact}  # checked once the order is known
        return {**contact, **self._check(dispatcher, tracker, order, str(value))}

    def _check(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, detail: str) -> dict[str, Any]:
        plan = plan_change(self.s, order, detail, *contact_of(tracker))
        if plan.refused is None:
            return self.accept("change_detail", detail)
        dispatcher.utter_message(
            response=f"utter_change_refused_{plan.refused}", order_id=order.order_no,
            change=plan.describe(self.lang(tracker)), **policy.figures(),
        )
        if plan.refused in ("variant_sold_out", "variant_unknown"):
            return self.refuse(dispatcher, tracker, "change_detail", "utter_ask_change_detail_again")
        # Nothing this flow can do (a different item, a shipped item): the form ends here.
        return self.finish(change_detail=None)

    def order_accepted(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, reason: str
    ) -> dict[str, Any]:
        accepted = self.accept("order_id", order.order_no)
        detail = tracker.get_slot("change_detail")
        if detail and "change_detail" not in tracker.slots_to_validate() and not str(detail).startswith("unclear:"):
            return {**accepted, **self._check(dispatcher, tracker, order, str(detail))}
        return accepted


class ActionAskChangeConfirm(ShopperAction):
    """The changed order, for the shopper to confirm before anything is written."""

    def name(self) -> str:
        return "action_ask_change_order_form_confirm"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        order = this_order(s, tracker)
        detail = tracker.get_slot("change_detail")
        if order is None or not detail:
            return []
        plan = plan_change(s, order, str(detail), *contact_of(tracker))
        dispatcher.utter_message(
            response="utter_ask_change_confirm_shipped" if order.status == "shipped" else "utter_ask_change_confirm",
            order_id=order.order_no, change=plan.describe(lang), buttons=confirm_buttons(lang, "change_order_form"),
        )
        return []


class ActionSubmitChange(SubmitAction):
    required = ("order_id", "change_detail", "confirm")

    def name(self) -> str:
        return "action_submit_change_order"

    def submit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        order = this_order(s, tracker)
        if order is None:
            return []
        if not tracker.get_slot("confirm"):
            dispatcher.utter_message(response="utter_change_kept", order_id=order.order_no)
            return []
        plan = plan_change(s, order, str(tracker.get_slot("change_detail")), *contact_of(tracker))
        change = plan.describe("zh")
        if plan.refused is not None:
            dispatcher.utter_message(response=f"utter_change_refused_{plan.refused}", order_id=order.order_no,
                                     change=plan.describe(lang), **policy.figures())
            return []
        if plan.field == "variant" and plan.item is not None and plan.sku is not None:
            done = shop.change_item_sku(s, order, plan.item, plan.sku)
            kind = "item_changed"
        elif plan.field == "courier":
            done = shop.change_courier(s, order, plan.value)
            kind = "courier_changed"
        else:
            done = shop.change_address(s, order, plan.address or (plan.value if plan.field == "address" else None),
                                       plan.phone or (plan.value if plan.field == "phone" else None))
            kind = "address_redirect" if order.status == "shipped" else "address_changed"
        if not done:
            dispatcher.utter_message(response="utter_change_refused_shipped_item", order_id=order.order_no,
                                     change=plan.describe(lang), **policy.figures())
            return []
        write_note(s, order, f"{kind}_{now:%Y%m%d%H%M%S}", now, note=kind, change=change, once=False)
        s.flush()
        s.refresh(order)
        dispatcher.utter_message(
            response="utter_change_redirect_requested" if kind == "address_redirect" else "utter_change_done",
            order_id=order.order_no, change=plan.describe(lang),
        )
        dispatcher.utter_message(json_message=order_card(order, lang))
        return []


# --- invoices (开票) --------------------------------------------------------------------------------

PERSONAL = "-"  # a personal invoice carries no tax number


class ValidateInvoiceForm(ShopFormValidation):
    flow = "invoice"

    def name(self) -> str:
        return "validate_invoice_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        title = tracker.get_slot("invoice_title")
        if title is not None and means_personal(str(title)):
            return ["order_id", "invoice_title"]
        return ["order_id", "invoice_title", "tax_number"]

    def extract_invoice_title(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A title said before it was asked ("开发票，抬头是…", "a personal invoice"); when asked, the
        domain's from_text mapping takes the whole answer."""
        if tracker.get_slot("requested_slot") == "invoice_title" or tracker.get_slot("invoice_title"):
            return {}
        text = tracker.latest_message.get("text") or ""
        named = title_in(text)
        if named:
            return {"invoice_title": named}
        if self.activating(tracker) and means_personal(text):
            return {"invoice_title": word("label.personal_title", self.lang(tracker))}
        return {}

    def validate_invoice_title(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"invoice_title": None}
        if find_order_numbers(str(value)) or wants_other_order(str(value)):
            # "换个订单，…" answered to the title question: the order changes, the title is still to come.
            return {"invoice_title": None}
        title = invoice_title(str(value))
        if len(title) < 2 or len(title) > 100 or find_tax_number(title) == title.upper():
            return self.refuse(dispatcher, tracker, "invoice_title", "utter_invoice_title_invalid")
        found = find_tax_number(str(value))
        slots = self.accept("invoice_title", title)
        if found and not means_personal(title):
            slots["tax_number"] = found  # title and tax number in one message
        return slots

    def extract_tax_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = tracker.latest_message.get("text") or ""
        found = find_tax_number(text)
        if found:
            return {"tax_number": found}
        if tracker.get_slot("requested_slot") == "tax_number" and latest_intent(tracker) not in (
                "deny", "human_handoff", "complain", "ask_product", "ask_stock"):
            if means_personal(text):
                return {"tax_number": PERSONAL}
            return {"tax_number": text.strip()[:40] or "-?"}
        return {}

    def validate_tax_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"tax_number": None}
        if value == PERSONAL or find_tax_number(str(value)) == str(value).upper():
            return self.accept("tax_number", str(value).upper())
        return self.refuse(dispatcher, tracker, "tax_number", "utter_tax_number_invalid")


def said_urgent(tracker: Tracker, form: str) -> bool:
    """Whether the shopper called it urgent at any point since the form started."""
    texts = user_texts_since(tracker, form)
    texts.append(tracker.latest_message.get("text") or "")
    return any(is_urgent(t) for t in texts)


class ActionSubmitInvoice(SubmitAction):
    required = ("order_id", "invoice_title")

    def name(self) -> str:
        return "action_submit_invoice"

    def submit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        order = this_order(s, tracker)
        if order is None:
            return []
        title = str(tracker.get_slot("invoice_title"))
        tax = str(tracker.get_slot("tax_number") or PERSONAL)
        urgent = said_urgent(tracker, "invoice_form")
        write_note(s, order, f"invoice_{now:%Y%m%d%H%M%S}", now, note="invoice_urgent" if urgent else "invoice",
                   flag="red", once=False, title=title, tax_number=tax, shopper=tracker.sender_id)
        dispatcher.utter_message(
            response="utter_invoice_recorded_urgent" if urgent else "utter_invoice_recorded",
            order_id=order.order_no, title=title, tax_number=tax if tax != PERSONAL else word("label.personal_invoice", lang),
        )
        return []
