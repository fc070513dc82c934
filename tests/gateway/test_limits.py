"""The gateway's rate limits, run in the gateway's own environment (where `limits` lives)."""

from __future__ import annotations

import subprocess
import uuid

from bot.run import GATEWAY_PYTHON
from bot.settings import ROOT

REDIS_URL = "redis://127.0.0.1:6379/0"

SCRIPT = """
import asyncio, os, sys
from bot.gateway.limits import RateLimits

async def main() -> None:
    url, key, shared = sys.argv[1], sys.argv[2], sys.argv[3] == "two"
    # "two": two gateway processes' worth of limiters on one store, which must share one count.
    a = RateLimits(url)
    b = RateLimits(url) if shared else a
    verdicts = [await (a if i % 2 else b).hit("message", key) for i in range(8)]
    print(" ".join("y" if v.allowed else f"n{v.retry_after}" for v in verdicts))

asyncio.run(main())
"""


def run(url: str, limiters: str) -> list[str]:
    env = {"LIMIT_MESSAGE": "5/minute", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([GATEWAY_PYTHON, "-c", SCRIPT, url, uuid.uuid4().hex, limiters], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


def check(verdicts: list[str]) -> None:
    assert verdicts[:5] == ["y"] * 5
    assert all(v.startswith("n") and 1 <= int(v[1:]) <= 61 for v in verdicts[5:]), verdicts


def test_a_limit_refuses_past_its_count_and_says_when() -> None:
    check(run("", "one"))


def test_limits_in_redis_are_shared_between_gateways() -> None:
    check(run(REDIS_URL, "two"))


TIERS = """
import asyncio, sys
from bot.gateway.limits import RateLimits

async def main() -> None:
    limits, key, waits = RateLimits(sys.argv[1]), sys.argv[2], []
    for _ in range(11):  # failed logins for one username at one address, with the shipped tiers
        waits.append((await limits.blocked("login_pair", key)).retry_after)
        await limits.hit("login_pair", key)
    print(" ".join(map(str, waits)))

asyncio.run(main())
"""


def test_failed_logins_wait_longer_as_they_go_on() -> None:
    for url in ("", REDIS_URL):
        out = subprocess.run([GATEWAY_PYTHON, "-c", TIERS, url, uuid.uuid4().hex], cwd=ROOT,
                             env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr[-2000:]
        waits = [int(w) for w in out.stdout.split()]
        assert waits[:3] == [0, 0, 0], waits  # three tries free
        assert all(1 <= w <= 61 for w in waits[3:10]), waits  # then a minute
        # Ten within the hour: the hour's tier (the sliding window says when the count falls enough).
        assert 600 < waits[10] <= 3601, waits
