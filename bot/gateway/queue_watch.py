"""Nobody is left waiting on a person who is not there.

Every `SWEEP_SECONDS` (each gateway process; the changes are conditional
UPDATEs, so one process makes each and tells the shopper once):

- a conversation whose agent has had no console open anywhere for
  `policy.AGENT_GONE_REQUEUE` goes back to the queue;
- a queued conversation that waited `policy.WAIT_ALONE_RETURN` in agent hours
  with no agent online goes back to the bot.

The shopper can also leave the queue at any time (the button of the queue
notices, `LEAVE_PAYLOAD`, handled by the shopper channel).
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Optional

from sqlalchemy.orm import Session

from bot import conversations as conv
from bot import policy
from bot.clock import utcnow
from bot.gateway.store import db
from bot.gateway.texts import notice
from bot.models import Agent, Conversation

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

log = logging.getLogger(__name__)
SWEEP_SECONDS = float(os.environ.get("QUEUE_SWEEP_SECONDS", "15"))


def _gone_after() -> timedelta:
    # A test may shorten it; the shop's figure lives in bot.policy.
    seconds = os.environ.get("AGENT_GONE_SECONDS")
    return timedelta(seconds=float(seconds)) if seconds else policy.AGENT_GONE_REQUEUE


class QueueWatch:
    def __init__(self, gateway: Gateway) -> None:
        self.g = gateway
        self.gone_since: dict[int, datetime] = {}  # agent -> when this process first saw them gone

    async def run(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.sweep()
            except Exception:  # noqa: BLE001 - a database or Redis hiccup must not end the sweep
                log.exception("queue sweep failed")

    async def sweep(self, now: Optional[datetime] = None) -> int:
        """Moves what must move; how many conversations moved."""
        now = now or utcnow()
        online = await self.g.console.presence.online()
        owned = await db(conv.agents_chats)
        gone = {aid for _, aid in owned if aid not in online}
        self.gone_since = {aid: self.gone_since.get(aid, now) for aid in gone}
        moved = 0
        for cid, aid in owned:
            if aid in gone and now - self.gone_since[aid] >= _gone_after():
                moved += await self._move(cid, lambda s, c=cid, a=aid: conv.requeue(s, c, a, now), "agent_gone")
        for cid, since in await db(conv.waiting_since):
            if policy.back_to_bot(now - since, len(online), now):
                moved += await self._move(cid, lambda s, c=cid: conv.leave_queue(s, c), "back_to_bot")
        return moved

    async def _move(self, conversation_id: str, change, key: str) -> int:  # type: ignore[no-untyped-def]
        def run(s: Session) -> Optional[tuple[str, str]]:
            c = s.get(Conversation, conversation_id)
            agent = s.get(Agent, c.agent_id) if c is not None and c.agent_id else None
            if c is None or not change(s):
                return None
            return c.language, agent.display_name if agent else ""

        done = await db(run)
        if done is None:
            return 0  # another process moved it first
        lang, agent = done
        await self.g.shoppers.say(conversation_id, "system", notice(key, lang, agent=agent), payload={"notice": key})
        await self.g.console.queue_changed()
        return 1
