"""The bot speaks first: unpaid reminders, the delivery-details check, back-in-stock news.

Every `OUTREACH_SECONDS` the sweep asks `bot.outreach.due` what is due, then
has Rasa say it (an external intent), under the conversation's lock so it
never interleaves with the shopper's own message. Rasa's action claims the
record, so a second gateway process sweeping at the same time says nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot import outreach
from bot.clock import utcnow
from bot.gateway import rasa
from bot.gateway.store import db
from bot.settings import outreach_seconds

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

log = logging.getLogger(__name__)


class Outreach:
    def __init__(self, gateway: Gateway) -> None:
        self.g = gateway
        self.interval = outreach_seconds()

    async def run(self) -> None:
        """Runs for the gateway's life; a failed sweep is logged and the next one tries again."""
        if self.interval <= 0:
            return
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep()
            except Exception:  # noqa: BLE001 - Rasa or the database away: try again next time
                log.exception("outreach sweep failed")

    async def sweep(self) -> int:
        """Says what is due; returns how many conversations were spoken to."""
        spoken = 0
        for item in await db(outreach.due, utcnow()):
            try:
                async with self.g.shoppers.locks.hold(item.conversation_id):
                    replies = await rasa.trigger(self.g.http, item.conversation_id, item.intent, item.entities)
                    if replies:
                        await self.g.shoppers.relay(item.conversation_id, replies,
                                                    item.entities.get("language", "zh"))
                        spoken += 1
            except rasa.RasaUnavailable as exc:
                # Nothing was claimed if Rasa never ran the action: the next sweep tries again.
                log.warning("outreach to %s not sent: %s", item.conversation_id, exc)
        return spoken
