"""Benchmark: N concurrent shoppers through the gateway (socket.io) -> Rasa ->
actions -> database. Prints p50/p95/p99 round trip and messages/s per N.

    python -m bot.bench [--clients 1 20 50] [--messages 5]     (make bench)

Starts its own stack on free ports with a freshly seeded SQLite shop; a round
trip is from emitting `user_uttered` to the gateway's acknowledgement, which
comes after Rasa's replies were stored and relayed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import socketio

from bot import identity, keys
from bot.db import make_engine
from bot.seed import seed
from bot.stack import running_stack

MESSAGES = ["你好", "我的订单到哪了", "羽绒服是什么材质的", "where is my order?", "is the hoodie in black L in stock?",
            "我120斤穿牛仔裤选什么码", "thanks!"]


async def shopper(url: str, name: str, count: int, latencies: list[float]) -> None:
    sio = socketio.AsyncClient()
    confirmed = asyncio.Event()
    sio.on("session_confirm", lambda sid: confirmed.set())
    # Each benchmark shopper logs in as the shop's site would let it (a signed token).
    token = identity.issue(name, keys.get("SHOPPER_TOKEN_SECRET"))
    await sio.connect(url, transports=["websocket"], auth={"token": token})
    await sio.emit("session_request", {})
    await confirmed.wait()
    for i in range(count):
        text = MESSAGES[i % len(MESSAGES)]
        start = time.perf_counter()
        ack = await sio.call("user_uttered", {"message": text, "customData": {"client_id": f"{name}-{i}"}},
                             timeout=120)
        latencies.append(time.perf_counter() - start)
        if not ack.get("ok"):
            raise RuntimeError(f"{name}: {ack}")
    await sio.disconnect()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(p / 100 * (len(ordered) - 1))), len(ordered) - 1)]


async def run_level(url: str, clients: int, messages: int, tag: str) -> None:
    latencies: list[float] = []
    start = time.perf_counter()
    await asyncio.gather(*(shopper(url, f"bench-{tag}-{clients}-{i}", messages, latencies) for i in range(clients)))
    wall = time.perf_counter() - start
    print(f"N={clients:<3} msgs={len(latencies):<4} p50={pct(latencies, 50) * 1000:7.0f} ms  "
          f"p95={pct(latencies, 95) * 1000:7.0f} ms  p99={pct(latencies, 99) * 1000:7.0f} ms  "
          f"mean={statistics.mean(latencies) * 1000:6.0f} ms  {len(latencies) / wall:6.1f} msg/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 20, 50])
    parser.add_argument("--messages", type=int, default=5, help="messages per shopper")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shop-assist-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'shop.db'}"
        seed(make_engine(url))
        print("starting actions, Rasa and the gateway ...", flush=True)
        with running_stack(Path(tmp), url) as urls:
            asyncio.run(run_level(urls.gateway, 1, 3, "warmup"))  # first calls load lazily
            print("warm-up done; measuring", flush=True)
            for n in args.clients:
                asyncio.run(run_level(urls.gateway, n, args.messages, "run"))


if __name__ == "__main__":
    main()
