"""Per-conversation locks that do not outlive their use.

Messages of one conversation are handled one at a time, so they are stored,
answered and relayed in the order they came. A lock exists only while someone
holds or waits for it, so ids that clients make up cannot grow the gateway's
memory. With several gateway processes (a shopper with two tabs may reach two
of them) the lock is also taken in Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Optional

from redis.asyncio import Redis

# Longer than Rasa's time-out, so a held lock never expires under a message
# still being answered; short enough that a gateway killed while holding one
# does not stall its conversation for long.
REDIS_LOCK_SECONDS = 90


class KeyedLocks:
    """One lock per conversation, dropped when nobody holds or waits for it."""

    def __init__(self, redis: Optional[Redis] = None, prefix: str = "shop-assist") -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._redis = redis
        self._prefix = prefix

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                if self._redis is None:
                    yield
                else:
                    async with self._redis.lock(f"{self._prefix}:conversation-lock:{key}",
                                                timeout=REDIS_LOCK_SECONDS, blocking_timeout=REDIS_LOCK_SECONDS):
                        yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
