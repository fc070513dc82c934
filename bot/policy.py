"""The shop's business rules (../shared/WORKFLOWS.md) as pure functions.

Every threshold lives here and nowhere else; actions ask these functions and
turn the answer into words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
RESOLVE_WITHIN = timedelta(hours=48)  # an after-sales case is resolved within 48 h
RETURN_POSTAGE = Decimal("12.00")  # what sending a parcel back costs the shop (wrong-item remedy)
OVERDUE_SHIP_WITHIN = timedelta(hours=24)  # past the promise: the new date we give the shopper

# Who waits first for a person: disputes and bad reviews (WORKFLOWS.md); lower is sooner.
HANDOFF_PRIORITY = {"complaint": 1, "bad_review": 1, "dispute": 1, "needs_decision": 2, "human_request": 3,
                    "product_question": 3, "fallback": 4}
OTHER_HANDOFF_PRIORITY = 5
FALLBACKS_BEFORE_PERSON = 2  # the second misunderstanding in a row goes to a person
SUGGESTIONS = 3  # the first misunderstanding offers up to this many likely intents as buttons
SUGGEST_MIN_CONFIDENCE = 0.05  # ...each with at least this much of the model's belief
INVALID_ANSWERS_BEFORE_PERSON = 2  # two unusable answers in a row to a form's question: offer a person
GIFT_BASKET_MIN_ITEMS = 3  # a basket this large gets a gift or free shipping instead of a price cut
UNPAID_REMINDER_AFTER = timedelta(hours=12)  # 催付 once, this long after the order
DETAILS_CHECK_WITHIN = timedelta(hours=2)  # after payment: the bot checks address, phone and courier once
OUTREACH_QUIET = timedelta(minutes=5)  # never speak first into a conversation this busy
AGENT_HOURS = (time(8, 30), time(23, 0))  # agents on duty, China time
CHINA_TIME = timedelta(hours=8)  # from UTC, which the records keep
# An agent whose console is gone (closed, crashed, network) this long: their chats go back to the queue.
AGENT_GONE_REQUEUE = timedelta(minutes=3)
# Waiting this long in agent hours with no agent online at all: the bot takes the shopper back.
# Outside agent hours the shopper was promised a reply when the shift starts, so the chat stays queued.
WAIT_ALONE_RETURN = timedelta(minutes=10)
# Shopper messages an agent is asked to label (the console's review list): what the bot fell back on,
# what it understood with less than this confidence, and what an agent flagged.
REVIEW_BELOW_CONFIDENCE = 0.5

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


def goodwill_left(order_total: Decimal, paid: Iterable[Decimal]) -> Decimal:
    """What may still be offered on an order after what its other cases were paid: the cap is per
    order, not per case, so several compensation cases cannot each reach it."""
    return max(max_goodwill(order_total) - sum(paid, Decimal("0")), Decimal("0.00")).quantize(Decimal("0.01"))


def bulk_discount(item_count: int) -> Decimal:
    """Share off for a large basket; more than 10% needs a supervisor."""
    return BULK_DISCOUNT if item_count >= BULK_MIN_ITEMS else Decimal("0")


def size_for_weight(chart: list[dict], weight_kg: float) -> Optional[str]:
    """The chart's size for a body weight, or None when the chart has no row."""
    for row in chart:
        if float(row["min_kg"]) <= weight_kg <= float(row["max_kg"]):
            return str(row["size"])
    return None


def on_duty(now_utc: datetime) -> bool:
    """Whether agents are on duty at this moment (AGENT_HOURS, China time)."""
    start, end = AGENT_HOURS
    return start <= (now_utc + CHINA_TIME).time() < end


def back_to_bot(waited: timedelta, agents_online: int, now_utc: datetime) -> bool:
    """A queued shopper the bot takes back: waited long enough, in agent hours, with nobody online."""
    return agents_online == 0 and waited >= WAIT_ALONE_RETURN and on_duty(now_utc)


def queue_priority(reason: str) -> int:
    return HANDOFF_PRIORITY.get(reason, OTHER_HANDOFF_PRIORITY)


