"""The registers the shop keeps (WORKFLOWS.md, "Records the shop keeps"), read from the case and note
records, and the back-office changes agents make to a case.

Unlike bot/shop.py these are not scoped to one shopper: only logged-in agents reach them (the console).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot import policy
from bot.models import CASE_STATUSES, AfterSalesCase, Order, OrderItem, OrderNote, Photo, Sku
from bot.text import well_formed

LIMIT = 200


def _when(at: Optional[datetime]) -> Optional[str]:
    return at.isoformat() if at else None


def _item(case: AfterSalesCase) -> str:
    if case.item is None:
        return "整单 / whole order"
    sku = case.item.sku
    return f"{sku.product.name_zh} {sku.color_zh}/{sku.size} ×{case.item.quantity}"


def case_json(case: AfterSalesCase, photos: list[str]) -> dict[str, Any]:
    return {
        "case_no": case.case_no, "kind": case.kind, "status": case.status, "reason": case.reason,
        "order_no": case.order.order_no, "shopper": case.order.shopper_id, "item": _item(case),
        "remedy": case.remedy, "wanted": case.wanted, "progress": case.progress,
        "return_tracking_no": case.return_tracking_no,
        "amount": str(case.amount) if case.amount is not None else None,
        "amount_paid": str(case.amount_paid) if case.amount_paid is not None else None,
        "created_at": _when(case.created_at), "updated_at": _when(case.updated_at), "photos": photos,
    }


def photos_by_case(s: Session, case_ids: list[int]) -> dict[int, list[str]]:
    """Each case's evidence photos, as the gateway's /uploads/ paths, oldest first."""
    found: dict[int, list[str]] = {}
    if not case_ids:
        return found
    rows = s.execute(select(Photo.case_id, Photo.filename).where(Photo.case_id.in_(case_ids)).order_by(Photo.id))
    for case_id, filename in rows:
        found.setdefault(case_id, []).append(f"/uploads/{filename}")
    return found


def _cases(s: Session, where: Any) -> list[dict[str, Any]]:
    stmt = (
        select(AfterSalesCase).where(where)
        .options(selectinload(AfterSalesCase.order),
                 selectinload(AfterSalesCase.item).selectinload(OrderItem.sku).selectinload(Sku.product))
        .order_by(AfterSalesCase.created_at.desc()).limit(LIMIT)
    )
    cases = list(s.execute(stmt).scalars())
    photos = photos_by_case(s, [c.id for c in cases])
    return [case_json(c, photos.get(c.id, [])) for c in cases]


def _lost_parcels(s: Session) -> list[dict[str, Any]]:
    """Claims from the courier: parcels treated as lost, and cases of damage in transit."""
    notes = s.execute(
        select(OrderNote, Order).join(Order, OrderNote.order_id == Order.id)
        .where(OrderNote.kind == "lost_claim").order_by(OrderNote.created_at.desc()).limit(LIMIT)
    ).all()
    rows = [{"kind": "lost", "order_no": o.order_no, "shopper": o.shopper_id, "courier": o.courier,
             "tracking_no": o.tracking_no, "note": n.text, "created_at": _when(n.created_at)} for n, o in notes]
    for case in _cases(s, AfterSalesCase.kind == "damaged"):
        rows.append({"kind": "damaged", "order_no": case["order_no"], "shopper": case["shopper"],
                     "case_no": case["case_no"], "status": case["status"], "photos": case["photos"],
                     "note": case["reason"], "created_at": case["created_at"]})
    return rows


REGISTERS: dict[str, Callable[[Session], list[dict[str, Any]]]] = {
    "after_sales": lambda s: _cases(s, AfterSalesCase.id.is_not(None)),  # 售后登记表
    "repairs": lambda s: _cases(s, AfterSalesCase.kind == "repair"),  # 返修登记表, with progress
    "wrong_shipments": lambda s: _cases(s, AfterSalesCase.kind.in_(("wrong_item", "missing_item"))),  # 错发登记表
    "lost_parcels": _lost_parcels,  # 丢件/破损索赔
    "compensation": lambda s: _cases(s, AfterSalesCase.kind.in_(("compensation",)) | AfterSalesCase.remedy.in_(
        ("keep_with_compensation", "compensation", "own_fault_goodwill"))),  # 补偿登记
}


def register(s: Session, name: str) -> Optional[list[dict[str, Any]]]:
    read = REGISTERS.get(name)
    return read(s) if read else None


# --- what an agent changes on a case ------------------------------------------------------------------

@dataclass(frozen=True)
class CaseUpdate:
    ok: bool
    error: Optional[str] = None  # "not_found" | "bad_status" | "bad_amount" | "bad_text" | "over_cap" | "nothing"
    case: Optional[dict[str, Any]] = None
    shipped_back: Optional[str] = None  # the tracking number just set: the shopper is told


def update_case(s: Session, case_no: str, changes: dict[str, Any], author: str, supervisor: bool,
                now: datetime) -> CaseUpdate:
    """Status, a progress line (appended, dated), the tracking number of a parcel sent back, or the
    compensation paid; paying more than the cap the rules allow takes a supervisor."""
    case = s.execute(select(AfterSalesCase).where(AfterSalesCase.case_no == case_no[:32])
                     .options(selectinload(AfterSalesCase.order))).scalar_one_or_none()
    if case is None:
        return CaseUpdate(False, "not_found")
    changed = False
    shipped_back = None
    status = changes.get("status")
    if status is not None:
        if status not in CASE_STATUSES:
            return CaseUpdate(False, "bad_status")
        case.status, changed = status, True
    if "amount_paid" in changes:
        try:
            paid = Decimal(str(changes["amount_paid"])).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            return CaseUpdate(False, "bad_amount")
        if not paid.is_finite() or paid < 0:
            return CaseUpdate(False, "bad_amount")
        elsewhere = [c.amount_paid for c in case.order.cases if c.id != case.id and c.amount_paid is not None]
        if paid > policy.goodwill_left(case.order.total, elsewhere) and not supervisor:
            return CaseUpdate(False, "over_cap")
        case.amount_paid, changed = paid, True
    texts = {key: changes.get(key) for key in ("progress", "return_tracking_no")}
    if any(value is not None and not isinstance(value, str) for value in texts.values()):
        return CaseUpdate(False, "bad_text")  # an object or a number is not a line for the register
    progress = well_formed(texts["progress"] or "").strip()[:200]
    if progress:
        line = f"{now:%Y-%m-%d} {progress}（{author}）"
        case.progress = f"{case.progress}\n{line}" if case.progress else line
        changed = True
    tracking = well_formed(texts["return_tracking_no"] or "").strip()[:64]
    if tracking and tracking != case.return_tracking_no:
        case.return_tracking_no, changed, shipped_back = tracking, True, tracking
    if not changed:
        return CaseUpdate(False, "nothing")
    case.updated_at = now
    s.flush()
    photos = photos_by_case(s, [case.id]).get(case.id, [])
    return CaseUpdate(True, case=case_json(case, photos), shipped_back=shipped_back)
