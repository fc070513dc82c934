"""Rasa's own widgets get Rasa's own message shapes; ours asks for the extended ones."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import socketio

from bot.gateway.store import rasa_messages
from tests.conftest import Stack, token_for
from tests.own_shopper import OwnOrder, add_shopper

BASE = "https://chat.example-shop.com"


def test_each_message_comes_as_rasa_would_send_it() -> None:
    said = {"id": 7, "role": "bot", "author": None, "at": "2026-12-07T10:00:00Z"}
    assert rasa_messages({**said, "text": "你好"}, BASE) == [{"text": "你好"}]
    # Paragraphs are messages of their own; the buttons go with the last one, as Rasa does.
    buttons = [{"content_type": "text", "title": "是", "payload": "/affirm"}]
    assert rasa_messages({**said, "text": "一\n\n二", "quick_replies": buttons}, BASE) == [
        {"text": "一"}, {"text": "二", "quick_replies": buttons}]
    # An image is an attachment message of its own, linked from where browsers reach the gateway.
    image = {"type": "image", "payload": {"src": "/static/examples/evidence-photos.svg"}}
    assert rasa_messages({**said, "text": "请拍照", "attachment": image}, BASE) == [
        {"text": "请拍照"},
        {"attachment": {"type": "image", "payload": {"src": f"{BASE}/static/examples/evidence-photos.svg"}}}]
    # A card these widgets cannot draw comes as its text; a notice as its text alone.
    card = {"type": "order", "title": "3100 · 已发货", "lines": ["羽绒服 黑/M ×1", "合计 ¥399"]}
    assert rasa_messages({**said, "text": "", "card": card}, BASE) == [
        {"text": "3100 · 已发货\n羽绒服 黑/M ×1\n合计 ¥399"}]
    assert rasa_messages({"role": "system", "text": "稍等", "error": "busy"}, BASE) == [{"text": "稍等"}]
    # The shopper's own words are not echoed back to a widget that already shows them.
    assert rasa_messages({**said, "role": "shopper", "text": "hi"}, BASE) == []


class RasaWidget:
    """What rasa-webchat does on the wire: no auth, session_request with its session id, the token
    (if the shop gives one) in each message's customData."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url, self.token = url, token
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: list[dict[str, Any]] = []
        self.sio.on("bot_uttered", self.received.append)

    async def __aenter__(self) -> RasaWidget:
        confirmed = asyncio.Event()
        self.sio.on("session_confirm", lambda _: confirmed.set())
        await self.sio.connect(self.url, transports=["websocket"])
        await self.sio.emit("session_request", {"session_id": None})
        await asyncio.wait_for(confirmed.wait(), 10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sio.disconnect()

    async def say(self, text: str) -> list[dict[str, Any]]:
        self.received.clear()
        custom: dict[str, Any] = {"language": "zh", **({"token": self.token} if self.token else {})}
        ack = await self.sio.call("user_uttered", {"message": text, "customData": custom}, timeout=60)
        await asyncio.sleep(0.5)
        assert ack["ok"], ack
        return list(self.received)


def shape(message: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(message))


async def test_a_rasa_widget_gets_text_buttons_and_an_image_in_rasas_shapes(stack: Stack) -> None:
    number = "319323000001"
    add_shopper(stack.engine, "u9323", [OwnOrder(number, "delivered", "P001-black-M", timedelta(days=4),
                                                 timedelta(days=2))])
    async with RasaWidget(stack.gateway, token_for("u9323")) as widget:
        got = await widget.say(f"订单{number}收到的羽绒服发错了，我买的黑色，寄来的是白色")
        # The token in customData: this shopper's own order, in Rasa's shapes only.
        assert got and all(shape(m) in {("text",), ("quick_replies", "text")} for m in got), got
        assert number in " ".join(m["text"] for m in got)
        (asked,) = (m for m in got if "quick_replies" in m)
        yes = asked["quick_replies"][0]
        assert set(yes) == {"content_type", "title", "payload"}
        got = await widget.say(yes["payload"])
        images = [m for m in got if "attachment" in m]
        assert images and shape(images[0]) == ("attachment",), got
        assert images[0]["attachment"]["payload"]["src"].startswith("http://127.0.0.1:")
        assert any(shape(m) == ("text",) and "AS" in m["text"] for m in got), got
    # A visitor's widget: no token, product questions answered.
    async with RasaWidget(stack.gateway) as widget:
        got = await widget.say("羽绒服是什么材质的")
        assert got and all(shape(m) in {("text",), ("quick_replies", "text")} for m in got), got