def review_reason(intent: Optional[str], confidence: float, flagged: bool) -> Optional[str]:
    """Why a shopper message belongs in the review list ("flagged", "fallback", "unsure"), or None."""
    if flagged:
        return "flagged"
    if not intent or intent == "nlu_fallback":
        return "fallback"
    return "unsure" if confidence < REVIEW_BELOW_CONFIDENCE else None


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
        "goodwill_percent": str(int(MAX_GOODWILL_SHARE * 100)),
        "window_days": str(RETURN_WINDOW.days),
        "quality_days": str(QUALITY_FREE_RETURN.days),
        "bulk_items": str(BULK_MIN_ITEMS),
        "bulk_percent": str(int(BULK_DISCOUNT * 100)),
        "gift_items": str(GIFT_BASKET_MIN_ITEMS),
        "resolve_hours": _hours(RESOLVE_WITHIN),
    }


# --- Order flows: which orders each one may touch -------------------------------------

@dataclass(frozen=True)
class OrderCheck:
    allowed: bool
    # "ok" | "unpaid" | "cancelled" | "shipped" | "delivered" | "not_shipped" | "address_only"
    reason: str


def can_check_status(status: str) -> OrderCheck:
    return OrderCheck(True, "ok")


def can_urge(status: str) -> OrderCheck:
    """Only a paid, unshipped order can be hurried."""
    if status == "paid":
        return OrderCheck(True, "ok")
    return OrderCheck(False, {"unpaid": "unpaid", "cancelled": "cancelled"}.get(status, "shipped"))


def can_cancel(status: str) -> OrderCheck:
    """Before shipment the order is withdrawn; after it, the return path."""
    if status in ("unpaid", "paid"):
        return OrderCheck(True, "ok")
    if status == "cancelled":
        return OrderCheck(False, "cancelled")
    return OrderCheck(False, "shipped" if status == "shipped" else "delivered")


def can_change(status: str) -> OrderCheck:
    """Not shipped: anything; in transit: the address only, through the courier; later: a return."""
    if status in ("unpaid", "paid"):
        return OrderCheck(True, "ok")
    if status == "shipped":
        return OrderCheck(True, "address_only")
    if status == "cancelled":
        return OrderCheck(False, "cancelled")
    return OrderCheck(False, "delivered")


def can_invoice(status: str) -> OrderCheck:
    """Invoices are for money taken: any paid order that was not cancelled."""
    if status in ("unpaid", "cancelled"):
        return OrderCheck(False, status)
    return OrderCheck(True, "ok")


ORDER_FLOWS: dict[str, Callable[[str], OrderCheck]] = {
    "order_status": can_check_status,
    "urge_shipment": can_urge,
    "cancel_order": can_cancel,
    "change_order": can_change,
    "invoice": can_invoice,
}


def overdue_ship_by(now: datetime) -> datetime:
    """The date an overdue order is promised for, once the follow-up is registered."""
    return now + OVERDUE_SHIP_WITHIN


def needs_reminder(status: str, created_at: datetime, already_reminded: bool, now: datetime) -> bool:
    """催付: an unpaid order is reminded once, UNPAID_REMINDER_AFTER after it was placed."""
    return status == "unpaid" and not already_reminded and now - created_at >= UNPAID_REMINDER_AFTER


def needs_details_check(status: str, paid_at: Optional[datetime], already_checked: bool, now: datetime) -> bool:
    """After payment, before shipment: confirm the address, phone and courier with the shopper, once, while the
    payment is recent enough for a change to reach the warehouse."""
    return (status == "paid" and paid_at is not None and not already_checked
            and timedelta(0) <= now - paid_at <= DETAILS_CHECK_WITHIN)


def may_speak_first(owner: str, last_message_at: Optional[datetime], now: datetime) -> bool:
    """Outreach goes only to conversations the bot owns and the shopper is not in the middle of."""
    return owner == "bot" and (last_message_at is None or now - last_message_at >= OUTREACH_QUIET)


# --- Pre-sale: bargaining, gifts and free shipping -----------------------------------

def bargain_offer(item_count: int, asked_share: Optional[Decimal] = None) -> str:
    """What the shop can offer a shopper asking for a better price.

    "hold_price": no cut; "gift_or_free_shipping": a large basket gets extras instead of a cut;
    "bulk_discount": BULK_DISCOUNT off; "supervisor": the shopper wants more than the rules allow.
    """
    allowed = bulk_discount(item_count)
    if asked_share is not None and asked_share > max(allowed, Decimal("0")):
        return "supervisor"
    if allowed > 0:
        return "bulk_discount"
    if item_count >= GIFT_BASKET_MIN_ITEMS:
        return "gift_or_free_shipping"
    return "hold_price"


def extras_allowed(special_price: bool) -> bool:
    """Gifts and free shipping are the item's to give; special-price items never get them."""
    return not special_price


