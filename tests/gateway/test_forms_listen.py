"""Forms that listen to the whole message (issue 31's table), through the gateway.

Each shopper opens with the whole story; the bot asks only what was not said. Every shopper is
this file's own, with two orders where the story needs the bot to ask which.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import policy
from bot.models import Order
from tests.conftest import Stack
from tests.gateway.conftest import Shopper
from tests.own_shopper import OwnOrder, add_shopper

DAY = timedelta(days=1)


def two_delivered(stack: Stack, shopper_id: str, lang: str) -> str:
    """Two delivered orders: the first holds a black down jacket and a grey beanie. Its number."""
    first = f"31{shopper_id[1:]}000001"
    add_shopper(stack.engine, shopper_id, [
        OwnOrder(first, "delivered", "P001-black-M", 4 * DAY, 2 * DAY, more_skus=("P029-grey-F",)),
        OwnOrder(f"31{shopper_id[1:]}000002", "delivered", "P015-blue-M", 5 * DAY, 3 * DAY),
    ], language=lang)
    return first


def joined(shopper: Shopper) -> str:
    return "\n".join(shopper.texts())


async def test_the_item_named_before_the_order_is_not_asked_again(stack: Stack) -> None:
    number = two_delivered(stack, "u9311", "zh")
    async with Shopper(stack.gateway, "u9311") as shopper:
        await shopper.say("收到的颜色不对 我买的是黑色羽绒服 发来的是米色的")
        assert "哪个订单" in joined(shopper) or "哪一个订单" in joined(shopper), shopper.texts()
        await shopper.say(number)
        said = joined(shopper)
        # The jacket was named before the order: only the confirmation is left, in the shopper's words.
        assert "哪一件" not in said and "轻薄羽绒服（黑色/M）" in said and "颜色不对" in said, shopper.texts()
        await shopper.say("是的")
        # The photos come first; keeping it with compensation is offered once they are in.
        said = joined(shopper)
        assert said.index("上传快递面单") < said.index("保留"), shopper.texts()


async def test_the_missing_beanie_is_the_item(stack: Stack) -> None:
    number = two_delivered(stack, "u9312", "en")
    async with Shopper(stack.gateway, "u9312") as shopper:
        await shopper.say("my parcel arrived but the beanie is missing", lang="en")
        await shopper.say(f"order {number}", lang="en")
        said = joined(shopper)
        assert "Which item" not in said and "Knitted beanie" in said and "Shall I go ahead?" in said, said


async def test_the_fault_told_first_is_the_reason(stack: Stack) -> None:
    number = two_delivered(stack, "u9313", "en")
    async with Shopper(stack.gateway, "u9313") as shopper:
        await shopper.say("the zipper on my down jacket broke after one day", lang="en")
        await shopper.say(number, lang="en")
        said = joined(shopper)
        assert "what's wrong" not in said and "Light down jacket" in said and "zipper" in said, said
        await shopper.say("yes", lang="en")
        assert "case AS" in joined(shopper) or "Case AS" in joined(shopper), shopper.texts()


async def test_received_is_not_asked_of_a_shopper_who_said_so(stack: Stack) -> None:
    number = two_delivered(stack, "u9314", "zh")
    async with Shopper(stack.gateway, "u9314") as shopper:
        await shopper.say("收到的时候包装破了 衣服也弄脏了")
        await shopper.say(number)
        await shopper.say("羽绒服")
        said = joined(shopper)
        assert "签收了吗" not in said and "轻薄羽绒服" in said and "确认提交" in str(shopper.received), said


async def test_a_phone_number_is_never_an_order_number(stack: Stack) -> None:
    number = "319315000001"
    add_shopper(stack.engine, "u9315", [OwnOrder(number, "paid", "P001-black-M", timedelta(hours=3))])
    async with Shopper(stack.gateway, "u9315") as shopper:
        await shopper.say("我要改收货地址")
        await shopper.say("改成北京市海淀区中关村大街1号 电话13800001111")
        said = joined(shopper)
        assert "没有找到订单" not in said and "中关村大街1号" in said and "13800001111" in said, said
        await shopper.say("是的")
    with Session(stack.engine) as s:
        order = s.execute(select(Order).where(Order.order_no == number)).scalar_one()
        assert (order.address, order.phone) == ("北京市海淀区中关村大街1号", "13800001111")


async def test_a_return_past_the_window_says_when_it_ended_and_what_still_applies(stack: Stack) -> None:
    add_shopper(stack.engine, "u9316", [OwnOrder("319316000001", "completed", "P012-grey-M", 25 * DAY, 20 * DAY)])
    async with Shopper(stack.gateway, "u9316") as shopper:
        await shopper.say("我想退货")
        said = joined(shopper)
        assert "没有找到" not in said and "319316000001" in said and "已于" in said and "补偿" in said, said
        buttons = [b["title"] for m in shopper.received for b in m.get("quick_replies") or m.get("buttons") or []]
        assert "申请补偿" in buttons and "转人工" in buttons, shopper.received


# --- every form, zh and en: everything at once, piece by piece, with a correction ----------------------

# What each form asks, as the shopper reads it: a turn's questions are counted by these.
QUESTIONS = {
    "zh": {"order": "哪个订单", "item": "哪一件", "reason": "原因或具体问题", "wanted": "尺码或颜色呢",
           "signed": "签收了吗", "detail": "您想修改什么", "title": "发票抬头写什么", "tax": "公司税号"},
    "en": {"order": "Which order", "item": "Which item", "reason": "what's wrong", "wanted": "Which size or colour",
           "signed": "sign for the parcel", "detail": "What would you like to change", "title": "What title",
           "tax": "tax number (the 18"},
}
TAX = "91330100MA2B3C4D1X"
ZGC1, ZGC2 = "北京市海淀区中关村大街1号", "北京市海淀区中关村大街2号"
# (what the shopper says; the questions the bot must ask in reply, nothing more; what its reply must hold)
Step = tuple[str, list[str], list[str]]

CONVERSATIONS: dict[str, tuple[str, str, list[Step]]] = {
    # name: (orders the shopper has, language, steps); {o1} / {o2} are their two orders.
    "status-at-once-zh": ("paid", "zh", [("订单{o1}到哪了", [], ["{o1}"])]),
    "status-pieces-zh": ("paid", "zh", [("我的订单到哪了", ["order"], []), ("{o1}", [], ["{o1}"])]),
    "status-correction-zh": ("paid", "zh", [("我的订单到哪了", ["order"], []), ("{o1}", [], ["{o1}"]),
                                            ("不是这个订单，是{o2}", [], ["{o2}"])]),
    "status-at-once-en": ("paid", "en", [("where is order {o1}", [], ["{o1}"])]),
    "status-pieces-en": ("paid", "en", [("where is my order", ["order"], []), ("{o1}", [], ["{o1}"])]),
    "status-correction-en": ("paid", "en", [("where is my order", ["order"], []), ("{o1}", [], ["{o1}"]),
                                            ("not this one, order {o2}", [], ["{o2}"])]),
    "urge-at-once-zh": ("paid", "zh", [("订单{o1}怎么还不发货，麻烦快点发", [], ["{o1}"])]),
    "urge-pieces-zh": ("paid", "zh", [("怎么还不发货啊", ["order"], []), ("{o1}", [], ["{o1}"])]),
    "urge-correction-zh": ("paid", "zh", [("怎么还不发货啊", ["order"], []), ("{o1}", [], ["{o1}"]),
                                          ("不是这个订单，是{o2}", [], ["{o2}"])]),
    "urge-at-once-en": ("paid", "en", [("please hurry up and ship order {o1}", [], ["{o1}"])]),
    "urge-pieces-en": ("paid", "en", [("when will you ship my order? please hurry", ["order"], []),
                                      ("{o1}", [], ["{o1}"])]),
    "urge-correction-en": ("paid", "en", [("when will you ship my order? please hurry", ["order"], []),
                                          ("{o1}", [], ["{o1}"]), ("not this one, order {o2}", [], ["{o2}"])]),
    "cancel-at-once-zh": ("paid", "zh", [("帮我取消订单{o1}", [], ["确认要取消订单 {o1}"]), ("是的", [], ["{o1} 已取消"])]),
    "cancel-pieces-zh": ("paid", "zh", [("我想取消订单", ["order"], []), ("{o1}", [], ["确认要取消订单 {o1}"]),
                                        ("是的", [], ["{o1} 已取消"])]),
    "cancel-correction-zh": ("paid", "zh", [("帮我取消订单{o1}", [], ["{o1}"]), ("不对，是{o2}", [], ["确认要取消订单 {o2}"]),
                                            ("是的", [], ["{o2} 已取消"])]),
    "cancel-at-once-en": ("paid", "en", [("please cancel order {o1}", [], ["Cancel order {o1}"]),
                                         ("yes", [], ["{o1} is cancelled"])]),
    "cancel-pieces-en": ("paid", "en", [("I want to cancel an order", ["order"], []), ("{o1}", [], ["Cancel order {o1}"]),
                                        ("yes", [], ["{o1} is cancelled"])]),
    "cancel-correction-en": ("paid", "en", [("please cancel order {o1}", [], ["{o1}"]),
                                            ("no, order {o2}", [], ["Cancel order {o2}"]), ("yes", [], ["{o2} is cancelled"])]),
    "change-at-once-zh": ("paid", "zh", [(f"订单{{o1}}地址改成{ZGC1} 电话13800001111", [], [ZGC1, "13800001111"]),
                                         ("是的", [], ["{o1} 已修改"])]),
    "change-pieces-zh": ("paid", "zh", [("我要改收货地址", ["order"], []), ("{o1}", ["detail"], []),
                                        (f"改成{ZGC1}", [], [ZGC1]), ("是的", [], ["{o1} 已修改"])]),
    "change-correction-zh": ("paid", "zh", [(f"订单{{o1}}地址改成{ZGC1}", [], [ZGC1]),
                                            (f"不对，地址是{ZGC2}", [], [ZGC2]), ("是的", [], ["{o1} 已修改", ZGC2])]),
    "change-at-once-en": ("paid", "en", [(f"please change the address of order {{o1}} to {ZGC1}, phone 13800001111", [],
                                          [ZGC1, "13800001111"]), ("yes", [], ["{o1} is changed"])]),
    "change-pieces-en": ("paid", "en", [("I need to change my delivery address", ["order"], []), ("{o1}", ["detail"], []),
                                        (f"new address is {ZGC1}", [], [ZGC1]), ("yes", [], ["{o1} is changed"])]),
    "change-correction-en": ("paid", "en", [(f"please change the address of order {{o1}} to {ZGC1}", [], [ZGC1]),
                                            (f"sorry, the address is {ZGC2}", [], [ZGC2]), ("yes", [], ["{o1} is changed"])]),
    "invoice-at-once-zh": ("paid", "zh", [(f"订单{{o1}}开发票，抬头是杭州云栖科技有限公司，税号{TAX}", [],
                                           ["{o1} 登记开票", "杭州云栖科技有限公司", TAX])]),
    "invoice-pieces-zh": ("paid", "zh", [("我要开发票", ["order"], []), ("{o1}", ["title"], []),
                                         ("杭州云栖科技有限公司", ["tax"], []), (TAX, [], ["{o1} 登记开票"])]),
    "invoice-correction-zh": ("paid", "zh", [("我要开发票", ["order"], []), ("{o1}", ["title"], []),
                                             ("换个订单，{o2}", ["title"], []), ("个人", [], ["{o2} 登记开票"])]),
    "invoice-at-once-en": ("paid", "en", [(f"I need an invoice for order {{o1}}, title ACME Trading Ltd, tax number {TAX}", [],
                                           ["{o1}", "ACME Trading Ltd", TAX])]),
    "invoice-pieces-en": ("paid", "en", [("can I get an invoice", ["order"], []), ("{o1}", ["title"], []),
                                         ("ACME Trading Ltd", ["tax"], []), (TAX, [], ["{o1}"])]),
    "invoice-correction-en": ("paid", "en", [("can I get an invoice", ["order"], []), ("{o1}", ["title"], []),
                                             ("wrong order, it's {o2}", ["title"], []), ("personal", [], ["{o2}"])]),
    "return-at-once-zh": ("delivered", "zh", [("订单{o1}的毛线帽戴着太紧了，我想退货", [], ["针织毛线帽", "太紧"]),
                                              ("是的", [], ["售后单号"])]),
    "return-pieces-zh": ("delivered", "zh", [("我想退货", ["order"], []), ("{o1}", ["item"], []), ("毛线帽", ["reason"], []),
                                             ("戴着太紧了", [], ["针织毛线帽"]), ("是的", [], ["售后单号"])]),
    "return-correction-zh": ("delivered", "zh", [("我想退货", ["order"], []), ("{o1}", ["item"], []),
                                                 ("毛线帽", ["reason"], []), ("不喜欢这个颜色", [], ["针织毛线帽"]),
                                                 ("不对，是羽绒服", [], ["轻薄羽绒服"]), ("是的", [], ["轻薄羽绒服", "售后单号"])]),
    "return-at-once-en": ("delivered", "en", [("order {o1}: the beanie is too tight, I want to return it", [],
                                               ["Knitted beanie", "too tight"]), ("yes", [], ["case AS"])]),
    "return-pieces-en": ("delivered", "en", [("I want to return something", ["order"], []), ("{o1}", ["item"], []),
                                             ("the beanie", ["reason"], []), ("it's too tight", [], ["Knitted beanie"]),
                                             ("yes", [], ["case AS"])]),
    "return-correction-en": ("delivered", "en", [("I want to return something", ["order"], []), ("{o1}", ["item"], []),
                                                 ("the beanie", ["reason"], []), ("I don't like the colour", [], ["Knitted beanie"]),
                                                 ("no, the down jacket", [], ["Light down jacket"]),
                                                 ("yes", [], ["Light down jacket", "case AS"])]),
}


def orders_for(stack: Stack, shopper_id: str, kind: str, lang: str) -> tuple[str, str]:
    o1, o2 = f"32{shopper_id[1:]}000001", f"32{shopper_id[1:]}000002"
    if kind == "paid":  # paid long enough ago that the bot's own details check has nothing to say
        ago = policy.DETAILS_CHECK_WITHIN + timedelta(hours=1)
        orders = [OwnOrder(o1, "paid", "P001-black-M", ago), OwnOrder(o2, "paid", "P015-blue-M", ago + timedelta(hours=1))]
    else:
        orders = [OwnOrder(o1, "delivered", "P001-black-M", 4 * DAY, 2 * DAY, more_skus=("P029-grey-F",)),
                  OwnOrder(o2, "delivered", "P015-blue-M", 5 * DAY, 3 * DAY)]
    add_shopper(stack.engine, shopper_id, orders, language=lang)
    return o1, o2


@pytest.mark.parametrize("name", list(CONVERSATIONS))
async def test_each_form_asks_only_what_was_not_said(stack: Stack, name: str) -> None:
    kind, lang, steps = CONVERSATIONS[name]
    shopper_id = f"u93{40 + list(CONVERSATIONS).index(name):02d}"
    o1, o2 = orders_for(stack, shopper_id, kind, lang)
    async with Shopper(stack.gateway, shopper_id) as shopper:
        for text, asked, holds in steps:
            text = text.format(o1=o1, o2=o2)
            await shopper.say(text, lang=lang)
            said = joined(shopper)
            questions = [key for key, words in QUESTIONS[lang].items() if words in said]
            assert questions == asked, (name, text, shopper.texts())
            for fragment in holds:
                assert fragment.format(o1=o1, o2=o2) in said, (name, text, fragment, shopper.texts())
