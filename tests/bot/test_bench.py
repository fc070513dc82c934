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


def test_long_conversations_are_timed_side_by_side_under_a_steady_load() -> None:
    clients, each = 10, 2
    in_flight = [0]
    clock = [0]  # one tick per answer, whoever's
    timed: list[tuple[int, int, int]] = []  # (tick, turn, conversations in flight) of each timed answer

    def conversation(turns: int, record: bench.Record) -> bench.Send:
        async def send(name: str, index: int, latencies: list[float]) -> None:
            in_flight[0] += 1
            for turn in range(turns):
                await asyncio.sleep(0)
                clock[0] += 1
                before = sum(len(t) for t in per_turn)
                record(turn, 0.01)
                if sum(len(t) for t in per_turn) > before:
                    timed.append((clock[0], turn, in_flight[0]))
            in_flight[0] -= 1

        return send

    per_turn: list[list[float]] = [[] for _ in range(bench.LONG_TURNS)]
    asyncio.run(bench.staggered(conversation, clients, per_turn, each=each))
    assert all(len(turn) == each * clients for turn in per_turn)
    assert all(n == clients for _, _, n in timed)  # every timed answer under the full load
    # Turns 1-10 and 41-50 timed over the same moments: their mean times within 2 % of the window.
    ticks = [tick for tick, _, _ in timed]
    span = max(ticks) - min(ticks)

    def mean_tick(first: int) -> float:
        picked = [tick for tick, turn, _ in timed if first <= turn < first + 10]
        return sum(picked) / len(picked)

    assert abs(mean_tick(40) - mean_tick(0)) < 0.02 * span
