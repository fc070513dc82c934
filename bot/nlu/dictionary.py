"""Jieba's shop dictionary, generated from the catalogue.

    python -m bot.nlu.dictionary      (bot.train runs it before every training)

Product names, aliases and colour names in Chinese become Jieba words, so
"轻薄羽绒服" stays one token. data/dict/catalogue.txt is written from
bot/catalogue.py; data/dict/shop.txt keeps the hand-picked shop words
(订单号, 七天无理由, ...). A changed catalogue changes the file, the file's
content is part of the tokenizer's fingerprint, and so the change reaches the
model at the next `make train`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.settings import ROOT

DICTIONARY = ROOT / "data" / "dict" / "catalogue.txt"
_CJK = re.compile(r"[\u3400-\u9fff]")


def catalogue_words(products: Iterable[dict[str, Any]], colours: Iterable[tuple[str, str]]) -> list[str]:
    words: set[str] = set()
    for p in products:
        words.update(w.strip() for w in (p["name_zh"], *p["aliases"]) if _CJK.search(w))
    words.update(zh for zh, _en in colours)
    return sorted(w for w in words if len(w) > 1 and " " not in w)


def render(words: list[str]) -> str:
    # Longer names weigh more, so "长款羽绒服" is not cut into "长款" + "羽绒服".
    # No comment line: Jieba would read it as a word.
    return "".join(f"{w} {1000 + 250 * len(w)} n\n" for w in words)


def generated() -> str:
    from bot.catalogue import PRODUCTS, C

    return render(catalogue_words(PRODUCTS, C.values()))


def write(path: Path = DICTIONARY) -> bool:
    """Write the dictionary; True when its content changed."""
    text = generated()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


if __name__ == "__main__":
    print(f"{DICTIONARY.relative_to(ROOT)}: {'written' if write() else 'up to date'}")
