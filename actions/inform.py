"""A bare answer ("881234567890", a button press) continues whatever asked for it."""

from __future__ import annotations

from datetime import datetime

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions import after_sales, orders
from actions.common import Events, ShopAction, latest_entity, order_number


class ActionHandleInform(ShopAction):
    def name(self) -> str:
        return "action_handle_inform"

    def needs_shopper(self, tracker: Tracker) -> bool:
        task = tracker.get_slot("pending_task")
        return task in (after_sales.TASK, orders.TASK) or order_number(tracker, use_slot=False) is not None

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        task = tracker.get_slot("pending_task")
        if task == after_sales.TASK:
            return after_sales.request_return(dispatcher, tracker, s, lang, now)
        if task == orders.TASK or order_number(tracker, use_slot=False):
            return orders.check_order_status(dispatcher, tracker, s, lang, now)
        if latest_entity(tracker, "product"):
            dispatcher.utter_message(response="utter_ask_what_about_product", product=latest_entity(tracker, "product"))
            return []
        dispatcher.utter_message(response="utter_how_can_i_help")
        return []
