"""Grouped k-fold cross-validation over the real shoppers' rows (part of make eval).

    python -m bot.crossval [--folds 5] [--config config.yml] [--baseline]

The real rows (data/nlu/real/, written from ../shared/train by
bot.nlu.real_rows) are split into folds per language, stratified by intent
and grouped so that a sentence and its near-duplicates (rapidfuzz ratio >= 80
after `sentence_key`) always fall in the same fold. Each fold's model is
trained on the hand-written data and the other folds' real rows, with the
same pipeline and Rasa's own training, and scored on its own fold. What it
measures is how the model does on real messages it has not seen, the
question the visible eval files stop answering once anything is tuned
on them.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.nlu.real_rows import OUT_DIR as REAL_DIR
from bot.nlu.real_rows import OWN_DATA, Row, read_yaml, render
from bot.review import REVIEWED
from bot.settings import ROOT
from bot.text import sentence_key

FOLDS = 5
# Near-duplicates share a fold: "发票呢" and "发票呢?" or "hello there" and "hello there!" are one sentence.
NEAR_DUPLICATE = 80.0
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"
ROWS_OUT = ROOT / "reports"


def language(row: Row) -> str:
    """The real files are one language each, named by it (zh_jddc.yml, en_clinc.yml)."""
    return row.source.split("_", 1)[0]


def real_rows() -> list[Row]:
    return [row for path in sorted(REAL_DIR.glob("*.yml")) for row in read_yaml(path)]


def near_duplicate_groups(texts: list[str], cutoff: float = NEAR_DUPLICATE) -> list[int]:
    """A group number per text: texts joined by a chain of near-duplicates share one."""
    from rapidfuzz import fuzz, process

    keys = [sentence_key(t) for t in texts]
    parent = list(range(len(keys)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    scores = process.cdist(keys, keys, scorer=fuzz.ratio, score_cutoff=cutoff, workers=-1)
    for i, j in zip(*scores.nonzero(), strict=True):
        parent[root(int(i))] = root(int(j))
    return [root(i) for i in range(len(keys))]


def assign_folds(rows: list[Row], folds: int, seed: int = 0) -> list[int]:
    """A fold per row: per language, stratified by intent, near-duplicates together."""
    from sklearn.model_selection import StratifiedGroupKFold

    fold_of = [0] * len(rows)
    for lang in sorted({language(r) for r in rows}):
        index = [i for i, r in enumerate(rows) if language(r) == lang]
        groups = near_duplicate_groups([rows[i].text for i in index])
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        for k, (_, test) in enumerate(splitter.split(index, [rows[i].intent for i in index], groups)):
            for t in test:
                fold_of[index[t]] = k
    return fold_of


@dataclass
class Result:
    rows: list[Row]
    predicted: list[str]
    confidence: list[float] = field(default_factory=list)
    under_fallback: list[str] = field(default_factory=list)

    def write(self, path: Path) -> None:
        """Every row's verdict, for reading the misses."""
        import csv

        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as f:
            out = csv.writer(f)
            out.writerow(["text", "intent", "predicted", "confidence", "best_under_fallback", "source_label"])
            for row, p, c, u in zip(self.rows, self.predicted, self.confidence, self.under_fallback, strict=True):
                out.writerow([row.text, row.intent, p, f"{c:.3f}", u, row.source_label])

    def of(self, lang: str, keep: Callable[[Row], bool] = lambda r: True) -> list[tuple[str, str]]:
        return [(r.intent, p) for r, p in zip(self.rows, self.predicted, strict=True)
                if language(r) == lang and keep(r)]


def accuracy(pairs: list[tuple[str, str]]) -> float:
    """An out-of-scope row answered with the clarifying buttons counts as caught: no shop answer is given."""
    return sum(p == g or (g == OUT_OF_SCOPE and p == FALLBACK) for g, p in pairs) / max(len(pairs), 1)


def in_scope_called_out_of_scope(pairs: list[tuple[str, str]]) -> float:
    inside = [p for g, p in pairs if g != OUT_OF_SCOPE]
    return sum(p == OUT_OF_SCOPE for p in inside) / max(len(inside), 1)


def headline(result: Result) -> dict[str, float]:
    """The figures issue 30 sets targets on, and the rest of each language's rows."""
    figures = {}
    for lang in sorted({language(r) for r in result.rows}):
        every = result.of(lang)
        figures[f"{lang} accuracy"] = accuracy(every)
        if any(g == OUT_OF_SCOPE for g, _ in every):
            figures[f"{lang} out-of-scope recall"] = accuracy([(g, p) for g, p in every if g == OUT_OF_SCOPE])
            figures[f"{lang} in-scope called out of scope"] = in_scope_called_out_of_scope(every)
        small_talk = [(g, p) for g, p in every if g in ("greet", "goodbye")]
        if small_talk:
            figures[f"{lang} greetings/goodbyes"] = accuracy(small_talk)
    return figures


