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

from limits import RateLimitItem, parse_many
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from starlette.requests import Request

# What each limit allows; LIMIT_<NAME> in the environment overrides one.
LIMITS = {
    "message": "30/minute",  # per conversation: a fast typist, not a script
    "visitor": "60/hour",  # new anonymous conversations per client address
    "upload": "20/hour",  # evidence photos per conversation
    # Failed console logins, in tiers so that the wait grows (a minute, then an hour, then a day).
    # Per username at one address: a guesser there slows down; the agent elsewhere is not touched.
    "login_pair": "3/minute;10/hour;30/day",
    "login_address": "30/15minutes;100/day",  # any usernames from one address
    # Per username from browsers that never logged in as it: many addresses guessing one agent are
    # slowed together, while the agent's own browser (a device cookie) keeps its own count below.
    "login_user": "20/15minutes;100/day",
    "login_device": "5/minute;20/hour",  # per username in a browser that logged in as it before
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
        # A limit may have tiers ("3/minute;10/hour"): one is refused while any tier is spent.
        self.items: dict[str, list[RateLimitItem]] = {
            name: parse_many(os.environ.get(f"LIMIT_{name.upper()}", rule)) for name, rule in LIMITS.items()
        }

    async def hit(self, name: str, key: str) -> Verdict:
        """Count one; refused (with when to retry) once the limit is reached."""
        refused = [item for item in self.items[name] if not await self.limiter.hit(item, name, key)]
        return await self._verdict(refused, name, key)

    async def blocked(self, name: str, key: str) -> Verdict:
        """Whether the next one would be refused, without counting (logins count only failures)."""
        refused = [item for item in self.items[name] if not await self.limiter.test(item, name, key)]
        return await self._verdict(refused, name, key)

    async def _verdict(self, refused: list[RateLimitItem], name: str, key: str) -> Verdict:
        if not refused:
            return Verdict(True)
        resets = [(await self.limiter.get_window_stats(item, name, key)).reset_time for item in refused]
        return Verdict(False, max(1, int(max(resets) - time.time()) + 1))


def client_of(request: Request) -> str:
    """The client address a limit is keyed on: the connection's, or what a proxy named in
    `TRUSTED_PROXIES` forwarded (uvicorn rewrites the scope only for those)."""
    return request.client.host if request.client else "unknown"
