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
