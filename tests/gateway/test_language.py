"""The reply comes in the shopper's language, decided per message, through the gateway.

Chinese in either script gets Chinese, English gets English, mixed text the
dominant language; a button press (a payload, no words) keeps the conversation's.
"""

from datetime import timedelta

import pytest

from bot import policy
from bot.text import detect_language
from tests.conftest import Stack
from tests.gateway.conftest import Shopper
from tests.own_shopper import OwnOrder, add_shopper

# (message, expected reply language); each group is one visitor's conversation, in order.
CONVERSATIONS: list[list[tuple[str, str]]] = [
    [("你好", "zh"), ("羽绒服有货吗", "zh"), ("卫衣是什么面料的", "zh"), ("hello", "en"),
     ("is the down jacket in stock", "en"), ("谢谢", "zh"), ("在吗", "zh")],
    [("輕薄羽絨服有黑色嗎", "zh"), ("這件衛衣是什麼面料", "zh"), ("牛仔褲有哪些顏色", "zh"), ("謝謝你", "zh"),
     ("what is the hoodie made of", "en"), ("thank you", "en")],
    [("我的订单到哪了", "zh"), ("where is my order", "en"), ("我的order到哪了", "zh"), ("refund 怎么还没到", "zh"),
     ("where is my 羽绒服 order", "en"), ("我想退货", "zh"), ("can I return it", "en")],
    [("包邮吗", "zh"), ("do you offer free shipping", "en"), ("能便宜点吗", "zh"), ("can you give me a discount", "en"),
     ("羽绒服有size M吗", "zh"), ("is the 卫衣 in stock in size M", "en"), ("羽绒服有什么颜色", "zh")],
    [("地球到月球多远", "zh"), ("what's a good pasta recipe", "en"), ("讲个笑话", "zh"), ("who won the world cup", "en"),
     ("帮我写首诗", "zh"), ("hi", "en")],
    [("hello there", "en"), ("what colours do the jeans come in", "en"), ("牛仔裤多少钱", "zh"),
     ("how much are the jeans", "en"), ("毛线帽有现货吗", "zh"), ("bye", "en"), ("再见", "zh")],
    [("您好，在吗", "zh"), ("thanks a lot", "en"), ("多謝", "zh"), ("good morning", "en"), ("你们几点下班", "zh")],
]


def test_the_conversations_are_large_enough() -> None:
    messages = [m for conversation in CONVERSATIONS for m in conversation]
    assert len(messages) >= 40
    assert {lang for _, lang in messages} == {"zh", "en"}


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c[0][0] for c in CONVERSATIONS])
async def test_every_reply_is_in_the_language_of_the_message(stack: Stack, conversation: list) -> None:
    async with Shopper(stack.gateway) as visitor:
        for text, expected in conversation:
            await visitor.say(text, settle=0.2)
            replies = [t for t in visitor.texts() if detect_language(t)]
            assert replies, f"no reply to {text!r}"
            wrong = [t for t in replies if detect_language(t) != expected]
            assert not wrong, (text, expected, wrong)


def shopper_with_two_paid_orders(stack: Stack, shopper_id: str) -> None:
    """Two orders that fit a cancellation, so the bot asks which with buttons. Paid more than
    policy.DETAILS_CHECK_WITHIN ago: the outreach sweep has nothing to say here."""
    paid = [policy.DETAILS_CHECK_WITHIN + timedelta(hours=n) for n in (1, 2)]
    add_shopper(stack.engine, shopper_id, [OwnOrder(f"29{shopper_id[1:]}00000{n}", "paid", "P026-black-F", ago)
                                          for n, ago in enumerate(paid, 1)])


@pytest.mark.parametrize("lang,shopper_id,request_text", [("en", "u9101", "please cancel my order"),
                                                         ("zh", "u9102", "帮我取消订单")])
async def test_a_button_press_keeps_the_conversations_language(stack: Stack, lang: str, shopper_id: str,
                                                               request_text: str) -> None:
    shopper_with_two_paid_orders(stack, shopper_id)
    async with Shopper(stack.gateway, shopper_id) as shopper:
        await shopper.say(request_text, lang="zh")  # the widget's switch says zh: the words decide
        offered = [m["quick_replies"] for m in shopper.received if m.get("quick_replies")]
        assert offered, shopper.received
        await shopper.say(offered[0][0]["payload"], lang="zh")
        replies = [t for t in shopper.texts() if detect_language(t)]
        assert replies and all(detect_language(t) == lang for t in replies), (lang, replies)
