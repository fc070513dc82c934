"""Per-message language detection, run by action_extract_slots after every message."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.text import detect_language


class ActionDetectLanguage(Action):
    def name(self) -> str:
        return "action_detect_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        if intent.startswith("EXTERNAL_"):
            # The bot speaks first (actions/outreach.py): the trigger names the conversation's language.
            chosen = next(tracker.get_latest_entity_values("language"), None)
            return [SlotSet("language", chosen)] if chosen in ("zh", "en") else []
        # Button payloads ("/inform{...}") carry no language: keep the current one.
        if text.startswith("/"):
            return []
        detected = detect_language(text)
        if detected is None:
            # Nothing to read in the text (emoji, a number): the widget's 中文/EN switch decides.
            chosen = (tracker.latest_message.get("metadata") or {}).get("language")
            detected = chosen if chosen in ("zh", "en") else None
        if detected is None or detected == tracker.get_slot("language"):
            return []
        return [SlotSet("language", detected)]
