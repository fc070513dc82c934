"""Every word the bot and the gateway say outside the domain's responses, in both languages.

Button titles, card labels, list separators, case kinds and statuses, the
gateway's notices and the agents' quick phrases: one entry each, Chinese and
English with the same placeholders (tests/test_domain.py checks), the shop's
numbers filled from bot.policy. Actions and the gateway hold no sentences of
their own (tests/test_one_home_for_words.py checks).
"""

from __future__ import annotations

from bot import policy

WORDS: dict[str, tuple[str, str]] = {
    # --- buttons -------------------------------------------------------------------------------
    "button.yes": ("是的", "Yes"),
    "button.no": ("不用了", "No"),
    "button.person": ("转人工", "Talk to a person"),
    "button.never_mind": ("算了", "Never mind"),
    "button.compensation": ("申请补偿", "Ask for compensation"),
    "button.repair": ("质量问题，申请维修", "A quality problem: repair it"),
    "button.change": ("修改", "Change"),
    "button.details_ok": ("信息无误", "All correct"),
    "button.details_change": ("修改地址/快递", "Change address or courier"),
    "button.check_stock": ("查看库存", "Check stock"),
    # --- what a shopper may have meant: buttons after a low-confidence message ------------------
    "intent.ask_product": ("咨询商品", "A question about a product"),
    "intent.ask_stock": ("查库存", "Is it in stock"),
    "intent.order_status": ("查订单/物流", "Where is my order"),
    "intent.urge_shipment": ("催发货", "Hurry my shipment"),
    "intent.change_order": ("修改订单", "Change my order"),
    "intent.cancel_order": ("取消订单", "Cancel my order"),
    "intent.invoice_request": ("开发票", "An invoice"),
    "intent.return_request": ("退货退款", "Return it"),
    "intent.exchange_request": ("换货", "Exchange it"),
    "intent.refund_status": ("退款/售后进度", "My refund or after-sales progress"),
    "intent.repair_request": ("维修", "A repair"),
    "intent.wrong_or_missing_item": ("发错/漏发", "Wrong or missing item"),
    "intent.damaged_item": ("运输破损", "Damaged in delivery"),
    "intent.quality_issue": ("质量问题", "A quality problem"),
    "intent.compensation_request": ("申请补偿", "Compensation"),
    "intent.complain": ("投诉", "Make a complaint"),
    "intent.bargain": ("议价/优惠", "A better price"),
    "intent.ask_gift_or_free_shipping": ("赠品/包邮", "Gifts or free shipping"),
    # --- labels --------------------------------------------------------------------------------
    "list.sep": ("、", ", "),
    "list.semicolon": ("；", "; "),
    "label.none": ("无", "none"),
    "label.one_size": ("均码", "one size"),
    "label.whole_order": ("整单", "the whole order"),
    "label.total": ("合计 ¥{total}", "Total ¥{total}"),
    "label.personal_invoice": ("无（个人）", "none (personal)"),
    "label.personal_title": ("个人", "personal"),
    "label.no_reason": ("未说明原因", "no reason given"),
    "label.variant": ("{color}/{size}", "{color}/{size}"),
    "change.address": ("收货地址 → {value}", "address → {value}"),
    "change.phone": ("收件电话 → {value}", "phone → {value}"),
    "change.courier": ("快递 → {value}", "courier → {value}"),
    "case.line": ("{case_no} · {kind} · {what}：{status}。{next}", "{case_no} · {kind} · {what}: {status}. Next: {next}"),
    "case.progress": ("{next}（{progress}）", "{next} ({progress})"),
    "case.shipped_back": ("{next}，寄回单号 {tracking_no}", "{next}; tracking number {tracking_no}"),
    "refund.cancelled": ("{order_id} · 已取消 {date}：¥{total} 原路退回",
                         "{order_id} · cancelled {date}: ¥{total} back to your payment method"),
    # --- order statuses ----------------------------------------------------------------------------
    "order.unpaid": ("待付款", "awaiting payment"),
    "order.paid": ("待发货", "paid, not shipped"),
    "order.shipped": ("运输中", "on its way"),
    "order.delivered": ("已签收", "delivered"),
    "order.completed": ("已完成", "completed"),
    "order.cancelled": ("已取消", "cancelled"),
    # --- after-sales kinds, statuses and what comes next ------------------------------------------------
    "kind.return": ("退货", "return"),
    "kind.exchange": ("换货", "exchange"),
    "kind.repair": ("维修", "repair"),
    "kind.refund_only": ("仅退款", "refund"),
    "kind.wrong_item": ("错发", "wrong item"),
    "kind.missing_item": ("少发", "missing item"),
    "kind.damaged": ("运输破损", "damaged parcel"),
    "kind.quality": ("质量问题", "quality problem"),
    "kind.compensation": ("补偿", "compensation"),
    "status.open": ("处理中", "being handled"),
    "status.awaiting_photos": ("等待照片", "waiting for photos"),
    "status.awaiting_return": ("等待寄回", "waiting for the parcel"),
    "status.received": ("已收到退回商品", "item received"),
    "status.refunded": ("已退款", "refunded"),
    "status.repairing": ("维修中", "being repaired"),
    "status.closed": ("已完成", "closed"),
    "status.rejected": ("未通过", "declined"),
    "next.open": ("客服会在 {resolve_hours} 小时内处理完毕", "we'll resolve it within {resolve_hours} hours"),
    "next.awaiting_photos": ("请在聊天窗口点「图片」上传照片", "please upload the photos with the photo button in this chat"),
    "next.awaiting_return": ("请按售后地址寄回，我们收到后马上处理",
                             "please send it to our after-sales address; we'll handle it as soon as it arrives"),
    "next.received": ("正在检查，确认后马上办理", "we're checking it and will act right away"),
    "next.refunded": ("款项原路退回，{refund_days} 个工作日到账", "the money reaches you within {refund_days} working days"),
    "next.repairing": ("修好后寄回并告知快递单号", "we'll ship it back and send you the tracking number"),
    "next.closed": ("如还有问题随时找我", "tell me if anything else comes up"),
    "next.rejected": ("如有疑问可以转人工", "ask for a person if you disagree"),
    # --- the gateway's notices ------------------------------------------------------------------------------
    "notice.queued": ("您已进入人工客服队列，前面还有 {ahead} 位，请稍候～",
                      "You're in the queue for a human agent: {ahead} ahead of you. Please hold on."),
    "notice.ticket": (
        "亲，现在没有客服在线，已为您留言登记，客服上班后（每天 {agent_hours}）会第一时间回复您。",
        "No agent is on duty right now, so we've left a message for you; an agent will reply as soon as the "
        "shift starts ({agent_hours} China time).",
    ),
    "notice.joined": ("客服{agent}已接入，为您服务～", "Agent {agent} has joined the chat."),
    "notice.transferred": ("已为您转接客服{agent}，请稍候～", "You've been transferred to {agent}."),
    "notice.too_long": ("亲，消息太长啦（最多 {max} 字），请分几条发送哦～",
                        "That message is too long (max {max} characters); please split it up."),
    "notice.unavailable": ("抱歉亲，小助手暂时出了点问题，没能回复您。您的消息已保存，恢复后会第一时间回复；着急的话可以点「转人工」。",
                           "Sorry, I couldn't answer just now. Your message is saved and I'll reply as soon as I'm "
                           "back; if it's urgent, tap \"Talk to a person\"."),
    "notice.agent_gone": ("亲，客服{agent}暂时离开了，已为您重新排队，下一位客服会马上接待您～",
                          "{agent} had to step away; you're back in the queue for the next agent."),
    "notice.back_to_bot": ("亲，客服暂时都不在线，先由小助手继续为您服务；需要时再说「转人工」就好～",
                           "No agent is free right now, so I'm back to help you. Say \"talk to a person\" whenever "
                           "you want one."),
    "notice.left_queue": ("好的，已为您取消排队，小助手继续为您服务～", "OK, you've left the queue. I'm here to help again."),
    "notice.leave_button": ("不等了，回到小助手", "Stop waiting"),
    "notice.retry": ("抱歉亲，系统有点忙，您的消息会在 {seconds} 秒后自动重发～",
                     "Sorry, we're a little busy; your message will go again in {seconds} s."),
    "notice.slow": ("亲，正在为您查询，请稍等片刻～", "Still working on it, one moment please…"),
    "notice.person_button": ("转人工", "Talk to a person"),
    "notice.busy": ("亲，消息发得太快啦，请 {seconds} 秒后再发哦～",
                    "You're sending messages very fast; please wait {seconds} s and try again."),
    "notice.say_more": ("亲，请直接说说您想咨询的问题哦～", "Please tell me in words what you'd like help with."),
    "notice.login_needed": ("亲，请先登录店铺账号，再发送订单或售后照片哦～",
                            "Please log in to your shop account before sending photos for an order or case."),
    "notice.photo_received": ("照片已收到{case}，客服会尽快查看～", "Photo received{case}; an agent will look at it shortly."),
    "notice.photo_case": ("，已附到售后单 {case_no}", " and attached to case {case_no}"),
    "notice.shipped_back": ("亲，您的售后单 {case_no} 已处理好寄回给您啦，快递单号 {tracking_no}，请注意查收～",
                            "Your case {case_no} is on its way back to you: tracking number {tracking_no}."),
    # --- agents' quick phrases (快捷短语), in the console's order ------------------------------------------------
    "phrase.1": ("亲，您好，我是客服，很高兴为您服务～", "Hello, I'm your agent; happy to help."),
    "phrase.2": ("亲，麻烦提供一下订单号，我马上为您查询。", "Could you give me your order number? I'll check right away."),
    "phrase.3": ("非常抱歉给您带来不便，我们一定尽快处理。",
                 "I'm very sorry for the trouble; we'll sort it out as quickly as possible."),
    "phrase.4": ("亲，麻烦拍一下快递面单和商品的照片，我帮您登记。",
                 "Could you send a photo of the parcel label and the item? I'll register it."),
    "phrase.5": ("已为您登记，退款会在 {refund_days} 个工作日内原路退回。",
                 "Registered: the refund reaches you within {refund_days} working days."),
    "phrase.6": ("亲，还有其他可以帮您的吗？", "Is there anything else I can help with?"),
    "phrase.7": ("感谢您的耐心，祝您生活愉快～", "Thank you for your patience, have a lovely day!"),
}


# Intents a button can stand for on its own (the two-stage fallback offers these).
SUGGESTABLE = frozenset(key.removeprefix("intent.") for key in WORDS if key.startswith("intent."))


def word(key: str, lang: str, **values: object) -> str:
    """The entry in the shopper's language, its placeholders filled (the shop's numbers from bot.policy)."""
    zh, en = WORDS[key]
    return (en if lang == "en" else zh).format(**{**policy.figures(), **values})


def both(key: str, **values: object) -> dict[str, str]:
    return {lang: word(key, lang, **values) for lang in ("zh", "en")}


def phrases() -> list[dict[str, str]]:
    """The agents' quick phrases, both languages each."""
    return [both(key) for key in sorted(k for k in WORDS if k.startswith("phrase."))]
