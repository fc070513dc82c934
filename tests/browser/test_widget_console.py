"""Real browser: Debian's Chromium driven by Playwright, a shopper page and agent pages."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import crossval, review
from bot.models import AfterSalesCase, ChatMessage, Conversation, Order, OrderNote, Photo
from tests.conftest import ROOT, Stack, free_port, token_for
from tests.own_shopper import OwnOrder, add_shopper

CHROMIUM = "/usr/bin/chromium"
# Chromium's own background traffic is refused on this network; keep it quiet.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / "docs" if os.environ.get("DOCS_SCREENSHOTS") else None
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make browser` installs it"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def shopper_page(browser: Browser, stack: Stack, shopper: str, lang: str = "zh") -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 760}, locale="zh-CN")
    context.add_init_script(f"localStorage.setItem('shopper', '{shopper}'); "
                            f"localStorage.setItem('shop-assist:lang', '{lang}');")
    page = context.new_page()
    page.goto(stack.gateway + "/")
    page.click("#chat-bubble")
    expect(page.locator("#chat")).to_be_visible()
    return context, page


def say(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def agent_page(browser: Browser, stack: Stack, username: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 760}).new_page()
    page.goto(stack.gateway + "/console")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "shop-assist-demo")
    page.click("button[type=submit]")
    expect(page.locator("#me")).not_to_be_empty()
    return page


def test_shopper_agent_round_trip(browser: Browser, stack: Stack) -> None:
    _, shopper = shopper_page(browser, stack, "u1004")
    say(shopper, "我的订单到哪了")
    expect(shopper.locator(".msg.bot", has_text="小时没有物流更新")).to_have_count(1)
    expect(shopper.locator(".msg.bot .card").last).to_contain_text("运输中")

    say(shopper, "你们这样拖着不发，我要投诉")
    expect(shopper.locator(".msg.bot").last).to_contain_text("客服主管")
    # The queue notice is the last thing the handoff sends: wait for it, and
    # for every shopper message to be acknowledged, before counting.
    expect(shopper.locator('.msg.system[data-notice="queued"]')).to_have_count(1)
    expect(shopper.locator(".msg.system").last).to_contain_text(re.compile("留言|队列"))
    expect(shopper.locator(".msg.pending")).to_have_count(0)

    # Reload mid-conversation: the same history, nothing lost or doubled.
    before = [m.strip() for m in shopper.locator(".msg").all_inner_texts()]
    shopper.reload()
    expect(shopper.locator('.msg.system[data-notice="queued"]')).to_have_count(1)
    expect(shopper.locator(".msg")).to_have_count(len(before))
    assert [m.strip() for m in shopper.locator(".msg").all_inner_texts()] == before
    expect(shopper.locator(".msg.shopper").first).to_have_text("我的订单到哪了")

    xiaomei = agent_page(browser, stack, "xiaomei")
    dawei = agent_page(browser, stack, "dawei")
    for agent in (xiaomei, dawei):
        agent.locator("#waiting li", has_text="u1004").click()
        expect(agent.locator("#claim")).to_be_visible()
        expect(agent.locator("#transcript")).to_contain_text("我要投诉")
        expect(agent.locator("#facts")).to_contain_text("complain")
        expect(agent.locator("#orders")).to_contain_text("shipped")
    xiaomei.click("#claim")
    expect(xiaomei.locator("#reply")).to_be_visible()
    dawei.click("#claim")  # a second agent cannot take it
    expect(dawei.locator("#flash")).to_contain_text("already claimed")
    expect(shopper.locator(".msg.system").last).to_contain_text("客服小美已接入")

    xiaomei.select_option("#phrases", index=1)
    expect(xiaomei.locator("#reply")).to_have_value(re.compile("您好"))
    xiaomei.fill("#reply", "亲，我是小美，马上帮您联系快递")
    xiaomei.press("#reply", "Enter")
    expect(shopper.locator(".msg.agent").last).to_contain_text("马上帮您联系快递")
    expect(shopper.locator(".msg.agent .who").last).to_have_text("小美")

    bot_replies = shopper.locator(".msg.bot").count()
    say(shopper, "好的，麻烦快一点")
    expect(xiaomei.locator("#transcript")).to_contain_text("麻烦快一点")
    shopper.wait_for_timeout(1500)
    expect(shopper.locator(".msg.bot")).to_have_count(bot_replies)  # the bot stays silent

    xiaomei.fill("#note-text", "已联系快递核实")
    xiaomei.click("#note-form button")
    expect(xiaomei.locator("#flash")).to_contain_text("note added")
    if SHOTS:
        shopper.screenshot(path=str(SHOTS / "widget.png"))
        xiaomei.screenshot(path=str(SHOTS / "console.png"))

    xiaomei.click("#resolve")
    expect(shopper.locator(".msg.bot").last).to_contain_text("您已回到智能客服小助手")
    say(shopper, "羽绒服是什么材质的")
    expect(shopper.locator(".msg.bot").last).to_contain_text("白鸭绒")

    with Session(stack.engine) as s:
        notes = s.execute(select(OrderNote.text).where(OrderNote.kind == "agent_note")).scalars().all()
    assert any(n.startswith("已联系快递核实 — 小美 — ") for n in notes)


def test_photo_upload_lands_on_the_case(browser: Browser, stack: Stack, tmp_path: Path) -> None:
    _, shopper = shopper_page(browser, stack, "u1009")
    # A damaged parcel: case_form asks what the kind needs (which item, signed for?), confirms, then opens
    # the case.
    bots = shopper.locator(".msg.bot")
    seen = bots.count()
    say(shopper, "快递压坏了")
    for _ in range(4):
        # The answer to what was just said, not the question before it still on screen.
        shopper.wait_for_function("n => document.querySelectorAll('.msg.bot').length > n", arg=seen)
        last = bots.last
        expect(last).to_contain_text(re.compile(r"哪一件|签收|确认提交|AS\d"))
        text = last.inner_text()
        seen = bots.count()
        if re.search(r"AS\d", text):
            break
        if "签收" in text:
            say(shopper, "是的")
        else:
            last.locator(".replies button").first.click()
    expect(shopper.locator(".msg.bot", has_text="上传快递面单")).to_have_count(1)
    case_no = re.search(r"AS\d{12}", shopper.locator(".msg.bot", has_text="上传快递面单").last.inner_text())
    assert case_no
    with Session(stack.engine) as s:
        assert s.execute(select(AfterSalesCase.status).where(AfterSalesCase.case_no == case_no.group())
                         ).scalar_one() == "awaiting_photos"
    photo = tmp_path / "label.png"
    photo.write_bytes(PNG)
    # Other tests share this stack and may have sent u1009 photos already.
    before = shopper.locator(".msg img").count()
    shopper.set_input_files("#photo-input", str(photo))
    expect(shopper.locator(".msg img")).to_have_count(before + 1)
    expect(shopper.locator(".msg.system").last).to_contain_text("已附到售后单")
    not_image = tmp_path / "notes.png"
    not_image.write_text("just text pretending to be a picture")
    shopper.set_input_files("#photo-input", str(not_image))
    expect(shopper.locator(".msg.system").last).to_contain_text("images only")
    with Session(stack.engine) as s:
        photos = s.execute(select(Photo).where(Photo.conversation_id == "u1009")).scalars().all()
    assert any(p.case_id is not None for p in photos)
    # Label and item: two photos in, the case waits no longer.
    shopper.set_input_files("#photo-input", str(photo))
    expect(shopper.locator(".msg img")).to_have_count(before + 2)
    with Session(stack.engine) as s:
        status = s.execute(select(AfterSalesCase.status).where(AfterSalesCase.case_no == case_no.group())
                           ).scalar_one()
    assert status == "open"

    # The agent who takes the conversation sees the case with both photos, and records progress on it.
    say(shopper, "转人工")
    expect(shopper.locator('.msg.system[data-notice="queued"]').last).to_be_visible()
    agent = agent_page(browser, stack, "xiaomei")
    agent.locator("#waiting li", has_text="u1009").click()
    case = agent.locator(f'#orders .case[data-case="{case_no.group()}"]')
    expect(case).to_contain_text("damaged")
    expect(case.locator("img.case-photo")).to_have_count(2)
    expect(case.locator("img.case-photo").first).to_have_js_property("naturalWidth", 1)  # it loads
    agent.click("#claim")
    expect(agent.locator("#reply")).to_be_visible()  # claimed: the conversation is shown again as hers
    expect(agent.locator("#flash")).to_contain_text("claimed")
    case.locator("input[name=progress]").fill("已向快递登记理赔")
    case.locator("button").click()
    expect(agent.locator("#flash")).to_contain_text("case updated")
    expect(agent.locator(f'#orders .case[data-case="{case_no.group()}"]')).to_contain_text("已向快递登记理赔（小美）")
    # ... and the register of courier claims lists it, photos included.
    agent.select_option("#register-name", "lost_parcels")
    agent.click("#register-show")
    row = agent.locator("#register-table tr", has_text=case_no.group())
    expect(row.locator("img.case-photo")).to_have_count(2)


def test_markup_is_shown_as_text_and_language_switch(browser: Browser, stack: Stack) -> None:
    _, shopper = shopper_page(browser, stack, "u1015", lang="en")
    expect(shopper.locator("#send")).to_have_text("Send")
    say(shopper, "<b>hello</b><img src=x onerror=alert(1)>")
    expect(shopper.locator(".msg.shopper .bubble").last).to_have_text("<b>hello</b><img src=x onerror=alert(1)>")
    assert shopper.locator(".msg b, .msg img").count() == 0
    expect(shopper.locator(".msg.bot").first).to_be_visible()  # and the bot still answers
    shopper.click("#lang-toggle")
    expect(shopper.locator("#send")).to_have_text("发送")


@contextlib.contextmanager
def shop_site(port: int, html: str, scripts: dict[str, bytes] | None = None) -> Iterator[str]:
    """A page of "the shop's own site", on another origin than the gateway (and `scripts` it serves)."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the handler's API
            script = (scripts or {}).get(self.path)
            body = script if script is not None else html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript" if script is not None else "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.shutdown()
        server.server_close()


