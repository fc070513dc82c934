from decimal import Decimal

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot import shop
from bot.models import Order, OrderNote
from tests.actions.conftest import Chat, msg


async def where(sender: str, text: str = "我的订单到哪了", lang: str = "zh", entities=None):  # type: ignore[no-untyped-def]
    """The shopper asks where an order is: order_status_form starts, and finishes when it can."""
    chat = Chat(sender, lang=lang)
    await chat.say(text, "order_status", entities, start="order_status_form")
    return chat, chat.said


def notes(engine: Engine, sender: str, kind: str) -> list[OrderNote]:
    with Session(engine) as s:
        stmt = select(OrderNote).join(Order).where(Order.shopper_id == sender, OrderNote.kind.like(f"{kind}%"))
        return list(s.execute(stmt).scalars())


def order_no(engine: Engine, sender: str, status: str) -> str:
    with Session(engine) as s:
        return shop.orders_with_status(s, sender, [status])[0].order_no


def get_order(engine: Engine, number: str) -> Order:
    with Session(engine) as s:
        return s.execute(select(Order).where(Order.order_no == number)).scalar_one()


async def test_paid_within_48_hours_reassures(seeded) -> None:  # type: ignore[no-untyped-def]
    chat, messages = await where("u1002")
    assert chat.submitted and messages[0]["response"] == "utter_order_paid_within"
    # Finished: the form's slots are empty again; the order stays as context for "cancel it".
    assert chat.slots["order_id"] is None and chat.slots["last_order"] == messages[0]["order_id"]
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
        chat, messages = await where(sender, f"订单{number}到哪了")
        assert messages[0]["response"] == response and messages[0]["order_id"] == number
        assert chat.slots["last_order"] == number


async def test_someone_elses_order_looks_like_no_order(seeded) -> None:  # type: ignore[no-untyped-def]
    theirs = order_no(seeded, "u1002", "paid")
    chat, foreign = await where("u1001", f"order {theirs}", lang="en")
    _, missing = await where("u1001", "order 899999999999", lang="en")
    assert foreign[0]["response"] == missing[0]["response"] == "utter_order_not_found"
    assert chat.form == "order_status_form" and chat.responses()[-1] == "utter_ask_order_for_order_status"
    assert {k: v for k, v in foreign[0].items() if k != "order_id"} == {
        k: v for k, v in missing[0].items() if k != "order_id"
    }


async def test_several_orders_offer_a_choice(seeded) -> None:  # type: ignore[no-untyped-def]
    chat, messages = await where("u1009")  # no open order: recent ones to pick from
    assert messages[0]["response"] == "utter_ask_order_for_order_status"
    assert len(messages[0]["buttons"]) == 2
    assert all(b["payload"].startswith('/inform{"order_id":"') for b in messages[0]["buttons"])
    assert chat.form == "order_status_form" and chat.slots["requested_slot"] == "order_id"
    # The shopper taps one: the form has its order and answers.
    number = messages[0]["buttons"][1]["payload"].split('"')[3]
    await chat.say(messages[0]["buttons"][1]["payload"], "inform", [("order_id", number)])
    assert chat.submitted and chat.said[0]["order_id"] == number


async def test_no_orders_at_all(seeded) -> None:  # type: ignore[no-untyped-def]
    chat, messages = await where("stranger-42")
    assert messages[0]["response"] == "utter_order_status_no_orders"
    assert chat.form is None


