"""Start the whole product on free ports, in either shape: tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bot.run import MODEL, Server, Shape, plan, prepare_tracker_store, rasa_endpoints, start, stop, wait_ready
from bot.settings import DEMO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Urls:
    rasa: str
    gateway: str
    actions: str
    rasas: list[str]
    gateways: list[str]
    servers: list[Server]
    procs: dict[str, subprocess.Popen]
    workdir: Path

    # Fault tests kill, freeze and restart servers of a running stack.
    def kill(self, name: str) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def freeze(self, name: str, frozen: bool) -> None:
        os.killpg(self.procs[name].pid, signal.SIGSTOP if frozen else signal.SIGCONT)

    def restart(self, name: str, timeout: float = 240) -> None:
        server = next(s for s in self.servers if s.name == name)
        self.procs[name] = start(server, self.workdir)
        problem = wait_ready([self.procs[name]], [server.health], timeout=timeout)
        if problem:
            raise RuntimeError(f"{name} did not come back: {problem}")


@contextlib.contextmanager
def running_stack(workdir: Path, database_url: str, timeout: float = 240,
                  extra_env: Optional[dict[str, str]] = None, redis_url: str = "",
                  rasa_count: int = 1, gateway_count: int = 1) -> Iterator[Urls]:
    """Everything `make run` starts, on its own ports and database; logs in workdir.

    `extra_env` configures every server (WIDGET_ORIGINS, SHOP_ENV, ...).
    A PostgreSQL `database_url` with a `redis_url` is the scaled shape.
    """
    if not MODEL.exists():
        raise RuntimeError("no trained model: run `make train`")
    shape = Shape(database_url=database_url, redis_url=redis_url,
                  rasa_ports=[free_port() for _ in range(rasa_count)], action_port=free_port(),
                  gateway_ports=[free_port() for _ in range(gateway_count)],
                  extra_env={"SHOP_ENV": DEMO, **(extra_env or {})})
    servers = plan(shape, workdir)
    prepare_tracker_store(rasa_endpoints(shape))
    procs = {s.name: start(s, workdir) for s in servers}
    try:
        problem = wait_ready(list(procs.values()), [s.health for s in servers], timeout=timeout)
        if problem:
            raise RuntimeError(f"{problem}: see {workdir}")
        yield Urls(rasa=shape.rasa_urls[0], gateway=shape.gateway_urls[0],
                   actions=f"http://127.0.0.1:{shape.action_port}", rasas=shape.rasa_urls,
                   gateways=shape.gateway_urls, servers=servers, procs=procs, workdir=workdir)
    finally:
        stop(list(procs.values()))