def embed(stack: Stack, token: str) -> str:
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>Another shop page</title></head>'
            f'<body><h1>My storefront</h1><script src="{stack.gateway}/static/widget.js" data-token="{token}">'
            f"</script></body></html>")


def test_widget_embedded_on_the_shops_own_site(browser: Browser, stack: Stack) -> None:
    with shop_site(stack.shop_port, embed(stack, token_for("u1021"))) as url:
        page = browser.new_context(locale="zh-CN").new_page()
        page.goto(url)
        page.click("#chat-bubble")
        say(page, "羽绒服是什么材质的")
        expect(page.locator(".msg.bot").last).to_contain_text("白鸭绒")
        say(page, "我的订单到哪了")  # the token says who this is: u1021's own orders
        expect(page.locator(".msg.bot").last).not_to_contain_text("登录")
        page.context.close()
    with Session(stack.engine) as s:
        assert s.get(Conversation, "u1021") is not None

    with shop_site(free_port(), embed(stack, token_for("u1022"))) as url:  # an origin not listed
        page = browser.new_context(locale="zh-CN").new_page()
        page.goto(url)
        page.click("#chat-bubble")
        expect(page.locator("#status")).to_be_visible()
        say(page, "羽绒服是什么材质的")
        page.wait_for_timeout(2000)
        expect(page.locator(".msg.bot")).to_have_count(0)
        page.context.close()
    with Session(stack.engine) as s:
        assert s.get(Conversation, "u1022") is None


