from datetime import timedelta

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from actions.after_sales import ActionRequestReturn
from actions.inform import ActionHandleInform
from bot import shop
from bot.models import AfterSalesCase, Order
from tests.actions.conftest import msg


async def run(action, sender: str, text: str, entities=None, lang: str = "zh", intent: str = "return_request", **slots):  # type: ignore[no-untyped-def]
    tracker = Tracker(sender, {"language": lang, **slots}, msg(text, intent, entities), [], False, None, {},
                      "action_listen")
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return events, dispatcher.messages


def delivered(engine: Engine, sender: str) -> Order:
    with Session(engine) as s:
        return shop.orders_with_status(s, sender, ["delivered"])[0]


async def test_return_asks_which_item_then_opens_one_case(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    order = delivered(fresh_shop, "u1001")
    events, messages = await run(ActionRequestReturn(), "u1001", "我要退货")
    assert messages[0]["response"] == "utter_choose_return_item"
    assert len(messages[0]["buttons"]) == 2
    assert events == [SlotSet("order_id", order.order_no), SlotSet("pending_task", "return_request")]

    # The shopper names the hat; the pending task and the order carry over.
    events, messages = await run(ActionHandleInform(), "u1001", "退那件帽子", [("product", "毛线帽")],
                                 intent="inform", pending_task="return_request", order_id=order.order_no)
    assert messages[0]["response"] == "utter_return_created"
    case_no = messages[0]["case_no"]
    assert messages[0]["item"] == "针织毛线帽（灰色/均码）×1"
    assert "文一西路" in messages[0]["address"]
    assert SlotSet("case_no", case_no) in events and SlotSet("pending_task", None) in events

    with Session(fresh_shop) as s:
        case = s.execute(select(AfterSalesCase).where(AfterSalesCase.case_no == case_no)).scalar_one()
        assert (case.kind, case.status, case.reason) == ("return", "awaiting_return", "退那件帽子")
        assert case.item is not None and case.item.sku.product.code == "P029"
        stored = s.get(Order, order.id)
        assert stored is not None and stored.transaction_deadline is not None
        assert stored.transaction_deadline >= order.transaction_deadline + timedelta(days=10) - timedelta(seconds=1)  # type: ignore[operator]
        assert any(n.kind == f"return_{case_no}" and n.flag == "red" for n in stored.notes)

    # Asking again does not open a second case for the same item.
    _, messages = await run(ActionRequestReturn(), "u1001", f"退货 {order.order_no} 毛线帽", [("product", "毛线帽")])
    assert (messages[0]["response"], messages[0]["case_no"]) == ("utter_return_already_open", case_no)
    with Session(fresh_shop) as s:
        count = len(s.execute(select(AfterSalesCase).where(AfterSalesCase.order_id == order.id)).scalars().all())
    assert count == 1


async def test_single_item_order_by_number_in_english(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    order = delivered(fresh_shop, "u1009")
    _, messages = await run(ActionRequestReturn(), "u1009", f"I want to return order {order.order_no}", lang="en")
    # u1009 already has an open return on that item from the seed.
    assert messages[0]["response"] == "utter_return_already_open"
    assert "Wenyi West Road" in messages[0]["address"]


async def test_window_passed_is_explained(seeded) -> None:  # type: ignore[no-untyped-def]
    _, messages = await run(ActionRequestReturn(), "u1007", "我要退货")
    assert messages[0]["response"] == "utter_return_no_candidates"
    with Session(seeded) as s:
        number = shop.orders_with_status(s, "u1007", ["completed"])[0].order_no
    _, messages = await run(ActionRequestReturn(), "u1007", f"订单{number}我要退货")
    assert messages[0]["response"] == "utter_return_window_passed"
    assert (messages[0]["days"], messages[0]["window"]) == ("20", "7")


async def test_orders_not_yet_received_are_not_returns(seeded) -> None:  # type: ignore[no-untyped-def]
    for sender, status, response in [
        ("u1002", "paid", "utter_return_not_shipped"),
        ("u1004", "shipped", "utter_return_in_transit"),
        ("u1006", "unpaid", "utter_return_unpaid"),
        ("u1009", "cancelled", "utter_return_cancelled"),
    ]:
        with Session(seeded) as s:
            number = shop.orders_with_status(s, sender, [status])[0].order_no
        _, messages = await run(ActionRequestReturn(), sender, f"return {number}", lang="en")
        assert messages[0]["response"] == response, sender


async def test_return_on_someone_elses_order_is_not_found(seeded) -> None:  # type: ignore[no-untyped-def]
    number = delivered(seeded, "u1001").order_no
    events, messages = await run(ActionRequestReturn(), "u1002", f"退货 {number}")
    assert messages[0]["response"] == "utter_order_not_found"
    assert events == [SlotSet("pending_task", "return_request")]


async def test_return_refers_to_the_order_just_discussed(seeded) -> None:  # type: ignore[no-untyped-def]
    with Session(seeded) as s:
        number = shop.orders_with_status(s, "u1002", ["paid"])[0].order_no
    _, messages = await run(ActionRequestReturn(), "u1002", "我想退货", order_id=number)
    assert (messages[0]["response"], messages[0]["order_id"]) == ("utter_return_not_shipped", number)


async def test_context_order_not_returnable_offers_the_returnable_ones(seeded) -> None:  # type: ignore[no-untyped-def]
    with Session(seeded) as s:
        in_transit = shop.orders_with_status(s, "u1001", ["shipped"])[0].order_no
        returnable = shop.orders_with_status(s, "u1001", ["delivered"])[0].order_no
    events, messages = await run(ActionRequestReturn(), "u1001", "我想退货", order_id=in_transit)
    assert [m["response"] for m in messages] == ["utter_return_in_transit", "utter_choose_return_order"]
    assert [b["payload"] for b in messages[1]["buttons"]] == [f'/inform{{"order_id":"{returnable}"}}']
    assert events == [SlotSet("order_id", None), SlotSet("pending_task", "return_request")]
    # Named explicitly, the shopper means that order: no other offers.
    _, messages = await run(ActionRequestReturn(), "u1001", f"退货 {in_transit}")
    assert [m["response"] for m in messages] == ["utter_return_in_transit"]
