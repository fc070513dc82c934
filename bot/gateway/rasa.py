"""Talking to Rasa over its REST webhook."""

from __future__ import annotations

import os
from typing import Any

import aiohttp

RASA_URL = os.environ.get("RASA_URL", "http://127.0.0.1:5005")


class RasaUnavailable(Exception):
    pass


async def ask(session: aiohttp.ClientSession, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        async with session.post(
            f"{RASA_URL}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata},
            timeout=aiohttp.ClientTimeout(total=60),
        ) as response:
            if response.status != 200:
                raise RasaUnavailable(f"HTTP {response.status}")
            replies = await response.json()
            return replies if isinstance(replies, list) else []
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise RasaUnavailable(str(exc)) from exc
