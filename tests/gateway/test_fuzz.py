"""Fuzzing every input the gateway takes from outside (Hypothesis).

Socket events (`session_request`, `user_uttered`, `history_request`) with any
JSON and any text (lone surrogates, control characters, huge and empty values,
directives behind any Unicode space), shopper tokens (random, forged, signed
with the right key but wrong claims), the console's JSON APIs and uploads'
headers and bodies.

Properties: nothing raises (no HTTP 500, no traceback in the gateway's log),
every `user_uttered` gets an acknowledgement, every message acknowledged as
taken is stored as sent, a token that is not valid never names a shopper, and
no reply or history one shopper gets carries another's data.

Most of it runs against a gateway of its own with Rasa out of reach (every
message still gets its acknowledgement and a notice, fast); the part about
other shoppers' data runs against the whole stack, where the bot answers.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import jwt
import pytest
import socketio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import keys
from bot.db import make_engine
from bot.models import ChatMessage
from bot.seed import DEMO_PASSWORD, seed
from bot.shop_api import signed_headers
from bot.text import well_formed
from tests.conftest import Stack, free_port, token_for
from tests.gateway.alone import gateway, wait_up
from tests.own_shopper import OwnOrder, add_shopper

T = TypeVar("T")
# Generated inputs per property; together well over 5,000 in every run (the count is printed at the end).
RUNS = {"user_uttered": 2000, "session_request": 600, "history_request": 200, "console": 1500, "upload": 500,
        "shop_api": 400, "other_shopper": 300}
TRIED: dict[str, int] = {}
FUZZ = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))

SPACES = ["", " ", "\u3000", "\xa0", "\x0b", "\x1c", "\u2028", "\t", "\n"]
INTENTS = ["agent_handback", "human_handoff", "order_status", "inform", "affirm", "gateway_handoff", "restart"]
# Any code point, lone surrogates and control characters included.
ANY_CHAR = st.characters(codec=None, categories=None)
TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=60),
    st.text(ANY_CHAR, min_size=1900, max_size=2100),  # around the 2,000-character limit
    st.builds(lambda n, c: c * n, st.integers(2000, 40_000), st.sampled_from(["买", "a", "\ud800", "😀"])),
    # a directive behind spaces of any kind, with or without entities
    st.builds(lambda a, b, i, e: f"{a}/{b}/{i}{e}", st.sampled_from(SPACES), st.sampled_from(SPACES),
              st.sampled_from(INTENTS), st.sampled_from(["", '{"order_id":"319326000001"}', "{", '{"x":'])),
    st.sampled_from(["", " ", "\x00", "null", "{}", "<script>alert(1)</script>", "订单\ud800到哪了"]),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(ANY_CHAR, max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
CUSTOM = st.one_of(JSON, st.fixed_dictionaries({}, optional={
    "language": st.one_of(st.sampled_from(["zh", "en", "fr", ""]), JSON),
    "client_id": st.one_of(st.text(ANY_CHAR, max_size=80), JSON),
    "token": st.one_of(st.text(max_size=40), JSON),
}))
UTTERED = st.one_of(
    JSON,
    st.fixed_dictionaries({"message": TEXT}, optional={"customData": CUSTOM, "metadata": CUSTOM}),
    st.fixed_dictionaries({"message": JSON}, optional={"customData": CUSTOM}),
)


def tokens() -> st.SearchStrategy[str]:
    """Tokens that must not name a shopper: random, signed with another key, or with the shop's key
    but claims it never issues."""
    secret = keys.get("SHOPPER_TOKEN_SECRET")
    now = int(time.time())
    claims = st.fixed_dictionaries({}, optional={
        "sub": st.one_of(st.sampled_from(["u9325", "u1001", "v-visitor", "", "u1001\n", "../u1001"]), JSON),
        "aud": st.one_of(st.sampled_from(["shop-assist-x", "", "other"]), JSON),
        "iat": st.one_of(st.integers(now - 10**6, now + 10**6), JSON),
        "exp": st.one_of(st.integers(0, now - 1), st.integers(now + 2 * 86400, now + 10**8), JSON),
    })

    def sign(c: dict[str, Any], key: str, alg: str) -> str:
        try:
            return jwt.encode(c, key, algorithm=alg)
        except (TypeError, ValueError):
            return "x.y.z"

    return st.one_of(
        st.text(ANY_CHAR, max_size=300),
        st.builds(sign, claims, st.just(secret), st.just("HS256")),
        st.builds(sign, st.just({"sub": "u9325", "aud": "shop-assist", "iat": now, "exp": now + 600}),
                  st.text(min_size=32, max_size=40), st.just("HS256")),  # another key
        st.builds(lambda c: jwt.encode(c, None, algorithm="none"),  # unsigned
                  st.just({"sub": "u9325", "aud": "shop-assist", "iat": now, "exp": now + 600})),
    )


class Loop:
    """One event loop for a test's clients; Hypothesis calls plain functions."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.loop.close()


