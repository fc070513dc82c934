"""The gateway alone in its own process, as a shop would run it, for tests that set its environment."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.run import GATEWAY_PYTHON, answers, server_environment, stop
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


def status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
