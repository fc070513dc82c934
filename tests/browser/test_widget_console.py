"""Real browser: Debian's Chromium driven by Playwright, a shopper page and agent pages."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import OrderNote, Photo
from tests.conftest import ROOT, Stack

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
    context.add_init_script(f"localStorage.setItem('shopper', '{shopper}'); localStorage.setItem('lang', '{lang}');")
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
    expect(shopper.locator(".msg.system").last).to_contain_text(re.compile("留言|队列"))

    # Reload mid-conversation: the same history, nothing lost or doubled.
    before = shopper.locator(".msg").count()
    shopper.reload()
    expect(shopper.locator(".msg")).to_have_count(before)
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
    say(shopper, "我想退货")
    expect(shopper.locator(".msg.bot").last).to_contain_text("AS")
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


def test_markup_is_shown_as_text_and_language_switch(browser: Browser, stack: Stack) -> None:
    _, shopper = shopper_page(browser, stack, "u1015", lang="en")
    expect(shopper.locator("#send")).to_have_text("Send")
    say(shopper, "<b>hello</b><img src=x onerror=alert(1)>")
    expect(shopper.locator(".msg.shopper .bubble").last).to_have_text("<b>hello</b><img src=x onerror=alert(1)>")
    assert shopper.locator(".msg b, .msg img").count() == 0
    expect(shopper.locator(".msg.bot").first).to_be_visible()  # and the bot still answers
    shopper.click("#lang-toggle")
    expect(shopper.locator("#send")).to_have_text("发送")
