"""Measure intent accuracy on the external evaluation sets in ../shared/eval.

    python -m bot.evaluate            (make eval)

Only measures: those sentences are never training data. Rows whose intent the
model does not have yet are counted separately, not scored.
"""

from __future__ import annotations

import asyncio
import csv
import logging
from collections import Counter, defaultdict

from bot.settings import ROOT

EVAL_DIR = ROOT.parent / "shared" / "eval"
MODEL = ROOT / "models" / "shop-assist.tar.gz"
# Intents this model answers through another one for now (urging shipment is
# handled as an order-status question, whose reply applies the 48 h rule).
FOLDED = {"urge_shipment": "order_status"}


async def evaluate() -> None:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs every parsed text at debug level; keep the evaluation quiet.
    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.ERROR)
    agent = Agent.load(str(MODEL))
    known = set(agent.domain.intents)
    for path in sorted(EVAL_DIR.glob("*.csv")):
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        hits: Counter[str] = Counter()
        totals: Counter[str] = Counter()
        confused: dict[str, Counter[str]] = defaultdict(Counter)
        skipped: Counter[str] = Counter()
        for row in rows:
            gold = FOLDED.get(row["intent"], row["intent"])
            if gold not in known:
                skipped[row["intent"]] += 1
                continue
            parsed = await agent.parse_message(row["text"])
            predicted = parsed["intent"]["name"]
            totals[gold] += 1
            if predicted == gold:
                hits[gold] += 1
            else:
                confused[gold][predicted] += 1
        scored = sum(totals.values())
        print(f"\n{path.name}: {sum(hits.values())}/{scored} = {sum(hits.values()) / max(scored, 1):.1%} "
              f"on intents the model has ({len(rows) - scored} rows with other intents not scored)")
        for intent in sorted(totals):
            top = ", ".join(f"{k} {v}" for k, v in confused[intent].most_common(3))
            print(f"  {intent:16} {hits[intent]:4}/{totals[intent]:<4} {hits[intent] / totals[intent]:6.1%}"
                  f"{'   confused with: ' + top if top else ''}")
        if skipped:
            print("  not modelled yet: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))


def main() -> None:
    if not EVAL_DIR.exists():
        print(f"no evaluation data at {EVAL_DIR}")
        return
    asyncio.run(evaluate())


if __name__ == "__main__":
    main()
