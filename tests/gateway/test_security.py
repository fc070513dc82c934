"""Attacks on the running product, each with the rule that stops it.

Identity comes only from a token the shop's site signs; Rasa and the action
server answer only this machine and only the holder of the internal token;
typed text cannot steer Rasa; limits hold; agent sessions can be ended.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import aiohttp
import jwt
import pytest
import socketio
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import identity, keys, shop
from bot.models import AfterSalesCase, Agent, ChatMessage, Conversation
from bot.security import hash_password
from tests.conftest import Stack, token_for
from tests.gateway.conftest import Shopper, agent_session
from tests.own_shopper import OwnOrder, add_shopper

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def listening(port: int) -> set[str]:
    """The local addresses a TCP port listens on, read from the kernel's tables."""
    found: set[str] = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            if width == 8:
                found.add(".".join(str(b) for b in reversed(raw)))
            else:  # four little-endian 32-bit words
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                found.add("::1" if words == bytes(15) + b"\x01" else words.hex())
    return found


def port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_services_listen_on_this_machine_only(stack: Stack) -> None:
    for url in (stack.rasa, stack.actions, stack.gateway):
        addresses = listening(port(url))
        assert addresses, f"nothing listens on {url}"
        assert addresses <= {"127.0.0.1", "::1"}, f"{url} listens on {addresses}"


async def test_rasa_answers_only_the_gateway(stack: Stack) -> None:
    internal = keys.get("INTERNAL_TOKEN")
    async with aiohttp.ClientSession(base_url=stack.rasa) as http:
        # The HTTP API is off: no trackers, no event injection, no model swap.
        for method, path in [("GET", "/conversations/u1001/tracker"), ("GET", f"/conversations/u1001/tracker?token={internal}"),
                             ("POST", "/conversations/u1001/tracker/events"), ("PUT", "/model"), ("GET", "/status")]:
            response = await http.request(method, path, json={})
            assert response.status in (404, 405), (path, response.status)
            assert '"sender_id"' not in await response.text()
        # Rasa's own open channels are gone.
        assert (await http.post("/webhooks/rest/webhook", json={"sender": "u1001", "message": "hi"})).status == 404
        assert (await http.get("/socket.io/?EIO=4&transport=polling")).status == 404
        # The gateway's channel needs the token.
        body = {"sender": "u1005", "message": "我的订单到哪了"}
        for headers in ({}, {"Authorization": "Bearer forged"}, {"Authorization": internal}):
            response = await http.post("/webhooks/gateway/webhook", json=body, headers=headers)
            assert response.status == 401
        ok = await http.post("/webhooks/gateway/webhook", json={"sender": "u1020", "message": "你好"},
                             headers={"Authorization": f"Bearer {internal}"})
        assert ok.status == 200 and (await ok.json())
        # The outreach trigger: the token, and only the bot's own EXTERNAL_ intents.
        trigger = {"sender": "u1020", "intent": "EXTERNAL_unpaid_reminder", "entities": {"order_id": "1"}}
        for headers in ({}, {"Authorization": "Bearer forged"}):
            assert (await http.post("/webhooks/gateway/trigger", json=trigger, headers=headers)).status == 401
        bearer = {"Authorization": f"Bearer {internal}"}
        for bad in ({**trigger, "intent": "human_handoff"}, {**trigger, "intent": "EXTERNAL_nothing"},
                    {**trigger, "sender": ""}, {**trigger, "entities": ["x"]}):
            response = await http.post("/webhooks/gateway/trigger", json=bad, headers=bearer)
            assert response.status in (400, 404), bad
        quiet = await http.post("/webhooks/gateway/trigger", json=trigger, headers=bearer)
        assert quiet.status == 200 and await quiet.json() == [], "not u1020's order: nothing said"


async def test_action_server_acts_only_for_rasa(stack: Stack) -> None:
    with Session(stack.engine) as s:
        before = s.scalar(select(func.count()).select_from(AfterSalesCase))
        order = shop.orders_with_status(s, "u1001", ["delivered"])[0]
    call = {
        "next_action": "action_request_return", "sender_id": "u1001", "version": "3.6.2", "domain": {},
        "tracker": {"sender_id": "u1001", "slots": {"language": "zh"}, "latest_message": {
            "text": f"退货 {order.order_no}", "intent": {"name": "return_request"}, "entities": []},
            "events": [], "paused": False, "followup_action": None, "active_loop": {},
            "latest_action_name": "action_listen"},
    }
    async with aiohttp.ClientSession(base_url=stack.actions) as http:
        for headers in ({}, {"Authorization": "Bearer forged"}):
            assert (await http.post("/webhook", json=call, headers=headers)).status == 401
            assert (await http.get("/actions", headers=headers)).status == 401
        assert (await http.get("/health")).status == 200
    with Session(stack.engine) as s:
        assert s.scalar(select(func.count()).select_from(AfterSalesCase)) == before


