"""Forms that listen to the whole message (issue 31's table), through the gateway.

Each shopper opens with the whole story; the bot asks only what was not said. Every shopper is
this file's own, with two orders where the story needs the bot to ask which.
"""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

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
        assert "哪一件" not in said and "保留" in said, shopper.texts()


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
