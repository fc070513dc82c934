from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot import policy
from bot.clock import utcnow
from bot.db import make_engine
from bot.models import AfterSalesCase, Category, Order, Product, Shopper
from bot.seed import main as seed_main
from bot.seed import seed, seeded_at


def test_sample_shop_is_big_enough(seeded: Engine) -> None:
    with Session(seeded) as s:
        assert s.scalar(select(func.count(Product.id))) >= 30
        assert s.scalar(select(func.count(Category.code))) >= 4
        assert s.scalar(select(func.count(Shopper.id))) >= 20
        assert s.scalar(select(func.count(Order.id))) >= 120
        statuses = Counter(s.execute(select(Order.status)).scalars())
    assert set(statuses) == {"unpaid", "paid", "shipped", "delivered", "completed", "cancelled"}


def test_every_logistics_situation_exists_now(seeded: Engine) -> None:
    now = utcnow()
    seen: set[str] = set()
    with Session(seeded) as s:
        for o in s.execute(select(Order)).scalars():
            if o.status == "paid":
                seen.add("paid_" + policy.shipping_check(o.paid_at, now).state)
            elif o.status == "shipped":
                seen.add("shipped_" + policy.tracking_check(o.tracking_events[-1].at, now).state)
            elif o.delivered_at is not None:
                days = (now - o.delivered_at).days
                if days == 0 and (now - o.delivered_at).total_seconds() < 36 * 3600:
                    seen.add("delivered_yesterday")
                if days == 20:
                    seen.add("delivered_20_days_ago")
    assert {
        "paid_within_promise", "paid_overdue", "shipped_fresh", "shipped_stale", "shipped_lost",
        "delivered_yesterday", "delivered_20_days_ago",
    } <= seen


def test_cases_of_several_kinds_and_an_order_with_two(seeded: Engine) -> None:
    with Session(seeded) as s:
        kinds = set(s.execute(select(AfterSalesCase.kind)).scalars())
        per_order = Counter(s.execute(select(AfterSalesCase.order_id)).scalars())
    assert len(kinds) >= 5
    assert max(per_order.values()) >= 2


def test_seed_is_deterministic(tmp_path: Path) -> None:
    numbers = []
    for name in ("a.db", "b.db"):
        engine = make_engine(f"sqlite:///{tmp_path / name}")
        seed(engine)
        with Session(engine) as s:
            numbers.append(list(s.execute(select(Order.order_no).order_by(Order.id)).scalars()))
    assert numbers[0] == numbers[1]


@pytest.fixture
def own_shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Engine]]:
    """`python -m bot.seed` pointed at a database of this test's own; gives the process engine."""
    from bot import db

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'own.db'}")
    db.get_engine.cache_clear()
    try:
        yield db.get_engine
    finally:
        db.get_engine.cache_clear()


def test_if_missing_keeps_a_fresh_shop_and_moves_an_old_one_forward(own_shop: Callable[[], Engine]) -> None:
    seed_main(["--if-missing"])
    first = seeded_at(own_shop())
    with Session(own_shop()) as s:
        orders = s.scalar(select(func.count(Order.id)))
    seed_main(["--if-missing"])
    assert seeded_at(own_shop()) == first
    seed_main(["--if-missing", "--max-age-hours", "0"])
    assert seeded_at(own_shop()) > first  # type: ignore[operator]
    with Session(own_shop()) as s:  # moved, not reseeded (tests/bot/test_schema.py: every record kept)
        assert s.scalar(select(func.count(Order.id))) == orders