async def test_naming_a_shopper_id_makes_you_a_visitor(stack: Stack) -> None:
    async with Shopper(stack.gateway, "u1005") as owner:  # the real u1005 has talked before
        await owner.say("我的包裹到哪了")
        with Session(stack.engine) as s:
            number = shop.orders_with_status(s, "u1005", ["shipped"])[0].order_no
        assert number in " ".join(owner.texts())
    async with Shopper(stack.gateway, session_id="u1005") as stranger:
        assert stranger.session_id and stranger.session_id.startswith(identity.VISITOR_PREFIX)
        assert stranger.session_id != "u1005"
        assert await stranger.sio.call("history_request", {}) == []
        await stranger.say("我的订单到哪了")
        assert "登录" in stranger.texts()[0] and number not in " ".join(stranger.texts())
        await stranger.say(f"订单 {number} 到哪了")
        assert "登录" in stranger.texts()[0] and number not in " ".join(stranger.texts()[1:])
        await stranger.say("羽绒服是什么材质的")  # product questions work for visitors
        assert "白鸭绒" in " ".join(stranger.texts())


def _forgeries() -> dict[str, str]:
    real = keys.get("SHOPPER_TOKEN_SECRET")
    now = int(time.time())
    good = token_for("u1010")
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    tampered = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "u1005"}).encode()).rstrip(b"=").decode()
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return {
        "forged": identity.issue("u1005", "another secret entirely, not the shop's one"),
        "expired": identity.issue("u1005", real, ttl=60, now=now - 3600),
        "tampered": f"{header}.{tampered}.{signature}",
        "alg none": f"{none_header}.{tampered}.",
        "other audience": jwt.encode({"sub": "u1005", "aud": "another-app", "iat": now, "exp": now + 60}, real,
                                     algorithm="HS256"),
        "too long-lived": identity.issue("u1005", real, ttl=30 * 24 * 3600),
        "no expiry": jwt.encode({"sub": "u1005", "aud": identity.AUDIENCE, "iat": now}, real, algorithm="HS256"),
        "visitor id as subject": jwt.encode({"sub": "visitor-abc", "aud": identity.AUDIENCE, "iat": now,
                                             "exp": now + 60}, real, algorithm="HS256"),
        "garbage": "x" * 5000,
    }


@pytest.mark.parametrize("kind", list(_forgeries()))
async def test_bad_tokens_make_a_visitor(stack: Stack, kind: str) -> None:
    async with Shopper(stack.gateway, token=_forgeries()[kind], session_id="u1005") as client:
        assert client.session_id and client.session_id.startswith(identity.VISITOR_PREFIX), kind
        assert await client.sio.call("history_request", {}) == []


async def test_a_token_reads_only_its_own_shopper(stack: Stack) -> None:
    async with Shopper(stack.gateway, "u1005") as owner:
        await owner.say("你好")
    with Session(stack.engine) as s:
        foreign_case = shop.orders_with_status(s, "u1001", ["completed"])[0].cases[0].case_no
    async with Shopper(stack.gateway, "u1010", session_id="u1005") as shopper:
        assert shopper.session_id == "u1010"
        history = await shopper.sio.call("history_request", {})
        with Session(stack.engine) as s:
            theirs = set(s.execute(select(ChatMessage.id).where(ChatMessage.conversation_id == "u1005")).scalars())
        assert theirs and not theirs & {m["id"] for m in history}
        async with aiohttp.ClientSession(base_url=stack.gateway) as http:
            response = await http.post("/api/upload", data=PNG, headers={
                "Authorization": f"Bearer {token_for('u1010')}", "X-Case-No": foreign_case})
            body = await response.json()
            assert response.status == 200 and body["case_no"] is None  # someone else's case links nothing
            url = body["url"]
            path, _, query = url.partition("?")
            assert (await http.get(url)).status == 200  # its shopper's signed link
            assert (await http.get(path)).status == 404  # no signature, no photo
            other = await http.post("/api/upload", data=PNG, headers={"Authorization": f"Bearer {token_for('u1011')}"})
            other_path = (await other.json())["url"].partition("?")[0]
            assert (await http.get(f"{other_path}?{query}")).status == 404  # one photo's link opens no other
            anonymous = await http.post("/api/upload", data=PNG)
            assert anonymous.status == 401
    agent = await agent_session(stack.gateway, "lin")
    try:
        assert (await agent.get(path)).status == 200  # a logged-in agent sees evidence photos
    finally:
        await agent.close()


