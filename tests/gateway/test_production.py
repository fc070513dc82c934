"""The gateway alone, as a shop would run it: SHOP_ENV=production."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session

from bot import agents
from bot.db import make_engine
from bot.run import GATEWAY_PYTHON, answers, server_environment, stop
from bot.seed import seed
from bot.settings import ROOT
from tests.conftest import free_port


@contextmanager
def gateway(tmp_path: Path, db_url: str, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen, str]]:
    gateway_port = free_port()
    log = open(tmp_path / "gateway.log", "wb")
    proc = subprocess.Popen([GATEWAY_PYTHON, "-m", "bot.gateway.app"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**server_environment(), "DATABASE_URL": db_url, "GATEWAY_PORT": str(gateway_port),
                                 **env}, start_new_session=True)
    try:
        yield proc, f"http://127.0.0.1:{gateway_port}"
    finally:
        stop([proc])


def wait_up(proc: subprocess.Popen, url: str) -> bool:
    for _ in range(150):
        if proc.poll() is not None:
            return False
        if answers(f"{url}/healthz"):
            return True
        time.sleep(0.2)
    return False


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_production_refuses_demo_passwords_and_serves_no_demo_tokens(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = make_engine(db_url)
    seed(engine)
    # Not told it is a demo (SHOP_ENV unset, "production", anything else): production, which refuses to
    # start while agents have the demo password.
    for shop_env in ("", "production", "staging"):
        with gateway(tmp_path, db_url, {"SHOP_ENV": shop_env}) as (proc, url):
            assert proc.wait(timeout=60) == 2, shop_env
        log = (tmp_path / "gateway.log").read_text()
        assert "demo password" in log and "xiaomei" in log

    with Session(engine) as s, s.begin():
        for username in agents.on_demo_password(s):
            agents.set_password(s, username, f"{username}-a-long-real-password")
    for shop_env in ("", "production"):  # a deployment that forgot SHOP_ENV hands out no tokens either
        with gateway(tmp_path, db_url, {"SHOP_ENV": shop_env}) as (proc, url):
            assert wait_up(proc, url), (tmp_path / "gateway.log").read_text()[-2000:]
            assert status(f"{url}/demo/token?shopper=u1001") == 404, shop_env
            assert status(f"{url}/console") == 200
    with gateway(tmp_path, db_url, {"SHOP_ENV": "demo"}) as (proc, url):  # only a demo serves them
        assert wait_up(proc, url)
        assert status(f"{url}/demo/token?shopper=u1001") == 200
    engine.dispose()
