"""Plain query functions over the shop's records; each takes an open Session.

Ownership is enforced here: every order lookup is scoped to the shopper, so
another shopper's order number looks exactly like one that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Optional
from uuid import uuid4

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from bot import policy
from bot.models import AfterSalesCase, Order, OrderItem, OrderNote, Product, RestockWish, Shopper, Sku

OPEN_STATUSES = ("unpaid", "paid", "shipped")
RECEIVED_STATUSES = ("delivered", "completed")


def get_shopper(s: Session, shopper_id: str) -> Optional[Shopper]:
    return s.get(Shopper, shopper_id)


def _order_query():  # type: ignore[no-untyped-def]
    return select(Order).options(
        selectinload(Order.items).selectinload(OrderItem.sku).selectinload(Sku.product),
        selectinload(Order.tracking_events),
        selectinload(Order.cases),
        selectinload(Order.notes),
    )


def find_order(s: Session, shopper_id: str, order_no: str) -> Optional[Order]:
    """The shopper's own order with this number, else None (never someone else's)."""
    if not order_no or len(order_no) > 32:
        return None
    stmt = _order_query().where(Order.order_no == order_no, Order.shopper_id == shopper_id)
    return s.execute(stmt).scalars().first()


def find_case(s: Session, shopper_id: str, case_no: str) -> Optional[AfterSalesCase]:
    """The case, only when it belongs to one of this shopper's orders."""
    stmt = select(AfterSalesCase).join(Order).where(
        AfterSalesCase.case_no == case_no, Order.shopper_id == shopper_id
    )
    return s.execute(stmt).scalars().first()


def orders_with_status(
    s: Session, shopper_id: str, statuses: Sequence[str], limit: int = 10
) -> list[Order]:
    stmt = (
        _order_query()
        .where(Order.shopper_id == shopper_id, Order.status.in_(statuses))
        .order_by(Order.created_at.desc())
        .limit(limit)
    )
    return list(s.execute(stmt).scalars())


def recent_orders(s: Session, shopper_id: str, limit: int = 5) -> list[Order]:
    stmt = (
        _order_query()
        .where(Order.shopper_id == shopper_id)
        .order_by(Order.created_at.desc())
        .limit(limit)
    )
    return list(s.execute(stmt).scalars())


def returnable_orders(s: Session, shopper_id: str, now: datetime) -> list[Order]:
    """Received orders still inside the return window, newest first."""
    orders = orders_with_status(s, shopper_id, RECEIVED_STATUSES, limit=20)
    return [o for o in orders if policy.return_check(o.status, o.delivered_at, now).eligible]


# --- catalogue -------------------------------------------------------------

def _norm(text: str) -> str:
    return re.sub(r"[\s\-_]+", "", text.lower())


def all_products(s: Session) -> list[Product]:
    stmt = select(Product).options(selectinload(Product.skus), selectinload(Product.category))
    return list(s.execute(stmt).scalars())


def match_products(s: Session, *texts: Optional[str]) -> list[Product]:
    """Products named in the texts (entity value first, then the message).

    The longest matching name wins, so "长款羽绒服" finds the long coat and not
    the light down jacket; products tied on the longest match are all returned
    so the bot can ask which one. Only the names are read to match; the
    products found are then loaded whole (a product question used to load
    every product with its SKUs: most of the action server's time).
    """
    rows = s.execute(select(Product.id, Product.name_zh, Product.name_en, Product.aliases)
                     .order_by(Product.id)).all()
    names = [(pid, [n for n in map(_norm, [zh, en, *(aliases or [])]) if n]) for pid, zh, en, aliases in rows]
    chosen: tuple[int, list[int]] = (0, [])
    for text in texts:
        if not text:
            continue
        t = _norm(text[:500])
        best = {pid: max(len(n) for n in found)
                for pid, normed in names if (found := [n for n in normed if n in t])}
        if best and max(best.values()) > chosen[0]:
            # A longer name anywhere wins: the entity NLU tagged may be only part of it ("围巾" of
            # "山茶花真丝围巾", a product NLU was not trained on); on a tie the entity stays.
            top = max(best.values())
            chosen = (top, [pid for pid, length in best.items() if length == top])
    if not chosen[1]:
        return []
    stmt = (select(Product).where(Product.id.in_(chosen[1])).order_by(Product.id)
            .options(selectinload(Product.skus), selectinload(Product.category)))
    return list(s.execute(stmt).scalars())


def product_by_code(s: Session, code: str) -> Optional[Product]:
    stmt = select(Product).where(Product.code == code).options(selectinload(Product.skus))
    return s.execute(stmt).scalars().first()


