"""The bot speaking first: each action claims its record once, speaks for its own shopper only."""

from datetime import timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from actions.outreach import ActionDetailsCheck, ActionRestockNotice, ActionUnpaidReminder
from actions.products import ActionCheckStock
from bot import shop
from bot.clock import utcnow
from bot.models import Order, OrderNote, RestockWish, Sku
from tests.actions.conftest import msg


async def trigger(action: Any, sender: str, intent: str, lang: str = "zh", **entities: str) -> tuple[list, list]:
    tracker = Tracker(sender, {"language": lang}, msg(f"EXTERNAL: {intent}", intent, list(entities.items())), [],
                      False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return events, dispatcher.messages


async def test_unpaid_reminder_is_sent_once_with_a_blue_flag(fresh_shop: Engine) -> None:
    with Session(fresh_shop) as s, s.begin():
        order = shop.orders_with_status(s, "u1006", ["unpaid"])[0]
        number = order.order_no
        s.execute(update(Order).where(Order.id == order.id).values(created_at=utcnow() - timedelta(hours=13)))
    events, said = await trigger(ActionUnpaidReminder(), "u1006", "EXTERNAL_unpaid_reminder", order_id=number)
    assert [m["response"] for m in said] == ["utter_unpaid_reminder"]
    assert (said[0]["order_id"], said[0]["ship_hours"]) == (number, "48")
    assert events == [SlotSet("last_order", number)]
    _, again = await trigger(ActionUnpaidReminder(), "u1006", "EXTERNAL_unpaid_reminder", order_id=number)
    assert again == []
    with Session(fresh_shop) as s:
        notes = s.execute(select(OrderNote).join(Order).where(Order.order_no == number)).scalars().all()
    (blue,) = (n for n in notes if n.flag == "blue")
    assert blue.kind == "payment_reminder" and "已催付一次" in blue.text and "13小时" in blue.text


async def test_no_reminder_for_another_shoppers_order_or_a_young_one(fresh_shop: Engine) -> None:
    with Session(fresh_shop) as s:
        number = shop.orders_with_status(s, "u1006", ["unpaid"])[0].order_no
    assert (await trigger(ActionUnpaidReminder(), "u1006", "EXTERNAL_unpaid_reminder", order_id=number))[1] == []
    with Session(fresh_shop) as s, s.begin():
        s.execute(update(Order).where(Order.order_no == number).values(created_at=utcnow() - timedelta(hours=13)))
    assert (await trigger(ActionUnpaidReminder(), "u1001", "EXTERNAL_unpaid_reminder", order_id=number))[1] == []
    assert (await trigger(ActionUnpaidReminder(), "visitor-abc", "EXTERNAL_unpaid_reminder",
                          order_id=number))[1][0]["response"] == "utter_login_required"


async def test_details_check_after_payment_offers_confirm_or_change(fresh_shop: Engine) -> None:
    with Session(fresh_shop) as s, s.begin():
        order = shop.orders_with_status(s, "u1002", ["paid"])[0]
        number, address = order.order_no, order.address
        s.execute(update(Order).where(Order.id == order.id).values(paid_at=utcnow() - timedelta(minutes=20)))
    _, said = await trigger(ActionDetailsCheck(), "u1002", "EXTERNAL_details_check", lang="en", order_id=number)
    (check,) = said
    assert check["response"] == "utter_details_check" and check["address"] == address
    assert check["courier"] in ("ZTO Express", "SF Express", "YTO Express", "Yunda Express")
    assert [b["payload"] for b in check["buttons"]] == ["/affirm", f'/change_order{{"order_id":"{number}"}}']
    assert (await trigger(ActionDetailsCheck(), "u1002", "EXTERNAL_details_check", order_id=number))[1] == []


async def test_sold_out_wish_is_told_once_when_stock_returns(fresh_shop: Engine) -> None:
    tracker = Tracker("u1004", {"language": "en"}, msg("is the long down coat in stock", "ask_stock",
                                                      [("product", "long down coat")]), [], False, None, {},
                      "action_listen")
    dispatcher = CollectingDispatcher()
    await ActionCheckStock().run(dispatcher, tracker, {})
    assert "utter_restock_wish_recorded" in [m["response"] for m in dispatcher.messages]
    with Session(fresh_shop) as s, s.begin():
        wishes = s.execute(select(RestockWish).where(RestockWish.shopper_id == "u1004")).scalars().all()
        assert wishes and all(w.language == "en" for w in wishes)
        code = wishes[0].sku.code
        assert (await trigger(ActionRestockNotice(), "u1004", "EXTERNAL_restocked", sku=code))[1] == []
        s.execute(update(Sku).where(Sku.code == code).values(stock=4))
    events, said = await trigger(ActionRestockNotice(), "u1004", "EXTERNAL_restocked", lang="en", sku=code)
    assert [m["response"] for m in said] == ["utter_restock_notice"]
    assert said[0]["count"] == "4" and said[0]["product"] == "Long padded down coat"
    assert events == [SlotSet("product_code", "P002")]
    assert (await trigger(ActionRestockNotice(), "u1004", "EXTERNAL_restocked", sku=code))[1] == []
    assert (await trigger(ActionRestockNotice(), "u1005", "EXTERNAL_restocked", sku=code))[1] == []
