"""The sample shop: filled deterministically, with times relative to now.

    python -m bot.seed            # drop and re-create the sample shop (only the sample)
    python -m bot.seed --if-missing --max-age-hours 12
                                  # what `make run` does: upgrade the schema in place;
                                  # seed an empty database; move an old sample's times
                                  # forward so "delivered yesterday" still holds

The seeder marks the database it fills (the `seed_info` table). A database
without that mark holds a shop's own records: it is only ever upgraded, never
dropped or reseeded.

Every logistics situation in WORKFLOWS.md exists for some shopper: paid within
48 h, paid past 48 h, shipped with a fresh update, quiet for 48 h, quiet for
72 h, delivered yesterday, delivered 20 days ago; plus unpaid, completed and
cancelled orders and after-sales cases of several kinds.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Optional

from sqlalchemy import Column, DateTime, Integer, inspect, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Mapped, Session

from bot import catalogue, schema
from bot.agents import DEMO_PASSWORD
from bot.clock import utcnow
from bot.db import ensure_database, get_engine
from bot.models import (
    AfterSalesCase,
    Agent,
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
from bot.security import hash_password
from bot.settings import database_url

SEED = 20261111
# Sample console logins (printed by `make run`); change them for a real shop.
AGENTS = [("xiaomei", "小美", "agent"), ("dawei", "大伟", "agent"), ("lin", "林主管", "supervisor")]


class SeedInfo(Base):
    """When the sample shop was seeded (its relative times age from then)."""

    __tablename__ = "seed_info"
    id: Mapped[int] = Column(Integer, primary_key=True)
    seeded_at: Mapped[datetime] = Column(DateTime, nullable=False)


SURNAMES = ["林", "王", "张", "李", "陈", "刘", "杨", "黄", "赵", "周", "吴", "徐"]
GIVEN = ["小雨", "晓明", "佳佳", "子涵", "一帆", "思远", "欣怡", "浩然", "梓萱", "宇轩", "诗琪", "俊杰"]
CITIES = [
    ("上海市浦东新区张杨路 {n} 号", "sh"),
    ("北京市朝阳区建国路 {n} 号", "bj"),
    ("广东省深圳市南山区科技园路 {n} 号", "sz"),
    ("四川省成都市武侯区天府大道 {n} 号", "cd"),
    ("浙江省杭州市西湖区文三路 {n} 号", "hz"),
]
PLACES = [
    ("杭州转运中心", "Hangzhou hub"),
    ("上海分拨中心", "Shanghai sorting centre"),
    ("北京顺义集散中心", "Beijing Shunyi hub"),
    ("广州白云转运中心", "Guangzhou Baiyun hub"),
    ("成都双流分拨中心", "Chengdu Shuangliu hub"),
]


class _Builder:
    def __init__(self, s: Session, now: datetime) -> None:
        self.s = s
        self.now = now
        self.rng = random.Random(SEED)
        self.used_order_nos: set[str] = set()
        self.skus: list[Sku] = []
        self.case_seq = 0

    def ago(self, hours: float) -> datetime:
        return self.now - timedelta(hours=hours)

    def order_no(self) -> str:
        while True:
            no = "8" + "".join(self.rng.choice("0123456789") for _ in range(11))
            if no not in self.used_order_nos:
                self.used_order_nos.add(no)
                return no

    def catalogue(self) -> None:
        for code, zh, en in catalogue.CATEGORIES:
            self.s.add(Category(code=code, name_zh=zh, name_en=en))
        for spec in catalogue.PRODUCTS:
            fields = {k: v for k, v in spec.items() if k not in ("colors", "sizes")}
            fields["price"] = Decimal(fields["price"])
            product = Product(**fields)
            self.s.add(product)
            for color in spec["colors"]:
                zh, en = catalogue.C[color]
                for size in spec["sizes"]:
                    # Mostly in stock, some SKUs sold out; fixed by the seed.
                    roll = self.rng.random()
                    stock = 0 if roll < 0.15 else self.rng.randint(1, 60)
                    sku = Sku(
                        code=f"{spec['code']}-{color}-{size}",
                        color_zh=zh,
                        color_en=en,
                        size=size,
                        stock=stock,
                    )
                    product.skus.append(sku)
                    self.skus.append(sku)
        self.s.flush()
        # Named situations the tests and demo rely on: the long coat is sold
        # out in every variant; the leather jacket is discontinued.
        for sku in self.skus:
            if sku.code.startswith("P002-"):
                sku.stock = 0
            if sku.code == "P001-black-M":
                sku.stock = 12
            if sku.code == "P001-navy-L":
                sku.stock = 0

    def shoppers(self, count: int) -> list[Shopper]:
        people = []
        for i in range(count):
            addr, _ = CITIES[i % len(CITIES)]
            shopper = Shopper(
                id=f"u{1001 + i}",
                nickname=SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 5) % len(GIVEN)],
                phone=f"13{self.rng.randint(100000000, 999999999)}",
                address=addr.format(n=self.rng.randint(1, 999)),
                language="en" if i % 4 == 3 else "zh",
            )
            people.append(shopper)
            self.s.add(shopper)
        self.s.flush()
        return people

    def sku(self, code: Optional[str] = None) -> Sku:
        if code:
            return next(s for s in self.skus if s.code == code)
        return self.rng.choice(self.skus)

    def order(
        self,
        shopper: Shopper,
        status: str,
        *,
        placed_h: float,
        paid_h: Optional[float] = None,
        shipped_h: Optional[float] = None,
        last_update_h: Optional[float] = None,
        delivered_h: Optional[float] = None,
        skus: Optional[list[str]] = None,
        quantities: Optional[list[int]] = None,
    ) -> Order:
        picked = [self.sku(c) for c in skus] if skus else [
            self.sku() for _ in range(self.rng.choice([1, 1, 1, 2, 3]))
        ]
        qty = quantities or [self.rng.choice([1, 1, 2]) for _ in picked]
        courier = self.rng.choice(list(catalogue.COURIERS))
        order = Order(
            order_no=self.order_no(),
            shopper_id=shopper.id,
            status=status,
            created_at=self.ago(placed_h),
            paid_at=self.ago(paid_h) if paid_h is not None else None,
            address=shopper.address,
            phone=shopper.phone,
            total=Decimal("0"),
        )
        total = Decimal("0")
        for sku, q in zip(picked, qty, strict=False):
            price = sku.product.price
            order.items.append(OrderItem(sku=sku, quantity=q, unit_price=price))
            total += price * q
        order.total = total
        if status == "cancelled":
            order.cancelled_at = self.ago(placed_h - 1)
        if shipped_h is not None:
            order.shipped_at = self.ago(shipped_h)
            order.courier = courier
            order.tracking_no = f"{courier}{self.rng.randint(10**11, 10**12 - 1)}"
            order.transaction_deadline = order.shipped_at + timedelta(days=10)
            self._tracking(order, shipped_h, last_update_h, delivered_h)
        if delivered_h is not None:
            order.delivered_at = self.ago(delivered_h)
        self.s.add(order)
        return order

    def _tracking(
        self,
        order: Order,
        shipped_h: float,
        last_update_h: Optional[float],
        delivered_h: Optional[float],
    ) -> None:
        start = self.rng.choice(PLACES)
        order.tracking_events.append(
            TrackingEvent(
                at=self.ago(shipped_h),
                place=start[0],
                text_zh=f"快件已在【{start[0]}】揽收",
                text_en=f"Picked up at {start[1]}",
            )
        )
        end_h = delivered_h if delivered_h is not None else last_update_h
        if end_h is None:
            return
        mid = self.rng.choice(PLACES)
        mid_h = (shipped_h + end_h) / 2
        if mid_h > end_h + 0.5:
            order.tracking_events.append(
                TrackingEvent(
                    at=self.ago(mid_h),
                    place=mid[0],
                    text_zh=f"快件已到达【{mid[0]}】",
                    text_en=f"Arrived at {mid[1]}",
                )
            )
        if delivered_h is not None:
            order.tracking_events.append(
                TrackingEvent(
                    at=self.ago(delivered_h),
                    place="收件地址",
                    text_zh="快件已签收，签收人：本人",
                    text_en="Delivered, signed for by the recipient",
                )
            )
        elif end_h < shipped_h:
            order.tracking_events.append(
                TrackingEvent(
                    at=self.ago(end_h),
                    place=mid[0],
                    text_zh=f"快件已从【{mid[0]}】发出，下一站【派送网点】",
                    text_en=f"Left {mid[1]} for the delivery station",
                )
            )

    def case(self, order: Order, kind: str, status: str, reason: str, days_ago: float) -> None:
        self.case_seq += 1
        at = self.ago(days_ago * 24)
        order.cases.append(
            AfterSalesCase(
                case_no=f"AS{at:%y%m%d}{self.case_seq:04d}",
                order_item_id=order.items[0].id,
                kind=kind,
                status=status,
                reason=reason,
                created_at=at,
                updated_at=at,
            )
        )

    def named_situations(self, people: list[Shopper]) -> None:
        """One shopper per WORKFLOWS.md situation, for the demo, docs and tests."""
        u = {p.id: p for p in people}
        # u1001: several orders: in transit, delivered yesterday (returnable, two
        # items), delivered 20 days ago (two cases on it).
        self.order(u["u1001"], "shipped", placed_h=40, paid_h=39, shipped_h=30, last_update_h=3,
                   skus=["P008-white-M"], quantities=[2])
        self.order(u["u1001"], "delivered", placed_h=100, paid_h=99, shipped_h=80, delivered_h=20,
                   skus=["P001-black-M", "P029-grey-F"], quantities=[1, 1])
        old = self.order(u["u1001"], "completed", placed_h=600, paid_h=599, shipped_h=560, delivered_h=480,
                         skus=["P021-white-38"], quantities=[1])
        self.s.flush()
        self.case(old, "quality", "closed", "鞋底开胶 / sole coming unglued", 18)
        self.case(old, "repair", "repairing", "返修后又开胶 / came unglued again after repair", 5)
        # u1002: one open order, paid 10 h ago, within the 48 h promise.
        self.order(u["u1002"], "paid", placed_h=10.5, paid_h=10, skus=["P004-blue-L"], quantities=[1])
        # u1003: paid 60 h ago and still not shipped: past the promise.
        self.order(u["u1003"], "paid", placed_h=61, paid_h=60, skus=["P009-beige-M"], quantities=[1])
        # u1004: shipped, no update for 50 h.
        self.order(u["u1004"], "shipped", placed_h=100, paid_h=99, shipped_h=90, last_update_h=50,
                   skus=["P015-blue-M"], quantities=[1])
        # u1005: shipped, no update for 80 h: treat as lost.
        self.order(u["u1005"], "shipped", placed_h=130, paid_h=129, shipped_h=120, last_update_h=80,
                   skus=["P022-beige-38"], quantities=[1])
        # u1006: unpaid order.
        self.order(u["u1006"], "unpaid", placed_h=5, skus=["P026-black-F"], quantities=[1])
        # u1007: delivered 20 days ago only (return window passed).
        self.order(u["u1007"], "completed", placed_h=560, paid_h=559, shipped_h=530, delivered_h=480,
                   skus=["P011-white-L"], quantities=[1])
        # u1008: shipped 30 h ago, last update 30 h ago (slow but normal).
        self.order(u["u1008"], "shipped", placed_h=40, paid_h=39, shipped_h=30, last_update_h=30,
                   skus=["P027-black-F"], quantities=[1])
        # u1009: a cancelled order and a delivered one with an open return.
        self.order(u["u1009"], "cancelled", placed_h=200, skus=["P031-grey-F"], quantities=[1])
        ret = self.order(u["u1009"], "delivered", placed_h=150, paid_h=149, shipped_h=120, delivered_h=72,
                         skus=["P012-grey-L"], quantities=[1])
        self.s.flush()
        self.case(ret, "return", "awaiting_return", "尺码偏小 / runs small", 1)

    def bulk(self, people: list[Shopper], count: int) -> None:
        """Everyday history so every shopper has a plausible order list."""
        kinds = [
            ("completed", 0.45), ("delivered", 0.15), ("shipped", 0.12),
            ("paid", 0.1), ("unpaid", 0.08), ("cancelled", 0.1),
        ]
        statuses = [k for k, _ in kinds]
        weights = [w for _, w in kinds]
        orders: list[Order] = []
        for i in range(count):
            shopper = people[10 + i % (len(people) - 10)]
            status = self.rng.choices(statuses, weights)[0]
            if status == "completed":
                d = self.rng.uniform(15 * 24, 90 * 24)
                o = self.order(shopper, status, placed_h=d + 100, paid_h=d + 99, shipped_h=d + 70, delivered_h=d)
            elif status == "delivered":
                d = self.rng.uniform(6, 6 * 24)
                o = self.order(shopper, status, placed_h=d + 90, paid_h=d + 89, shipped_h=d + 60, delivered_h=d)
            elif status == "shipped":
                sh = self.rng.uniform(8, 40)
                o = self.order(shopper, status, placed_h=sh + 20, paid_h=sh + 19, shipped_h=sh,
                               last_update_h=self.rng.uniform(0.5, min(sh, 20)))
            elif status == "paid":
                # Paid long enough ago that the bot's delivery-details check is not due (policy.DETAILS_CHECK_WITHIN).
                p = self.rng.uniform(3, 40)
                o = self.order(shopper, status, placed_h=p + 0.5, paid_h=p)
            elif status == "unpaid":
                # Placed too recently for the one payment reminder (policy.UNPAID_REMINDER_AFTER) to be due at seed time.
                o = self.order(shopper, status, placed_h=self.rng.uniform(1, 8))
            else:
                o = self.order(shopper, status, placed_h=self.rng.uniform(30, 500))
            orders.append(o)
        self.s.flush()
        done = [o for o in orders if o.status in ("completed", "delivered")]
        plan = [
            ("return", "refunded", "不喜欢颜色 / did not like the colour"),
            ("exchange", "open", "换大一码 / one size up, please"),
            ("refund_only", "refunded", "少发一件 / one item short"),
            ("missing_item", "closed", "少了赠品 / free gift missing"),
            ("damaged", "open", "外箱破损，商品有划痕 / box crushed, item scratched"),
            ("wrong_item", "closed", "发错颜色 / wrong colour sent"),
            ("compensation", "closed", "物流慢补偿 / compensation for slow delivery"),
        ]
        for (kind, status, reason), order in zip(plan, done, strict=False):
            self.case(order, kind, status, reason, 3)
        # An unpaid order that was already reminded once (blue flag).
        unpaid = next(o for o in orders if o.status == "unpaid")
        unpaid.reminded_at = self.now
        unpaid.notes.append(
            OrderNote(flag="blue", kind="payment_reminder", author="客服-慧兰",
                      text=f"已催付 / payment reminded — 客服-慧兰 — {self.now:%Y-%m-%d}")
        )


class NotTheSample(Exception):
    """The database holds records the seeder did not make: it is never dropped."""


def seed(engine: Engine, now: Optional[datetime] = None) -> None:
    """Drop and re-create the sample shop; refuses a database that holds a shop's own records."""
    now = now or utcnow()
    if schema.has_records(engine) and seeded_at(engine) is None:
        raise NotTheSample(engine.url.render_as_string(hide_password=True))
    schema.drop(engine)
    schema.create(engine)
    fill(engine, now)


