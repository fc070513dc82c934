"""Measure intent understanding on data nobody here wrote (make eval).

    python -m bot.evaluate [--no-baseline]

Scores every row of each file in ../shared/eval with the shop-assist model and,
side by side, with Rasa's default pipeline (bot/rasa_default_config.yml)
trained on the same project data. Prints accuracy, macro-F1, a per-intent
table, the top confusions and milliseconds per message, and writes a confusion
matrix PNG per file to reports/. Also scores the held-out out-of-scope set
(tests/nlu/heldout_scope.csv) when present. Only measures: those sentences are
never training data (tests/test_eval_leakage.py). Then cross-validates over the
real shoppers' rows (bot/crossval.py) and prints the gap between the visible
files and the cross-validation per language. Everything printed is also
written to benchmarks/results/eval-<date>.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import logging
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bot import crossval
from bot.settings import ROOT

EVAL_DIR = ROOT.parent / "shared" / "eval"
MODEL = ROOT / "models" / "shop-assist.tar.gz"
BASELINE = ROOT / "models" / "rasa-default.tar.gz"
BASELINE_CONFIG = ROOT / "bot" / "rasa_default_config.yml"
BASELINE_STAMP = ROOT / "models" / ".rasa-default.fingerprint"
REPORTS = ROOT / "reports"
# What each make eval printed, dated: the measurements the project keeps.
RESULTS = ROOT / "benchmarks" / "results"
HELDOUT_SCOPE = ROOT / "tests" / "nlu" / "heldout_scope.csv"
OUT_OF_SCOPE = "out_of_scope"
# What a shopper-facing answer would be for these: a fallback is "not understood".
NOT_UNDERSTOOD = "nlu_fallback"


@dataclass
class Score:
    gold: list[str] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def accuracy(self) -> float:
        return sum(g == p for g, p in zip(self.gold, self.predicted, strict=False)) / max(len(self.gold), 1)

    @property
    def macro_f1(self) -> float:
        from sklearn.metrics import f1_score

        return float(f1_score(self.gold, self.predicted, labels=sorted(set(self.gold)), average="macro",
                              zero_division=0))

    @property
    def ms_per_message(self) -> float:
        return 1000 * self.seconds / max(len(self.gold), 1)

    def per_intent(self) -> dict[str, tuple[int, int, float]]:
        """intent -> (hits, rows, F1)."""
        from sklearn.metrics import f1_score

        labels = sorted(set(self.gold))
        f1s = f1_score(self.gold, self.predicted, labels=labels, average=None, zero_division=0)
        hits = Counter(g for g, p in zip(self.gold, self.predicted, strict=False) if g == p)
        rows = Counter(self.gold)
        return {label: (hits[label], rows[label], float(f)) for label, f in zip(labels, f1s, strict=False)}

    def confusions(self, top: int = 8) -> list[tuple[tuple[str, str], int]]:
        return Counter((g, p) for g, p in zip(self.gold, self.predicted, strict=False) if g != p).most_common(top)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


async def score(agent: Any, rows: list[dict[str, str]]) -> Score:
    result = Score()
    start = time.perf_counter()
    for row in rows:
        parsed = await agent.parse_message(row["text"])
        result.gold.append(row["intent"])
        result.predicted.append(parsed["intent"]["name"] or NOT_UNDERSTOOD)
    result.seconds = time.perf_counter() - start
    return result


# What the baseline reads: not config.yml, the Jieba dictionary or bot/nlu, so
# tuning shop-assist doesn't cost a 25-minute retrain of the default pipeline.
BASELINE_INPUTS = ("domain", "data/nlu", "requirements.txt", str(BASELINE_CONFIG.relative_to(ROOT)))


def baseline_fingerprint() -> str:
    from bot.train import fingerprint

    return fingerprint(inputs=BASELINE_INPUTS)


def train_baseline() -> None:
    """Rasa's default NLU pipeline on the project's data, retrained when either changes."""
    stamp = baseline_fingerprint()
    if BASELINE.exists() and BASELINE_STAMP.exists() and BASELINE_STAMP.read_text() == stamp:
        return
    print("baseline: training Rasa's default pipeline on the same data ...", flush=True)
    started = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).with_name("rasa")), "train", "nlu", "--config", str(BASELINE_CONFIG),
         "--domain", "domain", "--nlu", "data/nlu", "--out", "models",
         "--fixed-model-name", BASELINE.name.removesuffix(".tar.gz")],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )
    BASELINE_STAMP.write_text(stamp)
    print(f"baseline: trained in {time.perf_counter() - started:.0f} s")


def plot_confusion(name: str, result: Score) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    labels = sorted(set(result.gold) | set(result.predicted))
    matrix = confusion_matrix(result.gold, result.predicted, labels=labels)
    fig, ax = plt.subplots(figsize=(1 + 0.45 * len(labels), 1 + 0.45 * len(labels)))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    ax.set_title(f"{name}: accuracy {result.accuracy:.1%}")
    fig.tight_layout()
    REPORTS.mkdir(exist_ok=True)
    out = REPORTS / f"confusion-{name.removesuffix('.csv')}.png"
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def print_file(name: str, ours: Score, base: Score | None) -> None:
    line = f"\n{name}: {len(ours.gold)} rows, every row scored\n"
    line += f"  {'':18}{'shop-assist':>14}{'rasa default':>14}\n"
    for label, fn in (("accuracy", lambda s: f"{s.accuracy:.1%}"), ("macro-F1", lambda s: f"{s.macro_f1:.3f}"),
                      ("ms / message", lambda s: f"{s.ms_per_message:.1f}")):
        line += f"  {label:18}{fn(ours):>14}{fn(base) if base else '-':>14}\n"
    print(line, end="")
    base_rows = base.per_intent() if base else {}
    print(f"  {'intent':24}{'rows':>6}{'ours':>8}{'F1':>7}{'default':>9}")
    for intent, (hits, rows, f1) in ours.per_intent().items():
        other = f"{base_rows[intent][0] / rows:.1%}" if intent in base_rows else "-"
        print(f"  {intent:24}{rows:6}{hits / rows:8.1%}{f1:7.2f}{other:>9}")
    print("  top confusions (gold -> predicted): " +
          "; ".join(f"{g} -> {p} {n}" for (g, p), n in ours.confusions()))


def print_scope(ours: Score, base: Score | None) -> None:
    def rates(s: Score, language: str, langs: list[str]) -> tuple[float, float]:
        pairs = [(g, p) for g, p, lang in zip(s.gold, s.predicted, langs, strict=False) if lang == language]
        oos = [p for g, p in pairs if g == OUT_OF_SCOPE]
        ins = [p for g, p in pairs if g != OUT_OF_SCOPE]
        recall = sum(p in (OUT_OF_SCOPE, NOT_UNDERSTOOD) for p in oos) / max(len(oos), 1)
        false_oos = sum(p == OUT_OF_SCOPE for p in ins) / max(len(ins), 1)
        return recall, false_oos

    langs = [row["language"] for row in read_rows(HELDOUT_SCOPE)]
    print(f"\n{HELDOUT_SCOPE.relative_to(ROOT)} (held out, never trained on): "
          f"{Counter(zip(langs, (g == OUT_OF_SCOPE for g in ours.gold), strict=False))}")
    for language in sorted(set(langs)):
        recall, false_oos = rates(ours, language, langs)
        line = f"  {language}: out-of-scope recall {recall:.1%}, in-scope called out of scope {false_oos:.1%}"
        if base:
            b_recall, b_false = rates(base, language, langs)
            line += f"   (rasa default: {b_recall:.1%}, {b_false:.1%})"
        print(line)


async def evaluate(with_baseline: bool) -> dict[str, dict[str, float]]:
    """Scores every file; returns each model's accuracy per language of the visible files."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs every parsed text at debug level; keep the evaluation quiet.
    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.ERROR)
    ours = Agent.load(str(MODEL))
    base = Agent.load(str(BASELINE)) if with_baseline else None
    print(f"model size: shop-assist {MODEL.stat().st_size / 1e6:.1f} MB"
          + (f", rasa default {BASELINE.stat().st_size / 1e6:.1f} MB" if with_baseline else ""))
    visible: dict[str, dict[str, float]] = {"shop-assist": {}, "rasa default": {}}
    for path in sorted(EVAL_DIR.glob("*.csv")):
        rows = read_rows(path)
        mine = await score(ours, rows)
        theirs = await score(base, rows) if base else None
        print_file(path.name, mine, theirs)
        print(f"  confusion matrix: {plot_confusion(path.name, mine).relative_to(ROOT)}")
        language = path.name.split("_", 1)[0]  # en_bitext.csv, zh_jddc_dev.csv
        visible["shop-assist"][language] = mine.accuracy
        if theirs:
            visible["rasa default"][language] = theirs.accuracy
    if HELDOUT_SCOPE.exists():
        rows = read_rows(HELDOUT_SCOPE)
        print_scope(await score(ours, rows), await score(base, rows) if base else None)
    return visible


