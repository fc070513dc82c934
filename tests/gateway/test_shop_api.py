"""The shop backend's signed API: refused unless signed, fresh and first; what it sends reaches the bot."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import aiohttp
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import keys, shop
from bot.clock import utcnow
from bot.models import Order
from bot.shop_api import signed_headers
from tests.conftest import Stack
from tests.gateway.conftest import Shopper
from tests.own_shopper import OwnOrder, add_shopper


def nonce() -> str:
    return uuid.uuid4().hex


async def call(stack: Stack, method: str, path: str, payload: object = None, *, headers: dict[str, str] | None = None,
               sign: bool = True, now: float | None = None, use_nonce: str | None = None) -> tuple[int, dict]:
    body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
    sent = dict(headers or {})
    if sign:
        sent.update(signed_headers(keys.get("SHOP_API_SECRET"), method, path, body, use_nonce or nonce(), now))
    async with aiohttp.ClientSession() as http, http.request(method, stack.gateway + path, data=body,
                                                             headers=sent) as response:
        return response.status, await response.json()


ORDER = {"orders": [{"order_no": "7188000000000001", "shopper_id": "api-8001", "nickname": "api-8001",
                     "status": "卖家已发货", "address": "杭州市滨江区", "phone": "13900008001", "total": "129.00",
                     "paid_at": (utcnow() - timedelta(hours=30)).isoformat(),
                     "shipped_at": (utcnow() - timedelta(hours=20)).isoformat(), "courier": "中通快递",
                     "tracking_no": "ZT7188000000001", "items": [{"sku": "P004-blue-L", "quantity": 1}]}]}


async def test_unsigned_stale_forged_and_replayed_calls_are_refused(stack: Stack) -> None:
    path = "/shop-api/v1/stock"
    payload = {"stock": [{"sku": "P004-blue-L", "stock": 7}]}
    assert (await call(stack, "POST", path, payload, sign=False))[0] == 401
    status, body = await call(stack, "POST", path, payload, now=time.time() - 600)
    assert (status, body["error"]) == (401, "stale")
    forged = signed_headers("x" * 40, "POST", path, json.dumps(payload).encode(), nonce())
    status, body = await call(stack, "POST", path, payload, headers=forged, sign=False)
    assert (status, body["error"]) == (401, "bad_signature")
    # Signed for another body, path or method: refused as well.
    other = signed_headers(keys.get("SHOP_API_SECRET"), "POST", path, b'{"stock": []}', nonce())
    assert (await call(stack, "POST", path, payload, headers=other, sign=False))[0] == 401
    once = nonce()
    assert (await call(stack, "POST", path, payload, use_nonce=once))[0] == 200
    status, body = await call(stack, "POST", path, payload, use_nonce=once)
    assert (status, body["error"]) == (401, "replayed")
    status, body = await call(stack, "POST", path, {"stock": [{"sku": "NOPE", "stock": 1}, {"sku": "P004-blue-L",
                                                                                          "stock": -1}]})
    assert status == 200 and len(body["refused"]) == 2
    assert (await call(stack, "GET", "/shop-api/v1/cases?since=yesterday"))[0] == 400


async def test_a_signed_shipping_event_reaches_the_shoppers_next_answer(stack: Stack) -> None:
    status, body = await call(stack, "POST", "/shop-api/v1/orders", ORDER)
    assert status == 200 and body["created"] + body["updated"] + body["unchanged"] == 1, body
    event = {"events": [{"order_no": "7188000000000001", "at": (utcnow() - timedelta(minutes=5)).isoformat(),
                         "place": "杭州", "text_zh": "快件已到达【杭州滨江营业部】，派件员正在派送",
                         "text_en": "Out for delivery from Hangzhou Binjiang"}]}
    status, body = await call(stack, "POST", "/shop-api/v1/shipping-events", event)
    assert (status, body["created"]) == (200, 1), body
    assert (await call(stack, "POST", "/shop-api/v1/shipping-events", event))[1]["unchanged"] == 1  # once only
    async with Shopper(stack.gateway, "api-8001") as shopper:
        await shopper.say("订单7188000000000001到哪了")
        said = " ".join(shopper.texts())
    assert "杭州滨江营业部" in said and "中通" in said, said


async def test_the_shop_reads_the_cases_opened_since(stack: Stack) -> None:
    start = utcnow() - timedelta(seconds=1)
    add_shopper(stack.engine, "u9328", [OwnOrder("319328000001", "delivered", "P001-black-M", timedelta(days=4),
                                                 timedelta(days=2))])
    with Session(stack.engine) as s, s.begin():  # as the bot's case_form opens one
        order = s.execute(select(Order).where(Order.order_no == "319328000001")).scalar_one()
        case_no = shop.create_case(s, order, order.items[0], "return", "尺码不合适", utcnow()).case_no
    status, body = await call(stack, "GET", f"/shop-api/v1/cases?since={start.isoformat()}")
    assert status == 200 and case_no in [c["case_no"] for c in body["cases"]], body
    (case,) = (c for c in body["cases"] if c["case_no"] == case_no)
    assert (case["kind"], case["order_no"], case["shopper"]) == ("return", "319328000001", "u9328")
    status, body = await call(stack, "GET", f"/shop-api/v1/cases?since={utcnow().isoformat()}")
    assert status == 200 and case_no not in [c["case_no"] for c in body["cases"]]
