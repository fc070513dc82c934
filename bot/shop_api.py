"""The shop backend's API to keep the bot's records current: how a request is signed and what it does.

A request carries `X-Shop-Timestamp` (Unix seconds), `X-Shop-Nonce` (random,
8-64 characters) and `X-Shop-Signature`: hex HMAC-SHA256 with
`SHOP_API_SECRET` over the method, the path with its query, the timestamp,
the nonce and the SHA-256 of the body, one per line. The gateway refuses a
request more than `WINDOW` seconds off its clock, and a nonce it has seen
within the window (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot import imports
from bot.models import AfterSalesCase, Order, Sku, TrackingEvent
from bot.registers import case_json

WINDOW = 300  # seconds either side of the gateway's clock
NONCE = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_headers(secret: str, method: str, path: str, body: bytes, nonce: str,
                   now: Optional[float] = None) -> dict[str, str]:
    """What the shop's backend sends (tests and docs/shop-data.md's example do the same)."""
    stamp = str(int(now if now is not None else time.time()))
    return {"X-Shop-Timestamp": stamp, "X-Shop-Nonce": nonce,
            "X-Shop-Signature": signature(secret, method, path, stamp, nonce, body)}


def check(secret: str, method: str, path: str, headers: dict[str, str], body: bytes,
          now: Optional[float] = None) -> Optional[str]:
    """Why a request is refused (None: signed, and fresh). The nonce is checked for replays apart."""
    stamp, nonce, given = (headers.get(h, "") for h in ("x-shop-timestamp", "x-shop-nonce", "x-shop-signature"))
    if not (stamp and nonce and given):
        return "unsigned"
    if not stamp.isdigit() or not NONCE.match(nonce):
        return "malformed"
    if abs((now if now is not None else time.time()) - int(stamp)) > WINDOW:
        return "stale"
    if not hmac.compare_digest(given.lower(), signature(secret, method, path, stamp, nonce, body)):
        return "bad_signature"
    return None


# --- what the calls do (one transaction each, run by the gateway) -------------------------------

def upsert_orders(s: Session, data: Any) -> dict[str, Any]:
    report = imports.Report()
    imports.write_orders(s, imports.orders_from_json(data, report), report)
    return _report(report)


def set_stock(s: Session, data: Any) -> dict[str, Any]:
    report = imports.Report()
    rows = data.get("stock") if isinstance(data, dict) else None
    skus = {k.code: k for k in s.execute(select(Sku)).scalars()} if isinstance(rows, list) else {}
    for number, row in enumerate(rows if isinstance(rows, list) else [], start=1):
        try:
            if not isinstance(row, dict):
                raise imports.Refused("not an object")
            sku = skus.get(str(row.get("sku") or ""))
            if sku is None:
                raise imports.Refused(f"no SKU {str(row.get('sku'))[:64]!r}")
            stock = imports._count(row.get("stock"), "stock")
        except imports.Refused as why:
            report.refused.append((f"row {number}", str(why)))
            continue
        if sku.stock == stock:
            report.unchanged += 1
        else:
            sku.stock, report.updated = stock, report.updated + 1
    return _report(report)


def add_shipping_events(s: Session, data: Any) -> dict[str, Any]:
    """Courier scans, each once however often it is sent; `delivered: true` marks the order delivered."""
    report = imports.Report()
    rows = data.get("events") if isinstance(data, dict) else None
    for number, row in enumerate(rows if isinstance(rows, list) else [], start=1):
        try:
            if not isinstance(row, dict):
                raise imports.Refused("not an object")
            order = s.execute(select(Order).where(Order.order_no == str(row.get("order_no") or ""))
                              .options(selectinload(Order.tracking_events))).scalar_one_or_none()
            if order is None:
                raise imports.Refused(f"no order {str(row.get('order_no'))[:32]!r}")
            at = imports._time(row.get("at"), "at")
            if at is None:
                raise imports.Refused("at is empty")
            text_zh = imports._text(row.get("text_zh"), "text_zh", 255)
            text_en = imports._text(row.get("text_en") or text_zh, "text_en", 255)
            place = imports._text(row.get("place"), "place", 64, required=False)
        except imports.Refused as why:
            report.refused.append((f"event {number}", str(why)))
            continue
        if any(e.at == at and e.text_zh == text_zh for e in order.tracking_events):
            report.unchanged += 1
            continue
        order.tracking_events.append(TrackingEvent(at=at, place=place, text_zh=text_zh, text_en=text_en))
        if order.status == "paid":
            order.status, order.shipped_at = "shipped", order.shipped_at or at
        if row.get("delivered") is True and order.status in ("paid", "shipped"):
            order.status, order.delivered_at = "delivered", at
        report.created += 1
    return _report(report)


def cases_since(s: Session, since: Optional[datetime]) -> list[dict[str, Any]]:
    """After-sales cases the bot or the agents opened or changed since then, oldest change first."""
    stmt = select(AfterSalesCase).options(selectinload(AfterSalesCase.order)).order_by(AfterSalesCase.updated_at)
    if since is not None:
        stmt = stmt.where(AfterSalesCase.updated_at > since)
    return [case_json(c, []) for c in s.execute(stmt.limit(500)).scalars()]


def _report(report: imports.Report) -> dict[str, Any]:
    return {"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
            "refused": [{"row": where, "why": why} for where, why in report.refused], "notes": report.notes}


def since(value: str) -> Optional[datetime]:
    """`?since=2026-12-01T00:00:00` (UTC); ValueError for anything else."""
    return datetime.fromisoformat(value.rstrip("Z")) if value else None
