"""The shop's records (SQLAlchemy 1.4, 2.0 style, typed with `Mapped`).

Times are stored as naive UTC (`bot.clock.utcnow`) so SQLite and PostgreSQL
compare them the same way.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, declarative_base, relationship
from sqlalchemy.schema import UniqueConstraint
from sqlalchemy.types import TypeDecorator

from bot.clock import utcnow

Base: Any = declarative_base()

ORDER_STATUSES = ("unpaid", "paid", "shipped", "delivered", "completed", "cancelled")
CASE_KINDS = (
    "return",
    "exchange",
    "repair",
    "refund_only",
    "wrong_item",
    "missing_item",
    "damaged",
    "quality",
    "compensation",
)
CASE_STATUSES = ("open", "awaiting_photos", "awaiting_return", "received", "refunded", "repairing", "closed", "rejected")
FLAGS = ("red", "blue")


class Money(TypeDecorator):
    """Yuan as Decimal in Python, integer fen in the database (exact everywhere)."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Optional[int]:
        if value is None:
            return None
        return int((Decimal(value) * 100).to_integral_value())

    def process_result_value(self, value: Any, dialect: Any) -> Optional[Decimal]:
        if value is None:
            return None
        return (Decimal(value) / 100).quantize(Decimal("0.01"))


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Category(Base):
    __tablename__ = "categories"
    code: Mapped[str] = Column(String(32), primary_key=True)
    name_zh: Mapped[str] = Column(String(64), nullable=False)
    name_en: Mapped[str] = Column(String(64), nullable=False)


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = Column(Integer, primary_key=True)
    code: Mapped[str] = Column(String(32), unique=True, nullable=False)
    name_zh: Mapped[str] = Column(String(128), nullable=False)
    name_en: Mapped[str] = Column(String(128), nullable=False)
    category_code: Mapped[str] = Column(ForeignKey("categories.code"), nullable=False)
    price: Mapped[Decimal] = Column(Money, nullable=False)
    # Special-price items are excluded from gifts and free shipping (WORKFLOWS.md).
    special_price: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    # False: "the factory no longer makes it".
    in_production: Mapped[bool] = Column(Boolean, nullable=False, default=True)
    material_zh: Mapped[Optional[str]] = Column(String(255))
    material_en: Mapped[Optional[str]] = Column(String(255))
    care_zh: Mapped[Optional[str]] = Column(Text)
    care_en: Mapped[Optional[str]] = Column(Text)
    selling_points_zh: Mapped[Optional[str]] = Column(Text)
    selling_points_en: Mapped[Optional[str]] = Column(Text)
    # Extra names shoppers use ("羽绒服", "down jacket", "puffer").
    aliases: Mapped[list[str]] = Column(JSON, nullable=False, default=list)
    # [{"size": "M", "min_kg": 50, "max_kg": 60}, ...]; empty when sizes do not
    # depend on body weight.
    size_chart: Mapped[list[dict]] = Column(JSON, nullable=False, default=list)

    category: Mapped[Category] = relationship(Category)
    skus: Mapped[list[Sku]] = relationship(
        "Sku", back_populates="product", order_by="Sku.id"
    )


class Sku(Base):
    __tablename__ = "skus"
    __table_args__ = (CheckConstraint("stock >= 0", name="ck_sku_stock"),)
    id: Mapped[int] = Column(Integer, primary_key=True)
    code: Mapped[str] = Column(String(64), unique=True, nullable=False)
    product_id: Mapped[int] = Column(ForeignKey("products.id"), nullable=False, index=True)
    color_zh: Mapped[str] = Column(String(32), nullable=False)
    color_en: Mapped[str] = Column(String(32), nullable=False)
    size: Mapped[str] = Column(String(16), nullable=False)
    stock: Mapped[int] = Column(Integer, nullable=False, default=0)

    product: Mapped[Product] = relationship(Product, back_populates="skus")


