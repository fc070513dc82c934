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


def test_long_conversations_run_side_by_side_under_a_steady_load() -> None:
    clients = 10
    in_flight: list[int] = [0]
    seen: list[tuple[int, int, int]] = []  # (in flight, measured turn, shopper) at each measured turn

    def conversation(turns: int, per_turn: list[list[float]] | None) -> bench.Send:
        async def send(name: str, index: int, latencies: list[float]) -> None:
            in_flight[0] += 1
            for turn in range(turns):
                await asyncio.sleep(0)
                if per_turn is not None:
                    seen.append((in_flight[0], turn, index))
                    per_turn[turn].append(0.01)
            in_flight[0] -= 1

        return send

    per_turn: list[list[float]] = [[] for _ in range(bench.LONG_TURNS)]
    asyncio.run(bench.staggered(conversation, clients, per_turn, each=2))
    assert all(len(turn) == 2 * clients for turn in per_turn)
    assert all(n == clients for n, _, _ in seen)  # every measured turn answered at the full load
    # Early and late turns of different shoppers at the same moments: shopper 0 starts its measured
    # conversation while the last shopper's lead is almost at its end, and so on.
    first_turns = [i for i, (_, turn, _) in enumerate(seen) if turn == 0]
    late_turns = [i for i, (_, turn, _) in enumerate(seen) if turn >= 40]
    assert min(late_turns) < max(first_turns)
