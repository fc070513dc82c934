from pathlib import Path

from rasa.shared.nlu.training_data.message import Message

from bot import train
from bot.nlu.guard import InputGuard, is_unreadable
from bot.nlu.tokenizer import ShopJiebaTokenizer, dictionary_digest


def tokenizer() -> ShopJiebaTokenizer:
    config = {**ShopJiebaTokenizer.get_default_config(), "dictionary_path": None}
    return ShopJiebaTokenizer(config, None, None)  # type: ignore[arg-type]


def test_mixed_text_has_no_blank_tokens() -> None:
    tokens = tokenizer().tokenize(Message({"text": "羽绒服 size  M 有货吗"}), "text")
    texts = [t.text for t in tokens]
    assert all(t.strip() for t in texts)
    assert "size" in texts and "M" in texts
    assert texts[0] == "羽绒服" and tokens[0].start == 0


def test_huge_messages_are_bounded() -> None:
    assert len(tokenizer().tokenize(Message({"text": "买 " * 10_000}), "text")) == 256


def test_dictionary_content_changes_the_fingerprint(tmp_path: Path) -> None:
    (tmp_path / "shop.txt").write_text("羽绒服 100 n\n", encoding="utf-8")
    before = ShopJiebaTokenizer.fingerprint_addon({"dictionary_path": str(tmp_path)})
    (tmp_path / "shop.txt").write_text("羽绒服 100 n\n冲锋衣 100 n\n", encoding="utf-8")
    after = ShopJiebaTokenizer.fingerprint_addon({"dictionary_path": str(tmp_path)})
    assert before and after and before != after
    assert dictionary_digest(None) is None


def test_training_is_skipped_only_when_nothing_changed(tmp_path: Path) -> None:
    for name in train.INPUTS:
        src = train.ROOT / name
        dst = tmp_path / name
        if src.is_dir():
            for f in src.rglob("*"):
                if f.is_file() and "__pycache__" not in f.parts:
                    (dst / f.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
                    (dst / f.relative_to(src)).write_bytes(f.read_bytes())
        else:
            dst.write_bytes(src.read_bytes())
    first = train.fingerprint(tmp_path)
    assert train.fingerprint(tmp_path) == first
    with open(tmp_path / "data" / "dict" / "shop.txt", "a", encoding="utf-8") as f:
        f.write("羽绒马甲 100 n\n")
    assert train.fingerprint(tmp_path) != first


def test_guard_flags_what_cannot_be_read() -> None:
    assert is_unreadable("🙂🙂🙂", 500)
    assert is_unreadable("?!...", 500)
    assert is_unreadable("买" * 501, 500)
    assert not is_unreadable("你好", 500)
    assert not is_unreadable("812345678901", 500)
    guard = InputGuard(InputGuard.get_default_config())
    message = Message({"text": "👍", "intent": {"name": "affirm", "confidence": 0.9}})
    guard.process([message])
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}