class Shopper(Base):
    __tablename__ = "shoppers"
    # The widget's shopper id; Rasa's sender id is this value.
    id: Mapped[str] = Column(String(64), primary_key=True)
    nickname: Mapped[str] = Column(String(64), nullable=False)
    phone: Mapped[str] = Column(String(32), nullable=False)
    address: Mapped[str] = Column(String(255), nullable=False)
    language: Mapped[str] = Column(String(2), nullable=False, default="zh")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (CheckConstraint(f"status in {_in(ORDER_STATUSES)}", name="ck_order_status"),)
    id: Mapped[int] = Column(Integer, primary_key=True)
    order_no: Mapped[str] = Column(String(32), unique=True, nullable=False)
    shopper_id: Mapped[str] = Column(ForeignKey("shoppers.id"), nullable=False, index=True)
    status: Mapped[str] = Column(String(16), nullable=False)
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utcnow)
    paid_at: Mapped[Optional[datetime]] = Column(DateTime)
    shipped_at: Mapped[Optional[datetime]] = Column(DateTime)
    delivered_at: Mapped[Optional[datetime]] = Column(DateTime)
    cancelled_at: Mapped[Optional[datetime]] = Column(DateTime)
    # When the platform auto-confirms receipt; a return extends it (WORKFLOWS.md).
    transaction_deadline: Mapped[Optional[datetime]] = Column(DateTime)
    courier: Mapped[Optional[str]] = Column(String(32))
    tracking_no: Mapped[Optional[str]] = Column(String(64))
    address: Mapped[str] = Column(String(255), nullable=False)
    phone: Mapped[str] = Column(String(32), nullable=False)
    # 收货人姓名: who the parcel is addressed to, when not the account's own name (a seller-center
    # export carries it; revision 0002).
    receiver_name: Mapped[Optional[str]] = Column(String(64))
    total: Mapped[Decimal] = Column(Money, nullable=False)
    # Outreach the bot sent once (bot/outreach.py): 催付 (blue flag), and the address/courier check after payment.
    reminded_at: Mapped[Optional[datetime]] = Column(DateTime)
    details_checked_at: Mapped[Optional[datetime]] = Column(DateTime)

    shopper: Mapped[Shopper] = relationship(Shopper)
    items: Mapped[list[OrderItem]] = relationship(
        "OrderItem", back_populates="order", order_by="OrderItem.id"
    )
    tracking_events: Mapped[list[TrackingEvent]] = relationship(
        "TrackingEvent", back_populates="order", order_by="TrackingEvent.at"
    )
    cases: Mapped[list[AfterSalesCase]] = relationship(
        "AfterSalesCase", back_populates="order", order_by="AfterSalesCase.id"
    )
    notes: Mapped[list[OrderNote]] = relationship(
        "OrderNote", back_populates="order", order_by="OrderNote.id"
    )


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="ck_item_quantity"),)
    id: Mapped[int] = Column(Integer, primary_key=True)
    order_id: Mapped[int] = Column(ForeignKey("orders.id"), nullable=False, index=True)
    sku_id: Mapped[int] = Column(ForeignKey("skus.id"), nullable=False)
    quantity: Mapped[int] = Column(Integer, nullable=False)
    unit_price: Mapped[Decimal] = Column(Money, nullable=False)

    order: Mapped[Order] = relationship(Order, back_populates="items")
    sku: Mapped[Sku] = relationship(Sku)


class TrackingEvent(Base):
    __tablename__ = "tracking_events"
    id: Mapped[int] = Column(Integer, primary_key=True)
    order_id: Mapped[int] = Column(ForeignKey("orders.id"), nullable=False, index=True)
    at: Mapped[datetime] = Column(DateTime, nullable=False)
    place: Mapped[str] = Column(String(64), nullable=False)
    text_zh: Mapped[str] = Column(String(255), nullable=False)
    text_en: Mapped[str] = Column(String(255), nullable=False)

    order: Mapped[Order] = relationship(Order, back_populates="tracking_events")


