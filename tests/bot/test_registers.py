"""The shop's registers and the agents' case changes, on a real seeded shop."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot import conversations as conv
from bot import registers, shop
from bot.models import Photo

NOW = datetime(2026, 11, 23, 10, 0)


def test_each_register_lists_its_kind(fresh_shop: Engine) -> None:
    with Session(fresh_shop) as s, s.begin():
        order = shop.orders_with_status(s, "u1001", ["delivered"])[0]
        repair = shop.create_case(s, order, order.items[0], "repair", "拉链坏了", NOW)
        wrong = shop.create_case(s, order, order.items[0], "wrong_item", "发错颜色", NOW)
        s.flush()
        conv.ensure(s, "u1001")
        s.add(Photo(conversation_id="u1001", case_id=wrong.id, filename="u1001-x.png", content_type="image/png",
                    size=10))
        repair_no, wrong_no = repair.case_no, wrong.case_no
    with Session(fresh_shop) as s:
        assert registers.register(s, "nonsense") is None
        repairs = registers.register(s, "repairs")
        assert repairs is not None and repair_no in [r["case_no"] for r in repairs]
        assert {r["kind"] for r in repairs} == {"repair"}
        wrong_rows = registers.register(s, "wrong_shipments")
        assert wrong_rows is not None and {r["kind"] for r in wrong_rows} <= {"wrong_item", "missing_item"}
        (row,) = (r for r in wrong_rows if r["case_no"] == wrong_no)
        assert row["photos"] == ["/uploads/u1001-x.png"]
        everything = registers.register(s, "after_sales")
        assert everything is not None and len(everything) >= len(repairs) + len(wrong_rows)
        # The seed's compensation case and its damaged-in-transit case are registered where the shop looks.
        assert any(r["kind"] == "compensation" for r in registers.register(s, "compensation") or [])
        assert any(r["kind"] == "damaged" for r in registers.register(s, "lost_parcels") or [])


def test_agents_record_progress_tracking_and_compensation_within_the_cap(fresh_shop: Engine) -> None:
    with Session(fresh_shop) as s, s.begin():
        order = shop.orders_with_status(s, "u1001", ["delivered"])[0]
        case = shop.create_case(s, order, order.items[0], "repair", "拉链坏了", NOW)
        number, cap = case.case_no, (order.total * Decimal("0.30")).quantize(Decimal("0.01"))
    with Session(fresh_shop) as s, s.begin():
        assert registers.update_case(s, "AS000", {"status": "closed"}, "小美", False, NOW).error == "not_found"
        assert registers.update_case(s, number, {"status": "lost"}, "小美", False, NOW).error == "bad_status"
        assert registers.update_case(s, number, {}, "小美", False, NOW).error == "nothing"
        for bad in ("abc", "NaN", "-1", "Infinity"):
            assert registers.update_case(s, number, {"amount_paid": bad}, "小美", False, NOW).error == "bad_amount"
        over = str(cap + Decimal("0.01"))
        assert registers.update_case(s, number, {"amount_paid": over}, "小美", False, NOW).error == "over_cap"
        assert registers.update_case(s, number, {"amount_paid": over}, "林主管", True, NOW).ok
        done = registers.update_case(s, number, {"status": "repairing", "progress": "已收到，维修中"}, "小美", False, NOW)
        assert done.ok and done.case and done.case["status"] == "repairing" and done.shipped_back is None
        later = registers.update_case(s, number, {"progress": "修好寄回", "return_tracking_no": "SF123"}, "大伟",
                                      False, NOW)
        assert later.shipped_back == "SF123"
        assert later.case and later.case["progress"] == "2026-11-23 已收到，维修中（小美）\n2026-11-23 修好寄回（大伟）"
        again = registers.update_case(s, number, {"return_tracking_no": "SF123"}, "大伟", False, NOW)
        assert again.error == "nothing", "the same number twice tells the shopper once"


def test_the_goodwill_cap_holds_across_an_orders_cases(fresh_shop: Engine) -> None:
    with Session(fresh_shop) as s, s.begin():
        # The seed's compensation case, and a second one on the same order.
        order = next(o for o in shop.orders_with_status(s, "u1018", ["completed"])
                     if any(c.kind == "compensation" for c in o.cases))
        first = next(c for c in order.cases if c.kind == "compensation")
        first.amount_paid = None
        second = shop.create_case(s, order, order.items[0], "compensation", "掉色", NOW)
        cap = (order.total * Decimal("0.30")).quantize(Decimal("0.01"))
        numbers = first.case_no, second.case_no
    with Session(fresh_shop) as s, s.begin():
        two_thirds = (cap * 2 / 3).quantize(Decimal("0.01"))
        assert registers.update_case(s, numbers[0], {"amount_paid": str(two_thirds)}, "小美", False, NOW).ok
        # The second case may pay only what the first left of the cap; a supervisor may pay more.
        assert registers.update_case(s, numbers[1], {"amount_paid": str(two_thirds)}, "小美", False,
                                     NOW).error == "over_cap"
        assert registers.update_case(s, numbers[1], {"amount_paid": str(cap - two_thirds)}, "小美", False, NOW).ok
        # Correcting the first case's own figure is measured against the others, not against itself.
        assert registers.update_case(s, numbers[0], {"amount_paid": str(two_thirds)}, "小美", False, NOW).ok


def test_progress_and_tracking_must_be_text(fresh_shop: Engine) -> None:
    with Session(fresh_shop) as s, s.begin():
        order = shop.orders_with_status(s, "u1001", ["delivered"])[0]
        number = shop.create_case(s, order, order.items[0], "repair", "拉链坏了", NOW).case_no
    with Session(fresh_shop) as s, s.begin():
        for bad in ({"a": 1}, [1, 2], 5, True):
            assert registers.update_case(s, number, {"progress": bad}, "小美", False, NOW).error == "bad_text"
            assert registers.update_case(s, number, {"return_tracking_no": bad}, "小美", False,
                                         NOW).error == "bad_text"
        assert registers.update_case(s, number, {"progress": "寄回\ud800中"}, "小美", False, NOW).ok
        assert registers.update_case(s, number, {"progress": None}, "小美", False, NOW).error == "nothing"
