from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from bot import policy
from bot.models import CASE_KINDS, CASE_STATUSES

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


# --- the after-sales table ---------------------------------------------------------------


def test_every_case_kind_has_one_spec_the_records_accept() -> None:
    assert set(policy.CASES) == set(CASE_KINDS)
    for kind, spec in policy.CASES.items():
        assert spec.kind == kind and spec.start_status in CASE_STATUSES
        assert "order_id" in spec.collect
        # A case that needs photos waits for them.
        assert (spec.start_status == "awaiting_photos") == bool(spec.evidence), kind
        assert spec.postage in ("shop", "shopper", "shop_if_at_fault")
        assert policy.case_note(kind, case_no="AS1", item="x", reason="r", wanted="S", remedy="m", cap="9").startswith(("买家", "返修", "错发", "少发", "运输", "质量",
                                                                           "补偿"))


def test_evidence_follows_the_workflows() -> None:
    assert set(policy.CASES["wrong_item"].evidence) == {"label", "item"}
    assert "scale" in policy.CASES["missing_item"].evidence
    assert policy.CASES["quality"].evidence and policy.CASES["damaged"].evidence
    assert not policy.CASES["return"].evidence


@pytest.mark.parametrize("kind,status,days,eligible,reason", [
    ("return", "delivered", 7, True, "ok"),
    ("return", "delivered", 8, False, "window_passed"),
    ("exchange", "delivered", 8, False, "window_passed"),
    ("repair", "completed", 200, True, "ok"),
    ("quality", "delivered", 30, True, "ok"),
    ("damaged", "shipped", None, False, "in_transit"),
    ("wrong_item", "paid", None, False, "not_shipped"),
    ("refund_only", "paid", None, True, "ok"),
    ("refund_only", "unpaid", None, False, "unpaid"),
    ("compensation", "cancelled", None, False, "cancelled"),
])
def test_who_may_open_each_kind(kind: str, status: str, days: int | None, eligible: bool, reason: str) -> None:
    now = datetime(2026, 11, 23, 12, 0)
    delivered = now - timedelta(days=days) if days is not None else None
    check = policy.CASES[kind].eligible(status, delivered, now)
    assert (check.eligible, check.reason) == (eligible, reason)


def test_case_notes_render_the_policy_figures() -> None:
    assert policy.case_note("return", case_no="AS1", item="帽子") == "买家申请退货 AS1（帽子），交易时间延长10天"
    assert policy.case_note("compensation", case_no="AS2", reason="起球", cap="59.70") == (
        "补偿 AS2（起球），上限 ¥59.70（订单金额的30%），待客服确认金额并登记补偿")


@pytest.mark.parametrize(("total", "cap"), [("199.00", "59.70"), ("0.05", "0.02"), ("1000", "300.00")])
def test_goodwill_cap_rounds_to_the_fen(total: str, cap: str) -> None:
    assert policy.max_goodwill(Decimal(total)) == Decimal(cap)


def test_own_fault_gets_a_person_not_a_free_return() -> None:
    for kind in ("return", "exchange", "repair", "quality"):
        assert policy.own_fault_remedy(kind, True) == "own_fault_goodwill"
        assert policy.own_fault_remedy(kind, False) is None
    assert policy.own_fault_remedy("wrong_item", True) is None, "a wrong item is never the shopper's fault"
    assert "避免差评" in policy.remedy_note("own_fault_goodwill")
    assert policy.remedy_note("return_or_repair_at_shop_cost") == "签收3天内：退货或维修，运费由店铺承担"


def test_postage() -> None:
    assert policy.postage_payer("exchange", shop_at_fault=True) == "shop"
    assert policy.postage_payer("exchange", shop_at_fault=False) == "shopper"
    assert policy.postage_payer("wrong_item", shop_at_fault=False) == "shop"


def test_wrong_item_reship_only_when_postage_costs_more_than_the_item() -> None:
    assert policy.wrong_item_remedy(True, Decimal("20"), Decimal("5")) == "keep_with_compensation"
    assert policy.wrong_item_remedy(False, Decimal("20.01"), Decimal("20")) == "reship"
    assert policy.wrong_item_remedy(False, Decimal("20"), Decimal("20")) == "return_and_exchange"


def test_quality_within_three_days_unworn_is_on_the_shop() -> None:
    now = datetime(2026, 11, 23, 12, 0)
    assert policy.quality_remedy(now - timedelta(days=3), now, worn=False) == "return_or_repair_at_shop_cost"
    assert policy.quality_remedy(now - timedelta(days=3, seconds=1), now, worn=False) == "compensation"
    assert policy.quality_remedy(now - timedelta(days=1), now, worn=True) == "compensation"


