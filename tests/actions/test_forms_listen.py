"""Every form, opened with everything said at once: the bot asks nothing it was told.

The only turn left is the confirmation before something that cannot be taken back (cancel, change,
a case); everything else in the opening message fills its slot. The order is named in each opening:
which order is the one thing a form may ask when several fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy.orm import Session

from bot import shop
from tests.actions.conftest import Chat

CONFIRMATIONS = ("utter_ask_case_confirm", "utter_ask_cancel_confirm", "utter_ask_change_confirm",
                 "utter_ask_change_confirm_shipped")


@dataclass(frozen=True)
class Opening:
    form: str
    sender: str
    status: str  # of the sender's order the opening names
    lang: str
    text: str  # "{order}" is the order number
    intent: str
    entities: list[tuple[str, str]] = field(default_factory=list)


OPENINGS = [
    Opening("order_status_form", "u1004", "shipped", "zh", "订单{order}到哪了", "order_status"),
    Opening("urge_shipment_form", "u1002", "paid", "en", "please hurry up and ship order {order}", "urge_shipment"),
    Opening("cancel_order_form", "u1002", "paid", "zh", "帮我取消订单{order}", "cancel_order"),
    Opening("change_order_form", "u1002", "paid", "zh", "订单{order}地址改成北京市海淀区中关村大街1号 电话13800001111",
            "change_order"),
    Opening("change_order_form", "u1002", "paid", "en", "order {order}: please ship it with SF Express instead",
            "change_order"),
    Opening("invoice_form", "u1002", "paid", "zh", "订单{order}开发票，抬头是杭州云栖科技有限公司，税号91330100MA2B3C4D1X",
            "invoice_request"),
    Opening("invoice_form", "u1002", "paid", "en", "I need a personal invoice for order {order}", "invoice_request"),
    Opening("case_form", "u1001", "delivered", "zh", "订单{order}的毛线帽戴着太紧了，我想退货", "return_request",
            [("product", "毛线帽")]),
    Opening("case_form", "u1001", "delivered", "en", "order {order}: the down jacket is too big, can I exchange it for size S",
            "exchange_request", [("product", "down jacket"), ("size", "S")]),
    Opening("case_form", "u1001", "delivered", "zh", "订单{order}的羽绒服拉链坏了，想维修", "repair_request",
            [("product", "羽绒服")]),
    Opening("case_form", "u1001", "delivered", "en", "order {order}: I got a grey beanie but I ordered a red one",
            "wrong_or_missing_item", [("product", "beanie")]),
    Opening("case_form", "u1001", "delivered", "zh", "订单{order}收到了，但是少了毛线帽", "wrong_or_missing_item",
            [("product", "毛线帽")]),
    Opening("case_form", "u1001", "delivered", "en", "order {order}: the down jacket arrived torn, I signed for it",
            "damaged_item", [("product", "down jacket")]),
    Opening("case_form", "u1001", "delivered", "zh", "订单{order}的毛线帽质量有问题，起球很严重", "quality_issue",
            [("product", "毛线帽")]),
    Opening("case_form", "u1001", "delivered", "en", "order {order}: the jacket's colour faded, I'd like some compensation",
            "compensation_request"),
]


@pytest.mark.parametrize("opening", OPENINGS, ids=[f"{o.form}-{o.intent}-{o.lang}" for o in OPENINGS])
async def test_an_opening_that_says_everything_is_asked_nothing(fresh_shop, opening: Opening) -> None:  # type: ignore[no-untyped-def]
    with Session(fresh_shop) as s:
        number = shop.orders_with_status(s, opening.sender, [opening.status])[0].order_no
    chat = Chat(opening.sender, lang=opening.lang)
    await chat.say(opening.text.format(order=number), opening.intent,
                   [("order_id", number), *opening.entities], start=opening.form)
    questions = [r for r in chat.responses() if r.startswith("utter_ask_") and r not in CONFIRMATIONS]
    assert questions == [], chat.said
    if not chat.submitted:
        assert [r for r in chat.responses() if r in CONFIRMATIONS], chat.said
        await chat.say("yes" if opening.lang == "en" else "是的", "affirm")
    assert chat.submitted and not [r for r in chat.responses() if r.startswith("utter_ask_")], chat.said
