"""Where a message's time goes: per-stage clocks for `make bench`, off unless asked for.

Each server process (gateway, Rasa, action server) adds the wall time of its
stages to counters kept in memory, and, when `SHOP_TIMINGS_DIR` is set, writes
them to `<dir>/<role>-<pid>.json` at most once a second. `bot.bench` reads
those files and prints milliseconds per message for each stage. Without the
variable nothing is timed and nothing is written.

Stages nest (a message's gateway time holds its Rasa round trip, which holds
NLU, policies and action calls); the bench subtracts to print each part once.
Times are wall times: under load they include waiting for a busy process.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

T = TypeVar("T")
ENV = "SHOP_TIMINGS_DIR"
WRITE_EVERY = 1.0  # seconds between two writes of a process's file

_lock = threading.Lock()  # actions time database calls from worker threads
_totals: dict[str, list[float]] = {}  # stage -> [count, seconds]
_role = ""


def enabled() -> bool:
    return bool(os.environ.get(ENV))


def start(role: str) -> bool:
    """Names this process's file and starts writing it; True when timing is on."""
    global _role
    if not enabled() or _role:
        return enabled()
    _role = role
    threading.Thread(target=_writer, name="shop-timings", daemon=True).start()
    return True


def add(stage: str, seconds: float) -> None:
    if not _role:  # timing is off
        return
    with _lock:
        counter = _totals.setdefault(stage, [0, 0.0])
        counter[0] += 1
        counter[1] += seconds


@contextmanager
def timed(stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        add(stage, time.perf_counter() - started)


async def timed_async(stage: str, awaitable: Awaitable[T]) -> T:
    started = time.perf_counter()
    try:
        return await awaitable
    finally:
        add(stage, time.perf_counter() - started)


def snapshot() -> dict[str, list[float]]:
    with _lock:
        return {k: list(v) for k, v in _totals.items()}


def reset() -> None:
    with _lock:
        _totals.clear()


def _writer() -> None:
    """Writes the counters when they changed, so the bench reads them a second after a run."""
    target = Path(os.environ[ENV]) / f"{_role}-{os.getpid()}.json"
    temporary = target.with_suffix(".tmp")
    last = ""
    while True:
        now = json.dumps(snapshot())
        if now != last:
            try:
                temporary.write_text(now)
                temporary.replace(target)  # a reader never sees half a file
                last = now
            except OSError:  # the folder went away (the bench is over): nobody reads it now
                pass
        time.sleep(WRITE_EVERY)


def time_database(engine: Engine, stage: str = "database") -> None:
    """Adds every statement's execution time on `engine` to `stage`."""
    if getattr(engine, "_shop_timed", False):
        return
    engine._shop_timed = True  # type: ignore[attr-defined]

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        conn.info.setdefault("shop_started", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        started: Optional[list[float]] = conn.info.get("shop_started")
        if started:
            add(stage, time.perf_counter() - started.pop())


def read(folder: Path) -> dict[str, dict[str, list[float]]]:
    """Every process's counters, summed per role: role -> stage -> [count, seconds]."""
    out: dict[str, dict[str, list[float]]] = {}
    for path in sorted(folder.glob("*.json")):
        role = path.stem.rsplit("-", 1)[0]
        stages = out.setdefault(role, {})
        for stage, (count, seconds) in json.loads(path.read_text()).items():
            total = stages.setdefault(stage, [0, 0.0])
            total[0] += count
            total[1] += seconds
    return out
