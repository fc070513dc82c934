"""The real shoppers' rows reach the training data only through bot.nlu.real_rows and its written rules."""

import shutil
from pathlib import Path

import pytest

from bot.nlu import real_rows
from bot.nlu.real_rows import Row, read_yaml, render, select
from bot.text import sentence_key


def row(text: str, intent: str = "order_status") -> Row:
    return Row(text, intent, "物流全程跟踪", "zh_test.csv")


@pytest.mark.skipif(not real_rows.TRAIN_DIR.exists(), reason="no ../shared/train on this machine")
def test_committed_real_rows_are_the_scripts_output() -> None:
    assert real_rows.main(["--check"]) == 0, "run `python -m bot.nlu.real_rows` and commit data/nlu/real/"


@pytest.mark.skipif(not real_rows.TRAIN_DIR.exists(), reason="no ../shared/train on this machine")
def test_the_check_fails_on_a_hand_edited_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "real"
    shutil.copytree(real_rows.OUT_DIR, copy)
    edited = next(copy.glob("*.yml"))
    edited.write_text(edited.read_text(encoding="utf-8").replace("    - ", "    - 亲，", 1), encoding="utf-8")
    monkeypatch.setattr(real_rows, "OUT_DIR", copy)
    assert real_rows.main(["--check"]) == 1


@pytest.mark.skipif(not real_rows.TRAIN_DIR.exists(), reason="no ../shared/train on this machine")
def test_every_source_row_is_kept_or_dropped_by_a_named_rule() -> None:
    files, report = real_rows.outputs()
    kept = sum(len(read_yaml_text(text)) for text in files.values())
    dropped = sum(len(rows) for by_rule in report.values() for rows in by_rule.values())
    sources = sum(len(real_rows.read_csv(p)) for p in real_rows.TRAIN_DIR.glob("*.csv"))
    assert kept + dropped == sources
    exceptions = sum(len(rows) for by_rule in report.values() for rule, rows in by_rule.items() if rule != "sampled")
    assert exceptions < 0.05 * sources, "the rules are for exceptions, not for choosing the data"


def read_yaml_text(text: str) -> list[Row]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.yml"
        path.write_text(text, encoding="utf-8")
        return read_yaml(path)


def test_each_rule_drops_what_it_names_and_nothing_else() -> None:
    rows = [
        row("我的快递到哪了"),
        row("？？"),                                       # empty
        row("请问我的发票开好了吗？", "invoice_request"),   # measured: a close edit of a measured sentence
        row("好的", "ask_product"), row("好的。", "complain"),  # disputed: one sentence, two intents
        row("我的快递到哪了！"),                             # repeated
        row("在吗", "greet"),                               # own: the hand-written data has it
        *[Row(f"what is my credit score number {i}", "out_of_scope", "credit_score", "en_test.csv")
          for i in range(real_rows.FOREIGN_PER_LABEL + 1)],  # sampled past the first few
        *[Row(f"tell me something odd {i}", "out_of_scope", "oos", "en_test.csv")
          for i in range(real_rows.FOREIGN_PER_LABEL + 1)],  # the source's own out-of-scope rows: all kept
    ]
    kept, dropped = select(rows, measured=[sentence_key("请问我的发票开好了吗")], own={sentence_key("在吗")})
    foreign, own_oos = rows[7:7 + real_rows.FOREIGN_PER_LABEL + 1], rows[7 + real_rows.FOREIGN_PER_LABEL + 1:]
    assert kept == [rows[0], *foreign[:-1], *own_oos]
    assert {rule: [r.text for r in found] for rule, found in dropped.items()} == {
        "empty": ["？？"], "measured": ["请问我的发票开好了吗？"], "disputed": ["好的", "好的。"],
        "repeated": ["我的快递到哪了！"], "own": ["在吗"], "sampled": [foreign[-1].text]}


def test_rendered_rows_read_back_with_their_source() -> None:
    rows = [row("我的快递到哪了"), row("hello there", "greet"), row("发票: 抬头写错了 #2", "invoice_request"),
            row("物流不动了")]
    assert read_yaml_text(render(rows, "zh_test.csv")) == [rows[0], rows[3], rows[1], rows[2]]
