"""Whole-bot conversations: the trained model, the real action server and the
seeded database, over Rasa's REST channel, exactly as `make run` starts them."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot import keys, shop
from bot.models import AfterSalesCase
from tests.conftest import Stack
from tests.own_shopper import OwnOrder, add_shopper

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def bot_url(stack: Stack) -> str:
    return stack.rasa


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> Engine:
    """The database the running servers use (shadows the unit-test one)."""
    return stack.engine


def say(url: str, sender: str, text: str) -> list[dict[str, Any]]:
    request = urllib.request.Request(
        f"{url}/webhooks/gateway/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {keys.get('INTERNAL_TOKEN')}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def test_chinese_shopper_gets_chinese_answers(bot_url: str, seeded: Engine) -> None:
    with Session(seeded) as s:
        number = shop.orders_with_status(s, "u1002", ["paid"])[0].order_no
    greeting = texts(say(bot_url, "u1002", "你好呀"))
    assert greeting.startswith("亲，您好")
    status = texts(say(bot_url, "u1002", "我买的冲锋衣什么时候发货"))
    assert number in status and "已付款" in status and CJK.search(status)


def test_language_is_detected_per_message(bot_url: str) -> None:
    english = texts(say(bot_url, "u1004", "where is my parcel?"))
    assert "has had no tracking update for" in english and not CJK.search(english)
    chinese = texts(say(bot_url, "u1004", "那我的订单到底到哪了"))
    assert "小时没有物流更新" in chinese
    mixed = texts(say(bot_url, "u1004", "where is my 牛仔裤"))
    assert "no tracking update" in mixed


def test_product_and_stock_answers_come_from_the_catalogue(bot_url: str) -> None:
    material = texts(say(bot_url, "u1010", "羽绒服是什么面料的"))
    assert "90% 白鸭绒" in material
    replies = say(bot_url, "u1010", "do you have the long down coat in stock?")
    assert "sold out" in replies[0]["text"]
    assert "as soon as it's back in stock" in replies[1]["text"], "the wish is recorded"
    assert replies[2].get("buttons"), "sold out comes with in-stock alternatives to tap"
    size = texts(say(bot_url, "u1010", "我110斤，牛仔裤穿什么码"))
    assert "建议选 M 码" in size


def test_return_by_buttons_opens_a_case(bot_url: str, seeded: Engine) -> None:
    # Two returnable orders of this test's own: the form has to ask which.
    add_shopper(seeded, "u9201", [
        OwnOrder("292010000001", "delivered", "P029-grey-F", ago=timedelta(days=4), delivered_ago=timedelta(days=1)),
        OwnOrder("292010000002", "delivered", "P001-black-M", ago=timedelta(days=5), delivered_ago=timedelta(days=2)),
    ])
    first = say(bot_url, "u9201", "收到的东西不喜欢，我想退货")
    assert first and first[0].get("buttons"), first
    buttons = first[0]["buttons"]
    assert len(buttons) == 2
    hat = next(b for b in buttons if "毛线帽" in b["title"])
    # "不喜欢" already said why: the bot asks nothing more than the confirmation.
    confirm = say(bot_url, "u9201", hat["payload"])
    assert "原因" not in texts(confirm) and "不喜欢" in texts(confirm) and "确认提交" in texts(confirm), confirm
    done = texts(say(bot_url, "u9201", confirm[0]["buttons"][0]["payload"]))
    case_no = re.search(r"AS\d{12}", done)
    assert case_no and "文一西路" in done
    with Session(seeded) as s:
        case = s.execute(select(AfterSalesCase).where(AfterSalesCase.case_no == case_no.group())).scalar_one()
        assert case.kind == "return" and case.status == "awaiting_return"
        assert case.order.order_no == "292010000001"


def test_how_long_an_exchange_or_repair_takes_is_answered_not_started(bot_url: str, seeded: Engine) -> None:
    # Asking the time is not asking for the exchange: no form, no case, the shop's figures.
    add_shopper(seeded, "u9202", [])
    chinese = texts(say(bot_url, "u9202", "换货流程走完大概得花几天"))
    assert "48 小时内处理完毕" in chinese and "个工作日" in chinese, chinese
    english = texts(say(bot_url, "u9202", "how many days does getting something repaired take"))
    assert "settled within 48 hours" in english and not CJK.search(english), english
    with Session(seeded) as s:
        assert shop.shopper_cases(s, "u9202") == []


def test_other_shoppers_orders_stay_private(bot_url: str, seeded: Engine) -> None:
    with Session(seeded) as s:
        theirs = shop.orders_with_status(s, "u1003", ["paid"])[0].order_no
    reply = texts(say(bot_url, "u1002", f"where is order {theirs}?"))
    assert f"can't find order {theirs} on your account" in reply


@pytest.mark.parametrize(
    "text",
    ["😊😊😊", "买" * 10_000, "'; DROP TABLE orders; --", "<script>alert(1)</script>", "   "],
    ids=["emoji", "10k-chars", "sql", "html", "blank"],
)
def test_bad_input_gets_a_clear_reply(bot_url: str, seeded: Engine, text: str) -> None:
    replies = say(bot_url, "u1011", text)
    if text.strip():
        assert any(r.get("text") for r in replies), replies
    # The shop is untouched and the bot still answers afterwards.
    with Session(seeded) as s:
        assert shop.find_order(s, "u1002", shop.orders_with_status(s, "u1002", ["paid"])[0].order_no)
    assert texts(say(bot_url, "u1011", "你好")).startswith("亲，您好")
