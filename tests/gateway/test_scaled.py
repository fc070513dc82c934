"""The scale-out shape on this machine's PostgreSQL and Redis: two gateway
processes fanned out through Redis, two Rasa servers sharing the SQL tracker
store and the Redis lock store, one action server, records on PostgreSQL.

A shopper on gateway A and an agent on gateway B chat both ways; one
conversation's messages, sent from two tabs on two gateways at once, are
answered one after another in the order they were stored, nothing twice; a
Rasa server killed in the middle of a form costs nothing: the other one
continues the form from the tracker store.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import socketio
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from bot.db import make_engine
from bot.gateway.rasa import servers_for
from bot.models import ChatMessage
from bot.run import answers
from bot.seed import seed
from bot.stack import Urls, running_stack
from tests.conftest import MODEL
from tests.gateway.conftest import Shopper, agent_session

PG_SERVER = os.environ.get("TEST_POSTGRES_SERVER", "postgresql+psycopg2://postgres@127.0.0.1:5432")
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class Scaled:
    urls: Urls
    engine: Engine
    workdir: Path


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scaled]:
    """A database of its own on the local PostgreSQL, keys of its own in the local Redis."""
    assert MODEL.exists(), "no trained model: run `make train` (make test does it first)"
    name = f"shop_scaled_{uuid.uuid4().hex[:10]}"
    # No pool: a test here restarts PostgreSQL, which would leave pooled connections dead.
    admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT", future=True, poolclass=NullPool)
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    url = f"{PG_SERVER}/{name}"
    engine = make_engine(url)
    workdir = tmp_path_factory.mktemp("scaled")
    try:
        seed(engine)
        env = {"REDIS_PREFIX": f"shop-assist-test-{name}", "OUTREACH_SECONDS": "0"}
        with running_stack(workdir, url, redis_url=REDIS, rasa_count=2, gateway_count=2, extra_env=env,
                           timeout=300) as urls:
            yield Scaled(urls, engine, workdir)
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


async def test_shopper_on_one_gateway_and_agent_on_another_chat_both_ways(scaled: Scaled) -> None:
    gateway_a, gateway_b = scaled.urls.gateways
    agent = await agent_session(gateway_b, "xiaomei")
    console = socketio.AsyncClient()
    events: list[tuple[str, dict]] = []
    console.on("message", lambda data: events.append(("message", data)), namespace="/console")
    console.on("queue_changed", lambda data: events.append(("queue_changed", data)), namespace="/console")
    try:
        token = (await (await agent.get("/console/api/me")).json())["token"]
        await console.connect(gateway_b, namespaces=["/console"], auth={"token": token}, transports=["websocket"])
        async with Shopper(gateway_a, "u1012") as shopper:
            await shopper.say("我要转人工", settle=1)
            # The agent is online on B: gateway A counts it and gives a place in the queue, not a ticket.
            assert any("队列" in t for t in shopper.texts()), shopper.texts()
            assert ("queue_changed", {}) in events, "A's queue change reached the console on B"
            assert any(e == "message" and d["conversation_id"] == "u1012" for e, d in events)

            assert (await agent.post("/console/api/conversations/u1012/claim", json={})).status == 200
            await asyncio.sleep(0.5)
            assert any("已接入" in t for t in shopper.texts()), "B's notice reached the shopper on A"
            shopper.received.clear()
            reply = await agent.post("/console/api/conversations/u1012/messages", json={"text": "亲，我来帮您看看"})
            assert reply.status == 200
            await asyncio.sleep(0.5)
            assert [(m["role"], m["text"]) for m in shopper.received] == [("agent", "亲，我来帮您看看")]

            events.clear()
            await shopper.say("好的，订单是昨天下的", settle=0.5)
            assert shopper.received == [], "a person owns the conversation: the bot stays quiet"
            said = [d["message"]["text"] for e, d in events if e == "message"]
            assert said == ["好的，订单是昨天下的"], "the shopper's message on A reached the agent on B once"
            assert (await agent.post("/console/api/conversations/u1012/resolve", json={})).status == 200
    finally:
        await console.disconnect()
        await agent.close()


async def test_one_conversation_from_two_gateways_is_answered_in_order_once(scaled: Scaled) -> None:
    gateway_a, gateway_b = scaled.urls.gateways
    texts = ["你好", "我的订单到哪了", "羽绒服有黑色吗", "where is my order?", "谢谢"]
    async with Shopper(gateway_a, "u1002") as tab_a, Shopper(gateway_b, "u1002") as tab_b:
        # Both tabs at once, alternating gateways; the third one is resent (a reconnecting widget).
        ids = [f"order-{i}" for i in range(len(texts))]
        acks = await asyncio.gather(*(
            (tab_a if i % 2 == 0 else tab_b).say(t, client_id=ids[i], settle=0) for i, t in enumerate(texts)))
        again = await tab_b.say(texts[2], client_id=ids[2], settle=0.5)
    assert all(a["ok"] for a in acks), acks
    assert again.get("duplicate") is True
    with Session(scaled.engine) as s:
        rows = s.execute(select(ChatMessage.role, ChatMessage.text, ChatMessage.awaiting_reply)
                         .where(ChatMessage.conversation_id == "u1002").order_by(ChatMessage.id)).all()
        tracked = s.execute(text(
            "SELECT data FROM events WHERE sender_id = 'u1002' AND type_name = 'user' ORDER BY id")).scalars().all()
    shopper_rows = [r for r in rows if r.role == "shopper"]
    assert sorted(r.text for r in shopper_rows) == sorted(texts), "each message stored once"
    assert not any(r.awaiting_reply for r in rows), "every one answered"
    # Each shopper message is followed by the bot's answer before the next shopper message is taken.
    roles = [r.role for r in rows]
    for i, role in enumerate(roles):
        if role == "shopper":
            assert i + 1 < len(roles) and roles[i + 1] == "bot", roles
    # Rasa's trackers (the SQL tracker store) saw them in the order the gateways stored them.
    assert [json.loads(d)["text"] for d in tracked] == [r.text for r in shopper_rows]


async def test_a_rasa_server_killed_mid_form_costs_nothing(scaled: Scaled) -> None:
    rasas = scaled.urls.rasas
    own = servers_for("u1002", rasas)[0]
    name = "rasa" if own == rasas[0] else "rasa2"
    async with Shopper(scaled.urls.gateways[0], "u1002") as shopper:
        await shopper.say("我要开发票")
        assert any("抬头" in t for t in shopper.texts()), shopper.texts()
        scaled.urls.kill(name)
        assert not answers(own + "/")
        # The other Rasa takes the conversation; the form goes on from the tracker store.
        ack = await shopper.say("杭州小店科技有限公司")
        assert ack["ok"] and any("税号" in t for t in shopper.texts()), shopper.texts()
    scaled.urls.restart(name)


def postgres(action: str) -> None:
    """Stop, start or restart this machine's PostgreSQL (the cluster every test here uses)."""
    clusters = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True)
    if clusters.returncode != 0 or not clusters.stdout.split():
        pytest.skip("no pg_ctlcluster here to restart PostgreSQL with")
    version, cluster = clusters.stdout.split()[:2]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, action], check=True,
                   capture_output=True)