class Tee(io.TextIOBase):
    """What make eval prints, also written to its dated results file."""

    def __init__(self, *streams: Any) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
            stream.flush()
        return len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-baseline", action="store_true", help="skip training/scoring Rasa's default")
    parser.add_argument("--folds", type=int, default=crossval.FOLDS, help="cross-validation folds; 0 skips it")
    parser.add_argument("--baseline-folds", action="store_true",
                        help="cross-validate Rasa's default too (about 40 minutes a fold here)")
    args = parser.parse_args()
    if not EVAL_DIR.exists():
        print(f"no evaluation data at {EVAL_DIR}")
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"eval-{datetime.now(timezone.utc):%Y-%m-%d-%H%M}.txt"
    with out.open("w", encoding="utf-8") as file, contextlib.redirect_stdout(Tee(sys.stdout, file)):
        print(f"make eval, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, commit {commit()}")
        if not args.no_baseline:
            train_baseline()
        visible = asyncio.run(evaluate(with_baseline=not args.no_baseline))
        if args.folds:
            print(f"\ncross-validation: {args.folds} folds over the real rows (data/nlu/real), grouped by "
                  "near-duplicate, each fold trained on everything else", flush=True)
            results = {"shop-assist": crossval.cross_validate(ROOT / "config.yml", args.folds)}
            if args.baseline_folds:
                results["rasa default"] = crossval.cross_validate(BASELINE_CONFIG, args.folds, "rasa default")
            crossval.report(results, visible)
            for name, result in results.items():
                result.write(REPORTS / f"crossval-{name.replace(' ', '-')}.csv")
    print(f"results: {out.relative_to(ROOT)}")


def commit() -> str:
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    return (found.stdout.strip() or "unknown") + (" with uncommitted changes" if dirty.strip() else "")


if __name__ == "__main__":
    main()
