"""Start the product's servers, wait until all answer, stop them all on Ctrl-C.

    python -m bot.run        (what `make run` and `make run-scaled` end with)

Embedded default: one action server, one Rasa (in-memory trackers), one
gateway, the SQLite shop. With `DATABASE_URL=postgresql://…` and
`REDIS_URL=redis://…` it starts the scale-out shape instead: Rasa's SQL
tracker store on that database and its Redis lock store, `RASA_INSTANCES`
Rasa servers (2) and `GATEWAYS` gateway processes (2) fanned out through Redis.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml
from sqlalchemy.engine import make_url

from bot import keys
from bot.agents import DEMO_PASSWORD
from bot.settings import DEMO, ROOT, database_url, is_production, is_scaled, redis_prefix, redis_url, service_host

RASA_PORT = int(os.environ.get("RASA_PORT", "5005"))
ACTION_PORT = int(os.environ.get("ACTION_PORT", "5055"))
GATEWAY_PORT = int(os.environ.get("GATEWAY_PORT", "8000"))
# Further Rasa instances listen RASA_PORT + 100, + 200, …; further gateways GATEWAY_PORT + 1, + 2, …
RASA_PORT_STEP = 100
BIN = Path(sys.executable).parent
# The gateway has its own environment (requirements-gateway.txt).
GATEWAY_PYTHON = os.environ.get("GATEWAY_PYTHON", str(ROOT / ".venv-gateway" / "bin" / "python"))
MODEL = ROOT / "models" / "shop-assist.tar.gz"


@dataclass
class Server:
    name: str
    args: list[str]
    health: str  # answers 200 once the server is ready
    env: dict[str, str] = field(default_factory=dict)  # on top of server_environment()


@dataclass
class Shape:
    """How many of each server, where they listen, and what they share."""

    database_url: str
    redis_url: str = ""
    rasa_ports: list[int] = field(default_factory=lambda: [RASA_PORT])
    action_port: int = ACTION_PORT
    gateway_ports: list[int] = field(default_factory=lambda: [GATEWAY_PORT])
    extra_env: dict[str, str] = field(default_factory=dict)  # for every server (WIDGET_ORIGINS, …)

    @property
    def scaled(self) -> bool:
        return is_scaled(self.database_url, self.redis_url)

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.rasa_ports]

    @property
    def gateway_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.gateway_ports]


def shape_from_environment() -> Shape:
    db, redis = database_url(), redis_url()
    scaled = is_scaled(db, redis)
    # Several Rasa servers need trackers and locks they share: only in the scaled shape.
    rasa_count = max(int(os.environ.get("RASA_INSTANCES", "2")), 1) if scaled else 1
    gateway_count = max(int(os.environ.get("GATEWAYS", "2")), 1) if scaled else 1
    return Shape(database_url=db, redis_url=redis,
                 rasa_ports=[RASA_PORT + RASA_PORT_STEP * i for i in range(rasa_count)],
                 gateway_ports=[GATEWAY_PORT + i for i in range(gateway_count)])


SQL_TRACKER_STORE = "bot.tracker_store.LiveSQLTrackerStore"


def rasa_endpoints(shape: Shape) -> dict[str, Any]:
    """Rasa's endpoints.yml for this shape: the action server, and in the scaled shape
    the SQL tracker store on the shop's PostgreSQL and the Redis lock store."""
    endpoints: dict[str, Any] = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{shape.action_port}/webhook"
    if shape.scaled:
        db = make_url(shape.database_url)
        endpoints["tracker_store"] = {
            # Rasa's SQL tracker store, keeping the trackers it saved while nobody else wrote to them.
            "type": SQL_TRACKER_STORE, "dialect": db.drivername, "url": db.host or "127.0.0.1", "port": db.port or 5432,
            "db": db.database, "username": db.username, "password": db.password or "",
        }
        redis = make_url(shape.redis_url)
        endpoints["lock_store"] = {
            "type": "redis", "url": redis.host or "127.0.0.1", "port": redis.port or 6379,
            "db": int(redis.database or 0), "password": redis.password,
            # Rasa takes letters and digits only here.
            "key_prefix": "".join(ch for ch in redis_prefix() if ch.isalnum()),
        }
    return endpoints


def prepare_tracker_store(endpoints: dict[str, Any]) -> None:
    """Create Rasa's tracker tables once, before several Rasa servers start and race to."""
    config = endpoints.get("tracker_store")
    if not config or config.get("type") != SQL_TRACKER_STORE:
        return
    with warnings.catch_warnings():  # Rasa 3.6's own SQLAlchemy 2.0 deprecations: not ours to fix
        warnings.simplefilter("ignore")
        from rasa.core.tracker_store import SQLTrackerStore  # slow import: only for the scaled shape

        settings = {k: v for k, v in config.items() if k != "type"}
        SQLTrackerStore(domain=None, **settings).engine.dispose()