async def test_postgres_restarted_loses_nothing(scaled: Scaled) -> None:
    gateway = scaled.urls.gateways[1]
    async with Shopper(gateway, "u1007") as shopper:
        await shopper.say("你好")
        postgres("restart")
        # Stale pooled connections are noticed (pool_pre_ping) and replaced: nothing to see.
        ack = await shopper.say("我的订单到哪了")
        assert ack["ok"] and any(m["role"] == "bot" for m in shopper.received), shopper.received

        postgres("stop")
        try:
            down = await shopper.say("还有一个问题", client_id="while-down", settle=0)
            # Not stored, and the shopper told; the widget keeps it and sends it again.
            assert down == {"ok": False, "error": "retry", "seconds": 5}, down
            assert shopper.received[-1]["error"] == "retry"
        finally:
            postgres("start")
        await asyncio.sleep(2)
        again = await shopper.say("还有一个问题", client_id="while-down")
        assert again["ok"] and "duplicate" not in again
        # Rasa's own pool may have lost its connections too: then the gateway's sweep answers it.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(m["role"] == "bot" for m in shopper.received):
            await asyncio.sleep(1)
        assert any(m["role"] == "bot" for m in shopper.received), shopper.received
    with Session(scaled.engine) as s:
        said = s.execute(select(ChatMessage.text).where(ChatMessage.conversation_id == "u1007",
                                                        ChatMessage.role == "shopper")
                         .order_by(ChatMessage.id)).scalars().all()
    assert said == ["你好", "我的订单到哪了", "还有一个问题"], "everything stored, once"