# --- After-sales: one spec per kind, for one engine to read ------------------------------


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    # "ok" | "unpaid" | "cancelled" | "not_shipped" | "in_transit" | "window_passed"
    reason: str


def _received(status: str, delivered_at: Optional[datetime], now: datetime) -> Eligibility:
    """The shopper has the parcel (signed for it)."""
    if status in ("cancelled", "unpaid"):
        return Eligibility(False, status)
    if status == "paid":
        return Eligibility(False, "not_shipped")
    if status == "shipped" or delivered_at is None:
        return Eligibility(False, "in_transit")
    return Eligibility(True, "ok")


def _within_return_window(status: str, delivered_at: Optional[datetime], now: datetime) -> Eligibility:
    check = return_check(status, delivered_at, now)
    return Eligibility(check.eligible, check.reason)


def _paid(status: str, delivered_at: Optional[datetime], now: datetime) -> Eligibility:
    """Money was taken and the order stands: a refund can be asked for (a person decides how much)."""
    if status in ("cancelled", "unpaid"):
        return Eligibility(False, status)
    return Eligibility(True, "ok")


@dataclass(frozen=True)
class CaseSpec:
    """What the shop does for one kind of after-sales case (WORKFLOWS.md, "After-sales")."""

    kind: str
    eligible: Callable[[str, Optional[datetime], datetime], Eligibility]
    collect: tuple[str, ...]  # what the flow asks for before the case is opened
    evidence: tuple[str, ...]  # photos the case waits for: "label", "item", "scale"
    start_status: str  # "awaiting_photos" whenever photos are needed
    note_zh: str  # the red-flag note on the order; placeholders: case_no, item, and figures()
    extends_transaction: bool  # the order's transaction time moves by RETURN_EXTENSION
    postage: str  # who pays return postage: "shopper" | "shop" | "shop_if_at_fault"


CASES: dict[str, CaseSpec] = {spec.kind: spec for spec in (
    CaseSpec("return", _within_return_window, ("order_id", "order_item", "case_reason"), (), "awaiting_return",
             "买家申请退货 {case_no}（{item}），交易时间延长{extension_days}天", True, "shop_if_at_fault"),
    CaseSpec("exchange", _within_return_window, ("order_id", "order_item", "wanted"), (), "awaiting_return",
             "买家申请换货 {case_no}（{item} → {wanted}），交易时间延长{extension_days}天", True, "shop_if_at_fault"),
    CaseSpec("repair", _received, ("order_id", "order_item", "case_reason"), (), "open",
             "返修登记 {case_no}（{item}：{reason}），进度见返修登记表", False, "shop_if_at_fault"),
    CaseSpec("refund_only", _paid, ("order_id", "case_reason"), (), "open",
             "买家申请仅退款 {case_no}（{reason}），待客服核实", False, "shop"),
    CaseSpec("wrong_item", _received, ("order_id", "order_item"), ("label", "item"), "awaiting_photos",
             "错发 {case_no}（{item}），已登记错发表，待买家照片；照片核实后买家可选保留并补偿，否则{remedy}", False, "shop"),
    CaseSpec("missing_item", _received, ("order_id", "order_item"), ("label", "scale"), "awaiting_photos",
             "少发/漏发 {case_no}（{item}），先查是否分包发货，待买家照片", False, "shop"),
    CaseSpec("damaged", _received, ("order_id", "order_item", "signed_for"), ("label", "item"), "awaiting_photos",
             "运输破损 {case_no}（{item}），待买家照片，向快递登记索赔", False, "shop"),
    CaseSpec("quality", _received, ("order_id", "order_item", "case_reason"), ("item",), "awaiting_photos",
             "质量问题 {case_no}（{item}：{reason}），待买家照片；{remedy}", True, "shop"),
    CaseSpec("compensation", _received, ("order_id", "case_reason"), (), "open",
             "补偿 {case_no}（{reason}），上限 ¥{cap}（订单金额的{goodwill_percent}%），待客服确认金额并登记补偿", False,
             "shop"),
)}


NOTE_AUTHOR = "客服机器人 / shop-assist bot"  # who the bot's notes and case lines are signed by
WHOLE_ORDER = "整单"  # a case about no single item, as notes name it
REPAIR_REGISTERED = "登记返修 / registered for repair"  # a repair's first progress line
OVERDUE_CAUSES = {"sold_out": "缺货，待补货", "missed": "仓库漏发，优先安排"}  # why an order is late, as notes say it
CANCEL_REFUND = {"paid": "款项{refund_days}个工作日内原路退回", "unpaid": "未付款，无需退款"}

