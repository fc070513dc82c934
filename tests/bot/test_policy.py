from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from bot import policy

NOW = datetime(2026, 11, 11, 12, 0)


@pytest.mark.parametrize(
    ("paid_hours_ago", "state"),
    [(None, "unpaid"), (1, "within_promise"), (48, "within_promise"), (48.01, "overdue"), (200, "overdue")],
)
def test_shipping_promise_is_48_hours(paid_hours_ago: float | None, state: str) -> None:
    paid = None if paid_hours_ago is None else NOW - timedelta(hours=paid_hours_ago)
    check = policy.shipping_check(paid, NOW)
    assert check.state == state
    if paid is not None:
        assert check.deadline == paid + timedelta(hours=48)


@pytest.mark.parametrize(
    ("quiet_hours", "state"),
    [(0, "fresh"), (23.9, "fresh"), (24, "slow"), (47.9, "slow"), (48, "stale"), (71.9, "stale"), (72, "lost"), (500, "lost")],
)
def test_tracking_rules_24_48_72(quiet_hours: float, state: str) -> None:
    check = policy.tracking_check(NOW - timedelta(hours=quiet_hours), NOW)
    assert check.state == state
    assert check.hours_quiet == int(quiet_hours)


def test_tracking_update_in_the_future_counts_as_fresh() -> None:
    assert policy.tracking_check(NOW + timedelta(hours=2), NOW).state == "fresh"


@pytest.mark.parametrize(
    ("status", "reason"),
    [("unpaid", "unpaid"), ("paid", "not_shipped"), ("shipped", "in_transit"), ("cancelled", "cancelled")],
)
def test_return_needs_a_received_order(status: str, reason: str) -> None:
    check = policy.return_check(status, None, NOW)
    assert not check.eligible and check.reason == reason


def test_return_window_is_seven_days_after_receipt() -> None:
    inside = policy.return_check("delivered", NOW - timedelta(days=7), NOW)
    assert inside.eligible and inside.days_since_receipt == 7
    outside = policy.return_check("completed", NOW - timedelta(days=7, minutes=1), NOW)
    assert not outside.eligible and outside.reason == "window_passed"
    assert outside.window_ends == NOW - timedelta(minutes=1)


def test_return_extends_transaction_time_by_ten_days() -> None:
    assert policy.extended_deadline(None, NOW) == NOW + timedelta(days=10)
    later = NOW + timedelta(days=3)
    assert policy.extended_deadline(later, NOW) == later + timedelta(days=10)
    # A deadline already past is extended from now, not from the past.
    assert policy.extended_deadline(NOW - timedelta(days=2), NOW) == NOW + timedelta(days=10)


def test_goodwill_is_capped_at_30_percent() -> None:
    assert policy.max_goodwill(Decimal("399.00")) == Decimal("119.70")


@pytest.mark.parametrize(("count", "share"), [(1, "0"), (4, "0"), (5, "0.10"), (12, "0.10")])
def test_bulk_discount_from_five_items(count: int, share: str) -> None:
    assert policy.bulk_discount(count) == Decimal(share)


def test_size_for_weight_uses_the_chart() -> None:
    chart = [{"size": "M", "min_kg": 50, "max_kg": 60}, {"size": "L", "min_kg": 60, "max_kg": 70}]
    assert policy.size_for_weight(chart, 55) == "M"
    assert policy.size_for_weight(chart, 60) == "M"  # boundary goes to the smaller row
    assert policy.size_for_weight(chart, 65.5) == "L"
    assert policy.size_for_weight(chart, 95) is None
    assert policy.size_for_weight([], 55) is None