def fill(engine: Engine, now: datetime) -> None:
    """The sample's rows, and its mark, into tables that exist."""
    SeedInfo.__table__.create(engine, checkfirst=True)
    with Session(engine, future=True) as s, s.begin():
        b = _Builder(s, now)
        b.catalogue()
        people = b.shoppers(24)
        b.named_situations(people)
        b.bulk(people, 120)
        s.add(SeedInfo(seeded_at=now))
        for username, name, role in AGENTS:
            s.add(Agent(username=username, display_name=name, role=role, password_hash=hash_password(DEMO_PASSWORD)))


def seeded_at(engine: Engine) -> Optional[datetime]:
    """When the sample was seeded, or last moved forward; None for any other database (the mark)."""
    if "seed_info" not in inspect(engine).get_table_names():
        return None
    with Session(engine, future=True) as s:
        return s.execute(select(SeedInfo.seeded_at)).scalars().first()


def move_forward(engine: Engine, delta: timedelta) -> int:
    """Every time in the sample, what agents and shoppers did in it included, `delta` later: the
    relative situations ("delivered yesterday") hold again and nothing is dropped. Rows changed."""
    changed = 0
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            times = [c for c in table.columns if isinstance(c.type, DateTime)]
            if not times or not table.primary_key.columns:
                continue
            keys = list(table.primary_key.columns)
            rows = conn.execute(select(*keys, *times)).all()
            for row in rows:
                values = {c.name: row[len(keys) + i] + delta for i, c in enumerate(times)
                          if row[len(keys) + i] is not None}
                if values:
                    conn.execute(table.update().where(*(k == row[i] for i, k in enumerate(keys))).values(**values))
                    changed += 1
    return changed


