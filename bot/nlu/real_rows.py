"""Real shoppers' messages from ../shared/train into the NLU data, by written rules only.

    python -m bot.nlu.real_rows            # writes data/nlu/real/*.yml, prints what each rule dropped
    python -m bot.nlu.real_rows --check    # exit 1 if the committed files are not this script's output

Every CSV in ../shared/train (`text,intent,source_label`) becomes one YAML file
under data/nlu/real/, its rows grouped by intent and source label, each block
carrying its source in Rasa's intent metadata. A row is left out only by one
of the rules in `RULES`, applied in that order to every row alike; nothing is
dropped or relabelled one by one.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.settings import ROOT
from bot.text import sentence_key

TRAIN_DIR = ROOT.parent / "shared" / "train"
EVAL_DIR = ROOT.parent / "shared" / "eval"
HELDOUT = ROOT / "tests" / "nlu" / "heldout_scope.csv"
OUT_DIR = ROOT / "data" / "nlu" / "real"
OWN_DATA = ROOT / "data" / "nlu"
OUT_OF_SCOPE = "out_of_scope"
# rapidfuzz's ratio (0-100) from which a training sentence counts as a close edit of a measured one
# (tests/test_eval_leakage.py holds the whole training data to it): "I have to change my delivery
# address" against "I need to change my delivery address" scores 90.
CLOSE_EDIT = 90.0
# Rows kept of each source label that stands for another assistant's topic (out_of_scope, not the
# source's own out-of-scope label "oos"). All ten of CLINC's rows each made 1,380 out-of-scope rows
# against about 120 per shop intent, and English shop questions ("can I get the bill") went out of scope.
FOREIGN_PER_LABEL = 3
FOREIGN_KEEP_WHOLE = ("oos",)

RULES = {
    "empty": "nothing left once case, spaces and punctuation are set aside",
    "measured": "is, or is a close edit of (ratio >= 90), a sentence the model is measured on "
                "(../shared/eval, the held-out set)",
    "disputed": "the same sentence carries two different intents in the source: its label says nothing",
    "repeated": "the same sentence again under the same intent (the first is kept)",
    "own": "the project's hand-written data already has this sentence (under any intent: the hand-written "
           "one stays, so one sentence never teaches two intents)",
    "sampled": f"past the first {FOREIGN_PER_LABEL} rows of another assistant's intent (CLINC's banking, "
               "travel, cooking, ...), all filed as out_of_scope: 146 foreign topics say 'not the shop' "
               "without outweighing the shop's own intents",
}


@dataclass(frozen=True)
class Row:
    text: str
    intent: str
    source_label: str
    source: str

    @property
    def key(self) -> str:
        return sentence_key(self.text)


def read_csv(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as f:
        # One line per example: a line break inside a message would end it in the YAML.
        return [Row(" ".join(r["text"].split()), r["intent"].strip(), r["source_label"].strip(), path.name)
                for r in csv.DictReader(f)]


def measured_keys() -> list[str]:
    keys = []
    for path in sorted(EVAL_DIR.glob("*.csv")) + ([HELDOUT] if HELDOUT.exists() else []):
        with path.open(encoding="utf-8", newline="") as f:
            keys += [sentence_key(r["text"]) for r in csv.DictReader(f)]
    return keys


def own_keys(directory: Path = OWN_DATA) -> set[str]:
    """The hand-written examples (data/nlu/*.yml, not the generated real/)."""
    keys = set()
    for path in directory.glob("*.yml"):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in block:
                keys |= {sentence_key(line[2:]) for line in block["examples"].splitlines() if line.startswith("- ")}
    return keys


def close_to_measured(keys: list[str], measured: list[str]) -> set[str]:
    from rapidfuzz import fuzz, process

    exact = set(measured)
    candidates = [k for k in dict.fromkeys(keys) if k and k not in exact]
    near = set()
    if candidates and measured:
        scores = process.cdist(candidates, measured, scorer=fuzz.ratio, score_cutoff=CLOSE_EDIT)
        near = {candidates[i] for i in set(scores.nonzero()[0])}
    return (exact & set(keys)) | near


def select(rows: list[Row], measured: list[str], own: set[str]) -> tuple[list[Row], dict[str, list[Row]]]:
    """The rows kept, and the rows each rule dropped."""
    dropped: dict[str, list[Row]] = {rule: [] for rule in RULES}
    near = close_to_measured([r.key for r in rows], measured)
    intents_of: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        intents_of[row.key].add(row.intent)
    kept, seen = [], set()
    foreign: Counter[str] = Counter()
    for row in rows:
        rule = ("empty" if not row.key else "measured" if row.key in near
                else "disputed" if len(intents_of[row.key]) > 1 else "repeated" if row.key in seen
                else "own" if row.key in own else None)
        if rule is None and row.intent == OUT_OF_SCOPE and row.source_label not in FOREIGN_KEEP_WHOLE:
            foreign[row.source_label] += 1
            rule = "sampled" if foreign[row.source_label] > FOREIGN_PER_LABEL else None
        if rule:
            dropped[rule].append(row)
        else:
            kept.append(row)
        seen.add(row.key)
    return kept, dropped


def render(rows: Iterable[Row], source: str) -> str:
    """Rasa YAML: a block per (intent, source label), in the order the source first uses them."""
    blocks: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in rows:
        blocks[(row.intent, row.source_label)].append(row.text)
    out = [f"# Written by `python -m bot.nlu.real_rows` from ../shared/train/{source}: do not edit by hand.",
           'version: "3.1"', "", "nlu:"]
    for (intent, label), texts in blocks.items():
        out += [f"- intent: {intent}", "  metadata:", f"    source: {source}",
                f"    source_label: {yaml.safe_dump(label, allow_unicode=True).splitlines()[0]}",
                "  examples: |"]
        out += [f"    - {text}" for text in texts]
    return "\n".join(out) + "\n"


def read_yaml(path: Path) -> list[Row]:
    """The rows of a file `render` wrote, with their sources."""
    rows = []
    for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
        meta = block["metadata"]
        rows += [Row(line[2:], block["intent"], str(meta["source_label"]), meta["source"])
                 for line in block["examples"].splitlines() if line.startswith("- ")]
    return rows


def outputs() -> tuple[dict[Path, str], dict[str, dict[str, list[Row]]]]:
    """Each output file's text, and per source what each rule dropped."""
    measured, own = measured_keys(), own_keys()
    files, report = {}, {}
    for path in sorted(TRAIN_DIR.glob("*.csv")):
        kept, dropped = select(read_csv(path), measured, own)
        files[OUT_DIR / f"{path.stem.removesuffix('_train')}.yml"] = render(kept, path.name)
        report[path.name] = dropped
    return files, report


def shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if data/nlu/real differs from the output")
    args = parser.parse_args(argv)
    if not TRAIN_DIR.exists():
        print(f"no {TRAIN_DIR}: nothing to do")
        return 0
    files, report = outputs()
    for source, dropped in report.items():
        counts = Counter({rule: len(rows) for rule, rows in dropped.items()})
        print(f"{source}: dropped " + ", ".join(f"{rule} {n}" for rule, n in counts.items()))
    stale = [p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    stale += [p for p in OUT_DIR.glob("*.yml") if p not in files]
    if args.check:
        for path in stale:
            print(f"not this script's output: {shown(path)}")
        return 1 if stale else 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for path in OUT_DIR.glob("*.yml"):
        if path not in files:
            path.unlink()
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {shown(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