# Notes the bot writes on orders (red flag = needs a person's attention; blue = reminded once).
ORDER_NOTES: dict[str, str] = {
    "ship_overdue_followup": "超{ship_hours}小时未发货，买家催发货：已登记跟进，查明原因（{cause}），承诺{ship_by}前发出，赠送小礼品",
    "courier_chase": "物流{hours}小时无更新，已联系快递核实",
    "lost_claim": "物流{hours}小时无更新，按丢件处理：已登记丢件索赔，立即补发",
    "cancelled": "买家在发货前取消订单，{refund}",
    "address_changed": "买家修改收货信息：{change}",
    "address_redirect": "已发货，买家要求改地址：{change}，请联系快递改派",
    "item_changed": "买家修改规格：{change}",
    "courier_changed": "买家指定快递：{change}，请仓库按此发货",
    "invoice": "开票申请：抬头「{title}」，税号 {tax_number}，按顺序开具",
    "invoice_urgent": "急票：抬头「{title}」，税号 {tax_number}，买家ID {shopper}，已转财务",
    "unpaid_reminder": "已催付一次（下单{hours}小时未付款），不再重复催付",
}


# How a case's remedy reads in its order note.
REMEDY_NOTES: dict[str, str] = {
    "keep_with_compensation": "买家同意保留，登记补偿",
    "reship": "运费高于商品价值，直接补发",
    "return_and_exchange": "退回后换货",
    "return_or_repair_at_shop_cost": "签收{quality_days}天内：退货或维修，运费由店铺承担",
    "compensation": "超过{quality_days}天或已穿着：协商补偿，买家不接受由主管决定",
    "own_fault_goodwill": "买家自身原因：原则上不退换，请客服友好协商（优惠维修或少量补偿），避免差评",
}


def remedy_note(remedy: str) -> str:
    return REMEDY_NOTES.get(remedy, remedy).format(**figures())


def order_note(kind: str, **values: str) -> str:
    """The text of a note the bot writes on an order, its numbers from this module."""
    return ORDER_NOTES[kind].format(**{**figures(), **values})


def case_note(kind: str, **values: str) -> str:
    """The note a new case writes on its order, its numbers from this module."""
    return CASES[kind].note_zh.format(**{**figures(), **values})


# The shopper's own fault (worn, washed wrong, dropped): no free return or repair in principle, but a person
# offers what keeps the shopper happy (a paid repair, a little compensation) rather than a bare no.
OWN_FAULT_KINDS = ("return", "exchange", "repair", "quality")


def own_fault_remedy(kind: str, shopper_at_fault: bool) -> Optional[str]:
    return "own_fault_goodwill" if shopper_at_fault and kind in OWN_FAULT_KINDS else None


def postage_payer(kind: str, shop_at_fault: bool) -> str:
    rule = CASES[kind].postage
    if rule == "shop_if_at_fault":
        return "shop" if shop_at_fault else "shopper"
    return rule


def wrong_item_remedy(keeps_item: bool, return_postage: Decimal, item_value: Decimal) -> str:
    """Keep it with compensation; else reship when sending it back costs more than it is worth."""
    if keeps_item:
        return "keep_with_compensation"
    return "reship" if return_postage > item_value else "return_and_exchange"


def quality_remedy(delivered_at: datetime, now: datetime, worn: bool) -> str:
    """Within QUALITY_FREE_RETURN and unworn: return or repair at the shop's cost; else compensation
    (a supervisor decides what the shopper refuses)."""
    if not worn and now - delivered_at <= QUALITY_FREE_RETURN:
        return "return_or_repair_at_shop_cost"
    return "compensation"


def damaged_remedy(signed_for: bool) -> str:
    """Signed for: photos, then compensation or return/exchange; refused at the door: a normal return."""
    return "photos_then_compensation_or_exchange" if signed_for else "return"


def missing_item_remedy(other_parcel_on_its_way: bool, shop_at_fault: bool) -> str:
    if other_parcel_on_its_way:
        return "wait_for_split_parcel"
    return "reship_with_coupon" if shop_at_fault else "photos_then_reship"


def exchange_payment(same_item: bool, price_difference: Decimal) -> Decimal:
    """What the shopper pays on an exchange: nothing for the same item, else the difference (never negative)."""
    return Decimal("0") if same_item else max(price_difference, Decimal("0"))
