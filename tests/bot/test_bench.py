"""The bench's paired rounds: stock and ours take turns, each round at N=20, each level its own."""

from __future__ import annotations

import asyncio

from bot import bench


def test_paired_rounds_take_turns() -> None:
    order: list[str] = []

    def sender(who: str, took: float) -> bench.Send:
        async def send(name: str, index: int, latencies: list[float]) -> None:
            if index == 0:
                order.append(who)
            await asyncio.sleep(0)
            latencies.append(took)

        return send

    rounds = asyncio.run(bench.paired(sender("stock", 0.4), sender("ours", 0.1), 3))
    assert order == ["stock", "ours"] * 3
    assert len(rounds) == 3
    for stock, ours in rounds:
        assert stock.clients == ours.clients == bench.PAIRED_CLIENTS
        assert stock.latencies == [0.4] * bench.PAIRED_CLIENTS and ours.latencies == [0.1] * bench.PAIRED_CLIENTS