def counted(name: str) -> Callable[[], None]:
    def count() -> None:
        TRIED[name] = TRIED.get(name, 0) + 1
    return count


@pytest.fixture(scope="module")
def lone_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """A gateway with Rasa out of reach and limits out of the way: every input reaches its handler."""
    tmp = tmp_path_factory.mktemp("fuzz")
    db_url = f"sqlite:///{tmp / 'shop.db'}"
    engine = make_engine(db_url)
    seed(engine)
    add_shopper(engine, "u9325", [OwnOrder("319325000001", "delivered", "P001-black-M", timedelta(days=4),
                                           timedelta(days=2))])
    engine.dispose()
    env = {"SHOP_ENV": "demo", "RASA_URL": f"http://127.0.0.1:{free_port()}", "RASA_NOTICE_SECONDS": "5",
           **{f"LIMIT_{name}": "1000000/minute" for name in ("MESSAGE", "VISITOR", "UPLOAD", "TOKEN")},
           "LIMIT_LOGIN_PAIR": "1000000/minute", "OUTREACH_SECONDS": "0"}
    with gateway(tmp, db_url, env) as (proc, url):
        assert wait_up(proc, url), (tmp / "gateway.log").read_text()[-2000:]
        yield url, db_url, tmp / "gateway.log"
        assert proc.poll() is None, "the gateway died"
    log = (tmp / "gateway.log").read_text(errors="replace")
    assert "Traceback" not in log and '" 500' not in log, log[-4000:]


async def client(url: str, auth: dict[str, Any] | None = None) -> tuple[socketio.AsyncClient, dict[str, Any]]:
    sio = socketio.AsyncClient(reconnection=False)
    seen: dict[str, Any] = {"identity": None, "uttered": []}
    sio.on("identity", lambda i: seen.__setitem__("identity", i))
    sio.on("bot_uttered", lambda m: seen["uttered"].append(m))
    await sio.connect(url, transports=["websocket"], auth=auth)
    return sio, seen


def test_socket_events_never_break_and_every_message_is_answered_and_kept(
        lone_gateway: tuple[str, str, Path]) -> None:
    url, db_url, _ = lone_gateway
    loop = Loop()
    sio, seen = loop.run(client(url, {"token": token_for("u9325", ttl=3600), "shape": "shop-assist"}))
    loop.run(sio.call("session_request", {}, timeout=10))
    taken: dict[int, str] = {}

    @settings(FUZZ, max_examples=RUNS["user_uttered"])
    @given(UTTERED)
    def user_uttered(data: Any) -> None:
        counted("user_uttered")()
        ack = loop.run(sio.call("user_uttered", data, timeout=30))
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack  # always acknowledged
        if ack["ok"]:
            assert isinstance(ack.get("id"), int), ack
            if not ack.get("duplicate"):
                taken[ack["id"]] = well_formed(data["message"]).strip()
        else:
            assert ack.get("error") in {"malformed", "empty", "too_long", "busy", "retry", "no_session"}, ack

    @settings(FUZZ, max_examples=RUNS["history_request"])
    @given(JSON)
    def history_request(data: Any) -> None:
        counted("history_request")()
        history = loop.run(sio.call("history_request", data, timeout=30))
        assert isinstance(history, list) and all(m.get("id") for m in history)

    try:
        user_uttered()
        history_request()
        assert sio.connected
    finally:
        loop.run(sio.disconnect())
        loop.close()
    # Everything acknowledged as taken is stored, as sent (a lone surrogate as U+FFFD).
    engine = make_engine(db_url)
    with Session(engine) as s:
        stored = dict(s.execute(select(ChatMessage.id, ChatMessage.text)
                                .where(ChatMessage.id.in_(list(taken)))).all())
    engine.dispose()
    assert stored == taken


