"""What the bot says first, on a real seeded shop: due lists, claims that hold once, the quiet rule."""

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot import conversations as conv
from bot import outreach, shop
from bot.clock import utcnow
from bot.models import Order, RestockWish, Sku


def test_a_fresh_shop_owes_nobody_a_message(fresh_shop: Engine) -> None:
    with Session(fresh_shop) as s:
        assert outreach.due(s, utcnow()) == []


def test_unpaid_order_reminded_once_after_12_hours(fresh_shop: Engine) -> None:
    now = utcnow()
    with Session(fresh_shop) as s, s.begin():
        order = shop.orders_with_status(s, "u1006", ["unpaid"])[0]
        s.execute(update(Order).where(Order.id == order.id).values(created_at=now - timedelta(hours=13)))
        s.refresh(order)
        (item,) = outreach.due(s, now)
        assert (item.conversation_id, item.intent) == ("u1006", "EXTERNAL_unpaid_reminder")
        assert item.entities == {"order_id": order.order_no, "language": "zh"}
        assert shop.claim_reminder(s, order, now)
        assert not shop.claim_reminder(s, order, now), "a second sender must lose"
        assert outreach.due(s, now) == []


def test_paid_order_details_checked_within_2_hours(fresh_shop: Engine) -> None:
    now = utcnow()
    with Session(fresh_shop) as s, s.begin():
        order = shop.orders_with_status(s, "u1002", ["paid"])[0]
        s.execute(update(Order).where(Order.id == order.id).values(paid_at=now - timedelta(minutes=30)))
        assert [(o.conversation_id, o.intent) for o in outreach.due(s, now)] == [("u1002", "EXTERNAL_details_check")]
        assert shop.claim_details_check(s, order, now) and not shop.claim_details_check(s, order, now)
        assert outreach.due(s, now) == []


def test_never_into_a_busy_conversation_or_one_a_person_owns(fresh_shop: Engine) -> None:
    now = utcnow()
    with Session(fresh_shop) as s, s.begin():
        order = shop.orders_with_status(s, "u1006", ["unpaid"])[0]
        s.execute(update(Order).where(Order.id == order.id).values(created_at=now - timedelta(hours=13)))
        conv.ensure(s, "u1006", "en")
        conv.add_message(s, "u1006", "shopper", "hello")
        assert outreach.due(s, utcnow()) == [], "the shopper is mid-conversation"
        later = now + timedelta(minutes=6)
        (item,) = outreach.due(s, later)
        assert item.entities["language"] == "en", "the language the shopper last wrote in"
        conv.hand_off(s, "u1006", "complaint", intent="complain", facts={})
        assert outreach.due(s, later) == []


def test_restock_wish_recorded_once_and_told_once_per_product(fresh_shop: Engine) -> None:
    now = utcnow()
    with Session(fresh_shop) as s, s.begin():
        coat = shop.product_by_code(s, "P002")
        assert coat is not None and all(k.stock == 0 for k in coat.skus)
        first, second = coat.skus[0], coat.skus[1]
        assert shop.record_restock_wish(s, "u1001", first, "zh", now)
        assert not shop.record_restock_wish(s, "u1001", first, "zh", now), "one open wish per variant"
        assert shop.record_restock_wish(s, "u1001", second, "zh", now)
        s.flush()
        assert outreach.due(s, now) == [], "still sold out"
        s.execute(update(Sku).where(Sku.id.in_([first.id, second.id])).values(stock=3))
        (item,) = outreach.due(s, now)
        assert (item.intent, item.entities["sku"]) == ("EXTERNAL_restocked", first.code)
        assert shop.shopper_restocked(s, "u1002", first.code) is None, "never another shopper's wish"
        wish = shop.shopper_restocked(s, "u1001", first.code)
        assert wish is not None and shop.claim_restock(s, wish, now)
        assert not shop.claim_restock(s, wish, now)
        # One message for the product: the wish for the other size is told with it.
        assert s.execute(select(RestockWish).where(RestockWish.notified_at.is_(None))).first() is None
        assert outreach.due(s, now) == []
