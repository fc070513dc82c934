"""Train the model only when something that shapes it has changed.

The fingerprint covers config, domain, training data (including the Jieba
dictionary), the custom NLU components and the pinned requirements. Rasa's
own progress output is shown as it trains.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import ROOT

MODEL = ROOT / "models" / "shop-assist.tar.gz"
STAMP = ROOT / "models" / ".fingerprint"
INPUTS = ["config.yml", "domain", "data", "bot/nlu", "requirements.txt"]


def fingerprint(root: Path = ROOT, inputs: Sequence[str] = tuple(INPUTS)) -> str:
    digest = hashlib.sha256()
    for name in inputs:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def is_stale() -> bool:
    if not MODEL.exists() or not STAMP.exists():
        return True
    return STAMP.read_text().strip() != fingerprint()


def command() -> list[str]:
    """`rasa train` with our speedups to Rasa's training (bot/rasa_cli.py). Rasa's own check of the
    data before training is left to `make test` (`rasa data validate`): in `rasa train` it read
    every training file a second time, about 8 s of each training here."""
    return [
        sys.executable, "-m", "bot.rasa_cli", "train", "--skip-validation",
        "--config", "config.yml", "--domain", "domain", "--data", "data",
        "--out", "models", "--fixed-model-name", MODEL.name.removesuffix(".tar.gz"),
    ]


def train() -> None:
    # Taken before training: a file changed while Rasa trains must leave the model stale.
    stamp = fingerprint()
    subprocess.run(command(), cwd=ROOT, check=True)
    STAMP.write_text(stamp + "\n")


def take_labels() -> None:
    """What agents labelled in the console joins the reviewed training file (bot/review.py)."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot import review

    try:
        review.main(["export"])
    except SQLAlchemyError as error:  # no shop database here (a training-only machine): nothing to take
        print(f"reviewed: no labels read ({error.__class__.__name__})")


def main() -> None:
    from bot.nlu import dictionary

    # The Jieba dictionary follows the catalogue; a change makes the model stale.
    if dictionary.write():
        print(f"dictionary: {dictionary.DICTIONARY.relative_to(ROOT)} regenerated from the catalogue")
    take_labels()
    if is_stale():
        print("model: training (data, domain or config changed) ...", flush=True)
        train()
        print(f"model: trained -> {MODEL.relative_to(ROOT)} ({MODEL.stat().st_size / 1e6:.1f} MB)")
    else:
        print(f"model: up to date -> {MODEL.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