class AfterSalesCase(Base):
    __tablename__ = "after_sales_cases"
    __table_args__ = (
        CheckConstraint(f"kind in {_in(CASE_KINDS)}", name="ck_case_kind"),
        CheckConstraint(f"status in {_in(CASE_STATUSES)}", name="ck_case_status"),
    )
    id: Mapped[int] = Column(Integer, primary_key=True)
    # Shown to the shopper; every case has its own number, several per order.
    case_no: Mapped[str] = Column(String(32), unique=True, nullable=False)
    order_id: Mapped[int] = Column(ForeignKey("orders.id"), nullable=False, index=True)
    order_item_id: Mapped[Optional[int]] = Column(ForeignKey("order_items.id"))
    kind: Mapped[str] = Column(String(16), nullable=False)
    reason: Mapped[str] = Column(Text, nullable=False, default="")
    status: Mapped[str] = Column(String(16), nullable=False, default="open")
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    # What the shop does about it (policy.*_remedy), what the shopper wants instead (exchange),
    # the repair register's progress, and the tracking number when something ships back to the shopper.
    remedy: Mapped[Optional[str]] = Column(String(48))
    wanted: Mapped[Optional[str]] = Column(String(64))
    progress: Mapped[Optional[str]] = Column(Text)
    return_tracking_no: Mapped[Optional[str]] = Column(String(64))
    # Compensation: the cap the bot offered (policy.max_goodwill); an agent sets what was paid.
    amount: Mapped[Optional[Decimal]] = Column(Money)
    amount_paid: Mapped[Optional[Decimal]] = Column(Money)

    order: Mapped[Order] = relationship(Order, back_populates="cases")
    item: Mapped[Optional[OrderItem]] = relationship(OrderItem)


class OrderNote(Base):
    __tablename__ = "order_notes"
    __table_args__ = (
        CheckConstraint(f"flag is null or flag in {_in(FLAGS)}", name="ck_note_flag"),
    )
    id: Mapped[int] = Column(Integer, primary_key=True)
    order_id: Mapped[int] = Column(ForeignKey("orders.id"), nullable=False, index=True)
    # Red: special request / follow-up (小红旗); blue: payment reminded (蓝旗).
    flag: Mapped[Optional[str]] = Column(String(8))
    # Machine-readable purpose so the bot never records the same follow-up twice.
    kind: Mapped[str] = Column(String(32), nullable=False, default="note")
    author: Mapped[str] = Column(String(64), nullable=False)
    text: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utcnow)

    order: Mapped[Order] = relationship(Order, back_populates="notes")


class RestockWish(Base):
    """A shopper asked for a sold-out variant: told once, in the chat, when it is back in stock."""

    __tablename__ = "restock_wishes"
    id: Mapped[int] = Column(Integer, primary_key=True)
    shopper_id: Mapped[str] = Column(ForeignKey("shoppers.id"), nullable=False, index=True)
    sku_id: Mapped[int] = Column(ForeignKey("skus.id"), nullable=False, index=True)
    language: Mapped[str] = Column(String(2), nullable=False, default="zh")
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utcnow)
    notified_at: Mapped[Optional[datetime]] = Column(DateTime)

    sku: Mapped[Sku] = relationship(Sku)


__all__ = [
    "Base",
    "Category",
    "Product",
    "Sku",
    "Shopper",
    "Order",
    "OrderItem",
    "TrackingEvent",
    "AfterSalesCase",
    "OrderNote",
    "RestockWish",
]


# --- conversations, handoff and the agent console ---------------------------

OWNERS = ("bot", "waiting", "agent")
ROLES = ("shopper", "bot", "agent", "system")
AGENT_ROLES = ("agent", "supervisor")


class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[int] = Column(Integer, primary_key=True)
    username: Mapped[str] = Column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = Column(String(64), nullable=False)
    role: Mapped[str] = Column(String(16), nullable=False, default="agent")
    # scrypt$n$r$p$salt$hash (bot.security)
    password_hash: Mapped[str] = Column(String(255), nullable=False)
    # A disabled agent cannot log in; bumping the version ends every session and socket it has.
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)
    session_version: Mapped[int] = Column(Integer, nullable=False, default=0)


