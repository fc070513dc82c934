"""What every form shares: the database session, the order question, misses, cancelling.

Each multi-turn flow is a Rasa form with a `Validate<Flow>Form` subclass of
`ShopFormValidation` (one `validate_<slot>` per slot). The base runs the SDK's
extract/validate cycle in a worker thread inside one transaction, as
`ShopAction` does, starts every form clean (nothing left over from an earlier
flow), fills the order from the message, the order just discussed or the only
order that fits, and offers a person after two unusable answers in a row.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import Any, Optional

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import Events, ShopperAction, events_back, language, latest_entity, order_button, order_number
from bot import identity, policy, shop
from bot.clock import utcnow
from bot.db import get_sessionmaker
from bot.models import Order
from bot.text import wants_other_order
from bot.words import word

log = logging.getLogger(__name__)

# Every slot a form fills. A form starts with them empty and every way out of a
# form (submit, cancel, handoff, a new session) empties them again.
FORM_SLOTS = (
    "order_id", "order_item", "confirm", "change_detail", "new_address", "new_phone", "invoice_title", "tax_number",
    "case_kind", "case_reason", "wanted", "signed_for", "form_misses",
)
FINISHED = -1  # form_misses when validation ended the form early (nothing fits, already explained)
# The order a finished flow worked on, so "cancel it" right after means that order.
CONTEXT_ORDER = "last_order"

_SESSION: contextvars.ContextVar[Session] = contextvars.ContextVar("form_session")
_NOW: contextvars.ContextVar[datetime] = contextvars.ContextVar("form_now")


def reset_form_slots(keep_order: Optional[str] = None) -> list[EventType]:
    events: list[EventType] = [SlotSet(name, None) for name in FORM_SLOTS]
    if keep_order:
        events.append(SlotSet(CONTEXT_ORDER, keep_order))
    return events


def leave_form(tracker: Tracker) -> list[EventType]:
    """Deactivate whatever form is running and forget what it collected."""
    if not (tracker.active_loop or {}).get("name"):
        return []
    return [ActiveLoop(None), SlotSet("requested_slot", None), *reset_form_slots()]


class ShopFormValidation(FormValidationAction, ABC):
    """Validation for one form; subclasses name the form's flow and validate its slots."""

    #: The key of this form in policy.ORDER_FLOWS (which orders it may work on).
    flow: str = "order_status"

    @abstractmethod
    def name(self) -> str: ...

    # --- context for validate_/extract_ methods --------------------------------------------

    @property
    def s(self) -> Session:
        return _SESSION.get()

    @property
    def now(self) -> datetime:
        return _NOW.get()

    def lang(self, tracker: Tracker) -> str:
        return language(tracker)

    #: Intents that start this form afresh even while it is asking (forms whose only question is the order).
    restart_on: tuple[str, ...] = ()

    def activating(self, tracker: Tracker) -> bool:
        """Whether this turn starts the form (Rasa marks the loop active before it validates)."""
        loop = tracker.active_loop or {}
        if loop.get("name") != self.form_name() or latest_intent(tracker) in self.restart_on:
            return True
        trigger = (loop.get("trigger_message") or {}).get("message_id")
        return trigger is not None and trigger == tracker.latest_message.get("message_id")

    # --- running ---------------------------------------------------------------------------

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if identity.is_visitor(tracker.sender_id):
            dispatcher.utter_message(response="utter_login_required")
            return [ActiveLoop(None), SlotSet("requested_slot", None), *reset_form_slots()]
        return await asyncio.to_thread(self._run_in_transaction, dispatcher, tracker, domain)

    def _run_in_transaction(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            with get_sessionmaker().begin() as s:
                _SESSION.set(s)
                _NOW.set(utcnow())
                # The SDK's cycle is async but does no I/O of its own: run it to completion here.
                return asyncio.run(super().run(dispatcher, tracker, domain))
        except Exception:
            log.exception("validation %s failed for %s", self.name(), tracker.sender_id)
            dispatcher.messages.clear()
            dispatcher.utter_message(response="utter_technical_problem")
            return [ActiveLoop(None), SlotSet("requested_slot", None), *reset_form_slots()]

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        if not self.activating(tracker):
            return events
        # A new form starts clean: whatever an earlier flow left behind does not count.
        found = {e["name"] for e in events}
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        stale = [SlotSet(n, None) for n in FORM_SLOTS if n not in found and n in required and n != "case_kind"]
        return [*stale, *events, SlotSet("form_misses", 0)]

    # --- answers the form cannot use ------------------------------------------------------------

    def refuse(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, response: str, **values: Any
    ) -> dict[str, Any]:
        """Say why the answer cannot be used; the second miss in a row offers a person."""
        dispatcher.utter_message(response=response, **values)
        misses = int(tracker.get_slot("form_misses") or 0) + 1
        if misses >= policy.INVALID_ANSWERS_BEFORE_PERSON:
            lang = self.lang(tracker)
            dispatcher.utter_message(
                response="utter_offer_person",
                buttons=[
                    {"title": word("button.person", lang), "payload": "/human_handoff"},
                    {"title": word("button.never_mind", lang), "payload": "/deny"},
                ],
            )
            misses = 0
        return {slot: None, "form_misses": misses}

    def accept(self, slot: str, value: Any) -> dict[str, Any]:
        return {slot: value, "form_misses": 0}

    def finish(self, **slots: Any) -> dict[str, Any]:
        """End the form now: the submit action sees what is missing and says nothing more."""
        return {**slots, "requested_slot": None, "form_misses": FINISHED}

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Optional[EventType]:
        # The SDK would pick the next empty slot of a dynamic form even after `finish`; Rasa obeys the last one.
        if tracker.slots.get("form_misses") == FINISHED:
            return SlotSet("requested_slot", None)
        return await super().next_requested_slot(dispatcher, tracker, domain)

    # --- the confirmation before an irreversible step (cancel, change, a case) ------------------------

    def redo_slots(self, tracker: Tracker) -> tuple[str, ...]:
        """What the confirmation's "Change" button asks again (the order when several fit)."""
        return ("order_id",) if len(self.candidates(tracker)) > 1 else ()

    def extract_confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not latest_entity(tracker, REDO):
            return {}
        return {**{slot: None for slot in self.redo_slots(tracker)}, "confirm": None}

    def validate_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None or tracker.get_slot("order_id") is None:
            # The order changed in this very message: the question is asked again for the new one.
            return {"confirm": None}
        return self.accept("confirm", bool(value))

    # --- the order every form works on ----------------------------------------------------------

    def candidates(self, tracker: Tracker) -> list[Order]:
        return candidates_for(self.form_name(), self.s, tracker, self.now)

    def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = tracker.latest_message.get("text") or ""
        named = order_number(tracker, use_slot=False)
        if named:
            if tracker.get_slot("order_id") not in (None, named):
                return {"order_id": named, "confirm": None, "order_item": None}
            return {"order_id": named}
        if wants_other_order(text) and tracker.get_slot("order_id"):
            # "不是这个订单": forget it and whatever was decided about it; the form asks again.
            return {"order_id": None, "confirm": None, "order_item": None}
        if self.activating(tracker):
            context = tracker.get_slot(CONTEXT_ORDER)
            if context:
                # "退货" right after talking about an order means that order; if it doesn't fit,
                # validation says why and offers the ones that do.
                return {"order_id": context}
            fits = self.candidates(tracker)
            if len(fits) == 1:
                return {"order_id": fits[0].order_no}
            if not fits:
                # Nothing fits: the order it would have been, so validation says why not (never "no order").
                nearest = self.nearest_refused(tracker)
                return {"order_id": nearest.order_no} if nearest else {}
            return {}
        if tracker.get_slot("requested_slot") == "order_id" and latest_intent(tracker) in ("inform", "affirm"):
            # An answer to "which order?" that holds no order number: say so, don't guess.
            return {"order_id": (text.strip() or "-")[:32]}
        return {}

    def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"order_id": None}
        order = shop.find_order(self.s, tracker.sender_id, str(value))
        if order is None:
            return self.refuse(dispatcher, tracker, "order_id", "utter_order_not_found", order_id=str(value)[:32])
        check = self.check(tracker, order)
        if not check.allowed:
            self.explain_refusal(dispatcher, tracker, order, check.reason)
            others = [o for o in self.candidates(tracker) if o.id != order.id]
            if others:
                return {"order_id": None}  # the form asks again, offering the orders that fit
            return self.finish(order_id=None)
        return self.order_accepted(dispatcher, tracker, order, check.reason)

    def nearest_refused(self, tracker: Tracker) -> Optional[Order]:
        """When no order fits, the one whose refusal says most (a return past its window, say); None: none."""
        return None

    def check(self, tracker: Tracker, order: Order) -> policy.OrderCheck:
        return policy.ORDER_FLOWS[self.flow](order.status)

    def order_accepted(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, reason: str
    ) -> dict[str, Any]:
        """Hook: what else an accepted order decides (the item of a one-item order, say)."""
        return self.accept("order_id", order.order_no)

    def explain_refusal(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, reason: str) -> None:
        dispatcher.utter_message(
            response=f"utter_{self.flow}_refused_{reason}", order_id=order.order_no, **policy.figures()
        )