RASA_WEBCHAT = ROOT / "var" / "vendor" / "rasa-webchat-1.0.1" / "lib" / "index.js"


def test_rasa_webchat_from_npm_shows_text_buttons_and_an_image(browser: Browser, stack: Stack) -> None:
    """Rasa's own widget, unchanged, on the shop's site: the shop passes its token in customData."""
    assert RASA_WEBCHAT.exists(), "rasa-webchat is missing: `make browser` fetches it from the npm registry"
    number = "319324000001"
    add_shopper(stack.engine, "u9324", [OwnOrder(number, "delivered", "P001-black-M", timedelta(days=4),
                                                 timedelta(days=2))])
    html = ('<!doctype html><html><head><meta charset="utf-8"><title>Shop with rasa-webchat</title></head><body>'
            '<h1>My storefront</h1><div id="webchat"></div><script src="/rasa-webchat.js"></script><script>'
            f'WebChat.default({{socketUrl: "{stack.gateway}", embedded: true, title: "Shop",'
            f' customData: {{language: "zh", token: "{token_for("u9324")}"}}}}, document.getElementById("webchat"));'
            '</script></body></html>')
    with shop_site(stack.shop_port, html, {"/rasa-webchat.js": RASA_WEBCHAT.read_bytes()}) as url:
        page = browser.new_context(locale="zh-CN").new_page()
        page.goto(url)
        box = page.locator(".rw-new-message")
        expect(box).to_be_enabled(timeout=15000)
        box.fill(f"订单{number}收到的羽绒服发错了，我买的黑色，寄来的是白色")
        box.press("Enter")
        # Text: the shopper's own order, read through the token; buttons: the confirmation.
        expect(page.locator(".rw-response").filter(has_text=number).first).to_be_visible(timeout=30000)
        reply = page.locator(".rw-reply").first
        expect(reply).to_be_visible(timeout=30000)
        reply.click()
        # The case opens; the example of the photos to take is an image from the gateway's origin.
        expect(page.locator(".rw-response").filter(has_text="AS").last).to_be_visible(timeout=30000)
        image = page.locator(".rw-image-frame").last
        expect(image).to_be_visible(timeout=30000)
        assert image.get_attribute("src").startswith(stack.gateway + "/static/examples/")
        assert page.evaluate("(img) => img.naturalWidth", image.element_handle()) > 0  # it loaded
        if SHOTS:
            page.screenshot(path=str(SHOTS / "rasa-webchat.png"))
        page.context.close()
    with Session(stack.engine) as s:
        kinds = s.execute(select(AfterSalesCase.kind).join(AfterSalesCase.order)
                          .where(Order.order_no == number)).scalars().all()
    assert kinds == ["wrong_item"], kinds