def test_damaged_missing_and_exchange_remedies() -> None:
    assert policy.damaged_remedy(signed_for=True) == "photos_then_compensation_or_exchange"
    assert policy.damaged_remedy(signed_for=False) == "return"
    assert policy.missing_item_remedy(True, True) == "wait_for_split_parcel"
    assert policy.missing_item_remedy(False, True) == "reship_with_coupon"
    assert policy.missing_item_remedy(False, False) == "photos_then_reship"
    assert policy.exchange_payment(True, Decimal("50")) == 0
    assert policy.exchange_payment(False, Decimal("50")) == Decimal("50")
    assert policy.exchange_payment(False, Decimal("-30")) == 0


@pytest.mark.parametrize(
    ("status", "hours_ago", "reminded", "due"),
    [("unpaid", 11.9, False, False), ("unpaid", 12, False, True), ("unpaid", 80, False, True),
     ("unpaid", 13, True, False), ("paid", 13, False, False), ("cancelled", 13, False, False)],
)
def test_unpaid_reminder_once_after_12_hours(status: str, hours_ago: float, reminded: bool, due: bool) -> None:
    assert policy.needs_reminder(status, NOW - timedelta(hours=hours_ago), reminded, NOW) is due


@pytest.mark.parametrize(
    ("status", "paid_hours_ago", "checked", "due"),
    [("paid", 0, False, True), ("paid", 2, False, True), ("paid", 2.01, False, False), ("paid", 1, True, False),
     ("paid", -0.5, False, False), ("shipped", 1, False, False), ("unpaid", None, False, False)],
)
def test_delivery_details_checked_once_within_2_hours_of_payment(
        status: str, paid_hours_ago: float | None, checked: bool, due: bool) -> None:
    paid = None if paid_hours_ago is None else NOW - timedelta(hours=paid_hours_ago)
    assert policy.needs_details_check(status, paid, checked, NOW) is due


@pytest.mark.parametrize(
    ("owner", "minutes_quiet", "may"),
    [("bot", None, True), ("bot", 5, True), ("bot", 4.9, False), ("agent", 60, False), ("waiting", 60, False)],
)
def test_the_bot_speaks_first_only_into_a_quiet_conversation_it_owns(
        owner: str, minutes_quiet: float | None, may: bool) -> None:
    last = None if minutes_quiet is None else NOW - timedelta(minutes=minutes_quiet)
    assert policy.may_speak_first(owner, last, NOW) is may


@pytest.mark.parametrize(
    ("utc", "on"),
    [("00:29", False), ("00:30", True), ("14:59", True), ("15:00", False), ("23:00", False)],
)
def test_agents_are_on_duty_0830_to_2300_china_time(utc: str, on: bool) -> None:
    hour, minute = map(int, utc.split(":"))
    assert policy.on_duty(datetime(2026, 11, 11, hour, minute)) is on


def test_a_queued_shopper_goes_back_to_the_bot_after_ten_minutes_alone_in_agent_hours() -> None:
    day = datetime(2026, 11, 11, 6, 0)  # 14:00 in China
    night = datetime(2026, 11, 11, 18, 0)  # 02:00 in China: promised a reply at the shift's start
    assert policy.WAIT_ALONE_RETURN == timedelta(minutes=10)
    assert policy.back_to_bot(timedelta(minutes=10), 0, day)
    assert not policy.back_to_bot(timedelta(minutes=10) - timedelta(seconds=1), 0, day)
    assert not policy.back_to_bot(timedelta(hours=1), 1, day), "someone is online to take it"
    assert not policy.back_to_bot(timedelta(hours=1), 0, night)
    assert policy.AGENT_GONE_REQUEUE == timedelta(minutes=3)


@pytest.mark.parametrize(
    ("intent", "confidence", "flagged", "reason"),
    [
        ("order_status", 0.95, False, None),
        ("order_status", policy.REVIEW_BELOW_CONFIDENCE, False, None),
        ("order_status", policy.REVIEW_BELOW_CONFIDENCE - 0.001, False, "unsure"),
        ("nlu_fallback", 0.3, False, "fallback"),
        (None, 0.0, False, "fallback"),
        ("order_status", 0.99, True, "flagged"),
    ],
)
def test_review_list_takes_fallbacks_unsure_and_flagged_messages(
        intent: str | None, confidence: float, flagged: bool, reason: str | None) -> None:
    assert policy.review_reason(intent, confidence, flagged) == reason


@pytest.mark.parametrize(("total", "paid", "left"), [
    ("199.00", [], "59.70"),
    ("199.00", ["20.00"], "39.70"),
    ("199.00", ["20.00", "39.70"], "0.00"),  # exactly spent
    ("199.00", ["59.71"], "0.00"),  # a supervisor paid over: nothing left, never negative
    ("0.05", ["0.01"], "0.01"),
])
def test_goodwill_left_counts_what_the_order_already_received(total: str, paid: list[str], left: str) -> None:
    assert policy.goodwill_left(Decimal(total), [Decimal(p) for p in paid]) == Decimal(left)
