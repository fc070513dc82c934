"""Talking to Rasa over its gateway channel (bot/channel.py), with the internal token."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import aiohttp

from bot import keys

RASA_URL = os.environ.get("RASA_URL", "http://127.0.0.1:5005")


class RasaUnavailable(Exception):
    pass


async def _post(session: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        async with session.post(
            f"{RASA_URL}/webhooks/gateway/{path}",
            json=body,
            headers={"Authorization": f"Bearer {keys.get('INTERNAL_TOKEN')}"},
            timeout=aiohttp.ClientTimeout(total=60),
        ) as response:
            if response.status != 200:
                raise RasaUnavailable(f"HTTP {response.status}")
            replies = await response.json()
            return replies if isinstance(replies, list) else []
    # On Python 3.10 aiohttp's time-outs are asyncio.TimeoutError, not the builtin.
    except (aiohttp.ClientError, asyncio.TimeoutError, TimeoutError) as exc:
        raise RasaUnavailable(str(exc)) from exc


async def ask(session: aiohttp.ClientSession, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """The bot's replies to a shopper's message."""
    return await _post(session, "webhook", {"sender": sender, "message": text, "metadata": metadata})


async def trigger(session: aiohttp.ClientSession, sender: str, intent: str,
                  entities: dict[str, str]) -> list[dict[str, Any]]:
    """The bot speaks first: an external intent (domain/outreach.yml) in that conversation."""
    return await _post(session, "trigger", {"sender": sender, "intent": intent, "entities": entities})
