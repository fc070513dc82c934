"""Reading shopper text: language, order numbers, body weight.

Pure functions, no Rasa, so the action server, the gateway and tests share them.
"""

from __future__ import annotations

import re
from typing import Optional

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
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


def find_order_numbers(text: str) -> list[str]:
    return _ORDER_NO.findall(text[:MAX_TEXT])


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
