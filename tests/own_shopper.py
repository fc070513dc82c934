"""A shopper of one test's own, added to the running stack's database.

Tests that count a shopper's orders (how many buttons, which order fits) must
not share a sample shopper: another test opening a case on the same order
changes the count, and the result depends on which test ran first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.models import Order, OrderItem, Shopper, Sku

ADDRESS = "杭州市西湖区文三路1号"


@dataclass(frozen=True)
class OwnOrder:
    order_no: str
    status: str
    sku: str
    # When it was placed, and paid unless its status is "unpaid".
    ago: timedelta
    delivered_ago: Optional[timedelta] = None
    # More lines in the same order ("which item?" needs more than one).
    more_skus: tuple[str, ...] = ()


def add_shopper(engine: Engine, shopper_id: str, orders: list[OwnOrder], language: str = "zh",
                nickname: Optional[str] = None) -> None:
    now = utcnow()
    phone = "139" + shopper_id.lstrip("u").rjust(8, "0")
    with Session(engine) as s, s.begin():
        s.add(Shopper(id=shopper_id, nickname=nickname or shopper_id, phone=phone, address=ADDRESS,
                      language=language))
        for o in orders:
            skus = [s.execute(select(Sku).where(Sku.code == code)).scalar_one() for code in (o.sku, *o.more_skus)]
            placed = now - o.ago
            order = Order(order_no=o.order_no, shopper_id=shopper_id, status=o.status, created_at=placed,
                          paid_at=None if o.status == "unpaid" else placed,
                          address=ADDRESS, phone=phone, total=sum(k.product.price for k in skus),
                          items=[OrderItem(sku_id=k.id, quantity=1, unit_price=k.product.price) for k in skus])
            if o.delivered_ago is not None:
                order.shipped_at = placed + timedelta(hours=2)
                order.delivered_at = now - o.delivered_ago
                order.transaction_deadline = order.shipped_at + timedelta(days=10)
                order.courier = "SF"
                order.tracking_no = f"SF{o.order_no}"
            s.add(order)
