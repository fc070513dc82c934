"""Start the action server and Rasa, wait until both answer, stop both on Ctrl-C.

    python -m bot.run        (what `make run` ends with)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Optional

from bot import keys
from bot.agents import DEMO_PASSWORD
from bot.settings import ROOT, database_url, is_production, service_host

RASA_PORT = int(os.environ.get("RASA_PORT", "5005"))
ACTION_PORT = int(os.environ.get("ACTION_PORT", "5055"))
# endpoints.yml points Rasa at the action server on 5055; another port needs
# its own endpoints file.
ENDPOINTS = os.environ.get("RASA_ENDPOINTS", "endpoints.yml")
GATEWAY_PORT = int(os.environ.get("GATEWAY_PORT", "8000"))
BIN = Path(sys.executable).parent
# The gateway has its own environment (requirements-gateway.txt).
GATEWAY_PYTHON = os.environ.get("GATEWAY_PYTHON", str(ROOT / ".venv-gateway" / "bin" / "python"))


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start(args: list[str], log_name: str) -> subprocess.Popen:
    log_dir = ROOT / "var" / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / log_name, "ab")
    # Own process group, so stopping it also stops its workers.
    return subprocess.Popen(args, cwd=ROOT, env=server_environment(), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.time() + 10
    for p in procs:
        try:
            p.wait(timeout=max(deadline - time.time(), 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def wait_ready(procs: list[subprocess.Popen], urls: list[str], timeout: float = 180) -> Optional[str]:
    """None when every url answers; else what went wrong."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for p in procs:
            if p.poll() is not None:
                return f"{' '.join(p.args[:3])} exited with {p.returncode}"  # type: ignore[index]
        if all(answers(u) for u in urls):
            return None
        time.sleep(1)
    return f"not ready after {timeout:.0f} s"


def server_commands(rasa_port: int, action_port: int, endpoints: str) -> dict[str, list[str]]:
    """The three servers of the product; the gateway reads its ports from the environment.

    Rasa and the action server listen on SERVICE_HOST (this machine only by
    default); Rasa's HTTP API stays off, its one channel is the gateway's.
    """
    return {
        "actions": [sys.executable, "-m", "bot.action_server", "--port", str(action_port)],
        "rasa": [str(BIN / "rasa"), "run", "-i", service_host(), "--port", str(rasa_port),
                 "--model", str(ROOT / "models" / "shop-assist.tar.gz"),
                 "--credentials", str(ROOT / "credentials.yml"), "--endpoints", endpoints],
        "gateway": [GATEWAY_PYTHON, "-m", "bot.gateway.app"],
    }


def server_environment() -> dict[str, str]:
    """What every server gets on top of this process's environment: the secrets."""
    return {**os.environ, **keys.environment()}


def main() -> int:
    os.environ.setdefault("DATABASE_URL", database_url())
    os.environ.setdefault("RASA_URL", f"http://127.0.0.1:{RASA_PORT}")
    procs = [start(cmd, f"{name}.log") for name, cmd in server_commands(RASA_PORT, ACTION_PORT, ENDPOINTS).items()]

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    # Explicit handlers: a parent that started us with SIGINT ignored (a
    # background job) would otherwise leave Ctrl-C / kill -INT without effect.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        print("starting the action server, Rasa and the web gateway (logs in var/log/) ...", flush=True)
        problem = wait_ready(
            procs,
            [f"http://127.0.0.1:{ACTION_PORT}/health", f"http://127.0.0.1:{RASA_PORT}/",
             f"http://127.0.0.1:{GATEWAY_PORT}/healthz"],
        )
        if problem:
            print(f"start-up failed: {problem}; see var/log/", file=sys.stderr)
            return 1
        login = "" if is_production() else f"   (sample login: xiaomei / {DEMO_PASSWORD})"
        print(
            f"""
shop-assist is ready.
  shop + chat widget:      http://127.0.0.1:{GATEWAY_PORT}/   (pick a sample shopper, or the guest)
  agent console:           http://127.0.0.1:{GATEWAY_PORT}/console{login}
  Rasa (gateway channel):  http://{service_host()}:{RASA_PORT}   (needs the internal token; HTTP API off)
  action server:           http://{service_host()}:{ACTION_PORT}   (answers only Rasa)
  shop database:           {os.environ['DATABASE_URL']}

Talk to it as sample shopper u1001 (u1001 ... u1024 exist):
  make shell                      (rasa shell as u1001, in another terminal)
  curl -s -XPOST http://127.0.0.1:{RASA_PORT}/webhooks/gateway/webhook \\
       -H "Authorization: Bearer $(cat var/keys/internal_token)" -H 'Content-Type: application/json' \\
       -d '{{"sender": "u1001", "message": "我的订单到哪了"}}'

Ctrl-C stops everything.""",
            flush=True,
        )
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        print("a server stopped unexpectedly; see var/log/", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    finally:
        stop(procs)


if __name__ == "__main__":
    sys.exit(main())
