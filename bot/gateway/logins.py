"""Console login throttling that slows a guesser down without locking the agent out.

Failed logins are counted per username at one address, per address, and per
username across the addresses of browsers that never logged in as it, each in
tiers whose wait grows (bot/gateway/limits.py). A browser that logged in as an
agent before carries a signed device cookie naming it; its attempts for that
agent are counted on their own, so however much others guess at the name, the
agent's own browser still gets in (OWASP's device cookies).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.gateway.limits import RateLimits

DEVICE_COOKIE = "shop_console_device"
DEVICE_AGE = 90 * 24 * 3600
DEVICE_NAMES = 5  # agents remembered per browser (a shared counter PC)


@dataclass(frozen=True)
class Attempt:
    """One login attempt: the counts it is checked and counted against."""

    counts: tuple[tuple[str, str], ...]
    device: str
    names: tuple[str, ...]  # agents this browser logged in as before


class LoginGuard:
    def __init__(self, limits: RateLimits, secret: str) -> None:
        self.limits = limits
        self.devices = URLSafeTimedSerializer(secret, salt="console-device")

    def attempt(self, username: str, address: str, cookie: str | None) -> Attempt:
        name = username.strip().lower()
        device, names = self._read(cookie)
        if name and name in names:
            return Attempt((("login_device", f"{device}|{name}"),), device, names)
        return Attempt((("login_pair", f"{name}|{address}"), ("login_address", address), ("login_user", name)),
                       device, names)

    async def wait(self, attempt: Attempt) -> int:
        """Seconds before this attempt may be checked at all; 0 when it may be now."""
        waits = [(await self.limits.blocked(limit, key)).retry_after for limit, key in attempt.counts]
        return max(waits)

    async def failed(self, attempt: Attempt) -> None:
        for limit, key in attempt.counts:
            await self.limits.hit(limit, key)

    def remember(self, attempt: Attempt, username: str) -> str:
        """The device cookie after a login: this browser now vouches for this agent too."""
        name = username.strip().lower()
        names = [n for n in attempt.names if n != name][-(DEVICE_NAMES - 1):] + [name]
        return self.devices.dumps({"d": attempt.device, "n": names})

    def _read(self, cookie: str | None) -> tuple[str, tuple[str, ...]]:
        try:
            claims = self.devices.loads(cookie, max_age=DEVICE_AGE) if cookie else None
        except BadSignature:
            claims = None
        if isinstance(claims, dict) and isinstance(claims.get("d"), str) and isinstance(claims.get("n"), list):
            return claims["d"], tuple(n for n in claims["n"] if isinstance(n, str))
        return secrets.token_urlsafe(12), ()