def test_guest_can_ask_about_products_not_orders(browser: Browser, stack: Stack) -> None:
    _, page = shopper_page(browser, stack, "guest")
    say(page, "羽绒服是什么材质的")
    expect(page.locator(".msg.bot").last).to_contain_text("白鸭绒")
    say(page, "我的订单到哪了")
    expect(page.locator(".msg.bot").last).to_contain_text("登录")
    page.reload()  # the same visitor conversation after a reload
    expect(page.locator(".msg.shopper")).to_have_count(2)


def test_supervisor_disables_an_agent_whose_console_closes(browser: Browser, stack: Stack) -> None:
    dawei = agent_page(browser, stack, "dawei")
    expect(dawei.locator("#agents-panel")).to_be_hidden()  # not a supervisor
    lin = agent_page(browser, stack, "lin")
    try:
        lin.locator('#agents button[data-agent="dawei"]').click()
        expect(lin.locator("#flash")).to_contain_text("updated")
        # Within seconds the disabled agent's open console is back at the login page.
        expect(dawei.locator("input[name=password]")).to_be_visible(timeout=10000)
        assert dawei.request.get(stack.gateway + "/console/api/queue").status == 401
    finally:
        lin.locator('#agents button[data-agent="dawei"]').click()  # enable again for the other tests
        expect(lin.locator('#agents button[data-agent="dawei"]')).to_have_text(re.compile("Disable"))


