"""Nothing the bot is measured on is trained on.

../shared/eval (data nobody here wrote) and the held-out out-of-scope set
measure the model; a training example equal to one of their sentences, after
normalising case, spaces, punctuation and script, would inflate the figures.
"""

import csv
import re
import unicodedata
from pathlib import Path

import pytest

from bot.text import to_simplified
from tests.test_training_data import examples

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT.parent / "shared" / "eval"
HELDOUT = ROOT / "tests" / "nlu" / "heldout_scope.csv"
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def normalise(text: str) -> str:
    """Case, width, script, spaces and punctuation do not make a sentence new."""
    text = to_simplified(unicodedata.normalize("NFKC", _ANNOTATION.sub(r"\1", text))).casefold()
    return "".join(ch for ch in text if not (ch.isspace() or unicodedata.category(ch).startswith(("P", "S"))))


def training_sentences() -> dict[str, str]:
    return {normalise(text): text for texts in examples().values() for text in texts}


def measured_sentences() -> list[tuple[str, str]]:
    found = []
    for path in sorted(EVAL_DIR.glob("*.csv")) + [HELDOUT]:
        with path.open(encoding="utf-8") as f:
            found += [(path.name, row["text"]) for row in csv.DictReader(f)]
    return found


def test_normalise_ignores_what_does_not_make_a_sentence_new() -> None:
    assert normalise("Where is my  ORDER?!") == normalise("where is my order")
    assert normalise("我的訂單到哪了？") == normalise("我的订单到哪了")
    assert normalise("[羽绒服](product)有货吗") == normalise("羽绒服有货吗")
    assert normalise("where is my order") != normalise("where is my parcel")


@pytest.mark.skipif(not EVAL_DIR.exists(), reason="no ../shared/eval on this machine")
def test_no_training_example_is_an_eval_or_heldout_sentence() -> None:
    trained = training_sentences()
    leaked = [(name, text, trained[normalise(text)]) for name, text in measured_sentences()
              if normalise(text) in trained]
    assert not leaked, leaked[:20]


def test_the_check_catches_a_planted_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    name, text = measured_sentences()[0]
    planted = examples()
    planted["order_status"].append(text.upper() + " !")
    monkeypatch.setattr("tests.test_eval_leakage.examples", lambda: planted)
    assert normalise(text) in training_sentences(), (name, text)


def test_heldout_set_is_large_enough_in_both_languages() -> None:
    with HELDOUT.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    oos = {lang: sum(r["intent"] == "out_of_scope" and r["language"] == lang for r in rows) for lang in ("zh", "en")}
    inscope = {lang: sum(r["intent"] != "out_of_scope" and r["language"] == lang for r in rows) for lang in ("zh", "en")}
    assert min(oos.values()) >= 200 and min(inscope.values()) >= 100, (oos, inscope)
