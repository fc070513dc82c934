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


# --- Traditional Chinese -----------------------------------------------------------------------

def test_traditional_chinese_becomes_simplified_before_tokenising() -> None:
    from bot.nlu.normalise import TraditionalToSimplified

    messages = [Message({"text": "輕薄羽絨服有黑色M碼嗎"}), Message({"text": "where is my order"}),
                Message({"text": "我的訂單 order 到哪裡了"})]
    TraditionalToSimplified().process(messages)
    assert [m.get("text") for m in messages] == ["轻薄羽绒服有黑色M码吗", "where is my order", "我的订单 order 到哪里了"]
    tokens = [t.text for t in tokenizer().tokenize(messages[0], "text")]
    assert "轻薄羽绒服" in tokens or "羽绒服" in tokens


# --- catalogue entities ------------------------------------------------------------------------

def terms() -> list:
    from bot.catalogue import PRODUCTS, C
    from bot.nlu.catalogue_entities import catalogue_terms

    class Row:
        def __init__(self, **kw: object) -> None:
            self.__dict__.update(kw)

    rows = [Row(name_zh=p["name_zh"], name_en=p["name_en"], aliases=p["aliases"],
                skus=[Row(color_zh=C[c][0], color_en=C[c][1], size=z) for c in p["colors"] for z in p["sizes"]])
            for p in PRODUCTS]
    return catalogue_terms(rows)


def found(text: str, matcher: object) -> list[tuple[str, str, str]]:
    return [(e["entity"], text[e["start"]:e["end"]], e["value"]) for e in matcher.find(text)]  # type: ignore[attr-defined]


def test_catalogue_matcher_finds_names_colours_and_sizes_in_both_languages() -> None:
    from bot.nlu.catalogue_entities import CatalogueMatcher

    m = CatalogueMatcher(terms())
    assert found("轻薄羽绒服有黑色M码吗", m) == [
        ("product", "轻薄羽绒服", "轻薄羽绒服"), ("color", "黑色", "黑色"), ("size", "M", "M")]
    assert found("Do you have the NAVY Down Jacket in XL?", m) == [
        ("color", "NAVY", "NAVY"), ("product", "Down Jacket", "Down Jacket"), ("size", "XL", "XL")]
    # The longest match wins, and letters inside a word are no size or colour.
    assert found("长款羽绒服", m)[0][1] == "长款羽绒服"
    assert found("XXL有吗", m) == [("size", "XXL", "XXL")]
    assert found("LOL, hundred bucks", m) == []
    assert found("买3件，订单812345678901", m) == []


def test_number_sizes_need_a_size_word_and_the_entity_is_the_number() -> None:
    from bot.nlu.catalogue_entities import CatalogueMatcher, Term

    m = CatalogueMatcher([Term("size", s) for s in ("42码", "42号", "size 42", "均码", "one size")])
    assert found("帆布鞋42码有吗", m) == [("size", "42", "42")]
    assert found("do you have size 42", m) == [("size", "42", "42")]
    assert found("围巾是均码吗", m) == [("size", "均码", "均码")]
    assert found("买42件", m) == []


def test_extractor_reads_the_live_catalogue_so_a_new_product_needs_no_retraining(fresh_shop) -> None:
    from bot.db import get_sessionmaker
    from bot.models import Product, Sku
    from bot.nlu.catalogue_entities import CatalogueEntityExtractor

    extractor = CatalogueEntityExtractor({"refresh_seconds": 0})
    before = Message({"text": "速干登山短袖有橙色L码吗", "entities": []})
    extractor.process([before])
    assert "速干登山短袖" not in [e["value"] for e in before.get("entities")]
    with get_sessionmaker()() as s, s.begin():
        product = Product(code="P900", name_zh="速干登山短袖", name_en="Quick-dry hiking tee",
                          category_code="tops", price=129, aliases=["速干衣"], size_chart=[])
        product.skus = [Sku(code="P900-OR-L", color_zh="橙色", color_en="orange", size="L", stock=5)]
        s.add(product)
    after = Message({"text": "速干登山短袖有橙色L码吗",
                     "entities": [{"entity": "product", "start": 0, "end": 4, "value": "速干登山", "extractor": "DIET"}]})
    extractor.process([after])
    assert [(e["entity"], e["value"], e["extractor"]) for e in after.get("entities")] == [
        ("product", "速干登山短袖", "CatalogueEntityExtractor"), ("color", "橙色", "CatalogueEntityExtractor"),
        ("size", "L", "CatalogueEntityExtractor")]  # DIET's partial "速干登山" is replaced


def test_extractor_keeps_working_when_the_database_is_unreachable(monkeypatch) -> None:
    from bot.nlu import catalogue_entities

    def down() -> list:
        raise ConnectionError("database down")

    monkeypatch.setattr(catalogue_entities, "load_terms", down)
    extractor = catalogue_entities.CatalogueEntityExtractor({"refresh_seconds": 0})
    message = Message({"text": "羽绒服有货吗", "entities": []})
    assert extractor.process([message]) == [message] and message.get("entities") == []


# --- Jieba dictionary from the catalogue ---------------------------------------------------------

def test_the_committed_dictionary_is_the_one_the_catalogue_generates() -> None:
    from bot.nlu import dictionary

    assert dictionary.DICTIONARY.read_text(encoding="utf-8") == dictionary.generated()


def test_a_catalogue_change_reaches_the_dictionary_and_the_model_fingerprint(tmp_path: Path, monkeypatch) -> None:
    from bot import catalogue
    from bot.nlu import dictionary

    (tmp_path / "catalogue.txt").write_text(dictionary.generated(), encoding="utf-8")
    before = ShopJiebaTokenizer.fingerprint_addon({"dictionary_path": str(tmp_path)})
    new = {**catalogue.PRODUCTS[0], "name_zh": "速干登山短袖", "aliases": ["速干衣"]}
    monkeypatch.setattr(catalogue, "PRODUCTS", [*catalogue.PRODUCTS, new])
    assert dictionary.write(tmp_path / "catalogue.txt") is True
    assert "速干登山短袖 " in (tmp_path / "catalogue.txt").read_text(encoding="utf-8")
    assert ShopJiebaTokenizer.fingerprint_addon({"dictionary_path": str(tmp_path)}) != before
    assert dictionary.write(tmp_path / "catalogue.txt") is False


def test_word_endings_and_lower_case_letters_are_no_sizes() -> None:
    from bot.nlu.catalogue_entities import CatalogueMatcher

    m = CatalogueMatcher(terms())
    assert found("where's my order, it's late", m) == []
    assert found("I'm 1.8 m tall", m) == []
    assert found("m码有吗", m) == [("size", "m", "m")]