def prepare(engine: Engine, max_age: timedelta, now: Optional[datetime] = None) -> str:
    """What `make run` does to the database, and what it did: the schema upgraded in place, the
    sample seeded when the database is empty, an old sample moved forward. Never drops anything."""
    now = now or utcnow()
    where = engine.url.render_as_string(hide_password=True)
    if not schema.has_records(engine):
        seed(engine, now)
        return f"sample shop: seeded at {where}"
    schema.upgrade(engine)
    when = seeded_at(engine)
    if when is None:
        return f"shop records: kept, schema at revision {schema.revision(engine)}, at {where}"
    if now - when < max_age:
        return f"sample shop: kept (seeded {when:%Y-%m-%d %H:%M} UTC) at {where}"
    move_forward(engine, now - when)
    return f"sample shop: kept, its times moved forward by {(now - when).total_seconds() / 3600:.0f} h, at {where}"


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--if-missing", action="store_true", help="upgrade in place, seed only an empty database")
    parser.add_argument("--max-age-hours", type=float, default=12.0)
    parser.add_argument("--create-database", action="store_true", help="create DATABASE_URL's PostgreSQL database")
    args = parser.parse_args(argv)
    if args.create_database and ensure_database(database_url()):
        print(f"created the database of {make_url(database_url()).render_as_string(hide_password=True)}")
    engine = get_engine()
    if args.if_missing:
        print(prepare(engine, timedelta(hours=args.max_age_hours)))
        return
    try:
        seed(engine)
    except NotTheSample as exc:
        print(f"refused: {exc} holds a shop's own records, not the sample shop; nothing was changed. "
              "Reseeding drops only a database the seeder made.", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"sample shop: seeded at {engine.url.render_as_string(hide_password=True)}")


if __name__ == "__main__":
    main()
