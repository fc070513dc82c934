"""The gateway's notices to shoppers: entries `notice.*` of the one word catalogue (bot/words.py)."""

from __future__ import annotations

from bot.words import word


def notice(key: str, lang: str, **values: object) -> str:
    """The notice in that language; the shop's numbers come from bot.policy, never typed here."""
    return word(f"notice.{key}", lang, **values)
