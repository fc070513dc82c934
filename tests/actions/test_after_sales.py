from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from actions.after_sales import ActionRefundStatus
from bot import shop
from bot.models import AfterSalesCase, Order
from tests.actions.conftest import Chat


def delivered(engine: Engine, sender: str) -> Order:
    with Session(engine) as s:
        return shop.orders_with_status(s, sender, ["delivered"])[0]


def number(engine: Engine, sender: str, status: str) -> str:
    with Session(engine) as s:
        return shop.orders_with_status(s, sender, [status])[0].order_no


def case(engine: Engine, case_no: str) -> AfterSalesCase:
    with Session(engine) as s:
        found = s.execute(select(AfterSalesCase).where(AfterSalesCase.case_no == case_no)).scalar_one()
        s.expunge(found)
        return found


async def test_return_asks_which_item_then_why_then_opens_one_case(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    order = delivered(fresh_shop, "u1001")
    chat = Chat("u1001")
    await chat.say("我要退货", "return_request", start="case_form")
    assert chat.responses() == ["utter_ask_order_item"] and len(chat.said[0]["buttons"]) == 2
    await chat.say("退那件帽子", "inform", [("product", "毛线帽")])
    assert chat.responses() == ["utter_ask_case_reason"]
    await chat.say("戴着有点紧", "inform")
    # Nothing is opened before the shopper has seen what will be: kind, item, order, reason.
    assert chat.responses() == ["utter_ask_case_confirm"]
    ask = chat.said[0]
    assert (ask["kind"], ask["item"], ask["order_id"], ask["reason"]) == ("退货", "针织毛线帽（灰色/均码）×1",
                                                                         order.order_no, "戴着有点紧")
    assert [b["payload"] for b in ask["buttons"]] == ["/affirm", '/inform{"redo":"case_form"}', "/deny"]
    await chat.say("是的", "affirm")
    assert chat.responses() == ["utter_case_created_return"]
    m = chat.said[0]
    assert m["item"] == "针织毛线帽（灰色/均码）×1" and "文一西路" in m["address"]
    created = case(fresh_shop, m["case_no"])
    assert (created.kind, created.status, created.reason) == ("return", "awaiting_return", "戴着有点紧")
    with Session(fresh_shop) as s:
        stored = s.get(Order, order.id)
        assert stored is not None and stored.transaction_deadline is not None
        assert stored.transaction_deadline >= order.transaction_deadline + timedelta(days=10) - timedelta(seconds=1)  # type: ignore[operator]
        assert any(n.kind == f"return_{m['case_no']}" and n.flag == "red" for n in stored.notes)
    assert chat.slots["case_no"] == m["case_no"] and chat.slots["case_kind"] is None

    # Asking again does not open a second case for the same item.
    again = Chat("u1001")
    await again.say(f"退货 {order.order_no} 毛线帽", "return_request", [("product", "毛线帽")], start="case_form")
    assert again.responses() == ["utter_case_already_open"] and again.form is None


async def test_several_cases_on_one_order_each_numbered(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    order = delivered(fresh_shop, "u1001")
    opened = []
    for text, intent, product in (("帽子质量有问题", "quality_issue", "毛线帽"), ("羽绒服拉链坏了要维修", "repair_request", "羽绒服")):
        chat = Chat("u1001")
        await chat.say(f"{order.order_no} {text}", intent, [("order_id", order.order_no), ("product", product)],
                       start="case_form")
        # The opening message said what is wrong: it is the reason, and only the confirmation is asked.
        assert chat.responses() == ["utter_ask_case_confirm"] and chat.said[0]["reason"] == f"{order.order_no} {text}"
        await chat.say("好的", "affirm")
        opened.append(chat.said[0]["case_no"])
    assert len(set(opened)) == 2
    assert case(fresh_shop, opened[0]).status == "awaiting_photos"
    repair = case(fresh_shop, opened[1])
    assert repair.kind == "repair" and repair.progress and "登记返修" in repair.progress


async def test_damaged_signed_for_asks_photos_refused_is_a_return(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    order = delivered(fresh_shop, "u1001")
    chat = Chat("u1001", lang="en")
    await chat.say("it came damaged", "damaged_item", [("order_id", order.order_no), ("product", "beanie")],
                   start="case_form")
    assert chat.responses() == ["utter_ask_signed_for"]
    await chat.say("yes", "affirm")
    assert chat.responses() == ["utter_ask_case_confirm"]
    await chat.say("yes", "affirm")
    assert chat.responses() == ["utter_case_created_damaged", "custom"]
    assert chat.said[1]["custom"]["photo_request"]["evidence"] == ["label", "item"]
    assert case(fresh_shop, chat.said[0]["case_no"]).status == "awaiting_photos"

    chat = Chat("u1001")
    await chat.say(f"{order.order_no}的羽绒服破了，我拒收了", "damaged_item",
                   [("order_id", order.order_no), ("product", "羽绒服")], start="case_form")
    assert chat.responses() == ["utter_ask_case_confirm"]
    await chat.say("对", "affirm")
    assert chat.responses() == ["utter_case_created_damaged_refused"]
    assert case(fresh_shop, chat.said[0]["case_no"]).kind == "return"


async def test_wrong_item_asks_for_the_photos_before_any_remedy(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    order = delivered(fresh_shop, "u1001")
    chat = Chat("u1001")
    await chat.say("发错货了", "wrong_or_missing_item", [("order_id", order.order_no), ("product", "毛线帽")],
                   start="case_form")
    # No remedy is offered before the evidence: the only question is the confirmation.
    assert chat.responses() == ["utter_ask_case_confirm"]
    await chat.say("可以", "affirm")
    assert chat.responses()[1:] == ["custom"] and chat.said[1]["custom"]["photo_request"]["evidence"] == ["label", "item"]
    created = case(fresh_shop, chat.said[0]["case_no"])
    assert created.status == "awaiting_photos"
    assert chat.responses()[0] == f"utter_case_created_wrong_item_{created.remedy}"
    chat = Chat("u1001")
    await chat.say("发错货了", "wrong_or_missing_item", [("order_id", order.order_no), ("product", "羽绒服")],
                   start="case_form")
    await chat.say("确认", "affirm")
    # The jacket is worth more than the postage: send it back and exchange, unless kept with compensation.
    assert chat.responses()[0] == "utter_case_created_wrong_item_return_and_exchange"
    with Session(fresh_shop) as s:
        notes = [n.text for n in s.get(Order, order.id).notes if n.kind.startswith("wrong_item_")]  # type: ignore[union-attr]
        assert any("待买家照片" in n and "保留并补偿" in n for n in notes)


async def test_missing_item_asks_label_and_scale_photos(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    order = delivered(fresh_shop, "u1001")
    chat = Chat("u1001", lang="en")
    await chat.say("my beanie is missing from the box", "wrong_or_missing_item",
                   [("order_id", order.order_no), ("product", "beanie")], start="case_form")
    assert chat.responses() == ["utter_ask_case_confirm"]
    await chat.say("yes please", "affirm")
    assert chat.responses() == ["utter_case_created_missing_item", "custom"]
    assert "scale" in chat.said[1]["custom"]["photo_request"]["evidence"]


async def test_exchange_takes_the_size_wanted(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    order = delivered(fresh_shop, "u1001")
    chat = Chat("u1001")
    await chat.say("羽绒服大了，能换小一号吗", "exchange_request", [("order_id", order.order_no), ("product", "羽绒服")],
                   start="case_form")
    assert chat.responses() == ["utter_ask_wanted"]
    await chat.say("S码", "inform", [("size", "S")])
    assert chat.responses() == ["utter_ask_case_confirm"] and chat.said[0]["reason"] == "S"
    await chat.say("是的", "affirm")
    assert chat.responses() == ["utter_case_created_exchange"]
    assert case(fresh_shop, chat.said[0]["case_no"]).wanted == "/S"


async def test_window_passed_and_orders_not_received(seeded) -> None:  # type: ignore[no-untyped-def]
    # Only orders past the window: never "no order", but when the window ended and what still applies.
    chat = Chat("u1007")
    await chat.say("我要退货", "return_request", start="case_form")
    assert chat.responses() == ["utter_case_refused_window_passed"] and chat.form is None
    assert [b["title"] for b in chat.said[0]["buttons"]] == ["质量问题，申请维修", "申请补偿", "转人工"]
    assert chat.said[0]["ended"] and chat.said[0]["cap"]
    old = number(seeded, "u1007", "completed")
    chat = Chat("u1007")
    await chat.say(f"订单{old}我要退货", "return_request", [("order_id", old)], start="case_form")
    assert chat.responses() == ["utter_case_refused_window_passed"]
    assert (chat.said[0]["days"], chat.said[0]["window_days"]) == ("20", "7")
    for sender, status, reason in [("u1002", "paid", "not_shipped"), ("u1004", "shipped", "in_transit"),
                                   ("u1006", "unpaid", "unpaid"), ("u1009", "cancelled", "cancelled")]:
        chat = Chat(sender, lang="en")
        which = number(seeded, sender, status)
        await chat.say(f"return {which}", "return_request", [("order_id", which)], start="case_form")
        assert chat.responses()[0] == f"utter_case_refused_{reason}", sender


async def test_past_the_window_compensation_up_to_30_percent(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    old = number(fresh_shop, "u1007", "completed")
    chat = Chat("u1007")
    await chat.say(f"订单{old}我要退货", "return_request", [("order_id", old)], start="case_form")
    (refusal,) = chat.said
    assert refusal["buttons"][1] == {"title": "申请补偿", "payload": f'/compensation_request{{"order_id":"{old}"}}'}
    chat = Chat("u1007")
    await chat.say(refusal["buttons"][1]["payload"], "compensation_request", [("order_id", old)], start="case_form")
    assert chat.responses() == ["utter_ask_case_reason"]
    await chat.say("穿了几次就起球了，不想退，补偿一点就好", "inform")
    assert chat.responses() == ["utter_ask_case_confirm"]
    await chat.say("好", "affirm")
    assert chat.responses() == ["utter_case_created_compensation"]
    with Session(fresh_shop) as s:
        total = s.execute(select(Order.total).where(Order.order_no == old)).scalar_one()
    created = case(fresh_shop, chat.said[0]["case_no"])
    assert created.kind == "compensation" and created.amount == (total * Decimal("0.30")).quantize(Decimal("0.01"))
    assert chat.said[0]["cap"] == str(created.amount) and chat.said[0]["goodwill_percent"] == "30"
    with Session(fresh_shop) as s:
        (note,) = (n for n in s.execute(select(Order).where(Order.order_no == old)).scalar_one().notes
                   if n.kind.startswith("compensation_"))
        assert f"上限 ¥{created.amount}" in note.text and "30%" in note.text

    # An agent paid part of it; a second compensation on the order is offered only what the cap has left.
    with Session(fresh_shop) as s, s.begin():
        s.execute(select(AfterSalesCase).where(AfterSalesCase.case_no == created.case_no)).scalar_one() \
            .amount_paid = Decimal("20.00")
    chat = Chat("u1007")
    await chat.say(f"订单{old}掉色了，要补偿", "compensation_request", [("order_id", old)], start="case_form")
    if chat.responses() == ["utter_ask_case_reason"]:
        await chat.say("洗了一次就掉色", "inform")
    assert chat.responses() == ["utter_ask_case_confirm"], chat.responses()
    await chat.say("好", "affirm")
    assert chat.responses() == ["utter_case_created_compensation"], chat.responses()
    assert chat.said[0]["cap"] == str(created.amount - Decimal("20.00"))


async def test_the_shoppers_own_fault_is_handled_kindly(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    chat = Chat("u1001", lang="en")
    await chat.say("I want to return the hat", "return_request", [("product", "hat")], start="case_form")
    assert chat.responses() == ["utter_ask_case_reason"]
    await chat.say("I accidentally spilled coffee on it", "inform")
    assert chat.responses() == ["utter_ask_case_confirm"]
    await chat.say("yes", "affirm")
    assert chat.responses() == ["utter_case_created_own_fault"]
    assert chat.said[0]["kind"] == "return" and chat.said[0]["resolve_hours"] == "48"
    created = case(fresh_shop, chat.said[0]["case_no"])
    assert created.remedy == "own_fault_goodwill"
    with Session(fresh_shop) as s:
        notes = [n.text for n in s.execute(select(Order).where(Order.id == created.order_id)).scalar_one().notes]
        assert any("买家自身原因" in n and "避免差评" in n for n in notes)


async def test_someone_elses_order_is_not_found(seeded) -> None:  # type: ignore[no-untyped-def]
    theirs = delivered(seeded, "u1001").order_no
    chat = Chat("u1002")
    await chat.say(f"退货 {theirs}", "return_request", [("order_id", theirs)], start="case_form")
    assert chat.responses()[0] == "utter_order_not_found"


async def test_progress_lists_every_case_with_next_step(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    """One question for the return, the repair and the money: every case is listed, with its next step."""
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from tests.actions.conftest import msg

    dispatcher = CollectingDispatcher()
    tracker = Tracker("u1009", {"language": "en"}, msg("how is my return going", "refund_status"), [], False, None,
                      {}, "action_listen")
    events = await ActionRefundStatus().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_refund_status"
    assert "return" in dispatcher.messages[0]["refunds"] and "Next:" in dispatcher.messages[0]["refunds"]
    assert [e["value"] for e in events if e.get("name") == "case_no"][0].startswith("AS")
    dispatcher = CollectingDispatcher()
    tracker = Tracker("u1002", {"language": "zh"}, msg("售后进度", "refund_status", [("case_no", "AS000000000001")]),
                      [], False, None, {}, "action_listen")
    await ActionRefundStatus().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_case_not_found"
    dispatcher = CollectingDispatcher()
    tracker = Tracker("u1002", {"language": "zh"}, msg("退款什么时候到", "refund_status"), [], False, None, {},
                      "action_listen")
    await ActionRefundStatus().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_refund_rules"
    assert dispatcher.messages[0]["refund_days"] == "1–2"
    # "换货要多久" is asked here too: the answer carries the case-handling time.
    assert dispatcher.messages[0]["resolve_hours"] == "48"


async def test_return_right_after_tracking_means_that_order(seeded) -> None:  # type: ignore[no-untyped-def]
    paid = number(seeded, "u1002", "paid")
    chat = Chat("u1002", slots={"last_order": paid})
    await chat.say("我想退货", "return_request", start="case_form")
    assert chat.responses() == ["utter_case_refused_not_shipped"] and chat.form is None
    # u1001's order in transit cannot be returned, but the delivered one can: offered instead.
    in_transit, returnable = number(seeded, "u1001", "shipped"), number(seeded, "u1001", "delivered")
    chat = Chat("u1001", slots={"last_order": in_transit})
    await chat.say("我想退货", "return_request", start="case_form")
    assert chat.responses() == ["utter_case_refused_in_transit", "utter_ask_order_for_case"]
    assert [b["payload"] for b in chat.said[1]["buttons"]] == [f'/inform{{"order_id":"{returnable}"}}']


async def test_everything_said_at_once_leaves_only_the_confirmation(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    # The order, the item (one of two in it), the fault, the parcel received: nothing else to ask.
    number = delivered(fresh_shop, "u1001").order_no
    chat = Chat("u1001")
    await chat.say(f"{number} 收到的羽绒服拉链坏了", "quality_issue", [("product", "羽绒服")], start="case_form")
    assert chat.responses() == ["utter_ask_case_confirm"]
    assert chat.said[0]["reason"] == f"{number} 收到的羽绒服拉链坏了" and chat.said[0]["item"].startswith("轻薄羽绒服")
    chat = Chat("u1001", lang="en")
    await chat.say(f"order {number}: the beanie came damaged, I did sign for it", "damaged_item",
                   [("product", "beanie")], start="case_form")
    assert chat.responses() == ["utter_ask_case_confirm"] and chat.slots["signed_for"] is True


async def test_a_correction_changes_the_item_and_change_asks_again(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    chat = Chat("u1001")
    await chat.say("我要退货", "return_request", start="case_form")
    await chat.say("帽子", "inform", [("product", "毛线帽")])
    await chat.say("戴着太紧", "inform")
    assert chat.responses() == ["utter_ask_case_confirm"] and chat.said[0]["item"].startswith("针织毛线帽")
    await chat.say("不对，是羽绒服", "deny", [("product", "羽绒服")])
    assert chat.responses() == ["utter_ask_case_confirm"] and chat.said[0]["item"].startswith("轻薄羽绒服")
    assert chat.form == "case_form"
    # "Change": the details are asked again, none of the earlier answers is taken back in.
    await chat.say('/inform{"redo":"case_form"}', "inform", [("redo", "case_form")])
    assert chat.responses() == ["utter_ask_order_item"] and chat.slots["case_reason"] is None
    # Declining the confirmation opens nothing.
    await chat.say("帽子", "inform", [("product", "毛线帽")])
    await chat.say("戴着太紧", "inform")
    await chat.say("算了不用了", "deny")
    assert chat.responses() == ["utter_case_not_opened"]
    with Session(fresh_shop) as s:
        assert not s.execute(select(AfterSalesCase).where(AfterSalesCase.reason == "戴着太紧")).first()


async def test_the_story_told_just_before_the_request_counts(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    number = delivered(fresh_shop, "u1001").order_no
    chat = Chat("u1001")
    # Told before the request was recognised: the item and the fault, one message each.
    for text, intent in ((f"我上周买的订单{number}", "inform"), ("羽绒服的拉链坏了", "quality_issue")):
        chat.events.append({"event": "user", "text": text, "parse_data": {"intent": {"name": intent}, "entities": []}})
    await chat.say("能帮我修一下吗", "repair_request", [("order_id", number)], start="case_form")
    assert chat.responses() == ["utter_ask_case_confirm"], chat.said
    assert chat.said[0]["item"].startswith("轻薄羽绒服") and chat.said[0]["reason"] == "羽绒服的拉链坏了"
    # A product question before is another topic: its words are not the reason.
    chat = Chat("u1001")
    chat.events.append({"event": "user", "text": "羽绒服质量怎么样", "parse_data": {"intent": {"name": "ask_product"},
                                                                         "entities": []}})
    await chat.say("我要退货", "return_request", [("order_id", number)], start="case_form")
    assert chat.responses() == ["utter_ask_order_item"]


async def test_two_lines_of_one_product_are_told_apart_by_colour_or_size(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    from tests.own_shopper import OwnOrder, add_shopper

    add_shopper(fresh_shop, "u9391", [OwnOrder("393910000001", "delivered", "P001-black-M", timedelta(days=3),
                                               timedelta(days=1), more_skus=("P001-black-L", "P001-navy-M"))])
    for text, item in (("L码的羽绒服拉链坏了", "轻薄羽绒服（黑色/L）"), ("藏青色的羽绒服拉链坏了", "轻薄羽绒服（藏青色/M）")):
        chat = Chat("u9391")
        await chat.say(f"订单393910000001 {text}", "quality_issue", [("order_id", "393910000001")], start="case_form")
        assert chat.responses() == ["utter_ask_case_confirm"], chat.said
        assert chat.said[0]["item"].startswith(item), chat.said[0]["item"]
