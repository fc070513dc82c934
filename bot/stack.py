"""Start the whole product (actions, Rasa, gateway) on free ports: tests and benchmarks."""

from __future__ import annotations

import contextlib
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bot.run import server_commands, server_environment, stop, wait_ready
from bot.settings import ROOT

MODEL = ROOT / "models" / "shop-assist.tar.gz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Urls:
    rasa: str
    gateway: str
    actions: str


@contextlib.contextmanager
def running_stack(workdir: Path, database_url: str, timeout: float = 240,
                  extra_env: Optional[dict[str, str]] = None) -> Iterator[Urls]:
    """Everything `make run` starts, on its own ports and database; logs in workdir.

    `extra_env` configures all three servers (WIDGET_ORIGINS, SHOP_ENV, ...).
    """
    if not MODEL.exists():
        raise RuntimeError("no trained model: run `make train`")
    rasa_port, action_port, gateway_port = free_port(), free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text((ROOT / "endpoints.yml").read_text().replace("127.0.0.1:5055", f"127.0.0.1:{action_port}"))
    env = {**server_environment(), "DATABASE_URL": database_url, "RASA_URL": f"http://127.0.0.1:{rasa_port}",
           "GATEWAY_PORT": str(gateway_port), **(extra_env or {})}
    commands = server_commands(rasa_port, action_port, str(endpoints))
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(workdir / f"{name}.log", "wb"),
                         stderr=subprocess.STDOUT, start_new_session=True)
        for name, cmd in commands.items()
    ]
    try:
        problem = wait_ready(procs, [f"http://127.0.0.1:{action_port}/health", f"http://127.0.0.1:{rasa_port}/",
                                     f"http://127.0.0.1:{gateway_port}/healthz"], timeout=timeout)
        if problem:
            raise RuntimeError(f"{problem}: see {workdir}")
        yield Urls(rasa=f"http://127.0.0.1:{rasa_port}", gateway=f"http://127.0.0.1:{gateway_port}",
                   actions=f"http://127.0.0.1:{action_port}")
    finally:
        stop(procs)