async def test_database_failure_is_an_apology_not_a_crash(seeded, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import actions.common

    def broken():  # type: ignore[no-untyped-def]
        raise RuntimeError("database is down")

    monkeypatch.setattr(actions.common, "get_sessionmaker", broken)
    import actions.forms

    monkeypatch.setattr(actions.forms, "get_sessionmaker", broken)
    chat, messages = await where("u1001")
    assert [m["response"] for m in messages] == ["utter_technical_problem"]
    assert chat.form is None


async def test_a_visitor_is_asked_to_log_in_and_told_nothing(seeded) -> None:  # type: ignore[no-untyped-def]
    from actions.after_sales import ActionRefundStatus, ValidateCaseForm
    from actions.orders import ActionCheckOrderStatus, ValidateOrderStatusForm

    with Session(seeded) as s:
        number = shop.orders_with_status(s, "u1005", ["shipped"])[0].order_no
    for action, intent in ((ValidateOrderStatusForm(), "order_status"), (ValidateCaseForm(), "return_request"),
                           (ActionCheckOrderStatus(), "order_status"), (ActionRefundStatus(), "refund_status")):
        tracker = Tracker("visitor-0123abcd", {"language": "zh", "order_id": number},
                          msg(number, intent, [("order_id", number)]), [], False, None, {}, "action_listen")
        dispatcher = CollectingDispatcher()
        events = await action.run(dispatcher, tracker, {})
        assert [m["response"] for m in dispatcher.messages] == ["utter_login_required"]
        assert all(e.get("value") is None for e in events if e.get("event") == "slot")


# --- please ship it -------------------------------------------------------------------------------

async def test_urge_within_promise_reassures_with_the_deadline(seeded) -> None:  # type: ignore[no-untyped-def]
    chat = Chat("u1002")
    await chat.say("麻烦催一下发货", "urge_shipment", start="urge_shipment_form")
    assert chat.submitted and chat.responses() == ["utter_urge_within_promise"]
    assert chat.said[0]["deadline"] and chat.said[0]["ship_hours"] == "48"


async def test_urge_past_promise_registers_follow_up_gift_reason_and_date(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    chat = Chat("u1003", lang="en")
    await chat.say("please ship my order soon", "urge_shipment", start="urge_shipment_form")
    assert chat.responses()[0] in ("utter_order_paid_overdue", "utter_order_paid_overdue_restock")
    assert chat.said[0]["ship_by"]
    note = notes(fresh_shop, "u1003", "ship_overdue_followup")
    assert len(note) == 1 and "小礼品" in note[0].text and "承诺" in note[0].text and note[0].flag == "red"


async def test_urge_on_a_shipped_order_tells_where_it_is(seeded) -> None:  # type: ignore[no-untyped-def]
    number = order_no(seeded, "u1004", "shipped")
    chat = Chat("u1004")
    await chat.say(f"催一下{number}", "urge_shipment", [("order_id", number)], start="urge_shipment_form")
    assert chat.responses()[0] == "utter_order_shipped_stale" and chat.form is None


# --- cancel -------------------------------------------------------------------------------------

async def test_cancel_unshipped_after_confirmation_refunds(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    number = order_no(fresh_shop, "u1002", "paid")
    chat = Chat("u1002")
    await chat.say("帮我把订单取消了吧", "cancel_order", start="cancel_order_form")
    assert chat.responses() == ["utter_ask_cancel_confirm"] and chat.said[0]["order_id"] == number
    assert get_order(fresh_shop, number).status == "paid"  # nothing happens before the yes
    await chat.say("是的", "affirm")
    assert chat.submitted and chat.responses() == ["utter_cancel_done_refund"]
    assert chat.said[0]["refund_days"] == "1–2"
    order = get_order(fresh_shop, number)
    assert order.status == "cancelled" and order.cancelled_at is not None
    assert len(notes(fresh_shop, "u1002", "cancelled")) == 1


async def test_cancel_then_no_keeps_the_order(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    number = order_no(fresh_shop, "u1006", "unpaid")
    chat = Chat("u1006", lang="en")
    await chat.say("please cancel my order", "cancel_order", start="cancel_order_form")
    await chat.say("no", "deny")
    assert chat.responses() == ["utter_cancel_kept"] and get_order(fresh_shop, number).status == "unpaid"


async def test_cancel_after_shipment_points_to_the_return_path(seeded) -> None:  # type: ignore[no-untyped-def]
    number = order_no(seeded, "u1004", "shipped")
    chat = Chat("u1004")
    await chat.say(f"取消{number}", "cancel_order", [("order_id", number)], start="cancel_order_form")
    assert chat.responses() == ["utter_cancel_order_refused_shipped"] and chat.form is None
    assert get_order(seeded, number).status == "shipped"


async def test_cancel_with_nothing_cancellable(seeded) -> None:  # type: ignore[no-untyped-def]
    chat = Chat("u1007")
    await chat.say("我要取消订单", "cancel_order", start="cancel_order_form")
    assert chat.responses() == ["utter_cancel_order_no_orders"] and chat.form is None


async def test_cancel_that_shipped_meanwhile_is_refused(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    number = order_no(fresh_shop, "u1002", "paid")
    chat = Chat("u1002")
    await chat.say("取消订单", "cancel_order", start="cancel_order_form")
    with Session(fresh_shop) as s, s.begin():
        s.execute(select(Order).where(Order.order_no == number)).scalar_one().status = "shipped"
    await chat.say("确认", "affirm")
    assert chat.responses() == ["utter_cancel_order_refused_shipped"]
    assert get_order(fresh_shop, number).status == "shipped"


# --- change --------------------------------------------------------------------------------------

async def test_change_size_shows_the_changed_order_then_applies(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    number = order_no(fresh_shop, "u1002", "paid")  # 防风冲锋衣 蓝色/L
    chat = Chat("u1002")
    await chat.say("帮我把尺码换成M", "change_order", [("size", "M")], start="change_order_form")
    assert chat.responses() == ["utter_ask_change_confirm"] and "蓝色/M" in chat.said[0]["change"]
    await chat.say("好的", "affirm")
    assert chat.responses() == ["utter_change_done", "custom"]
    assert "蓝色/M" in chat.said[1]["custom"]["card"]["lines"][0]
    with Session(fresh_shop) as s:
        order = s.execute(select(Order).where(Order.order_no == number)).scalar_one()
        assert order.items[0].sku.size == "M"
    assert len(notes(fresh_shop, "u1002", "item_changed")) == 1


async def test_change_asks_what_then_takes_an_address(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    number = order_no(fresh_shop, "u1006", "unpaid")
    chat = Chat("u1006", lang="en")
    await chat.say("I need to change my order", "change_order", start="change_order_form")
    assert chat.responses() == ["utter_ask_change_detail"]
    await chat.say("hmm", "inform")
    assert chat.responses() == ["utter_change_unclear", "utter_ask_change_detail"]
    await chat.say("new address is 88 Nanjing Road, Huangpu District, Shanghai", "inform")
    assert chat.responses() == ["utter_ask_change_confirm"]
    await chat.say("yes", "affirm")
    assert get_order(fresh_shop, number).address == "88 Nanjing Road, Huangpu District, Shanghai"


async def test_the_courier_the_shopper_prefers_until_the_parcel_leaves(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    number = order_no(fresh_shop, "u1002", "paid")
    chat = Chat("u1002")
    await chat.say("能帮我改发顺丰吗", "change_order", start="change_order_form")
    assert chat.responses() == ["utter_ask_change_confirm"] and chat.said[0]["change"] == "快递 → 顺丰速运"
    await chat.say("好的", "affirm")
    assert chat.responses() == ["utter_change_done", "custom"]
    assert get_order(fresh_shop, number).courier == "SF"
    (note,) = notes(fresh_shop, "u1002", "courier_changed")
    assert note.flag == "red" and "顺丰速运" in note.text
    chat = Chat("u1004", lang="en")  # shipped: the courier already has it
    await chat.say("please send it with SF Express instead", "change_order", start="change_order_form")
    assert chat.responses() == ["utter_change_refused_shipped_item"] and chat.form is None


async def test_shipped_order_only_the_address_through_the_courier(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    number = order_no(fresh_shop, "u1004", "shipped")
    chat = Chat("u1004")
    await chat.say("尺码换成S", "change_order", [("size", "S")], start="change_order_form")
    assert chat.responses() == ["utter_change_refused_shipped_item"] and chat.form is None
    chat = Chat("u1004")
    await chat.say("地址改成上海市黄浦区南京东路100号", "change_order", start="change_order_form")
    assert chat.responses() == ["utter_ask_change_confirm_shipped"]
    await chat.say("可以", "affirm")
    assert chat.responses() == ["utter_change_redirect_requested", "custom"]
    assert get_order(fresh_shop, number).address == "上海市黄浦区南京东路100号"
    assert notes(fresh_shop, "u1004", "address_redirect")[0].flag == "red"


async def test_two_unusable_answers_offer_a_person(seeded) -> None:  # type: ignore[no-untyped-def]
    chat = Chat("u1002")
    await chat.say("我想改订单", "change_order", start="change_order_form")
    await chat.say("嗯", "inform")
    assert chat.responses() == ["utter_change_unclear", "utter_ask_change_detail"]
    await chat.say("就那个", "inform")
    assert chat.responses()[:2] == ["utter_change_unclear", "utter_offer_person"]
    assert chat.said[1]["buttons"][0]["payload"] == "/human_handoff"


async def test_a_question_mid_form_is_not_taken_as_an_answer(seeded) -> None:  # type: ignore[no-untyped-def]
    chat = Chat("u1002")
    await chat.say("我想改订单", "change_order", start="change_order_form")
    await chat.say("羽绒服有货吗", "ask_stock", [("product", "羽绒服")])
    assert chat.rejected and chat.form == "change_order_form"


# --- invoices ----------------------------------------------------------------------------------------

async def test_company_invoice_title_and_tax_number_recorded(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    chat = Chat("u1002")
    await chat.say("我要开发票", "invoice_request", start="invoice_form")
    assert chat.responses() == ["utter_ask_invoice_title"]
    await chat.say("杭州小店科技有限公司", "inform")
    assert chat.responses() == ["utter_ask_tax_number"]
    await chat.say("123", "inform")
    assert chat.responses() == ["utter_tax_number_invalid", "utter_ask_tax_number"]
    await chat.say("91330100MA2B3C4D1X", "inform")
    assert chat.responses() == ["utter_invoice_recorded"]
    note = notes(fresh_shop, "u1002", "invoice")
    assert len(note) == 1 and "杭州小店科技有限公司" in note[0].text and "91330100MA2B3C4D1X" in note[0].text


async def test_urgent_personal_invoice_goes_to_finance(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    chat = Chat("u1001", lang="en")
    number = order_no(fresh_shop, "u1001", "delivered")
    await chat.say(f"I need an invoice for {number}, it's urgent", "invoice_request", [("order_id", number)],
                   start="invoice_form")
    await chat.say("personal", "inform")
    assert chat.responses() == ["utter_invoice_recorded_urgent"]
    note = notes(fresh_shop, "u1001", "invoice")
    assert "已转财务" in note[0].text and "u1001" in note[0].text


async def test_no_invoice_for_an_unpaid_order(seeded) -> None:  # type: ignore[no-untyped-def]
    chat = Chat("u1006")
    await chat.say("开发票", "invoice_request", start="invoice_form")
    assert chat.responses() == ["utter_invoice_no_orders"]


# --- forms start clean and end clean --------------------------------------------------------------------

async def test_correcting_the_order_mid_form(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    chat = Chat("u1001")
    await chat.say("帮我开发票", "invoice_request", start="invoice_form")
    assert chat.responses() == ["utter_ask_order_for_invoice"]
    first, second = (b["payload"].split('"')[3] for b in chat.said[0]["buttons"][:2])
    await chat.say(first, "inform", [("order_id", first)])
    assert chat.slots["order_id"] == first
    await chat.say("不是这个订单，是另一个", "deny")
    assert chat.slots["order_id"] is None and chat.responses() == ["utter_ask_order_for_invoice"]
    await chat.say(f"是{second}", "inform", [("order_id", second)])
    assert chat.slots["order_id"] == second and chat.responses() == ["utter_ask_invoice_title"]


async def test_nothing_leaks_from_one_flow_to_the_next(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    chat = Chat("u1006")
    await chat.say("取消订单", "cancel_order", start="cancel_order_form")
    await chat.say("不用了", "deny")
    assert all(chat.slots.get(k) is None for k in ("order_id", "confirm", "form_misses"))
    chat.slots["confirm"] = True  # even a stale answer left behind is not reused
    await chat.say("还是取消吧", "cancel_order", start="cancel_order_form")
    assert chat.responses() == ["utter_ask_cancel_confirm"]


def test_bulk_numbers_come_from_policy() -> None:
    from bot import policy

    assert policy.bargain_offer(5) == "bulk_discount" and policy.BULK_DISCOUNT == Decimal("0.10")


async def test_asking_again_while_the_form_asks_starts_it_afresh(seeded) -> None:  # type: ignore[no-untyped-def]
    theirs = order_no(seeded, "u1003", "paid")
    chat = Chat("u1002")
    await chat.say(f"where is order {theirs}?", "order_status", [("order_id", theirs)], start="order_status_form")
    assert chat.form == "order_status_form"  # not theirs to see: which order, then?
    await chat.say("我的订单到哪了", "order_status")
    assert chat.submitted and chat.responses()[0] == "utter_order_paid_within"


async def test_a_new_address_and_phone_in_one_message(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    number = order_no(fresh_shop, "u1002", "paid")
    chat = Chat("u1002")
    await chat.say("我要改收货信息", "change_order", start="change_order_form")
    await chat.say("改成北京市海淀区中关村大街1号 电话13800001111", "inform")
    # An 11-digit mobile number is never read as an order number.
    assert chat.responses() == ["utter_ask_change_confirm"]
    assert chat.said[0]["change"] == "收货地址 → 北京市海淀区中关村大街1号；收件电话 → 13800001111"
    await chat.say("是的", "affirm")
    order = get_order(fresh_shop, number)
    assert (order.address, order.phone) == ("北京市海淀区中关村大街1号", "13800001111")


async def test_a_corrected_address_at_the_confirmation_is_asked_again(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    number = order_no(fresh_shop, "u1002", "paid")
    chat = Chat("u1002")
    await chat.say("地址改成北京市海淀区中关村大街1号", "change_order", start="change_order_form")
    assert chat.responses() == ["utter_ask_change_confirm"]
    await chat.say("不对，地址是北京市海淀区中关村大街2号", "deny")
    assert chat.responses() == ["utter_ask_change_confirm"] and "中关村大街2号" in chat.said[0]["change"]
    await chat.say("对", "affirm")
    assert get_order(fresh_shop, number).address == "北京市海淀区中关村大街2号"


async def test_change_at_the_confirmation_asks_the_change_again(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    number = order_no(fresh_shop, "u1002", "paid")
    chat = Chat("u1002", lang="en")
    await chat.say("change the address to 88 Nanjing Road, Huangpu District, Shanghai", "change_order",
                   start="change_order_form")
    assert [b["payload"] for b in chat.said[0]["buttons"]] == ["/affirm", '/inform{"redo":"change_order_form"}',
                                                                "/deny"]
    await chat.say('/inform{"redo":"change_order_form"}', "inform", [("redo", "change_order_form")])
    assert chat.responses() == ["utter_ask_change_detail"]
    await chat.say("new address is 99 Nanjing Road, Huangpu District, Shanghai", "change_order")
    assert chat.responses() == ["utter_ask_change_confirm"] and "99 Nanjing Road" in chat.said[0]["change"]
    await chat.say("yes", "affirm")
    assert get_order(fresh_shop, number).address == "99 Nanjing Road, Huangpu District, Shanghai"


async def test_a_cancel_with_nothing_else_to_pick_offers_no_change(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    number = order_no(fresh_shop, "u1002", "paid")
    chat = Chat("u1002")
    await chat.say(f"取消订单{number}", "cancel_order", [("order_id", number)], start="cancel_order_form")
    assert [b["payload"] for b in chat.said[0]["buttons"]] == ["/affirm", "/deny"]