def plan(shape: Shape, workdir: Path) -> list[Server]:
    """Every server of the shape; Rasa's endpoints file is written into workdir."""
    endpoints = rasa_endpoints(shape)
    endpoints_file = workdir / "endpoints.yml"
    workdir.mkdir(parents=True, exist_ok=True)
    endpoints_file.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    common = {"DATABASE_URL": shape.database_url, "RASA_URL": ",".join(shape.rasa_urls), **shape.extra_env}
    if shape.redis_url:
        common["REDIS_URL"] = shape.redis_url
    servers = [Server("actions", [sys.executable, "-m", "bot.action_server", "--port", str(shape.action_port)],
                      f"http://127.0.0.1:{shape.action_port}/health", common)]
    for i, port in enumerate(shape.rasa_ports):
        # Rasa and the action server listen on SERVICE_HOST (this machine only by default); Rasa's
        # HTTP API stays off, its one channel is the gateway's.
        servers.append(Server(
            f"rasa{'' if i == 0 else i + 1}",
            [str(BIN / "rasa"), "run", "-i", service_host(), "--port", str(port), "--model", str(MODEL),
             "--credentials", str(ROOT / "credentials.yml"), "--endpoints", str(endpoints_file)],
            f"http://127.0.0.1:{port}/webhooks/gateway/ready", common))
    for i, port in enumerate(shape.gateway_ports):
        servers.append(Server(f"gateway{'' if i == 0 else i + 1}", [GATEWAY_PYTHON, "-m", "bot.gateway.app"],
                              f"http://127.0.0.1:{port}/healthz", {**common, "GATEWAY_PORT": str(port)}))
    return servers


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def server_environment() -> dict[str, str]:
    """What every server gets on top of this process's environment: the secrets."""
    return {**os.environ, **keys.environment()}


def start(server: Server, log_dir: Path) -> subprocess.Popen:
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"{server.name}.log", "ab")
    # Own process group, so stopping it also stops its workers.
    return subprocess.Popen(server.args, cwd=ROOT, env={**server_environment(), **server.env}, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


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


def ready_banner(shape: Shape) -> str:
    login = "" if is_production() else f"   (sample login: xiaomei / {DEMO_PASSWORD})"
    gateways = "\n".join(f"  shop + chat widget:      {u}/   (pick a sample shopper, or the guest)"
                         for u in shape.gateway_urls)
    consoles = "\n".join(f"  agent console:           {u}/console{login}" for u in shape.gateway_urls)
    rasas = ", ".join(f"http://{service_host()}:{p}" for p in shape.rasa_ports)
    stores = (f"SQL tracker store on the shop's database, Redis lock store and fan-out at {shape.redis_url}"
              if shape.scaled else "trackers in Rasa's memory (embedded default)")
    return f"""
shop-assist is ready.
{gateways}
{consoles}
  Rasa (gateway channel):  {rasas}   (needs the internal token; HTTP API off)
  action server:           http://{service_host()}:{shape.action_port}   (answers only Rasa)
  shop database:           {shape.database_url}
  conversations:           {stores}

Talk to it as sample shopper u1001 (u1001 ... u1024 exist):
  make shell                      (rasa shell as u1001, in another terminal)
  curl -s -XPOST http://127.0.0.1:{shape.rasa_ports[0]}/webhooks/gateway/webhook \\
       -H "Authorization: Bearer $(cat var/keys/internal_token)" -H 'Content-Type: application/json' \\
       -d '{{"sender": "u1001", "message": "我的订单到哪了"}}'

Ctrl-C stops everything."""


def main() -> int:
    # `make run` is the demo unless the operator says otherwise (SHOP_ENV=production): every other way of
    # starting the gateway gets no demo tokens or passwords (bot.settings.is_demo).
    os.environ.setdefault("SHOP_ENV", DEMO)
    shape = shape_from_environment()
    # Rasa's generated endpoints file; a test's runner keeps its own beside make run's.
    servers = plan(shape, Path(os.environ.get("RUN_DIR", ROOT / "var" / "run")))

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    # Explicit handlers: a parent that started us with SIGINT ignored (a
    # background job) would otherwise leave Ctrl-C / kill -INT without effect.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    procs: list[subprocess.Popen] = []
    started = time.monotonic()
    try:
        prepare_tracker_store(rasa_endpoints(shape))
        names = ", ".join(s.name for s in servers)
        print(f"starting {names} (logs in var/log/) ...", flush=True)
        procs = [start(s, ROOT / "var" / "log") for s in servers]
        problem = wait_ready(procs, [s.health for s in servers])
        if problem:
            print(f"start-up failed: {problem}; see var/log/", file=sys.stderr)
            return 1
        up = time.monotonic() - started
        since_make = os.environ.get("RUN_STARTED")  # set by `make run`: the whole set-up's time
        total = f"; ready {time.time() - float(since_make):.0f} s after `make` started" if since_make else ""
        print(f"step start    {up:6.1f} s{total}", flush=True)
        print(ready_banner(shape), flush=True)
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
