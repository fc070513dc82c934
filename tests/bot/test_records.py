"""The record model on a real database: SQLite always, PostgreSQL when it answers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import shop
from bot.clock import utcnow
from bot.models import (
    AfterSalesCase,
    Base,
    Category,
    Order,
    OrderItem,
    OrderNote,
    Product,
    Shopper,
    Sku,
    TrackingEvent,
)


def _build(engine: Engine) -> None:
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    now = utcnow()
    with Session(engine, future=True) as s, s.begin():
        s.add(Category(code="tops", name_zh="上衣", name_en="Tops"))
        p = Product(code="T1", name_zh="T恤", name_en="Tee", category_code="tops", price=Decimal("79.90"),
                    aliases=["tee"], size_chart=[{"size": "M", "min_kg": 50, "max_kg": 60}])
        p.skus.append(Sku(code="T1-white-M", color_zh="白色", color_en="white", size="M", stock=3))
        s.add(p)
        for sid in ("a1", "b2"):
            s.add(Shopper(id=sid, nickname=sid, phone="13800000000", address="上海"))
        s.flush()
        o = Order(order_no="800000000001", shopper_id="a1", status="shipped", address="上海", phone="138",
                  total=Decimal("159.80"), paid_at=now - timedelta(hours=30), shipped_at=now - timedelta(hours=20),
                  courier="SF", tracking_no="SF1")
        o.items.append(OrderItem(sku=p.skus[0], quantity=2, unit_price=Decimal("79.90")))
        o.tracking_events.append(TrackingEvent(at=now - timedelta(hours=5), place="杭州", text_zh="到达", text_en="arrived"))
        s.add(o)


def test_records_round_trip(any_engine: Engine) -> None:
    _build(any_engine)
    with Session(any_engine, future=True) as s:
        order = shop.find_order(s, "a1", "800000000001")
        assert order is not None
        assert order.total == Decimal("159.80")  # money is exact on every backend
        assert order.items[0].sku.product.size_chart[0]["size"] == "M"
        assert order.items[0].sku.product.aliases == ["tee"]
        assert [e.place for e in order.tracking_events] == ["杭州"]


def test_an_order_holds_several_numbered_cases(any_engine: Engine) -> None:
    _build(any_engine)
    now = utcnow()
    with Session(any_engine, future=True) as s, s.begin():
        order = shop.find_order(s, "a1", "800000000001")
        assert order is not None
        first = shop.create_case(s, order, order.items[0], "quality", "开胶", now)
        second = shop.create_case(s, order, order.items[0], "repair", "再次开胶", now)
        numbers = (first.case_no, second.case_no, first.id)
    assert numbers[0] != numbers[1]
    assert numbers[0].startswith("AS") and numbers[0].endswith(f"{numbers[2]:06d}")
    with Session(any_engine, future=True) as s:
        kinds = s.execute(select(AfterSalesCase.kind).order_by(AfterSalesCase.id)).scalars().all()
        assert kinds == ["quality", "repair"]


def test_another_shoppers_order_is_invisible(any_engine: Engine) -> None:
    _build(any_engine)
    with Session(any_engine, future=True) as s:
        assert shop.find_order(s, "b2", "800000000001") is None
        assert shop.find_order(s, "a1", "999999999999") is None
        assert shop.find_order(s, "a1", "'; DROP TABLE orders; --") is None
        assert shop.find_order(s, "a1", "8" * 5000) is None
        assert s.execute(select(Order)).scalars().first() is not None  # still there


@pytest.mark.parametrize(
    "bad",
    [
        lambda: Sku(code="x", product_id=1, color_zh="红", color_en="red", size="M", stock=-1),
        lambda: OrderNote(order_id=1, flag="green", author="x", text="x"),
        lambda: Order(order_no="800000000002", shopper_id="a1", status="lost", address="a", phone="1", total=1),
        lambda: AfterSalesCase(case_no="AS1", order_id=1, kind="teleport", status="open"),
    ],
    ids=["negative-stock", "unknown-flag", "unknown-status", "unknown-case-kind"],
)
def test_constraints_reject_impossible_records(any_engine: Engine, bad) -> None:  # type: ignore[no-untyped-def]
    _build(any_engine)
    with pytest.raises(IntegrityError), Session(any_engine, future=True) as s, s.begin():
        s.add(bad())


def test_order_numbers_are_unique(any_engine: Engine) -> None:
    _build(any_engine)
    with pytest.raises(IntegrityError), Session(any_engine, future=True) as s, s.begin():
        s.add(Order(order_no="800000000001", shopper_id="b2", status="paid", address="a", phone="1", total=1))


def test_sqlite_files_keep_their_connections_with_the_pragmas(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text as sql
    from sqlalchemy.pool import QueuePool

    from bot.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    assert isinstance(engine.pool, QueuePool)  # not a new connection per transaction
    for _ in range(3):
        with engine.connect() as conn:
            assert conn.execute(sql("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(sql("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(sql("PRAGMA synchronous")).scalar() == 1  # NORMAL: the log synced at checkpoints
    assert engine.pool.checkedin() == 1  # the one connection, kept
    engine.dispose()
    assert make_engine("sqlite://").pool.__class__.__name__ == "SingletonThreadPool"  # in memory: one database