def normalise_size(size: Optional[str]) -> Optional[str]:
    if not size:
        return None
    v = size.upper().replace("码", "").replace("SIZE", "").strip()
    return {"均": "F", "FREE": "F", "ONE": "F"}.get(v, v) or None


def color_matches(sku: Sku, color: Optional[str]) -> bool:
    if not color:
        return True
    c = color.lower().replace("色", "").strip()
    return bool(c) and (c in sku.color_zh or c in sku.color_en.lower())


def matching_skus(product: Product, color: Optional[str], size: Optional[str]) -> list[Sku]:
    wanted = normalise_size(size)
    return [
        sku
        for sku in product.skus
        if color_matches(sku, color) and (wanted is None or sku.size == wanted)
    ]


def in_stock_alternatives(s: Session, product: Product, limit: int = 3) -> list[Product]:
    """Same-category products with stock, best stocked first."""
    stock = func.sum(Sku.stock)
    stmt = (
        select(Product)
        .join(Sku)
        .where(
            Product.category_code == product.category_code,
            Product.id != product.id,
            Product.in_production.is_(True),
        )
        .group_by(Product.id)
        .having(stock > 0)
        .order_by(stock.desc(), Product.id)
        .limit(limit)
    )
    return list(s.execute(stmt).scalars())


# --- notes and after-sales ---------------------------------------------------

def add_note_once(
    s: Session, order: Order, *, kind: str, flag: Optional[str], author: str, text: str
) -> bool:
    """Record a note unless one of this kind is already on the order."""
    stmt = select(OrderNote.id).where(OrderNote.order_id == order.id, OrderNote.kind == kind)
    if s.execute(stmt).first():
        return False
    s.add(OrderNote(order_id=order.id, kind=kind, flag=flag, author=author, text=text))
    return True


def open_case_for_item(s: Session, item: OrderItem, kind: str) -> Optional[AfterSalesCase]:
    stmt = select(AfterSalesCase).where(
        AfterSalesCase.order_item_id == item.id,
        AfterSalesCase.kind == kind,
        AfterSalesCase.status.notin_(("closed", "rejected", "refunded")),
    )
    return s.execute(stmt).scalars().first()


def create_case(
    s: Session, order: Order, item: Optional[OrderItem], kind: str, reason: str, now: datetime
) -> AfterSalesCase:
    """A new numbered case (AS + date + id); the number is unique by construction."""
    case = AfterSalesCase(
        case_no=f"tmp-{uuid4().hex[:24]}",
        order_id=order.id,
        order_item_id=item.id if item else None,
        kind=kind,
        reason=reason[:1000],
        status=policy.CASES[kind].start_status,
        created_at=now,
        updated_at=now,
    )
    s.add(case)
    s.flush()
    case.case_no = f"AS{now:%y%m%d}{case.id:06d}"
    return case


def shopper_cases(s: Session, shopper_id: str, limit: int = 10) -> list[AfterSalesCase]:
    """The shopper's after-sales cases, newest first."""
    stmt = (
        select(AfterSalesCase)
        .join(Order, AfterSalesCase.order_id == Order.id)
        .where(Order.shopper_id == shopper_id)
        .order_by(AfterSalesCase.created_at.desc(), AfterSalesCase.id.desc())
        .limit(limit)
    )
    return list(s.execute(stmt).scalars())


# --- order changes: conditional UPDATEs, so a parcel that shipped meanwhile is never changed -----

def cancel_order(s: Session, order: Order, now: datetime) -> bool:
    """Withdraw an order that has not shipped; False if it shipped (or was cancelled) meanwhile."""
    result = s.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_(("unpaid", "paid")))
        .values(status="cancelled", cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    s.refresh(order)
    return result.rowcount == 1


def change_address(s: Session, order: Order, address: Optional[str], phone: Optional[str]) -> bool:
    """New address or phone on an order still with us or on its way (the courier redirects it)."""
    values: dict[str, str] = {}
    if address:
        values["address"] = address[:255]
    if phone:
        values["phone"] = phone[:32]
    if not values:
        return False
    result = s.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_(("unpaid", "paid", "shipped")))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    s.refresh(order)
    return result.rowcount == 1


def change_item_sku(s: Session, order: Order, item: OrderItem, sku: Sku) -> bool:
    """Another size or colour of the same product, only while the order has not shipped."""
    unshipped = select(Order.id).where(Order.id == order.id, Order.status.in_(("unpaid", "paid")))
    result = s.execute(
        update(OrderItem)
        .where(OrderItem.id == item.id, OrderItem.order_id.in_(unshipped))
        .values(sku_id=sku.id)
        .execution_options(synchronize_session=False)
    )
    s.refresh(item)
    return result.rowcount == 1