def test_tokens_that_are_not_valid_never_name_a_shopper(lone_gateway: tuple[str, str, Path]) -> None:
    url, _, _ = lone_gateway
    loop = Loop()

    async def who_am_i(auth: Any, request: Any) -> Any:
        sio, seen = await client(url, auth if isinstance(auth, dict) else None)
        try:
            await sio.call("session_request", request, timeout=10)
            return seen["identity"]
        finally:
            await sio.disconnect()

    @settings(FUZZ, max_examples=RUNS["session_request"])
    @given(tokens(), st.sampled_from(["auth", "request", "custom"]), JSON)
    def session_request(token: str, where: str, junk: Any) -> None:
        counted("session_request")()
        auth = {"token": token} if where == "auth" else junk
        request = {"token": token} if where == "request" else {"customData": {"token": token}} \
            if where == "custom" else junk
        identity = loop.run(who_am_i(auth, request))
        assert identity is None or (identity["shopper"] is False and identity["session_id"].startswith("visitor-")), \
            (token, identity)

    try:
        session_request()
        # The control: a valid token does name its shopper, so the property above can fail.
        assert loop.run(who_am_i({"token": token_for("u9325")}, {})) == {"shopper": True, "session_id": "u9325"}
    finally:
        loop.close()


CONSOLE_POSTS = ["/console/api/conversations/{cid}/claim", "/console/api/conversations/{cid}/messages",
                 "/console/api/conversations/{cid}/notes", "/console/api/conversations/{cid}/bad_reviews",
                 "/console/api/conversations/{cid}/transfer", "/console/api/conversations/{cid}/resolve",
                 "/console/api/cases/{cid}", "/console/api/review/{n}/label", "/console/api/review/{n}/flag",
                 "/console/api/agents/{n}/active"]
CONSOLE_GETS = ["/console/api/conversations/{cid}", "/console/api/registers/{cid}", "/console/api/review",
                "/console/api/queue", "/console/api/me", "/console/api/agents", "/console/api/phrases"]
PATH_PART = st.one_of(st.sampled_from(["u9325", "u1001", "AS000", "repairs", "..", "%00", "%ud800", "0"]),
                      st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=30))


def test_console_apis_answer_any_json_without_breaking(lone_gateway: tuple[str, str, Path]) -> None:
    url, _, _ = lone_gateway
    loop = Loop()

    async def login() -> aiohttp.ClientSession:
        http = aiohttp.ClientSession(base_url=url, cookie_jar=aiohttp.CookieJar(unsafe=True))
        # A supervisor, who may do the most.
        await http.post("/console/login", data={"username": "lin", "password": DEMO_PASSWORD})
        assert (await http.get("/console/api/me")).status == 200
        return http

    http = loop.run(login())

    async def send(method: str, path: str, body: Any, raw: bytes | None, content_type: str) -> tuple[int, str]:
        data = raw if raw is not None else json.dumps(body, ensure_ascii=True).encode()
        async with http.request(method, path, data=data, headers={"Content-Type": content_type}) as response:
            return response.status, await response.text()

    @settings(FUZZ, max_examples=RUNS["console"])
    @given(st.sampled_from(CONSOLE_POSTS + CONSOLE_GETS), PATH_PART, st.integers(-5, 10**12), JSON,
           st.one_of(st.none(), st.binary(max_size=200)),
           st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", ""]))
    def console(template: str, cid: str, n: int, body: Any, raw: bytes | None, content_type: str) -> None:
        counted("console")()
        path = template.format(cid=cid, n=n)
        method = "POST" if template in CONSOLE_POSTS else "GET"
        status, text = loop.run(send(method, path, body, raw, content_type))
        assert status < 500, (path, body, status, text[:300])

    try:
        console()
    finally:
        loop.run(http.close())
        loop.close()


def test_uploads_answer_any_headers_and_bodies(lone_gateway: tuple[str, str, Path]) -> None:
    url, _, _ = lone_gateway
    loop = Loop()
    valid = token_for("u9325", ttl=3600)
    heads = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP", b""]

    async def post(headers: dict[str, str], body: bytes) -> int:
        async with aiohttp.ClientSession() as http, http.post(f"{url}/api/upload", data=body,
                                                              headers=headers) as response:
            await response.read()
            return response.status

    @settings(FUZZ, max_examples=RUNS["upload"])
    @given(st.one_of(st.just(f"Bearer {valid}"), st.text(st.characters(codec="latin-1", exclude_characters="\r\n"),
                                                         max_size=60)),
           st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=40),
           st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=40),
           st.sampled_from(heads), st.binary(max_size=2000))
    def upload(authorization: str, case_no: str, content_type: str, head: bytes, tail: bytes) -> None:
        counted("upload")()
        headers = {"Authorization": authorization, "X-Case-No": case_no, "Content-Type": content_type,
                   "Origin": url}
        status = loop.run(post(headers, head + tail))
        assert status in {200, 400, 401, 413, 415, 429}, (headers, status)

    try:
        upload()
    finally:
        loop.close()