# Messages just before a form's start still belong to its topic when they told part of the story
# ("我上周买了件黑色羽绒服" then "拉链坏了，能修吗"): at most this many, and only with these intents.
LEAD_IN = 2
TOPIC_INTENTS = frozenset({"inform", "nlu_fallback", "complain", "return_request", "exchange_request",
                           "repair_request", "wrong_or_missing_item", "damaged_item", "quality_issue",
                           "compensation_request"})


def topic_events(tracker: Tracker, form: str, lead_in: int = 0) -> list[dict[str, Any]]:
    """The shopper's messages since `form` began, oldest first: the one that started it, then every
    answer since, and up to `lead_in` story-telling messages just before it (no other flow between).
    Shoppers open with the whole story; each slot is looked for in all of it. After "Change" (a
    message with the redo entity) only what came later counts.

    A tracker without the form's start in it (it never ran) gives the latest message alone.
    """
    since: list[dict[str, Any]] = []  # newest first, after the trigger
    earlier: list[dict[str, Any]] = []  # newest first, before it
    trigger: Optional[dict[str, Any]] = None
    started = False
    for event in events_back(tracker, "active_loop", "user", "session_started", "restart"):
        if event["event"] in ("session_started", "restart"):
            break
        if event["event"] == "active_loop":
            if started:
                break  # an earlier flow: what came before it was about something else
            started = event.get("name") == form
            continue
        if event_entity(event, REDO):
            return list(reversed(since)) or [event]
        if trigger is None:
            if started:
                trigger = event
            else:
                since.append(event)
            continue
        earlier.append(event)
    if not started:
        # The form starts with this very message (or never ran): it is the trigger, the rest came before.
        trigger, since, earlier = (since[0] if since else None), [], since[1:]
    lead: list[dict[str, Any]] = []
    for event in earlier[:lead_in]:
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") not in TOPIC_INTENTS:
            break
        lead.append(event)
    return [*reversed(lead), *([trigger] if trigger else []), *reversed(since)]


