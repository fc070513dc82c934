"""Hand the conversation to a person, telling the gateway why and what the bot knew.

The custom payload {"handoff": {...}} is what the web gateway acts on: it
queues the conversation and stops asking Rasa to reply until an agent hands
it back.
"""

from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import events_back, language
from actions.forms import leave_form
from bot import policy
from bot.words import SUGGESTABLE, word

REASONS = {
    "complain": ("complaint", "utter_handoff_complaint"),
    "bad_review": ("bad_review", "utter_handoff_review"),
    "human_handoff": ("human_request", "utter_handoff"),
    "nlu_fallback": ("fallback", "utter_handoff_fallback"),
    "bargain": ("needs_decision", "utter_handoff_bargain"),
}


def handoff(
    dispatcher: CollectingDispatcher, tracker: Tracker, intent: Optional[str], extra: Optional[dict[str, Any]] = None
) -> list[dict[str, Any]]:
    """Queue the conversation for a person; a form in progress ends here (the agent takes it from the facts)."""
    reason, response = REASONS.get(intent or "", ("human_request", "utter_handoff"))
    facts = {
        key: tracker.get_slot(key)
        for key in ("order_id", "last_order", "case_no", "product_code", "language")
        if tracker.get_slot(key)
    }
    form = (tracker.active_loop or {}).get("name")
    if form:
        facts["form"] = form
    facts.update(extra or {})
    facts["message"] = (tracker.latest_message.get("text") or "")[:500]
    dispatcher.utter_message(
        response=response, json_message={"handoff": {"reason": reason, "intent": intent, "facts": facts}}
    )
    return leave_form(tracker)


class ActionRequestHandoff(Action):
    def name(self) -> str:
        return "action_request_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return handoff(dispatcher, tracker, (tracker.latest_message.get("intent") or {}).get("name"))


def fallbacks_in_a_row(tracker: Tracker) -> int:
    count = 0
    for event in events_back(tracker, "user"):
        if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


class ActionHandleFallback(Action):
    """Ask to rephrase; the FALLBACKS_BEFORE_PERSON-th misunderstanding in a row goes to a person."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if fallbacks_in_a_row(tracker) >= policy.FALLBACKS_BEFORE_PERSON:
            return handoff(dispatcher, tracker, "nlu_fallback")
        lang = language(tracker)
        likely = likely_intents(tracker.latest_message.get("intent_ranking") or [])
        if not likely:
            dispatcher.utter_message(response="utter_default")
            return []
        buttons = [{"title": word(f"intent.{name}", lang), "payload": f"/{name}"} for name in likely]
        buttons.append({"title": word("button.person", lang), "payload": "/human_handoff"})
        dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        return []


def likely_intents(ranking: list[dict[str, Any]]) -> list[str]:
    """The intents worth offering as buttons after a low-confidence message, best first.

    Only intents a button can stand for on its own (a bare "yes" or an order
    number needs the words the shopper typed) and with some support.
    """
    names = [
        r["name"] for r in ranking
        if r.get("name") in SUGGESTABLE and float(r.get("confidence") or 0) >= policy.SUGGEST_MIN_CONFIDENCE
    ]
    return names[: policy.SUGGESTIONS]
