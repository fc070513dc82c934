"""Quick phrases (快捷短语) agents insert in both languages."""

from bot import policy

PHRASES = [
    {"zh": "亲，您好，我是客服，很高兴为您服务～", "en": "Hello, I'm your agent; happy to help."},
    {"zh": "亲，麻烦提供一下订单号，我马上为您查询。", "en": "Could you give me your order number? I'll check right away."},
    {"zh": "非常抱歉给您带来不便，我们一定尽快处理。", "en": "I'm very sorry for the trouble; we'll sort it out as quickly as possible."},
    {"zh": "亲，麻烦拍一下快递面单和商品的照片，我帮您登记。", "en": "Could you send a photo of the parcel label and the item? I'll register it."},
    {"zh": "已为您登记，退款会在 {refund_days} 个工作日内原路退回。",
     "en": "Registered: the refund reaches you within {refund_days} working days."},
    {"zh": "亲，还有其他可以帮您的吗？", "en": "Is there anything else I can help with?"},
    {"zh": "感谢您的耐心，祝您生活愉快～", "en": "Thank you for your patience, have a lovely day!"},
]


def phrases() -> list[dict[str, str]]:
    """The phrases with the shop's numbers filled in from bot.policy."""
    values = policy.figures()
    return [{lang: text.format(**values) for lang, text in p.items()} for p in PHRASES]
