"""Faults survived with nothing lost, on a stack of its own (its servers are
killed, frozen and restarted here): the action server killed mid-form, Rasa
slower than the gateway's time-out, a gateway killed and restarted, an agent
who vanished; and a shopper who stops waiting for a person.
PostgreSQL restarting is tried on the scaled stack (test_scaled.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import socketio
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db import make_engine
from bot.models import ChatMessage
from bot.seed import seed
from bot.stack import Urls, running_stack
from tests.conftest import MODEL
from tests.gateway.conftest import Shopper, agent_session

# Short on purpose: the shopper is told after NOTICE s, and Rasa is given up on after TIMEOUT s.
NOTICE, TIMEOUT = 2, 6
# The retry sweep's first try comes 15 s after a failure (bot.conversations.RETRY_FIRST), checked every 5 s.
SWEEP_WAIT = 40
# An agent's console gone this long (bot.policy.AGENT_GONE_REQUEUE, shortened here): their chats are requeued.
AGENT_GONE = 3


@dataclass
class Faulty:
    urls: Urls
    engine: Engine
    workdir: Path

    def kill(self, name: str) -> None:
        self.urls.kill(name)

    def restart(self, name: str) -> None:
        self.urls.restart(name)

    def freeze(self, name: str, frozen: bool) -> None:
        self.urls.freeze(name, frozen)

    def transcript(self, conversation_id: str) -> list[tuple[str, str, bool]]:
        with Session(self.engine) as s:
            rows = s.execute(select(ChatMessage.role, ChatMessage.text, ChatMessage.awaiting_reply)
                             .where(ChatMessage.conversation_id == conversation_id).order_by(ChatMessage.id))
            return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faulty]:
    assert MODEL.exists(), "no trained model: run `make train` (make test does it first)"
    workdir = tmp_path_factory.mktemp("faults")
    url = f"sqlite:///{workdir / 'shop.db'}"
    engine = make_engine(url)
    seed(engine)
    env = {"RASA_NOTICE_SECONDS": str(NOTICE), "RASA_TIMEOUT_SECONDS": str(TIMEOUT), "OUTREACH_SECONDS": "0",
           "AGENT_GONE_SECONDS": str(AGENT_GONE), "QUEUE_SWEEP_SECONDS": "1"}
    try:
        with running_stack(workdir, url, extra_env=env) as urls:
            yield Faulty(urls, engine, workdir)
    finally:
        engine.dispose()


async def until(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.5)
    return bool(condition())


async def test_action_server_killed_mid_form(faulty: Faulty) -> None:
    async with Shopper(faulty.urls.gateway, "u1002") as shopper:
        await shopper.say("我要开发票")
        assert any("抬头" in t for t in shopper.texts()), shopper.texts()
        faulty.kill("actions")
        ack = await shopper.say("杭州小店科技有限公司")
        assert ack["ok"], "the message is taken and kept"
        [told] = shopper.received
        assert told["role"] == "system" and "已保存" in told["text"]
        assert told["quick_replies"][0]["payload"] == "/gateway_handoff", "a person is offered"
        assert faulty.transcript("u1002")[-2] == ("shopper", "杭州小店科技有限公司", True)

        shopper.received.clear()
        faulty.restart("actions")
        # Nobody resends: the gateway's sweep asks again, and the form goes on where it was.
        assert await until(lambda: any("税号" in t for t in shopper.texts()), SWEEP_WAIT), shopper.texts()
        await shopper.say("91330100MA2B3C4D1X", settle=0.5)
        assert any("发票" in t for t in shopper.texts()), shopper.texts()
    assert not any(waiting for _, _, waiting in faulty.transcript("u1002"))


async def test_the_person_button_works_while_the_bot_is_down(faulty: Faulty) -> None:
    async with Shopper(faulty.urls.gateway, "u1005") as shopper:
        faulty.kill("actions")
        try:
            await shopper.say("我的包裹丢了吗")
            [told] = shopper.received
            await shopper.say(told["quick_replies"][0]["payload"])
            assert any("留言" in t or "队列" in t for t in shopper.texts()), shopper.texts()
        finally:
            faulty.restart("actions")
    transcript = faulty.transcript("u1005")
    assert not any(waiting for _, _, waiting in transcript), "a person answers now, not the bot later"


async def test_rasa_slower_than_the_time_out(faulty: Faulty) -> None:
    async with Shopper(faulty.urls.gateway, "u1008") as shopper:
        faulty.freeze("rasa", True)
        try:
            started = time.monotonic()
            ack = await shopper.say("我的订单到哪了", settle=0)
            waited = time.monotonic() - started
            notices = [m.get("notice") for m in shopper.received]
            assert notices == ["slow", "unavailable"], shopper.received
            assert TIMEOUT <= waited < TIMEOUT + 5 and ack["ok"]
        finally:
            faulty.freeze("rasa", False)
        shopper.received.clear()
        # Rasa is back: the sweep asks again and the answer arrives without the shopper doing anything.
        assert await until(lambda: any(m["role"] == "bot" for m in shopper.received), SWEEP_WAIT)
    transcript = faulty.transcript("u1008")
    assert [t for r, t, _ in transcript if r == "shopper"] == ["我的订单到哪了"], "stored once"
    assert not any(waiting for _, _, waiting in transcript)


async def test_gateway_killed_mid_answer_then_restarted(faulty: Faulty) -> None:
    shopper = Shopper(faulty.urls.gateway, "u1010")
    async with shopper:
        await shopper.say("你好")
        before = await shopper.sio.call("history_request", {}, timeout=10)
        # Rasa frozen, so the gateway is surely waiting for it when it dies.
        faulty.freeze("rasa", True)
        await shopper.sio.emit("user_uttered", {"message": "我的订单到哪了",
                                                "customData": {"language": "zh", "client_id": "lost-1"}})
        await asyncio.sleep(1)
        faulty.kill("gateway")
        faulty.freeze("rasa", False)
        assert await until(lambda: not shopper.sio.connected, 15), "the client saw its gateway go"
        faulty.restart("gateway")
        # The client reconnects by itself; the widget then resends what was never acknowledged.
        assert await until(lambda: shopper.sio.connected, 30)
        ack = await shopper.say("我的订单到哪了", client_id="lost-1", settle=0.5)
        assert ack["ok"] and ack.get("retried") is True, ack
        assert any(m["role"] == "bot" for m in shopper.received), shopper.received
        again = await shopper.say("我的订单到哪了", client_id="lost-1")
        assert again.get("duplicate") is True
        after = await shopper.sio.call("history_request", {}, timeout=10)
    assert after[:len(before)] == before, "history intact"
    shopper_lines = [m["text"] for m in after if m["role"] == "shopper"]
    assert shopper_lines == ["你好", "我的订单到哪了"], "nothing duplicated"



async def test_an_agent_who_vanished_and_a_shopper_who_stops_waiting(faulty: Faulty) -> None:
    agent = await agent_session(faulty.urls.gateway, "dawei")
    console = socketio.AsyncClient()
    try:
        token = (await (await agent.get("/console/api/me")).json())["token"]
        await console.connect(faulty.urls.gateway, namespaces=["/console"], auth={"token": token},
                              transports=["websocket"])
        async with Shopper(faulty.urls.gateway, "u1011") as shopper:
            await shopper.say("转人工")
            assert (await agent.post("/console/api/conversations/u1011/claim", json={})).status == 200
            await console.disconnect()  # the console's tab closed, its network gone
            shopper.received.clear()
            assert await until(lambda: any(m.get("notice") == "agent_gone" for m in shopper.received),
                               AGENT_GONE + 10), shopper.received
            queue = await (await agent.get("/console/api/queue")).json()
            assert "u1011" in [c["id"] for c in queue["waiting"]], "back in the queue"

            # No agent online now: the queue notice offers to stop waiting.
            await shopper.say("我还要等多久")
            await shopper.say("转人工")  # already waiting: the bot stays quiet
            with Session(faulty.engine) as s:
                buttons = [m.payload.get("buttons") for m in s.execute(
                    select(ChatMessage).where(ChatMessage.conversation_id == "u1011")
                    .order_by(ChatMessage.id)).scalars() if m.payload.get("notice") == "queued"]
            leave = buttons[0][0]["payload"]
            await shopper.say(leave)
            assert [m.get("notice") for m in shopper.received] == ["left_queue"]
            await shopper.say("我的订单到哪了")
            assert any(m["role"] == "bot" for m in shopper.received), "the bot answers again"
    finally:
        await console.disconnect()
        await agent.close()
