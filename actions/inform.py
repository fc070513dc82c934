"""A bare answer outside any form ("那件羽绒服", "M码"): ask what the shopper wants to know.

Answers inside a form are the form's (actions/forms.py); a bare order number
outside one starts order_status_form by rule.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_entity


class ActionHandleInform(Action):
    def name(self) -> str:
        return "action_handle_inform"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        product = latest_entity(tracker, "product")
        if product:
            dispatcher.utter_message(response="utter_ask_what_about_product", product=product[:60])
        else:
            dispatcher.utter_message(response="utter_how_can_i_help")
        return []
