"""Rate limits for shopper messages, new visitors, uploads and console logins.

The kept `limits` library does the counting: in this process's memory by
default (its entries expire, so made-up keys cannot grow it without bound),
in Redis when `REDIS_URL` is set so that several gateway processes share one
count.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from starlette.requests import Request

# What each limit allows; LIMIT_<NAME> in the environment overrides one.
LIMITS = {
    "message": "30/minute",  # per conversation: a fast typist, not a script
    "visitor": "60/hour",  # new anonymous conversations per client address
    "upload": "20/hour",  # evidence photos per conversation
    "login_user": "5/15minutes",  # failed console logins per username, known or not
    "login_address": "30/15minutes",  # failed console logins per client address
    "token": "120/minute",  # demo tokens per client address
}


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until one more is allowed


class RateLimits:
    def __init__(self, redis_url: str | None = None) -> None:
        redis_url = redis_url if redis_url is not None else os.environ.get("REDIS_URL", "")
        if redis_url:
            storage = storage_from_string("async+" + redis_url, implementation="redispy")
        else:
            storage = storage_from_string("async+memory://")
        self.limiter = SlidingWindowCounterRateLimiter(storage)
        self.items: dict[str, RateLimitItem] = {
            name: parse(os.environ.get(f"LIMIT_{name.upper()}", rule)) for name, rule in LIMITS.items()
        }

    async def hit(self, name: str, key: str) -> Verdict:
        """Count one; refused (with when to retry) once the limit is reached."""
        item = self.items[name]
        if await self.limiter.hit(item, name, key):
            return Verdict(True)
        return await self._refused(item, name, key)

    async def blocked(self, name: str, key: str) -> Verdict:
        """Whether the next one would be refused, without counting (logins count only failures)."""
        item = self.items[name]
        if await self.limiter.test(item, name, key):
            return Verdict(True)
        return await self._refused(item, name, key)

    async def _refused(self, item: RateLimitItem, name: str, key: str) -> Verdict:
        stats = await self.limiter.get_window_stats(item, name, key)
        return Verdict(False, max(1, int(stats.reset_time - time.time()) + 1))


def client_of(request: Request) -> str:
    """The client address a limit is keyed on: the connection's, or what a proxy named in
    `TRUSTED_PROXIES` forwarded (uvicorn rewrites the scope only for those)."""
    return request.client.host if request.client else "unknown"
