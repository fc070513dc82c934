"""Reading shopper text: language, order numbers, body weight.

Pure functions, no Rasa, so the action server, the gateway and tests share them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any, Optional

from bot.catalogue import COURIERS

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A word, not part of a code: a tax, tracking or case number ("91330100MA2B3C4D1X") is no language.
_LATIN_WORD = re.compile(r"(?<![0-9A-Za-z])[A-Za-z]{2,}(?![0-9A-Za-z])")
# Order numbers are 12 digits; anything from 6 to 20 digits is taken as an
# attempt at one, so "order 12345678" gets "not found" instead of being ignored.
_ORDER_NO = re.compile(r"(?<!\d)\d{6,20}(?!\d)")
_WEIGHT = re.compile(
    r"(\d{2,3}(?:\.\d+)?)\s*(kg|kgs|公斤|千克|斤|lb|lbs|pounds?)", re.IGNORECASE
)
MAX_TEXT = 2000


def detect_language(text: str) -> Optional[str]:
    """'zh' or 'en' for this message, None when it says nothing (emoji, digits).

    Mixed messages count Chinese characters against English words: "我的order
    到哪了" is Chinese, "where is my 羽绒服" is English.
    """
    sample = text[:MAX_TEXT]
    cjk = len(_CJK.findall(sample))
    words = len(_LATIN_WORD.findall(sample))
    if cjk == 0 and words == 0:
        return None
    return "zh" if cjk > 2 * words else "en"


@lru_cache(maxsize=1)
def _t2s() -> Any:
    # Imported here: the gateway's environment reads language without OpenCC.
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional Chinese as Simplified ("輕薄羽絨服" -> "轻薄羽绒服"); other text unchanged."""
    if not _CJK.search(text):
        return text
    return _t2s().convert(text)


_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def sentence_key(text: str) -> str:
    """What makes two sentences the same one: not case, width, script, spaces, punctuation or annotations.

    "Where is my  ORDER?!" and "where is my order", "我的訂單到哪了？" and "我的订单到哪了".
    """
    text = to_simplified(unicodedata.normalize("NFKC", _ANNOTATION.sub(r"\1", text))).casefold()
    return "".join(ch for ch in text if not (ch.isspace() or unicodedata.category(ch).startswith(("P", "S"))))


