"""The shop's business rules (../shared/WORKFLOWS.md) as pure functions.

Every threshold lives here and nowhere else; actions ask these functions and
turn the answer into words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Optional

SHIP_PROMISE = timedelta(hours=48)  # ship within 48 h of payment
TRACKING_FRESH = timedelta(hours=24)  # an update in the last 24 h is normal
TRACKING_STALE = timedelta(hours=48)  # no update for 48 h: contact the courier
TRACKING_LOST = timedelta(hours=72)  # no update for 72 h: treat as lost
RETURN_WINDOW = timedelta(days=7)  # 7 days after receipt
RETURN_EXTENSION = timedelta(days=10)  # transaction time extended on a return
AUTO_CONFIRM_AFTER_SHIPPING = timedelta(days=10)
MAX_GOODWILL_SHARE = Decimal("0.30")  # up to 30% offered to avoid a dispute
BULK_MIN_ITEMS = 5  # five or more items: 10% off
BULK_DISCOUNT = Decimal("0.10")
REFUND_WORKING_DAYS = (1, 2)
QUALITY_FREE_RETURN = timedelta(days=3)

# Who waits first for a person: disputes and bad reviews (WORKFLOWS.md); lower is sooner.
HANDOFF_PRIORITY = {"complaint": 1, "bad_review": 1, "dispute": 1, "needs_decision": 2, "human_request": 3,
                    "product_question": 3, "fallback": 4}
OTHER_HANDOFF_PRIORITY = 5
FALLBACKS_BEFORE_PERSON = 2  # the second misunderstanding in a row goes to a person
AGENT_HOURS = (time(8, 30), time(23, 0))  # agents on duty, China time

RETURN_ADDRESS_ZH = "浙江省杭州市余杭区仓前街道文一西路 1888 号 小店售后部（收），电话 0571-88886666"
RETURN_ADDRESS_EN = (
    "After-sales Dept., No. 1888 Wenyi West Road, Cangqian, Yuhang District, "
    "Hangzhou, Zhejiang, China; tel. 0571-88886666"
)


@dataclass(frozen=True)
class ShippingCheck:
    """Where an order stands against the 48 h shipping promise."""

    state: str  # "unpaid" | "within_promise" | "overdue"
    deadline: Optional[datetime]


def shipping_check(paid_at: Optional[datetime], now: datetime) -> ShippingCheck:
    if paid_at is None:
        return ShippingCheck("unpaid", None)
    deadline = paid_at + SHIP_PROMISE
    return ShippingCheck("within_promise" if now <= deadline else "overdue", deadline)


@dataclass(frozen=True)
class TrackingCheck:
    """How worried to be about a parcel in transit."""

    state: str  # "fresh" | "slow" | "stale" | "lost"
    hours_quiet: int


def tracking_check(last_update: datetime, now: datetime) -> TrackingCheck:
    quiet = max(now - last_update, timedelta(0))
    hours = int(quiet.total_seconds() // 3600)
    if quiet >= TRACKING_LOST:
        return TrackingCheck("lost", hours)
    if quiet >= TRACKING_STALE:
        return TrackingCheck("stale", hours)
    if quiet >= TRACKING_FRESH:
        return TrackingCheck("slow", hours)
    return TrackingCheck("fresh", hours)


@dataclass(frozen=True)
class ReturnCheck:
    eligible: bool
    # "ok" | "not_shipped" | "in_transit" | "cancelled" | "window_passed" | "unpaid"
    reason: str
    days_since_receipt: Optional[int] = None
    window_ends: Optional[datetime] = None


def return_check(status: str, delivered_at: Optional[datetime], now: datetime) -> ReturnCheck:
    """Can this order still be returned (7-day window after receipt)?"""
    if status == "cancelled":
        return ReturnCheck(False, "cancelled")
    if status == "unpaid":
        return ReturnCheck(False, "unpaid")
    if status == "paid":
        return ReturnCheck(False, "not_shipped")
    if status == "shipped" or delivered_at is None:
        return ReturnCheck(False, "in_transit")
    window_ends = delivered_at + RETURN_WINDOW
    days = max((now - delivered_at).days, 0)
    if now > window_ends:
        return ReturnCheck(False, "window_passed", days, window_ends)
    return ReturnCheck(True, "ok", days, window_ends)


def extended_deadline(current: Optional[datetime], now: datetime) -> datetime:
    """The order's transaction time after a return request: +10 days."""
    return max(current or now, now) + RETURN_EXTENSION


def max_goodwill(order_total: Decimal) -> Decimal:
    """The most that may be offered to a shopper outside the return rules."""
    return (order_total * MAX_GOODWILL_SHARE).quantize(Decimal("0.01"))


def bulk_discount(item_count: int) -> Decimal:
    """Share off for a large basket; more than 10% needs a supervisor."""
    return BULK_DISCOUNT if item_count >= BULK_MIN_ITEMS else Decimal("0")


def size_for_weight(chart: list[dict], weight_kg: float) -> Optional[str]:
    """The chart's size for a body weight, or None when the chart has no row."""
    for row in chart:
        if float(row["min_kg"]) <= weight_kg <= float(row["max_kg"]):
            return str(row["size"])
    return None


def queue_priority(reason: str) -> int:
    return HANDOFF_PRIORITY.get(reason, OTHER_HANDOFF_PRIORITY)


def _hours(span: timedelta) -> str:
    return str(int(span.total_seconds() // 3600))


def figures() -> dict[str, str]:
    """The shop's numbers as texts and notes show them: responses use these placeholders, never the digits."""
    start, end = AGENT_HOURS
    return {
        "ship_hours": _hours(SHIP_PROMISE),
        "refund_days": "–".join(str(d) for d in REFUND_WORKING_DAYS),
        "extension_days": str(RETURN_EXTENSION.days),
        "agent_hours": f"{start:%H:%M}–{end:%H:%M}",
    }
