from typing import Any


def msg(text: str, intent: str, entities: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """A parsed user message as Rasa puts it in `tracker.latest_message`."""
    return {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": [{"entity": e, "value": v} for e, v in (entities or [])],
    }


# --- a small stand-in for Rasa's form loop, so flows are tested turn by turn on a real database ---

import importlib  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402
from rasa_sdk import Tracker  # noqa: E402
from rasa_sdk.executor import CollectingDispatcher  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def load_domain() -> dict[str, Any]:
    domain: dict[str, Any] = {"forms": {}, "slots": {}}
    for file in sorted((ROOT / "domain").glob("*.yml")):
        part = yaml.safe_load(file.read_text())
        domain["forms"].update(part.get("forms") or {})
        domain["slots"].update(part.get("slots") or {})
    return domain


DOMAIN = load_domain()
FORMS = {
    # form: (validator, submit action, intents that start it)
    "order_status_form": ("actions.orders:ValidateOrderStatusForm", "actions.orders:ActionCheckOrderStatus"),
    "urge_shipment_form": ("actions.orders:ValidateUrgeShipmentForm", "actions.orders:ActionUrgeShipment"),
    "cancel_order_form": ("actions.orders:ValidateCancelOrderForm", "actions.orders:ActionSubmitCancel"),
    "change_order_form": ("actions.orders:ValidateChangeOrderForm", "actions.orders:ActionSubmitChange"),
    "invoice_form": ("actions.orders:ValidateInvoiceForm", "actions.orders:ActionSubmitInvoice"),
    "case_form": ("actions.after_sales:ValidateCaseForm", "actions.after_sales:ActionSubmitCase"),
}
ASK_ACTIONS = {
    "order_id": "actions.forms:ActionAskOrderId",
    "order_item": "actions.after_sales:ActionAskOrderItem",
    "cancel_order_form.confirm": "actions.orders:ActionAskCancelConfirm",
    "change_order_form.confirm": "actions.orders:ActionAskChangeConfirm",
    "case_form.confirm": "actions.after_sales:ActionAskCaseConfirm",
}


def load(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)()


def _from_mapping(slot: str, form: str, requested: str | None, intent: str, text: str) -> tuple[bool, Any]:
    """What Rasa's action_extract_slots fills from the domain's from_intent / from_text mappings."""
    for mapping in DOMAIN["slots"].get(slot, {}).get("mappings", []):
        conditions = mapping.get("conditions") or []
        if not any(c.get("active_loop") == form and c.get("requested_slot") in (None, requested) for c in conditions):
            continue
        if mapping["type"] == "from_intent" and mapping["intent"] == intent:
            return True, mapping["value"]
        if mapping["type"] == "from_text" and intent not in (mapping.get("not_intent") or []):
            return True, text
    return False, None


@dataclass
class Chat:
    """One shopper's conversation with the forms: slots, the active form, what the bot said."""

    sender: str
    lang: str = "zh"
    slots: dict[str, Any] = field(default_factory=dict)
    form: str | None = None
    said: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    rejected: bool = False
    submitted: bool = False

    def responses(self) -> list[str]:
        return [m.get("response") or ("custom" if m.get("custom") else "") for m in self.said]

    def tracker(self, text: str, intent: str, entities: list[tuple[str, str]]) -> Tracker:
        loop = {"name": self.form} if self.form else {}
        return Tracker(self.sender, {"language": self.lang, **self.slots}, msg(text, intent, entities),
                       list(self.events), False, None, loop, "action_listen")

    def _apply(self, events: list[dict[str, Any]]) -> None:
        for e in events:
            if e.get("event") == "slot":
                self.slots[e["name"]] = e["value"]
            elif e.get("event") == "active_loop":
                self.form = e.get("name")
            self.events.append(e)

    async def _run(self, action: Any, text: str, intent: str, entities: list[tuple[str, str]]) -> list[dict[str, Any]]:
        dispatcher = CollectingDispatcher()
        events = await action.run(dispatcher, self.tracker(text, intent, entities), DOMAIN)
        self.said += dispatcher.messages
        return events

    async def say(self, text: str, intent: str, entities: list[tuple[str, str]] | None = None,
                  start: str | None = None) -> list[str]:
        """The shopper's message; `start` names the form a rule would start on this intent."""
        entities = entities or []
        self.said, self.rejected, self.submitted = [], False, False
        self.events.append({"event": "user", "text": text, "parse_data": msg(text, intent, entities)})
        form = self.form or start
        assert form, "no form active and none to start"
        activating = self.form is None
        requested = None if activating else self.slots.get("requested_slot")
        for slot in DOMAIN["slots"]:
            hit, value = _from_mapping(slot, form, requested, intent, text)
            if hit and not activating:
                self._apply([{"event": "slot", "name": slot, "value": value}])
        validator, _ = FORMS[form]
        events = await self._run(load(validator), text, intent, entities)
        changed = [e for e in events if e.get("event") == "slot" and e["name"] != "requested_slot"]
        if requested and not changed and not activating:
            self.rejected = True  # Rasa would let the rules answer instead
            return self.responses()
        if activating:
            self._apply([{"event": "active_loop", "name": form}])
        self._apply(events)
        asked = [e["value"] for e in events if e.get("event") == "slot" and e["name"] == "requested_slot"]
        ended = self.form is None or (bool(asked) and asked[-1] is None)  # Rasa obeys the last one
        next_slot = None
        if not ended:
            explicit = [e for e in events if e.get("event") == "slot" and e["name"] == "requested_slot"]
            required = DOMAIN["forms"][form]["required_slots"]
            next_slot = explicit[-1]["value"] if explicit else next(
                (s for s in required if self.slots.get(s) is None), None)
        if next_slot and self.form:
            self.slots["requested_slot"] = next_slot
            ask = ASK_ACTIONS.get(f"{form}.{next_slot}") or ASK_ACTIONS.get(next_slot)
            if ask:
                self._apply(await self._run(load(ask), text, intent, entities))
            else:
                self.said.append({"response": f"utter_ask_{next_slot}"})
            return self.responses()
        # Done (or ended early): Rasa deactivates the form and the submit rule runs.
        self.form, self.slots["requested_slot"] = None, None
        self.events.append({"event": "active_loop", "name": None})
        _, submit = FORMS[form]
        self._apply(await self._run(load(submit), text, intent, entities))
        self.submitted = True
        return self.responses()