def change_courier(s: Session, order: Order, courier: str) -> bool:
    """The courier the shopper prefers, while the order has not left the warehouse (conditional UPDATE)."""
    result = s.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_(("unpaid", "paid")))
        .values(courier=courier)
        .execution_options(synchronize_session=False)
    )
    s.refresh(order)
    return result.rowcount == 1


def evidence_arrived(s: Session, case: AfterSalesCase, photos: int) -> bool:
    """A case waiting for photos moves on once it has as many as its kind asks for (conditional UPDATE)."""
    if photos < len(policy.CASES[case.kind].evidence):
        return False
    result = s.execute(
        update(AfterSalesCase)
        .where(AfterSalesCase.id == case.id, AfterSalesCase.status == "awaiting_photos")
        .values(status="open")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# --- outreach: what the bot says first, each thing once -------------------------------

def unpaid_due_reminder(s: Session, now: datetime, limit: int = 50) -> list[Order]:
    """Unpaid orders old enough for the one 催付 (policy.needs_reminder) and not yet reminded."""
    stmt = (
        _order_query()
        .where(Order.status == "unpaid", Order.reminded_at.is_(None),
               Order.created_at <= now - policy.UNPAID_REMINDER_AFTER)
        .order_by(Order.created_at)
        .limit(limit)
    )
    return list(s.execute(stmt).scalars())


def paid_due_details_check(s: Session, now: datetime, limit: int = 50) -> list[Order]:
    """Orders paid within policy.DETAILS_CHECK_WITHIN whose address and courier the bot has not checked."""
    stmt = (
        _order_query()
        .where(Order.status == "paid", Order.details_checked_at.is_(None),
               Order.paid_at >= now - policy.DETAILS_CHECK_WITHIN, Order.paid_at <= now)
        .order_by(Order.paid_at)
        .limit(limit)
    )
    return list(s.execute(stmt).scalars())


def _claim_once(s: Session, order: Order, status: str, marker: str, now: datetime) -> bool:
    """Set the order's once-only marker (conditional UPDATE): only the first of two racing senders wins."""
    column = getattr(Order, marker)
    result = s.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == status, column.is_(None))
        .values({marker: now})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def claim_reminder(s: Session, order: Order, now: datetime) -> bool:
    return _claim_once(s, order, "unpaid", "reminded_at", now)


def claim_details_check(s: Session, order: Order, now: datetime) -> bool:
    return _claim_once(s, order, "paid", "details_checked_at", now)


def record_restock_wish(s: Session, shopper_id: str, sku: Sku, language: str, now: datetime) -> bool:
    """Remember that the shopper wants this sold-out variant; one open wish per shopper and variant."""
    stmt = select(RestockWish.id).where(RestockWish.shopper_id == shopper_id, RestockWish.sku_id == sku.id,
                                        RestockWish.notified_at.is_(None))
    if s.execute(stmt).first():
        return False
    s.add(RestockWish(shopper_id=shopper_id, sku_id=sku.id, language=language, created_at=now))
    return True


def _restocked():  # type: ignore[no-untyped-def]
    """Open wishes whose variant is back in stock (and still made)."""
    return (
        select(RestockWish)
        .join(Sku, RestockWish.sku_id == Sku.id)
        .join(Product, Sku.product_id == Product.id)
        .where(RestockWish.notified_at.is_(None), Sku.stock > 0, Product.in_production.is_(True))
        .options(selectinload(RestockWish.sku).selectinload(Sku.product))
    )


def restocked_wishes(s: Session, limit: int = 50) -> list[RestockWish]:
    return list(s.execute(_restocked().order_by(RestockWish.created_at).limit(limit)).scalars())


def shopper_restocked(s: Session, shopper_id: str, sku_code: str) -> Optional[RestockWish]:
    """This shopper's open wish for that variant, if it is back in stock (never another shopper's)."""
    stmt = _restocked().where(RestockWish.shopper_id == shopper_id, Sku.code == sku_code)
    return s.execute(stmt).scalars().first()


def claim_restock(s: Session, wish: RestockWish, now: datetime) -> bool:
    """Mark the wish told (conditional UPDATE), with the shopper's other open wishes for the same product:
    one message says the product is back."""
    same_product = select(Sku.id).where(Sku.product_id == wish.sku.product_id).scalar_subquery()
    result = s.execute(
        update(RestockWish)
        .where(RestockWish.id == wish.id, RestockWish.notified_at.is_(None))
        .values(notified_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    s.execute(
        update(RestockWish)
        .where(RestockWish.shopper_id == wish.shopper_id, RestockWish.notified_at.is_(None),
               RestockWish.sku_id.in_(same_product))
        .values(notified_at=now)
        .execution_options(synchronize_session=False)
    )
    return True
