from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from actions.orders import ActionCheckOrderStatus
from bot import shop
from bot.models import Order, OrderNote
from tests.actions.conftest import msg


async def where(sender: str, text: str = "我的订单到哪了", lang: str = "zh"):  # type: ignore[no-untyped-def]
    tracker = Tracker(sender, {"language": lang}, msg(text, "order_status"), [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = await ActionCheckOrderStatus().run(dispatcher, tracker, {})
    return events, dispatcher.messages


def notes(engine: Engine, sender: str, kind: str) -> list[OrderNote]:
    with Session(engine) as s:
        stmt = select(OrderNote).join(Order).where(Order.shopper_id == sender, OrderNote.kind == kind)
        return list(s.execute(stmt).scalars())


def order_no(engine: Engine, sender: str, status: str) -> str:
    with Session(engine) as s:
        return shop.orders_with_status(s, sender, [status])[0].order_no


async def test_paid_within_48_hours_reassures(seeded) -> None:  # type: ignore[no-untyped-def]
    events, messages = await where("u1002")
    assert messages[0]["response"] == "utter_order_paid_within"
    assert events == [SlotSet("order_id", messages[0]["order_id"]), SlotSet("pending_task", None)]
    assert messages[0]["items"] == "防风冲锋衣（蓝色/L）×1"
    card = messages[1]["custom"]["card"]
    assert card["type"] == "order" and card["title"] == f"{messages[0]['order_id']} · 待发货"
    assert card["lines"] == ["防风冲锋衣（蓝色/L）×1", "合计 ¥459.00"]


async def test_past_48_hours_registers_one_follow_up(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    _, messages = await where("u1003", "why hasn't my order shipped", lang="en")
    assert messages[0]["response"] == "utter_order_paid_overdue"
    await where("u1003")
    recorded = notes(fresh_shop, "u1003", "ship_overdue_followup")
    assert len(recorded) == 1 and recorded[0].flag == "red"


async def test_tracking_fresh_slow_stale_lost(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    states = {}
    for sender in ("u1001", "u1008", "u1004", "u1005"):
        _, messages = await where(sender)
        states[sender] = messages[0]["response"]
    assert states == {
        "u1001": "utter_order_shipped_fresh",
        "u1008": "utter_order_shipped_slow",
        "u1004": "utter_order_shipped_stale",
        "u1005": "utter_order_shipped_lost",
    }
    assert len(notes(fresh_shop, "u1004", "courier_chase")) == 1
    await where("u1005")
    lost = notes(fresh_shop, "u1005", "lost_claim")
    assert len(lost) == 1 and "补发" in lost[0].text and "索赔" in lost[0].text


async def test_tracking_details_come_from_the_records(seeded) -> None:  # type: ignore[no-untyped-def]
    _, messages = await where("u1004", "where is my parcel", lang="en")
    m = messages[0]
    assert int(m["hours"]) == 50
    assert m["tracking_no"].startswith(("SF", "ZTO", "YTO", "YUNDA"))
    assert m["courier"] in ("SF Express", "ZTO Express", "YTO Express", "Yunda Express")
    assert m["last_event"].startswith("Left ")


async def test_by_number_unpaid_delivered_cancelled(seeded) -> None:  # type: ignore[no-untyped-def]
    cases = [("u1006", "unpaid", "utter_order_unpaid"), ("u1007", "completed", "utter_order_delivered"),
             ("u1009", "cancelled", "utter_order_cancelled")]
    for sender, status, response in cases:
        number = order_no(seeded, sender, status)
        events, messages = await where(sender, f"订单{number}到哪了")
        assert messages[0]["response"] == response and messages[0]["order_id"] == number
        assert SlotSet("order_id", number) in events


async def test_someone_elses_order_looks_like_no_order(seeded) -> None:  # type: ignore[no-untyped-def]
    theirs = order_no(seeded, "u1002", "paid")
    _, foreign = await where("u1001", f"order {theirs}", lang="en")
    _, missing = await where("u1001", "order 899999999999", lang="en")
    assert foreign[0]["response"] == missing[0]["response"] == "utter_order_not_found"
    assert {k: v for k, v in foreign[0].items() if k != "order_id"} == {
        k: v for k, v in missing[0].items() if k != "order_id"
    }


async def test_several_orders_offer_a_choice(seeded) -> None:  # type: ignore[no-untyped-def]
    events, messages = await where("u1009")  # no open order: recent ones to pick from
    assert messages[0]["response"] == "utter_choose_order"
    assert len(messages[0]["buttons"]) == 2
    assert all(b["payload"].startswith('/inform{"order_id":"') for b in messages[0]["buttons"])
    assert events == [SlotSet("pending_task", "order_status")]


async def test_no_orders_at_all(seeded) -> None:  # type: ignore[no-untyped-def]
    _, messages = await where("stranger-42")
    assert messages[0]["response"] == "utter_no_orders"


async def test_database_failure_is_an_apology_not_a_crash(seeded, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import actions.common

    def broken():  # type: ignore[no-untyped-def]
        raise RuntimeError("database is down")

    monkeypatch.setattr(actions.common, "get_sessionmaker", broken)
    events, messages = await where("u1001")
    assert events == []
    assert [m["response"] for m in messages] == ["utter_technical_problem"]


async def test_a_visitor_is_asked_to_log_in_and_told_nothing(seeded) -> None:  # type: ignore[no-untyped-def]
    from actions.after_sales import ActionRequestReturn
    from actions.inform import ActionHandleInform

    with Session(seeded) as s:
        number = shop.orders_with_status(s, "u1005", ["shipped"])[0].order_no
    for action, intent in ((ActionCheckOrderStatus(), "order_status"), (ActionRequestReturn(), "return_request"),
                           (ActionHandleInform(), "inform")):
        tracker = Tracker("visitor-0123abcd", {"language": "zh"}, msg(number, intent, [("order_id", number)]), [],
                          False, None, {}, "action_listen")
        dispatcher = CollectingDispatcher()
        assert await action.run(dispatcher, tracker, {}) == []
        assert [m["response"] for m in dispatcher.messages] == ["utter_login_required"]