def well_formed(text: str) -> str:
    """Text that can be stored and sent on: a lone surrogate (half of an emoji a client cut in two) becomes
    U+FFFD instead of failing the database's UTF-8 encoder."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def without_directive(text: str) -> str:
    """Shopper text Rasa will read as words. Rasa strips every Unicode space (U+3000, U+00A0, \\x0b,
    \\x1c, ...) before it looks for a leading '/' intent directive, so slashes and spaces of any kind are
    taken off the start together."""
    start = 0
    while start < len(text) and (text[start] == "/" or text[start].isspace()):
        start += 1
    return text[start:]


def find_order_numbers(text: str) -> list[str]:
    # A tax number's digits are not an order number, nor is a mobile number ("电话13800001111").
    sample = _TAX_NO.sub(lambda m: " " if re.search(r"[A-Za-z]", m.group(0)) else m.group(0), text[:MAX_TEXT])
    return _ORDER_NO.findall(MOBILE.sub(" ", sample))


def find_mobile(text: str) -> Optional[str]:
    m = MOBILE.search(text[:MAX_TEXT])
    return m.group(0) if m else None


def parse_weight_kg(text: str) -> Optional[float]:
    """Body weight in kg from "60kg", "120斤", "132 lbs"; None if absent."""
    m = _WEIGHT.search(text[:MAX_TEXT])
    if not m:
        return None
    value, unit = float(m.group(1)), m.group(2).lower()
    if unit == "斤":
        return value / 2
    if unit.startswith("lb") or unit.startswith("pound"):
        return round(value * 0.4536, 1)
    return value


# A unified social credit code (统一社会信用代码, 18 characters) or an older 15–20 character tax id.
_TAX_NO = re.compile(r"(?<![0-9A-Za-z])(?=[0-9A-Za-z]*\d)[0-9A-Za-z]{15,20}(?![0-9A-Za-z])")
_QUANTITY = re.compile(r"(\d{1,3})\s*(?:件|个|条|双|套|顶|只|pcs|pieces|items|of these|of them)", re.IGNORECASE)
_CN_DIGITS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_CN_QUANTITY = re.compile(r"([一两二三四五六七八九十])\s*(?:件|个|条|双|套|顶|只)")
_EN_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_EN_QUANTITY = re.compile(r"\b(two|three|four|five|six|seven|eight|nine|ten)\b", re.IGNORECASE)
# "八折" = pay 80% (20% off); "打9折"; "20% off"; "discount of 15%".
_ZHE = re.compile(r"([1-9])(?:\.(\d))?\s*折|([一二三四五六七八九])\s*折")
_PERCENT_OFF = re.compile(r"(\d{1,2})\s*%\s*(?:off|discount)?", re.IGNORECASE)
# "Not this order, another one": the shopper corrects the order a flow is working on.
_OTHER_ORDER = re.compile(
    r"不是这个|不是这单|不是这一单|另一个订单|另外一个订单|另一单|别的订单|其他订单|换个订单|错了订单|订单错了"
    r"|not this (?:one|order)|another order|other order|different order|wrong order",
    re.IGNORECASE,
)
_URGENT = re.compile(r"急|尽快|马上|今天|加急|urgent|asap|today|as soon as|quickly|rush", re.IGNORECASE)
_REFUSED = re.compile(r"拒收|没签收|没有签收|refused|rejected the parcel|didn'?t sign|did not sign", re.IGNORECASE)
_PERSONAL = re.compile(r"个人|本人|personal|myself|my own name|individual", re.IGNORECASE)
# A Chinese mobile number: never an order number, whatever else the message holds.
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# The parcel reached the shopper ("收到的时候包装破了", "it arrived torn"). Refusals are read first.
_RECEIVED = re.compile(r"收到|签收|签了|到了|到货|拿到|received|arrived|delivered|signed|sign for|got it|got the|got my|came today",
                       re.IGNORECASE)
# Words that describe what is wrong or why: a message holding one is the shopper's own account of the
# problem, kept as the case's reason instead of asking for it again.
_PROBLEM = re.compile(
    r"坏|破|脏|裂|断|掉|开线|脱线|起球|褪色|掉色|色差|污|渍|洞|异味|味道|瑕疵|质量|不对|错|少了|漏|大了|小了|太大|太小|偏大|"
    r"偏小|紧|松|长了|短了|不合适|不合身|不喜欢|不好看|不舒服|变形|缩水|起皱|掉毛|勾丝|线头|发霉|开胶|磨脚|不保暖|"
    r"不能用|用不了|不亮|失灵|划痕|磨损|卡住|拉链|扣子|"
    r"broke|broken|break|torn|tear|ripped|rip|hole|stain|dirty|smell|faded|fading|defect|faulty|flaw|scratch|damage|"
    r"doesn'?t fit|too (?:big|small|tight|loose|long|short)|tight|loose|wrong|missing|stopped working|"
    r"fell apart|falling apart|peel|came off|come off|shrank|shrunk|don'?t like|not as described|zipper|zip|"
    r"button|seam|colou?r is|doesn'?t work|not working|uncomfortable",
    re.IGNORECASE,
)


def find_tax_number(text: str) -> Optional[str]:
    m = _TAX_NO.search(text[:MAX_TEXT])
    return m.group(0).upper() if m else None


def find_quantity(text: str) -> Optional[int]:
    """How many items the shopper talks about buying: "买5件", "五件", "six of these"."""
    sample = text[:MAX_TEXT]
    m = _QUANTITY.search(sample)
    if m:
        return int(m.group(1))
    m = _CN_QUANTITY.search(sample)
    if m:
        return _CN_DIGITS[m.group(1)]
    m = _EN_QUANTITY.search(sample)
    return _EN_NUMBERS[m.group(1).lower()] if m else None


def asked_discount(text: str) -> Optional[float]:
    """The share off the shopper asks for: "八折" → 0.2, "9.5折" → 0.05, "20% off" → 0.2."""
    sample = text[:MAX_TEXT]
    m = _ZHE.search(sample)
    if m:
        if m.group(3):
            tenths = float(_CN_DIGITS[m.group(3)])
        else:
            tenths = float(m.group(1)) + (float(m.group(2)) / 10 if m.group(2) else 0.0)
        return round(1 - tenths / 10, 3)
    m = _PERCENT_OFF.search(sample)
    if m and 0 < int(m.group(1)) < 100:
        return int(m.group(1)) / 100
    return None


def wants_other_order(text: str) -> bool:
    return bool(_OTHER_ORDER.search(text[:MAX_TEXT]))


def is_urgent(text: str) -> bool:
    return bool(_URGENT.search(text[:MAX_TEXT]))


def refused_at_door(text: str) -> bool:
    return bool(_REFUSED.search(text[:MAX_TEXT]))


def says_received(text: str) -> Optional[bool]:
    """Whether the shopper has the parcel: False for a refusal at the door, True for "收到/arrived", else None."""
    if refused_at_door(text):
        return False
    return True if _RECEIVED.search(text[:MAX_TEXT]) else None


def describes_problem(text: str) -> bool:
    """The message says what is wrong or why ("拉链坏了", "too small"), not only what the shopper wants done."""
    return bool(_PROBLEM.search(text[:MAX_TEXT]))


def means_personal(text: str) -> bool:
    return bool(_PERSONAL.search(text[:MAX_TEXT]))


def _courier_pattern() -> re.Pattern[str]:
    names = {code: {code, zh, zh[:2], en, en.split()[0]} for code, (zh, en) in COURIERS.items()}
    alternatives = "|".join(f"(?P<{code}>{'|'.join(re.escape(n) for n in sorted(ns, key=len, reverse=True))})"
                            for code, ns in names.items())
    return re.compile(rf"(?<![A-Za-z])(?:{alternatives})(?![A-Za-z])", re.IGNORECASE)


_COURIER = _courier_pattern()


def find_courier(text: str) -> Optional[str]:
    """The courier code (bot.catalogue.COURIERS) a message names: "发顺丰", "ship it with SF Express"."""
    m = _COURIER.search(text[:MAX_TEXT])
    return m.lastgroup if m else None


_OWN_FAULT = re.compile(
    r"我自己弄|我自己不小心|不小心|被我|我摔|洗坏|烫坏|熨坏|my (?:own )?fault|i dropped|i broke|i spilled|i shrank|"
    r"i ironed|accidentally|by accident",
    re.IGNORECASE,
)


def own_fault(text: str) -> bool:
    """The shopper says they caused it ("不小心摔坏了", "I dropped it"): handled kindly, never blamed."""
    return bool(_OWN_FAULT.search(text[:MAX_TEXT]))


# --- what shoppers' words say about an after-sales case, an address, a product question ------------------

_REFUND_ONLY = ("仅退款", "只退款", "不退货", "refund only", "just a refund", "without returning")
_MISSING = ("少", "漏", "没收到", "只收到", "只有", "missing", "only got", "only the", "never arrived", "where is the rest",
            "empty", "空的", "not included", "没有")
_WRONG = ("不对", "错", "wrong", "instead", "different", "someone else")
_WORN = ("穿了", "穿过", "洗了", "洗过", "wore", "worn", "washed", "wash")


def wants_refund_only(text: str) -> bool:
    t = text.lower()
    return any(w in t for w in _REFUND_ONLY)


def says_missing(text: str) -> bool:
    """Something is missing from the parcel, rather than the wrong thing in it."""
    t = text.lower()
    return any(w in t for w in _MISSING) and not any(w in t for w in _WRONG)


def says_worn(text: str) -> bool:
    t = text.lower()
    return any(w in t for w in _WORN)


ADDRESS = re.compile(r"省|市|区|县|镇|乡|村|路|街|巷|弄|号|栋|幢|单元|室|小区|road|street|st\.|avenue|ave\b|"
                     r"apt|apartment|district|city|province|lane|floor", re.IGNORECASE)
_ADDRESS_PREFIX = re.compile(r"^.*?(?:改成|改为|换成|寄到|送到|新地址是|新地址[:：]|地址是|地址[:：]|change (?:it )?to|"
                             r"send it to|deliver to|new address is|new address:|address:)\s*", re.IGNORECASE)
_TITLE_PREFIX = re.compile(r"^(?:发票)?抬头(?:是|写|为|[:：])?\s*|^(?:the )?(?:invoice )?title(?: is|:)?\s*",
                           re.IGNORECASE)


def new_address(text: str) -> str:
    """The address in "地址改成…" / "new address is …", without the lead-in."""
    return _ADDRESS_PREFIX.sub("", text).strip(" ：:，,。.")


_PHONE_WORDS = re.compile(r"(?:联系)?(?:电话|手机|手机号|号码)(?:改成|改为|是|为)?[:：]?|"
                          r"(?:new )?(?:phone|mobile|tel)(?: number)?(?: is|:)?", re.IGNORECASE)


def read_contact(text: str) -> tuple[Optional[str], Optional[str]]:
    """A new address and a new phone, each if the message gives one: "改成北京市…1号 电话13800001111"."""
    phone = find_mobile(text)
    rest = _PHONE_WORDS.sub(" ", MOBILE.sub(" ", text)).strip(" ，,。.;；")
    address = new_address(rest) if ADDRESS.search(rest) and len(rest) >= 8 else ""
    return (address if len(address) >= 6 else None), phone


# A title named in passing: "开发票，抬头是杭州某某科技有限公司，税号…" / "invoice, title ACME Ltd, tax number …".
_TITLE_IN_PASSING = re.compile(
    r"(?:抬头|(?<![A-Za-z])title)(?:是|写|为|\s+is)?\s*[:：]?\s*(?P<title>[^，,。；;\n]+?)\s*(?=[，,。；;\n]|税号|tax|$)",
    re.IGNORECASE,
)


def title_in(text: str) -> Optional[str]:
    """The invoice title a message names after 抬头 / title, if it names one."""
    m = _TITLE_IN_PASSING.search(text[:MAX_TEXT])
    return m.group("title").strip() if m and m.group("title").strip() else None


def invoice_title(text: str) -> str:
    """The title in "抬头是…" / "the title is …"."""
    return _TITLE_PREFIX.sub("", text.strip()).strip(" ：:，,。")


def mentioned_colour(text: str, colours: list[tuple[str, str]]) -> Optional[str]:
    """The (zh, en) colour a message names, as it names it: "黑的" and "黑色" both name 黑色."""
    found = next((zh for zh, _ in colours if zh.rstrip("色") in text), None)
    return found or next((en for _, en in colours if en.lower() in text.lower()), None)


# Which catalogue field a product question is about, by the words shoppers use.
ATTRIBUTE_WORDS: dict[str, tuple[str, ...]] = {
    "material": ("材质", "面料", "什么料", "料子", "成分", "材料", "含量", "什么皮", "真皮", "皮质", "material", "fabric",
                 "made of", "real leather", "cotton", "wool"),
    "colors": ("颜色", "色", "colour", "color"),
    "size_for_weight": ("斤", "公斤", "kg", "体重", "穿多大", "穿什么码", "选哪个码", "weigh", "lbs", "which size",
                        "what size should"),
    "sizes": ("尺码", "码", "尺寸", "大小", "size"),
    "price": ("多少钱", "价格", "价钱", "几块", "售价", "price", "cost", "how much"),
    "care": ("洗", "保养", "护理", "清洁", "wash", "care", "clean", "iron"),
    "selling_points": ("卖点", "特点", "优点", "好在哪", "亮点", "有什么好", "feature", "special", "why should",
                       "good about", "selling point"),
}
# Questions the catalogue has no field for: say so and never guess.
UNKNOWN_WORDS = (
    "防水", "产地", "哪里产", "保修", "质保", "起球", "掉色", "褪色", "缩水", "甲醛", "闻起来",
    "waterproof", "made in", "origin", "warranty", "guarantee", "shrink", "fade", "pilling", "smell",
)