async def test_a_visitor_resumes_only_with_the_id_the_gateway_signed(stack: Stack) -> None:
    async with Shopper(stack.gateway) as visitor:
        await visitor.say("你好")
        signed = visitor.session_id
        assert signed and signed.startswith(identity.VISITOR_PREFIX)
    async with Shopper(stack.gateway, session_id=signed) as again:
        assert again.session_id == signed
        assert [m["text"] for m in await again.sio.call("history_request", {})][0] == "你好"
    tampered = signed[:-3] + ("AAA" if not signed.endswith("AAA") else "BBB")
    async with Shopper(stack.gateway, session_id=tampered) as other:
        assert other.session_id != signed and await other.sio.call("history_request", {}) == []


async def test_typed_commands_cannot_steer_rasa(stack: Stack) -> None:
    async with Shopper(stack.gateway, "u1017") as shopper:
        await shopper.say("/")
        assert [m["role"] for m in shopper.received] == ["system"]
        # Only the gateway sends /agent_handback (when an agent hands back); typed, it is just text.
        await shopper.say("/agent_handback")
        assert shopper.received and "回到智能客服" not in " ".join(shopper.texts())
    async with Shopper(stack.gateway, "u1023") as shopper:
        await shopper.say(" //agent_handback")
        assert shopper.received and "回到智能客服" not in " ".join(shopper.texts())
    # Rasa strips every Unicode space before it reads a directive: none of them opens a way in. (A shopper
    # each: two unreadable messages hand a conversation to a person, and then Rasa is not asked at all.)
    for n, space in enumerate(("\u3000", "\xa0", "\x0b", "\x1c")):
        add_shopper(stack.engine, f"u931{8 + n}", [])
        async with Shopper(stack.gateway, f"u931{8 + n}") as shopper:
            await shopper.say(f"/{space}/agent_handback", settle=1.0)
            assert shopper.received and "回到智能客服" not in " ".join(shopper.texts()), (repr(space), shopper.texts())
    # A shopper of this test's own: the form it leaves open must not meet another test's sample shopper.
    two_items = "319322000001"
    add_shopper(stack.engine, "u9322", [OwnOrder(two_items, "delivered", "P001-black-M", timedelta(days=4),
                                                 timedelta(days=2), more_skus=("P029-grey-F",))])
    async with Shopper(stack.gateway, "u9322") as shopper:
        await shopper.say(f"订单{two_items}我要退货")  # which of its two items? as buttons
        offered = [b["payload"] for m in shopper.received for b in m.get("quick_replies", [])]
        assert offered
        await shopper.say(offered[0])  # a button the bot offered here does speak to Rasa
        assert any(("原因" in t or "售后单号" in t or "AS" in t) for t in shopper.texts()), shopper.texts()


async def test_message_rate_limit_keeps_the_message_and_locks_are_released(stack: Stack) -> None:
    async with Shopper(stack.gateway, "u1016") as shopper:
        await shopper.say("你们服务太差了，我要投诉")  # a person owns it now: messages are only stored
        acks = await asyncio.gather(*(shopper.sio.call("user_uttered", {"message": f"还在吗 {i}", "customData": {
            "client_id": f"flood-{i}"}}, timeout=30) for i in range(40)))
        refused = [a for a in acks if not a["ok"]]
        assert refused and all(a["error"] == "busy" and a["seconds"] >= 1 for a in refused)
        assert 20 <= sum(a["ok"] for a in acks) <= 29
        with Session(stack.engine) as s:
            stored = s.execute(select(ChatMessage.text).where(ChatMessage.conversation_id == "u1016",
                                                              ChatMessage.role == "shopper")).scalars().all()
        assert len([t for t in stored if t.startswith("还在吗")]) == sum(a["ok"] for a in acks)
    # Locks for conversations with nothing in flight are gone, however many were made up.
    visitors = [Shopper(stack.gateway, session_id=f"made-up-{i}") for i in range(5)]
    for v in visitors:
        async with v:
            await v.say("hello", lang="en")
    async with aiohttp.ClientSession() as http:
        health = await (await http.get(f"{stack.gateway}/healthz")).json()
    assert health == {"ok": True, "open_locks": 0}


