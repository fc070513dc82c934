"""Talking to Rasa over its gateway channel (bot/channel.py), with the internal token.

With several Rasa servers (`RASA_URL` lists them; they share the SQL tracker
store and the Redis lock store) a conversation goes to the same one each
time, and to the next one when that one cannot be reached: a Rasa restarting
costs the shopper nothing. A time-out is not retried elsewhere: that Rasa may
still be answering.
"""

from __future__ import annotations

import asyncio
import os
import zlib
from typing import Any

import aiohttp

from bot import keys
from bot.settings import rasa_urls

# How long a shopper waits before being told the bot is slow (the message is kept and answered later).
TIMEOUT_SECONDS = float(os.environ.get("RASA_TIMEOUT_SECONDS", "60"))


class RasaUnavailable(Exception):
    pass


class RasaTimedOut(RasaUnavailable):
    """Rasa took the message but did not answer in time: it may still be working on it."""


def servers_for(sender: str, urls: list[str]) -> list[str]:
    """Every Rasa server, this conversation's own first (a stable hash, the same in every process)."""
    first = zlib.crc32(sender.encode()) % len(urls)
    return urls[first:] + urls[:first]


async def _post_one(session: aiohttp.ClientSession, base: str, path: str,
                    body: dict[str, Any]) -> list[dict[str, Any]]:
    async with session.post(
        f"{base}/webhooks/gateway/{path}",
        json=body,
        headers={"Authorization": f"Bearer {keys.get('INTERNAL_TOKEN')}"},
        timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
    ) as response:
        if response.status != 200:
            raise RasaUnavailable(f"HTTP {response.status}")
        replies = await response.json()
        return replies if isinstance(replies, list) else []


async def _post(session: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    problems: list[str] = []
    for base in servers_for(str(body.get("sender", "")), rasa_urls()):
        try:
            return await _post_one(session, base, path, body)
        # On Python 3.10 aiohttp's time-outs are asyncio.TimeoutError, not the builtin.
        except (asyncio.TimeoutError, TimeoutError) as exc:
            raise RasaTimedOut(f"{base}: no answer in {TIMEOUT_SECONDS:.0f} s") from exc
        except aiohttp.ClientConnectionError as exc:  # not reached, or gone mid-answer: try the next
            problems.append(f"{base}: {exc}")
        except aiohttp.ClientError as exc:
            raise RasaUnavailable(f"{base}: {exc}") from exc
    raise RasaUnavailable("; ".join(problems))


async def ask(session: aiohttp.ClientSession, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """The bot's replies to a shopper's message."""
    return await _post(session, "webhook", {"sender": sender, "message": text, "metadata": metadata})


async def trigger(session: aiohttp.ClientSession, sender: str, intent: str,
                  entities: dict[str, str]) -> list[dict[str, Any]]:
    """The bot speaks first: an external intent (domain/outreach.yml) in that conversation."""
    return await _post(session, "trigger", {"sender": sender, "intent": intent, "entities": entities})
