from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot import shop
from bot.clock import utcnow
from bot.models import OrderNote


def test_longest_product_name_wins(s: Session) -> None:
    assert [p.code for p in shop.match_products(s, "长款羽绒服有货吗")] == ["P002"]
    assert [p.code for p in shop.match_products(s, "羽绒服什么材质")] == ["P001"]
    assert [p.code for p in shop.match_products(s, "is the PUFFER jacket warm")] == ["P001"]
    assert shop.match_products(s, "unicorn onesie") == []
    # The entity is tried first, then the whole message; on a tie the entity stays.
    assert [p.code for p in shop.match_products(s, "雪地靴", "羽绒服")] == ["P022"]
    # NLU tagged only part of a longer name the message says: the longer name wins.
    assert [p.code for p in shop.match_products(s, "羽绒服", "长款羽绒服还有货吗")] == ["P002"]


def test_matching_reads_names_and_finds_what_a_whole_catalogue_scan_finds(s: Session) -> None:
    def scan(text: str) -> list[str]:  # every product loaded and compared, as before
        products = shop.all_products(s)
        t = shop._norm(text)
        best = {p.id: max(len(shop._norm(n)) for n in hits) for p in products
                if (hits := [n for n in [p.name_zh, p.name_en, *p.aliases] if shop._norm(n) and shop._norm(n) in t])}
        return [p.code for p in sorted(products, key=lambda p: p.id) if best and best.get(p.id) == max(best.values())]

    texts = [n for p in shop.all_products(s) for n in [p.name_zh, p.name_en, *p.aliases]]
    texts += [f"{a}和{b}哪个好" for a, b in zip(texts, texts[7:], strict=False)] + ["nothing here", "羽绒服 雪地靴"]
    ties = 0
    for text in texts:
        found = shop.match_products(s, text)
        assert [p.code for p in found] == scan(text), text
        assert all(p.skus and p.category for p in found)  # loaded whole
        ties += len(found) > 1
    assert ties  # ties occur: all tied products come back


def test_alternatives_are_in_stock_same_category_and_still_made(s: Session) -> None:
    coat = shop.product_by_code(s, "P002")
    assert coat is not None and all(sku.stock == 0 for sku in coat.skus)
    alternatives = shop.in_stock_alternatives(s, coat)
    assert alternatives
    for p in alternatives:
        assert p.category_code == "outerwear" and p.in_production and p.code != "P002"
        assert sum(sku.stock for sku in p.skus) > 0


def test_sku_matching_by_colour_and_size(s: Session) -> None:
    jacket = shop.product_by_code(s, "P001")
    assert jacket is not None
    assert [k.code for k in shop.matching_skus(jacket, "黑色", "m码")] == ["P001-black-M"]
    assert [k.code for k in shop.matching_skus(jacket, "Navy", "L")] == ["P001-navy-L"]
    assert len(shop.matching_skus(jacket, None, None)) == 15
    assert shop.matching_skus(jacket, "紫色", None) == []


def test_notes_of_one_kind_are_written_once(fresh_shop: Engine) -> None:
    with Session(fresh_shop) as s, s.begin():
        order = shop.orders_with_status(s, "u1005", ["shipped"])[0]
        assert shop.add_note_once(s, order, kind="lost_claim", flag="red", author="bot", text="claim")
        s.flush()
        assert not shop.add_note_once(s, order, kind="lost_claim", flag="red", author="bot", text="claim")
    with Session(fresh_shop) as s:
        assert len(s.execute(select(OrderNote).where(OrderNote.kind == "lost_claim")).scalars().all()) == 1


def test_returnable_orders_are_inside_the_window(s: Session) -> None:
    returnable = shop.returnable_orders(s, "u1001", utcnow())
    assert len(returnable) == 1 and returnable[0].status == "delivered"
    assert shop.returnable_orders(s, "u1007", utcnow()) == []


def test_case_waits_for_its_evidence_then_opens(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from bot.models import AfterSalesCase

    with Session(fresh_shop) as s, s.begin():
        order = shop.orders_with_status(s, "u1001", ["delivered"])[0]
        case = shop.create_case(s, order, order.items[0], "damaged", "压坏了", datetime(2026, 11, 23))
        assert case.status == "awaiting_photos"
        assert not shop.evidence_arrived(s, case, 1)  # label and item: two photos
        assert shop.evidence_arrived(s, case, 2)
        assert not shop.evidence_arrived(s, case, 3)  # only once
        case_id = case.id
    with Session(fresh_shop) as s:
        assert s.get(AfterSalesCase, case_id).status == "open"  # type: ignore[union-attr]
