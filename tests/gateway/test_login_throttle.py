"""Console logins under guessing: the guesser slows down, the agent still gets in.

A gateway of its own behind a proxy it trusts (127.0.0.1), so each request can
come from the address its X-Forwarded-For names.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bot.db import make_engine
from bot.seed import DEMO_PASSWORD, seed
from tests.gateway.alone import gateway, wait_up


async def login(http: aiohttp.ClientSession, username: str, password: str, address: str) -> str:
    response = await http.post("/console/login", data={"username": username, "password": password},
                               headers={"X-Forwarded-For": address}, allow_redirects=False)
    return response.headers["location"]


def browser(url: str) -> aiohttp.ClientSession:
    # unsafe=True: keep cookies from a bare IP host, as a browser does.
    return aiohttp.ClientSession(base_url=url, cookie_jar=aiohttp.CookieJar(unsafe=True))


def waited(location: str) -> int:
    return int(location.split("wait=")[1]) if "wait=" in location else 0


async def guessing(url: str) -> None:
    async with browser(url) as own, browser(url) as attacker, browser(url) as elsewhere, browser(url) as new:
        # The agent has logged in from her own browser before.
        assert await login(own, "xiaomei", DEMO_PASSWORD, "198.51.100.20") == "/console"

        # One address guessing: three tries, then a wait, which holds even for the right password.
        tries = [await login(attacker, "xiaomei", f"guess {i}", "203.0.113.5") for i in range(6)]
        assert tries[:3] == ["/console?error=1"] * 3, tries
        assert all(1 <= waited(t) <= 61 for t in tries[3:]), tries
        assert 1 <= waited(await login(attacker, "xiaomei", DEMO_PASSWORD, "203.0.113.5")) <= 61
        # ... while the agent at another address, in a browser she never used, gets in.
        assert await login(elsewhere, "xiaomei", DEMO_PASSWORD, "198.51.100.30") == "/console"

        # Many addresses guessing together: browsers that never logged in as her now wait too...
        for n in range(10):
            for i in range(3):
                await login(attacker, "xiaomei", f"guess {n}.{i}", f"192.0.2.{n}")
        assert waited(await login(new, "xiaomei", DEMO_PASSWORD, "198.51.100.40")) > 0
        # ... but her own browser, which logged in as her before, still gets in, from any address.
        assert await login(own, "xiaomei", DEMO_PASSWORD, "198.51.100.20") == "/console"
        assert await login(own, "xiaomei", DEMO_PASSWORD, "198.51.100.99") == "/console"
        # A forged device cookie vouches for nobody.
        new.cookie_jar.update_cookies({"shop_console_device": "eyJkIjoieCIsIm4iOlsieGlhb21laSJdfQ.forged.sig"})
        assert waited(await login(new, "xiaomei", DEMO_PASSWORD, "198.51.100.41")) > 0
        # Another agent is not touched by the guessing at xiaomei.
        assert await login(attacker, "dawei", DEMO_PASSWORD, "198.51.100.50") == "/console"

        # An agent's colleague list names people, not login names; a supervisor's carries them.
        agents = await (await attacker.get("/console/api/agents")).json()
        assert agents and all("username" not in a for a in agents), agents
        await login(own, "lin", DEMO_PASSWORD, "198.51.100.20")
        assert {a["username"] for a in await (await own.get("/console/api/agents")).json()} >= {"xiaomei", "lin"}


def test_guessing_slows_the_guesser_and_never_locks_the_agent_out(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = make_engine(db_url)
    seed(engine)
    engine.dispose()
    with gateway(tmp_path, db_url, {"SHOP_ENV": "demo", "TRUSTED_PROXIES": "127.0.0.1"}) as (proc, url):
        assert wait_up(proc, url), (tmp_path / "gateway.log").read_text()[-2000:]
        asyncio.run(guessing(url))