def per_intent(result: Result, lang: str) -> dict[str, tuple[int, int]]:
    pairs = result.of(lang)
    rows = Counter(g for g, _ in pairs)
    hits = Counter(g for g, p in pairs if p == g or (g == OUT_OF_SCOPE and p == FALLBACK))
    return {intent: (hits[intent], rows[intent]) for intent in sorted(rows)}


def write_fold_data(directory: Path, train: list[Row]) -> None:
    """The hand-written data as it is, and the fold's real rows in the form bot.nlu.real_rows writes."""
    for path in [*OWN_DATA.glob("*.yml"), *REVIEWED.parent.glob("*.yml")]:
        shutil.copy(path, directory / path.name)
    for source in sorted({r.source for r in train}):
        text = render([r for r in train if r.source == source], source)
        (directory / f"real_{Path(source).stem}.yml").write_text(text, encoding="utf-8")


def train_fold(config: Path, data: Path, out: Path, name: str) -> Path:
    subprocess.run(
        [sys.executable, "-m", "bot.rasa_cli", "train", "nlu", "--config", str(config), "--nlu", str(data),
         "--domain", "domain", "--out", str(out), "--fixed-model-name", name],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return out / f"{name}.tar.gz"


async def parse_all(model: Path, texts: list[str]) -> list[tuple[str, float, str]]:
    """Per text: the intent (nlu_fallback when the model fell back), its confidence, and the best
    intent under the fallback."""
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs every parsed text at debug level.
    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.ERROR)

    agent = Agent.load(str(model))
    found = []
    for text in texts:
        parsed = await agent.parse_message(text)
        ranking = [r["name"] for r in parsed.get("intent_ranking") or [] if r["name"] != FALLBACK]
        intent = parsed["intent"]["name"] or FALLBACK
        found.append((intent, float(parsed["intent"].get("confidence") or 0.0), ranking[0] if ranking else intent))
    return found


def cross_validate(config: Path, folds: int = FOLDS, label: str = "shop-assist") -> Result:
    rows = real_rows()
    fold_of = assign_folds(rows, folds)
    predicted: list[str] = [""] * len(rows)
    confidence: list[float] = [0.0] * len(rows)
    under: list[str] = [""] * len(rows)
    with tempfile.TemporaryDirectory(prefix="crossval-") as tmp:
        for k in range(folds):
            started = time.perf_counter()
            data = Path(tmp) / f"data{k}"
            data.mkdir()
            write_fold_data(data, [r for r, f in zip(rows, fold_of, strict=True) if f != k])
            model = train_fold(config, data, Path(tmp), f"fold{k}")
            test = [i for i, f in enumerate(fold_of) if f == k]
            for i, (p, c, u) in zip(test, asyncio.run(parse_all(model, [rows[i].text for i in test])), strict=True):
                predicted[i], confidence[i], under[i] = p, c, u
            model.unlink()
            print(f"  {label} fold {k + 1}/{folds}: {len(test)} rows held out, "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
    return Result(rows, predicted, confidence, under)


def report(results: dict[str, Result], visible: dict[str, dict[str, float]] | None = None) -> None:
    """Side by side per model; `visible` adds each model's accuracy on the eval files and the gap to it."""
    names = list(results)
    print(f"\n  {'cross-validation, real rows':40}" + "".join(f"{n:>16}" for n in names))
    figures = {n: headline(r) for n, r in results.items()}
    for key in figures[names[0]]:
        print(f"  {key:40}" + "".join(f"{figures[n].get(key, float('nan')):>16.1%}" for n in names))
    for n in names:
        for lang, file_accuracy in (visible or {}).get(n, {}).items():
            cv = figures[n].get(f"{lang} accuracy")
            if cv is not None:
                print(f"  {n}: {lang} visible file {file_accuracy:.1%}, cross-validation {cv:.1%}, "
                      f"gap {100 * (file_accuracy - cv):+.1f} points")
    first = results[names[0]]
    for lang in sorted({language(r) for r in first.rows}):
        print(f"  per intent, {lang} ({names[0]}): " + ", ".join(
            f"{intent} {hits}/{n}" for intent, (hits, n) in per_intent(first, lang).items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--baseline", action="store_true", help="also Rasa's default pipeline (hours)")
    args = parser.parse_args()
    from bot.evaluate import BASELINE_CONFIG

    results = {"shop-assist": cross_validate(args.config, args.folds)}
    if args.baseline:
        results["rasa default"] = cross_validate(BASELINE_CONFIG, args.folds, "rasa default")
    report(results)
    for name, result in results.items():
        result.write(ROWS_OUT / f"crossval-{name.replace(' ', '-')}.csv")


if __name__ == "__main__":
    main()