async def test_upload_size_is_enforced_while_the_body_streams(stack: Stack) -> None:
    async def body():  # type: ignore[no-untyped-def]
        yield PNG
        for _ in range(6):
            yield b"\x00" * (1024 * 1024)

    async with aiohttp.ClientSession(base_url=stack.gateway) as http:
        # Chunked: no Content-Length to trust, the gateway counts.
        response = await http.post("/api/upload", data=body(), headers={
            "Authorization": f"Bearer {token_for('u1018')}", "Content-Type": "image/png"})
        assert response.status == 413
    with Session(stack.engine) as s:
        assert s.scalar(select(func.count()).select_from(ChatMessage).where(
            ChatMessage.conversation_id == "u1018", ChatMessage.role == "shopper")) == 0


async def _login(url: str, username: str, password: str) -> tuple[str, float]:
    async with aiohttp.ClientSession() as http:
        started = time.perf_counter()
        response = await http.post(f"{url}/console/login", data={"username": username, "password": password},
                                   allow_redirects=False)
        return response.headers["location"], time.perf_counter() - started


async def test_console_login_locks_out_and_tells_nothing(stack: Stack) -> None:
    with Session(stack.engine) as s, s.begin():
        s.add(Agent(username="lockme", display_name="锁", role="agent",
                    password_hash=hash_password("correct horse battery")))
    assert (await _login(stack.gateway, "lockme", "correct horse battery"))[0] == "/console"
    known = [await _login(stack.gateway, "lockme", f"wrong {i}") for i in range(5)]
    unknown = [await _login(stack.gateway, "nobody-here", f"wrong {i}") for i in range(5)]
    # Three tries, then a wait; a known and an unknown name are answered alike.
    assert [loc.split("&")[0] for loc, _ in known + unknown] == ["/console?error=1"] * 10
    assert ["wait=" in loc for loc, _ in known] == ["wait=" in loc for loc, _ in unknown] == [False] * 3 + [True] * 2
    # Waiting at this address now: even the right password is refused, with the same answer.
    assert "wait=" in (await _login(stack.gateway, "lockme", "correct horse battery"))[0]
    assert "wait=" in (await _login(stack.gateway, "nobody-here", "anything"))[0]
    # An unknown user's answer takes as long as a known user's (a password hash is checked either way).
    median = lambda xs: sorted(t for _, t in xs)[len(xs) // 2]  # noqa: E731
    assert median(unknown) > 0.5 * median(known), (median(unknown), median(known))


async def console_socket(url: str, http: aiohttp.ClientSession) -> tuple[socketio.AsyncClient, list[dict]]:
    token = (await (await http.get("/console/api/me")).json())["token"]
    sock, events = socketio.AsyncClient(reconnection=False), []
    sock.on("message", events.append, namespace="/console")
    await sock.connect(url, namespaces=["/console"], auth={"token": token}, transports=["websocket"])
    return sock, events


async def test_logout_and_disabling_end_sessions_and_sockets(stack: Stack) -> None:
    first = await agent_session(stack.gateway, "xiaomei")
    second = await agent_session(stack.gateway, "xiaomei")
    lin = await agent_session(stack.gateway, "lin")
    dawei = await agent_session(stack.gateway, "dawei")
    console = socketio.AsyncClient(reconnection=False)
    try:
        token = (await (await first.get("/console/api/me")).json())["token"]
        await console.connect(stack.gateway, namespaces=["/console"], auth={"token": token}, transports=["websocket"])
        assert console.connected
        await second.post("/console/logout", allow_redirects=False)
        assert (await first.get("/console/api/queue")).status == 401  # every session of that agent ended
        for _ in range(50):
            if not console.connected:
                break
            await asyncio.sleep(0.1)
        assert not console.connected, "the live socket of a logged-out agent must close"
        with pytest.raises(socketio.exceptions.ConnectionError):  # and its token no longer opens one
            await socketio.AsyncClient().connect(stack.gateway, namespaces=["/console"], auth={"token": token},
                                                 transports=["websocket"])

        # Conversations: an agent sees the queue and its own, not another agent's.
        async with Shopper(stack.gateway, "u1019") as shopper:
            await shopper.say("我要投诉你们")
            assert (await dawei.post("/console/api/conversations/u1019/claim", json={})).status == 200
            xiaomei = await agent_session(stack.gateway, "xiaomei")
            live = {name: await console_socket(stack.gateway, http) for name, http in
                    (("xiaomei", xiaomei), ("dawei", dawei), ("lin", lin))}
            await shopper.say("还有人吗", settle=1)
            heard = {name: [e["message"]["text"] for e in events if e["conversation_id"] == "u1019"]
                     for name, (_, events) in live.items()}
            for sock, _ in live.values():
                await sock.disconnect()
            # Live messages reach the agent who owns the chat and supervisors, not every agent.
            assert heard["dawei"] == ["还有人吗"] and heard["lin"] == ["还有人吗"] and heard["xiaomei"] == []
        try:
            assert (await xiaomei.get("/console/api/conversations/u1019")).status == 404
            assert (await lin.get("/console/api/conversations/u1019")).status == 200  # a supervisor sees all
            agents = {a["username"]: a["id"] for a in await (await lin.get("/console/api/agents")).json()}
            # Supervisor-only, checked on the server.
            refused = await xiaomei.post(f"/console/api/agents/{agents['dawei']}/active", json={"active": False})
            assert refused.status == 403
        finally:
            await xiaomei.close()
        assert (await lin.post(f"/console/api/agents/{agents['dawei']}/active", json={"active": False})).status == 200
        assert (await dawei.get("/console/api/queue")).status == 401
        assert (await _login(stack.gateway, "dawei", "shop-assist-demo"))[0] == "/console?error=1"
        with Session(stack.engine) as s:
            assert s.get(Conversation, "u1019").owner == "waiting"  # his chat went back to the queue
        assert (await lin.post(f"/console/api/agents/{agents['dawei']}/active", json={"active": True})).status == 200
        assert (await _login(stack.gateway, "dawei", "shop-assist-demo"))[0] == "/console"
    finally:
        if console.connected:
            await console.disconnect()
        for http in (first, second, lin, dawei):
            await http.close()


async def test_widget_origins(stack: Stack) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{stack.gateway}/socket.io/?EIO=4&transport=polling"
        allowed = f"http://127.0.0.1:{stack.shop_port}"
        ok = await http.get(url, headers={"Origin": allowed})
        assert ok.status == 200 and ok.headers.get("Access-Control-Allow-Origin") == allowed
        assert (await http.get(url, headers={"Origin": "http://evil.example"})).status == 400
        preflight = await http.options(f"{stack.gateway}/api/upload", headers={
            "Origin": allowed, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,x-case-no"})
        assert preflight.status == 200 and preflight.headers["Access-Control-Allow-Origin"] == allowed
        evil = await http.options(f"{stack.gateway}/api/upload", headers={
            "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
        assert "Access-Control-Allow-Origin" not in evil.headers


def test_demo_tokens_are_for_sample_shoppers_only(stack: Stack) -> None:
    def get(query: str) -> dict:
        with urllib.request.urlopen(f"{stack.gateway}/demo/token{query}", timeout=10) as response:
            return json.load(response)

    assert identity.verify(get("?shopper=u1003")["token"], keys.get("SHOPPER_TOKEN_SECRET")) == "u1003"
    assert get("?shopper=u9999")["token"] is None and get("?shopper=guest")["token"] is None
    assert get("?shopper=../../etc")["token"] is None


async def test_a_lone_surrogate_is_answered_and_kept(stack: Stack) -> None:
    add_shopper(stack.engine, "u9317", [])
    async with Shopper(stack.gateway, "u9317") as shopper:
        ack = await shopper.say("订单\ud800到哪了")
        assert ack["ok"], ack
    with Session(stack.engine) as s:
        stored = s.execute(select(ChatMessage.text).where(ChatMessage.conversation_id == "u9317",
                                                          ChatMessage.role == "shopper")).scalars().all()
    assert stored == ["订单\ufffd到哪了"]