class Conversation(Base):
    """One shopper's chat; `owner` says who answers it right now."""

    __tablename__ = "conversations"
    __table_args__ = (CheckConstraint(f"owner in {_in(OWNERS)}", name="ck_conversation_owner"),)
    id: Mapped[str] = Column(String(64), primary_key=True)  # the shopper id = Rasa sender id
    shopper_id: Mapped[Optional[str]] = Column(ForeignKey("shoppers.id"))
    owner: Mapped[str] = Column(String(16), nullable=False, default="bot")
    agent_id: Mapped[Optional[int]] = Column(ForeignKey("agents.id"))
    language: Mapped[str] = Column(String(2), nullable=False, default="zh")
    # Why the bot handed over, and what it knew: shown to the agent.
    reason: Mapped[Optional[str]] = Column(String(32))
    priority: Mapped[int] = Column(Integer, nullable=False, default=9)
    intent: Mapped[Optional[str]] = Column(String(64))
    facts: Mapped[dict] = Column(JSON, nullable=False, default=dict)
    waiting_since: Mapped[Optional[datetime]] = Column(DateTime)
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    agent: Mapped[Optional[Agent]] = relationship(Agent)


class ChatMessage(Base):
    """Every message, whoever sent it, stored before it is relayed."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        CheckConstraint(f"role in {_in(ROLES)}", name="ck_message_role"),
        UniqueConstraint("conversation_id", "client_id", name="uq_message_client_id"),
    )
    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(ForeignKey("conversations.id"), nullable=False, index=True)
    role: Mapped[str] = Column(String(16), nullable=False)
    author: Mapped[Optional[str]] = Column(String(64))
    text: Mapped[str] = Column(Text, nullable=False, default="")
    # Buttons, images, cards and other custom payloads, as Rasa sent them.
    payload: Mapped[dict] = Column(JSON, nullable=False, default=dict)
    # The widget's own id for a shopper message, so a resend is not stored twice.
    client_id: Mapped[Optional[str]] = Column(String(64))
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utcnow)
    # A shopper message the bot has not answered yet (Rasa down, slow or failing): kept, and
    # answered when the widget resends it, the shopper writes again or the gateway's retry sweep runs.
    awaiting_reply: Mapped[bool] = Column(Boolean, nullable=False, default=False, index=True)
    # When the retry sweep may try it again (it backs off while the bot stays down).
    retry_at: Mapped[Optional[datetime]] = Column(DateTime)
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)


class Photo(Base):
    """Evidence photos, stored against the conversation and, when known, the case."""

    __tablename__ = "photos"
    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(ForeignKey("conversations.id"), nullable=False, index=True)
    case_id: Mapped[Optional[int]] = Column(ForeignKey("after_sales_cases.id"))
    # Named by the shopper's id (WORKFLOWS.md), unique on disk.
    filename: Mapped[str] = Column(String(128), nullable=False, unique=True)
    content_type: Mapped[str] = Column(String(32), nullable=False)
    size: Mapped[int] = Column(Integer, nullable=False)
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utcnow)


class BadReview(Base):
    """The bad-review register (中差评登记表)."""

    __tablename__ = "bad_reviews"
    id: Mapped[int] = Column(Integer, primary_key=True)
    shopper_id: Mapped[str] = Column(String(64), nullable=False)
    phone: Mapped[Optional[str]] = Column(String(32))
    order_id: Mapped[Optional[int]] = Column(ForeignKey("orders.id"))
    item: Mapped[str] = Column(String(128), nullable=False, default="")
    review_text: Mapped[str] = Column(Text, nullable=False)
    severity: Mapped[int] = Column(Integer, nullable=False, default=2)  # 1 worst
    status: Mapped[str] = Column(String(16), nullable=False, default="messaged")  # messaged / sms / called
    progress: Mapped[str] = Column(String(24), nullable=False, default="waiting")  # revised / promised / refused / waiting
    agent: Mapped[str] = Column(String(64), nullable=False)
    reviewed_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utcnow)
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utcnow)