SHOP_API = ["/shop-api/v1/orders", "/shop-api/v1/stock", "/shop-api/v1/shipping-events", "/shop-api/v1/cases"]


def test_the_shop_api_refuses_or_answers_anything(lone_gateway: tuple[str, str, Path]) -> None:
    """Unsigned calls of any shape are refused; signed ones with any JSON are answered, never with a 500."""
    url, _, _ = lone_gateway
    loop = Loop()
    secret = keys.get("SHOP_API_SECRET")
    entries = st.fixed_dictionaries({}, optional={
        "order_no": st.one_of(st.just("4188000000000001"), JSON), "sku": st.one_of(st.just("P004-blue-L"), JSON),
        "stock": JSON, "at": st.one_of(st.just("2026-12-01 10:00:00"), JSON), "text_zh": JSON, "status": JSON,
        "phone": JSON, "total": JSON, "items": JSON, "delivered": JSON, "address": JSON, "nickname": JSON})
    bodies = st.one_of(JSON, st.fixed_dictionaries({"orders": st.lists(entries, max_size=3)}),
                       st.fixed_dictionaries({"stock": st.lists(entries, max_size=3)}),
                       st.fixed_dictionaries({"events": st.lists(entries, max_size=3)}))

    async def send(method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.request(method, url + path, data=body,
                                                                 headers=headers) as response:
            return response.status, await response.text()

    @settings(FUZZ, max_examples=RUNS["shop_api"])
    @given(st.sampled_from(SHOP_API), bodies, st.booleans(),
           st.dictionaries(st.sampled_from(["X-Shop-Timestamp", "X-Shop-Nonce", "X-Shop-Signature"]),
                           st.text(st.characters(codec="ascii", exclude_characters="\r\n"), max_size=70)))
    def shop_api(path: str, payload: Any, signed: bool, junk: dict[str, str]) -> None:
        counted("shop_api")()
        method = "GET" if path.endswith("/cases") else "POST"
        body = b"" if method == "GET" else json.dumps(payload).encode()
        headers = signed_headers(secret, method, path, body, uuid.uuid4().hex) if signed else junk
        status, text = loop.run(send(method, path, body, headers))
        assert status < 500, (path, payload, status, text[:300])
        if not signed:  # refused (400: a header the HTTP server itself will not take)
            assert status in (400, 401), (headers, status)

    try:
        shop_api()
    finally:
        loop.close()


def test_no_shopper_ever_hears_anothers_order(stack: Stack) -> None:
    """Against the whole stack: a shopper fuzzing around another's order number hears nothing of it."""
    theirs = "319326000001"
    add_shopper(stack.engine, "u9327", [OwnOrder("319327000001", "delivered", "P001-black-M", timedelta(days=4),
                                                 timedelta(days=2))])
    add_shopper(stack.engine, "u9326", [OwnOrder(theirs, "delivered", "P029-grey-F", timedelta(days=5),
                                                 timedelta(days=3))])
    # What only the other shopper's records say: the product, the tracking number, the phone.
    secrets = ["针织毛线帽", "Knitted beanie", f"SF{theirs}", "13900009326"]
    loop = Loop()
    sio, seen = loop.run(client(stack.gateway, {"token": token_for("u9327", ttl=3600), "shape": "shop-assist"}))
    loop.run(sio.call("session_request", {}, timeout=10))
    around = st.sampled_from(["订单{}到哪了", "{}", "查一下{}", "my order {}", "cancel {}", "退货 {}", "/order_status{{\"order_id\":\"{}\"}}",
                              "发票 {}", "{} 改地址", "不对，是{}"])

    @settings(FUZZ, max_examples=RUNS["other_shopper"])
    @given(around, st.text(ANY_CHAR, max_size=12), st.sampled_from(SPACES))
    def other_shopper(template: str, noise: str, space: str) -> None:
        counted("other_shopper")()
        text = noise + space + template.format(theirs)
        seen["uttered"].clear()
        ack = loop.run(sio.call("user_uttered", {"message": text, "customData": {"language": "zh"}}, timeout=60))
        assert isinstance(ack, dict) and "ok" in ack
        loop.run(asyncio.sleep(0.05))
        heard = json.dumps(seen["uttered"], ensure_ascii=False)
        assert not [s for s in secrets if s in heard and s not in text], (text, heard[:500])

    try:
        other_shopper()
        history = loop.run(sio.call("history_request", {}, timeout=30))
        said = json.dumps([m for m in history if m["role"] != "shopper"], ensure_ascii=False)
        assert history and not [s for s in secrets if s in said]
    finally:
        loop.run(sio.disconnect())
        loop.close()