def user_texts_since(tracker: Tracker, form: str) -> list[str]:
    """What the shopper typed since the form started, the message that started it included."""
    return [event.get("text") or "" for event in topic_events(tracker, form)]


def event_entity(event: dict[str, Any], name: str) -> Optional[str]:
    """An entity's last value in one user event; values with no word in them are noise."""
    values = [str(e.get("value")) for e in (event.get("parse_data") or {}).get("entities") or []
              if e.get("entity") == name and re.search(r"\w", str(e.get("value")))]
    return values[-1] if values else None


# The "Change" button's entity: the form asks again what its redo_slots name; topic_events starts after it.
REDO = "redo"


def confirm_buttons(lang: str, form: str, changeable: bool = True) -> list[dict[str, str]]:
    """Yes / Change / No under every confirmation before something that cannot be taken back
    (no Change where there is nothing else to pick)."""
    change = [{"title": word("button.change", lang), "payload": f'/inform{{"{REDO}":"{form}"}}'}] if changeable else []
    return [{"title": word("button.yes", lang), "payload": "/affirm"}, *change,
            {"title": word("button.no", lang), "payload": "/deny"}]


def latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def fitting_orders(s: Session, shopper_id: str, fits: Callable[[Order], bool]) -> list[Order]:
    """The shopper's recent orders a flow may work on, newest first (at most five, for buttons)."""
    return [o for o in shop.recent_orders(s, shopper_id, limit=10) if fits(o)][:5]


