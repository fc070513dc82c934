"""The gateway's own notices to shoppers, in both languages."""

from __future__ import annotations

from bot import policy

NOTICES = {
    "queued": ("您已进入人工客服队列，前面还有 {ahead} 位，请稍候～", "You're in the queue for a human agent: {ahead} ahead of you. Please hold on."),
    "ticket": (
        "亲，现在没有客服在线，已为您留言登记，客服上班后（每天 {agent_hours}）会第一时间回复您。",
        "No agent is on duty right now, so we've left a message for you; an agent will reply as soon as the shift starts ({agent_hours} China time).",
    ),
    "joined": ("客服{agent}已接入，为您服务～", "Agent {agent} has joined the chat."),
    "transferred": ("已为您转接客服{agent}，请稍候～", "You've been transferred to {agent}."),
    "too_long": ("亲，消息太长啦（最多 {max} 字），请分几条发送哦～", "That message is too long (max {max} characters); please split it up."),
    "unavailable": ("抱歉亲，小助手暂时无法回复，请稍后再试或说「转人工」。", "Sorry, the assistant can't reply right now. Please try again shortly, or ask for a human agent."),
    "busy": ("亲，消息发得太快啦，请 {seconds} 秒后再发哦～", "You're sending messages very fast; please wait {seconds} s and try again."),
    "say_more": ("亲，请直接说说您想咨询的问题哦～", "Please tell me in words what you'd like help with."),
    "login_needed": ("亲，请先登录店铺账号，再发送订单或售后照片哦～", "Please log in to your shop account before sending photos for an order or case."),
    "photo_received": ("照片已收到{case}，客服会尽快查看～", "Photo received{case}; an agent will look at it shortly."),
    "photo_case": ("，已附到售后单 {case_no}", " and attached to case {case_no}"),
}


def notice(key: str, lang: str, **values: object) -> str:
    """The notice in that language; the shop's numbers come from bot.policy, never typed here."""
    zh, en = NOTICES[key]
    return (en if lang == "en" else zh).format(**{**policy.figures(), **values})