def test_a_message_typed_before_the_chat_connects_is_sent_once(browser: Browser, stack: Stack) -> None:
    context = browser.new_context(locale="zh-CN")
    context.add_init_script("localStorage.setItem('shopper', 'u1024');")
    page = context.new_page()
    # Hold the socket.io client back: the shopper types before the widget can connect.
    held: list = []
    page.route("**/static/vendor/socket.io.min.js", lambda route: held.append(route))
    page.goto(stack.gateway + "/", wait_until="domcontentloaded")  # "load" would wait for the held script
    page.click("#chat-bubble")
    say(page, "羽绒服是什么材质的")
    expect(page.locator(".msg.shopper.pending")).to_have_count(1)
    page.wait_for_timeout(500)
    held[0].continue_()
    page.unroute("**/static/vendor/socket.io.min.js")
    expect(page.locator(".msg.bot").last).to_contain_text("白鸭绒")
    expect(page.locator(".msg.pending")).to_have_count(0)
    expect(page.locator(".msg.shopper")).to_have_count(1)
    shown = [m.strip() for m in page.locator(".msg").all_inner_texts()]
    page.reload()
    expect(page.locator(".msg.bot").last).to_contain_text("白鸭绒")
    assert [m.strip() for m in page.locator(".msg").all_inner_texts()] == shown
    with Session(stack.engine) as s:
        stored = s.execute(select(ChatMessage.text).where(ChatMessage.conversation_id == "u1024",
                                                          ChatMessage.role == "shopper")).scalars().all()
    assert stored.count("羽绒服是什么材质的") == 1
    context.close()


# A shop sentence the shipped model reads wrongly (checked below against its verdict), and its right intent.
MISREAD, RIGHT = "袖口那颗扣子能不能多寄一颗备用的", "ask_gift_or_free_shipping"


def test_an_agent_labels_a_misread_message_and_a_retrain_understands_it(browser: Browser, stack: Stack,
                                                                         tmp_path: Path) -> None:
    add_shopper(stack.engine, "u9301", [])  # its own: this test leaves the conversation queued
    _, shopper = shopper_page(browser, stack, "u9301")
    say(shopper, MISREAD)
    expect(shopper.locator(".msg.bot")).not_to_have_count(0)
    say(shopper, "转人工")
    expect(shopper.locator('.msg.system[data-notice="queued"]')).to_have_count(1)
    with Session(stack.engine) as s:
        message = s.scalars(select(ChatMessage).where(ChatMessage.conversation_id == "u9301",
                                                      ChatMessage.text == MISREAD)).one()
        assert message.payload["nlu"]["intent"] != RIGHT, "pick a sentence the shipped model misreads"

    agent = agent_page(browser, stack, "xiaomei")
    agent.locator("#waiting li", has_text="u9301").click()
    line = agent.locator("#transcript li", has_text=MISREAD)
    line.locator("button.flag").click()
    expect(agent.locator("#flash")).to_contain_text("Sent for labelling")
    agent.click("#learn-show")
    row = agent.locator("#learn-table tr", has_text=MISREAD)
    expect(row).to_contain_text("flagged")
    row.locator("select").select_option(RIGHT)
    row.locator("button").click()
    expect(agent.locator("#flash")).to_contain_text("Labelled: " + RIGHT)
    expect(agent.locator("#learn-table tr", has_text=MISREAD)).to_have_count(0)

    # `make train` takes the labels into the reviewed file, then trains on it.
    data = tmp_path / "nlu"
    shutil.copytree(ROOT / "data" / "nlu", data)
    with Session(stack.engine) as s:
        assert review.export(s, data / "reviewed" / "labelled.yml") >= 1
    taught = [r for r in review.read(data / "reviewed" / "labelled.yml") if r["text"] == MISREAD]
    assert taught and taught[0]["intent"] == RIGHT and taught[0]["labelled_by"] == "小美"
    model = crossval.train_fold(ROOT / "config.yml", data, tmp_path, "relabelled")
    # Playwright's own event loop runs in this thread: the model is asked from another.
    with ThreadPoolExecutor(1) as other:
        ((intent, _, _),) = other.submit(asyncio.run, crossval.parse_all(model, [MISREAD])).result()
    assert intent == RIGHT
