"""Nothing the bot is measured on is trained on.

../shared/eval (data nobody here wrote) and the held-out out-of-scope set
measure the model; a training example equal to one of their sentences, after
normalising case, spaces, punctuation and script, or a close edit of one (a
word swapped, a greeting added), would inflate the figures.
"""

import csv
from pathlib import Path

import pytest
from rapidfuzz import fuzz, process

from bot.nlu.real_rows import CLOSE_EDIT
from bot.text import sentence_key as normalise
from tests.test_training_data import examples

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT.parent / "shared" / "eval"
HELDOUT = ROOT / "tests" / "nlu" / "heldout_scope.csv"


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


def close_edits(trained: dict[str, str], measured: list[tuple[str, str]]) -> list[tuple[str, str, str, float]]:
    keys = list(trained)
    scores = process.cdist([normalise(text) for _, text in measured], keys, scorer=fuzz.ratio,
                           score_cutoff=CLOSE_EDIT)
    return [(measured[i][0], measured[i][1], trained[keys[j]], float(scores[i, j]))
            for i, j in zip(*scores.nonzero(), strict=True)]


@pytest.mark.skipif(not EVAL_DIR.exists(), reason="no ../shared/eval on this machine")
def test_no_training_example_is_a_close_edit_of_an_eval_or_heldout_sentence() -> None:
    near = close_edits(training_sentences(), measured_sentences())
    assert not near, near[:20]


def test_the_close_edit_check_catches_a_reworded_copy() -> None:
    measured = [("x.csv", "I have to change my delivery address"), ("x.csv", "保修多长时间呢?")]
    trained = {normalise(t): t for t in ("I need to change my delivery address", "保修多长时间",
                                          "where is my parcel", "发票怎么开")}
    assert [row[2] for row in close_edits(trained, measured)] == ["I need to change my delivery address", "保修多长时间"]


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