def candidates_for(form: str, s: Session, tracker: Tracker, now: datetime) -> list[Order]:
    """The orders a form offers when it asks which one."""
    if form == "case_form":
        spec = policy.CASES.get(tracker.get_slot("case_kind") or "return", policy.CASES["return"])
        return fitting_orders(s, tracker.sender_id, lambda o: spec.eligible(o.status, o.delivered_at, now).eligible)
    flow = FORM_FLOWS.get(form, "order_status")
    if flow == "order_status":
        # Open orders first: those are the ones people ask about.
        return shop.orders_with_status(s, tracker.sender_id, shop.OPEN_STATUSES) or shop.recent_orders(
            s, tracker.sender_id, limit=3)
    allowed = policy.ORDER_FLOWS[flow]
    return fitting_orders(s, tracker.sender_id, lambda o: allowed(o.status).allowed)


class ActionAskOrderId(ShopperAction):
    """Which order? The orders this form may work on, as buttons."""

    def name(self) -> str:
        return "action_ask_order_id"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        form = (tracker.active_loop or {}).get("name") or ""
        flow = FORM_FLOWS.get(form, "order_status")
        fits = candidates_for(form, s, tracker, now)
        if not fits:
            dispatcher.utter_message(response=f"utter_{flow}_no_orders", **policy.figures())
            return [ActiveLoop(None), SlotSet("requested_slot", None), *reset_form_slots()]
        dispatcher.utter_message(
            response=f"utter_ask_order_for_{flow}", buttons=[order_button(o, lang) for o in fits]
        )
        return []


# form name → the flow in policy.ORDER_FLOWS it works under
FORM_FLOWS = {
    "order_status_form": "order_status",
    "urge_shipment_form": "urge_shipment",
    "cancel_order_form": "cancel_order",
    "change_order_form": "change_order",
    "invoice_form": "invoice",
    "case_form": "case",
}


class ActionDeny(Action):
    """"算了" / "never mind": inside a form it cancels the form; otherwise a plain acknowledgement."""

    def name(self) -> str:
        return "action_deny"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events = leave_form(tracker)
        dispatcher.utter_message(response="utter_form_cancelled" if events else "utter_deny_ack")
        return events


class SubmitAction(ShopperAction, ABC):
    """What a form does once it has everything; always leaves the form's slots empty."""

    required: tuple[str, ...] = ("order_id",)

    @abstractmethod
    def submit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if any(tracker.get_slot(name) is None for name in self.required):
            # The form ended early and has said why: only clean up, without touching the records.
            return reset_form_slots(keep_order=tracker.get_slot("order_id"))
        return await super().run(dispatcher, tracker, domain)

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        order_no = tracker.get_slot("order_id")
        return [*self.submit(dispatcher, tracker, s, lang, now), *reset_form_slots(keep_order=order_no)]
