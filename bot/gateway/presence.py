"""Which agents have the console open, across every gateway process.

A handed-over shopper is told their place in the queue when an agent is
online, else that a ticket was opened: that must count agents connected to
any gateway. In one process it is this process's sockets; with Redis each
process keeps its agents in a sorted set with an expiry that its sweep
renews, so a process that dies stops counting within `TTL_SECONDS`.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from typing import Optional

from redis.asyncio import Redis

TTL_SECONDS = 15


class AgentPresence:
    def __init__(self, redis: Optional[Redis] = None, prefix: str = "shop-assist") -> None:
        self.local: dict[int, set[str]] = defaultdict(set)  # agent id -> this process's console sockets
        self._redis = redis
        self._key = f"{prefix}:agents-online"
        self._process = uuid.uuid4().hex[:12]

    def _member(self, agent_id: int) -> str:
        return f"{agent_id}:{self._process}"

    async def add(self, agent_id: int, sid: str) -> None:
        self.local[agent_id].add(sid)
        if self._redis is not None:
            await self._redis.zadd(self._key, {self._member(agent_id): time.time() + TTL_SECONDS})

    async def remove(self, sid: str) -> None:
        for agent_id in list(self.local):
            self.local[agent_id].discard(sid)
            if not self.local[agent_id]:
                del self.local[agent_id]
                if self._redis is not None:
                    await self._redis.zrem(self._key, self._member(agent_id))

    async def renew(self) -> None:
        """Called by the console sweep: this process's agents stay counted; dead processes' expire."""
        if self._redis is None:
            return
        now = time.time()
        if self.local:
            await self._redis.zadd(self._key, {self._member(a): now + TTL_SECONDS for a in self.local})
        await self._redis.zremrangebyscore(self._key, "-inf", now)

    async def online(self) -> set[int]:
        """The agents online anywhere."""
        if self._redis is None:
            return {agent_id for agent_id, sids in self.local.items() if sids}
        members = await self._redis.zrangebyscore(self._key, time.time(), "+inf")
        return {int((m.decode() if isinstance(m, bytes) else m).split(":")[0]) for m in members}

    async def count(self) -> int:
        """Distinct agents online anywhere."""
        return len(await self.online())
