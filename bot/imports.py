"""A shop's own catalogue and orders in: the seller center's CSV exports, or plain JSON.

    python -m bot.imports catalogue FILE.csv|FILE.json
    python -m bot.imports orders FILE.csv|FILE.json

Catalogue CSV, one row per SKU (the seller center's export by SKU): 宝贝名称,
宝贝价格, 宝贝数量 (stock), 商家编码 (the SKU's merchant code), 销售属性组合
("颜色分类:黑色;尺码:M"); optional 宝贝编号 (groups SKUs into one product, else
the name does), 宝贝类目, 英文名称. JSON: {"products": [{"code", "name_zh",
"name_en", "price", "category", "skus": [{"code", "color", "size", "stock"}]}]}.

Orders CSV, one row per item: 订单编号, 买家会员名 (or 买家ID: the id the shop's
site signs the widget's token with), 订单状态 (as the seller center writes it),
收货人姓名, 收货地址, 联系手机, 买家实际支付金额, 订单创建时间, 订单付款时间,
发货时间, 物流公司, 物流单号, 商家编码, 购买数量. JSON: {"orders": [{"order_no",
"shopper_id", "nickname", "status", "receiver_name", "address", "phone",
"total", "created_at", "paid_at", "shipped_at", "delivered_at", "courier",
"tracking_no", "items": [{"sku", "quantity", "unit_price"}]}]}.

Importing again changes nothing; a row that does not hold up is refused with
why (an order with one bad item is refused whole); everything else is written
in one transaction, or nothing is.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot import policy
from bot.catalogue import COURIERS
from bot.clock import utcnow
from bot.db import get_sessionmaker
from bot.identity import SHOPPER_ID, VISITOR_PREFIX
from bot.models import ORDER_STATUSES, Category, Order, OrderItem, Product, Shopper, Sku, TrackingEvent

IMPORTED_CATEGORY = ("imported", "导入商品", "Imported")
# The seller center's order states, as it writes them.
STATUSES = {
    "等待买家付款": "unpaid", "买家已付款": "paid", "等待卖家发货": "paid", "卖家已发货": "shipped",
    "等待买家确认收货": "shipped", "已签收": "delivered", "交易成功": "completed", "交易关闭": "cancelled",
    **{s: s for s in ORDER_STATUSES},
}
COURIER_NAMES = {name: code for code, names in COURIERS.items() for name in (code, *names)} | {
    "顺丰": "SF", "中通": "ZTO", "圆通": "YTO", "韵达": "YUNDA"}
MOBILE = re.compile(r"^1\d{10}$")
ORDER_NO = re.compile(r"^\d{6,32}$")


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (which row, why)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
               f"refused {len(self.refused)}"]
        out += [f"  refused {where}: {why}" for where, why in self.refused]
        out += [f"  note: {note}" for note in self.notes]
        return out


class Refused(ValueError):
    pass


def _text(value: Any, what: str, limit: int, required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise Refused(f"{what} is empty")
    if len(text) > limit:
        raise Refused(f"{what} is longer than {limit} characters")
    return text


def _money(value: Any, what: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip().lstrip("¥￥")).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise Refused(f"{what} is not an amount: {str(value)[:20]!r}") from None
    if not amount.is_finite() or amount < 0:
        raise Refused(f"{what} is not an amount: {str(value)[:20]!r}")
    return amount


def _count(value: Any, what: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise Refused(f"{what} is not a whole number: {str(value)[:20]!r}") from None
    if number < 0:
        raise Refused(f"{what} is negative")
    return number


def _time(value: Any, what: str) -> Optional[datetime]:
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("/", "-").replace("T", " ").rstrip("Z"))
    except ValueError:
        raise Refused(f"{what} is not a time: {text[:25]!r}") from None


# --- the catalogue ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SkuIn:
    code: str
    color: str
    size: str
    stock: int


@dataclass(frozen=True)
class ProductIn:
    code: str
    name_zh: str
    name_en: str
    category: str
    price: Decimal
    skus: tuple[SkuIn, ...]


def _attributes(combo: str) -> tuple[str, str]:
    """("黑色", "M") from "颜色分类:黑色;尺码:M"; "默认" / "F" where the export has none."""
    color, size = "默认", "F"
    for part in re.split(r"[;；]", combo or ""):
        key, _, value = part.partition(":") if ":" in part else part.partition("：")
        if "色" in key and value.strip():
            color = value.strip()
        elif ("码" in key or "尺寸" in key or "size" in key.lower()) and value.strip():
            size = value.strip()
    return color[:32], size[:16]


def catalogue_from_csv(text: str, report: Report) -> list[ProductIn]:
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in enumerate(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))), start=2):
        key = (row.get("宝贝编号") or "").strip() or (row.get("宝贝名称") or "").strip()
        groups.setdefault(key, []).append((number, row))
    products = []
    for _key, rows in groups.items():
        where = f"rows {', '.join(str(n) for n, _ in rows)}"
        try:
            first = rows[0][1]
            name = _text(first.get("宝贝名称"), "宝贝名称", 128)
            skus = []
            for _, row in rows:
                color, size = _attributes(row.get("销售属性组合") or "")
                skus.append(SkuIn(_text(row.get("商家编码"), "商家编码", 64), color, size,
                                  _count(row.get("宝贝数量"), "宝贝数量")))
            code = (first.get("宝贝编号") or "").strip() or "TB" + hashlib.sha1(name.encode()).hexdigest()[:12]
            products.append(ProductIn(_text(code, "宝贝编号", 32), name,
                                      _text(first.get("英文名称") or name, "英文名称", 128),
                                      _text(first.get("宝贝类目") or IMPORTED_CATEGORY[0], "宝贝类目", 32),
                                      _money(first.get("宝贝价格"), "宝贝价格"), tuple(skus)))
        except Refused as why:
            report.refused.append((where, str(why)))
    return products


def catalogue_from_json(data: Any, report: Report) -> list[ProductIn]:
    products = []
    for number, p in enumerate(data.get("products", []) if isinstance(data, dict) else [], start=1):
        try:
            if not isinstance(p, dict):
                raise Refused("not an object")
            skus = tuple(SkuIn(_text(k.get("code"), "sku code", 64), _text(k.get("color") or "默认", "color", 32),
                               _text(k.get("size") or "F", "size", 16), _count(k.get("stock", 0), "stock"))
                         for k in p.get("skus") or [] if isinstance(k, dict))
            name = _text(p.get("name_zh"), "name_zh", 128)
            products.append(ProductIn(_text(p.get("code"), "code", 32), name,
                                      _text(p.get("name_en") or name, "name_en", 128),
                                      _text(p.get("category") or IMPORTED_CATEGORY[0], "category", 32),
                                      _money(p.get("price"), "price"), skus))
        except (Refused, AttributeError) as why:
            report.refused.append((f"product {number}", str(why)))
    return products


def write_catalogue(s: Session, products: Iterable[ProductIn], report: Report) -> None:
    products = list(products)
    uses = Counter(k.code for p in products for k in p.skus)
    known = {p.code: p for p in s.execute(select(Product).options(selectinload(Product.skus))).scalars()}
    sku_owner = dict(s.execute(select(Sku.code, Product.code).join(Sku.product)).all())
    categories = set(s.execute(select(Category.code)).scalars())
    for p in products:
        twice = [k.code for k in p.skus if uses[k.code] > 1]
        if twice:
            report.refused.append((f"product {p.code}", f"商家编码 {twice[0]} is on more than one row"))
            continue
        clash = [k.code for k in p.skus if sku_owner.get(k.code, p.code) != p.code]
        if clash:
            report.refused.append((f"product {p.code}", f"商家编码 {clash[0]} belongs to another product"))
            continue
        if p.category not in categories:
            if p.category == IMPORTED_CATEGORY[0]:
                s.add(Category(code=IMPORTED_CATEGORY[0], name_zh=IMPORTED_CATEGORY[1], name_en=IMPORTED_CATEGORY[2]))
                categories.add(p.category)
            else:
                report.refused.append((f"product {p.code}", f"no category {p.category!r}"))
                continue
        product = known.get(p.code)
        changed = False
        if product is None:
            product = Product(code=p.code, name_zh=p.name_zh, name_en=p.name_en, category_code=p.category,
                              price=p.price, aliases=[], size_chart=[])
            s.add(product)
            report.created += 1
        else:
            for attr, value in (("name_zh", p.name_zh), ("name_en", p.name_en), ("category_code", p.category),
                                ("price", p.price)):
                if getattr(product, attr) != value:
                    setattr(product, attr, value)
                    changed = True
        have = {k.code: k for k in product.skus}
        for k in p.skus:
            sku = have.get(k.code)
            if sku is None:
                product.skus.append(Sku(code=k.code, color_zh=k.color, color_en=k.color, size=k.size, stock=k.stock))
                changed = True
            elif (sku.color_zh, sku.size, sku.stock) != (k.color, k.size, k.stock):
                sku.color_zh, sku.size, sku.stock = k.color, k.size, k.stock
                changed = True
        if product in s.new:
            continue
        report.updated += changed
        report.unchanged += not changed


# --- orders ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemIn:
    sku: str
    quantity: int
    unit_price: Optional[Decimal]


@dataclass(frozen=True)
class OrderIn:
    order_no: str
    shopper_id: str
    nickname: str
    status: str
    receiver_name: str
    address: str
    phone: str
    total: Decimal
    created_at: Optional[datetime]
    paid_at: Optional[datetime]
    shipped_at: Optional[datetime]
    delivered_at: Optional[datetime]
    courier: Optional[str]
    tracking_no: Optional[str]
    items: tuple[ItemIn, ...]


def _shopper_id(given: str, nickname: str, report: Report) -> str:
    if given:
        if not SHOPPER_ID.match(given) or given.startswith(VISITOR_PREFIX):
            raise Refused(f"买家ID {given[:20]!r} is not an id (letters, digits, _ and -)")
        return given
    if SHOPPER_ID.match(nickname) and not nickname.startswith(VISITOR_PREFIX):
        return nickname
    derived = "tb-" + hashlib.sha1(nickname.encode()).hexdigest()[:16]
    note = f"买家会员名 {nickname} is shopper id {derived}: the shop's site signs the widget's token with it"
    if note not in report.notes:
        report.notes.append(note)
    return derived


def _order(fields: dict[str, Any], items: tuple[ItemIn, ...], report: Report) -> OrderIn:
    status = STATUSES.get(str(fields.get("status") or "").strip())
    if status is None:
        raise Refused(f"订单状态 {str(fields.get('status'))[:20]!r} is not one the seller center writes")
    phone = re.sub(r"[\s-]", "", str(fields.get("phone") or "")).lstrip("'")
    if not MOBILE.match(phone):
        raise Refused(f"联系手机 {phone[:20]!r} is not a mobile number")
    order_no = str(fields.get("order_no") or "").strip().lstrip("'")
    if not ORDER_NO.match(order_no):
        raise Refused(f"订单编号 {order_no[:20]!r} is not an order number")
    courier_name = str(fields.get("courier") or "").strip()
    courier = COURIER_NAMES.get(courier_name) if courier_name else None
    if courier_name and courier is None:
        raise Refused(f"物流公司 {courier_name[:20]!r} is not a courier the bot knows ({', '.join(COURIERS)})")
    nickname = _text(fields.get("nickname") or fields.get("shopper_id"), "买家会员名", 64)
    if not items:
        raise Refused("no items")
    return OrderIn(
        order_no, _shopper_id(str(fields.get("shopper_id") or "").strip(), nickname, report), nickname, status,
        _text(fields.get("receiver_name"), "收货人姓名", 64, required=False),
        _text(fields.get("address"), "收货地址", 255), phone, _money(fields.get("total"), "买家实际支付金额"),
        _time(fields.get("created_at"), "订单创建时间"), _time(fields.get("paid_at"), "订单付款时间"),
        _time(fields.get("shipped_at"), "发货时间"), _time(fields.get("delivered_at"), "签收时间"),
        courier, _text(fields.get("tracking_no"), "物流单号", 64, required=False) or None, items)


CSV_ORDER = {"order_no": "订单编号", "nickname": "买家会员名", "shopper_id": "买家ID", "status": "订单状态",
             "receiver_name": "收货人姓名", "address": "收货地址", "phone": "联系手机", "total": "买家实际支付金额",
             "created_at": "订单创建时间", "paid_at": "订单付款时间", "shipped_at": "发货时间",
             "delivered_at": "签收时间", "courier": "物流公司", "tracking_no": "物流单号"}


def orders_from_csv(text: str, report: Report) -> list[OrderIn]:
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in enumerate(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))), start=2):
        groups.setdefault((row.get("订单编号") or "").strip().lstrip("'"), []).append((number, row))
    orders = []
    for _, rows in groups.items():
        where = f"rows {', '.join(str(n) for n, _ in rows)}"
        try:
            items = tuple(ItemIn(_text(r.get("商家编码"), "商家编码", 64), _count(r.get("购买数量") or 1, "购买数量"),
                                 _money(r["宝贝单价"], "宝贝单价") if (r.get("宝贝单价") or "").strip() else None)
                          for _, r in rows)
            orders.append(_order({k: rows[0][1].get(v) for k, v in CSV_ORDER.items()}, items, report))
        except Refused as why:
            report.refused.append((where, str(why)))
    return orders


def orders_from_json(data: Any, report: Report) -> list[OrderIn]:
    orders = []
    for number, o in enumerate(data.get("orders", []) if isinstance(data, dict) else [], start=1):
        try:
            if not isinstance(o, dict):
                raise Refused("not an object")
            items = tuple(ItemIn(_text(i.get("sku"), "sku", 64), _count(i.get("quantity", 1), "quantity"),
                                 _money(i["unit_price"], "unit_price") if i.get("unit_price") is not None else None)
                          for i in o.get("items") or [] if isinstance(i, dict))
            orders.append(_order(o, items, report))
        except Refused as why:
            report.refused.append((f"order {number}", str(why)))
    return orders


def write_orders(s: Session, orders: Iterable[OrderIn], report: Report, now: Optional[datetime] = None) -> None:
    now = now or utcnow()
    orders = list(orders)
    skus = {k.code: k for k in s.execute(select(Sku).options(selectinload(Sku.product))).scalars()}
    known = {o.order_no: o for o in s.execute(
        select(Order).where(Order.order_no.in_([o.order_no for o in orders]))
        .options(selectinload(Order.items), selectinload(Order.tracking_events))).scalars()}
    shoppers = {p.id: p for p in s.execute(select(Shopper).where(
        Shopper.id.in_({o.shopper_id for o in orders}))).scalars()}
    for o in orders:
        unknown = [i.sku for i in o.items if i.sku not in skus]
        if unknown:
            report.refused.append((f"order {o.order_no}", f"商家编码 {unknown[0]} is not in the catalogue"))
            continue
        order = known.get(o.order_no)
        if order is not None and order.shopper_id != o.shopper_id:
            report.refused.append((f"order {o.order_no}", "already belongs to another shopper"))
            continue
        shopper = shoppers.get(o.shopper_id)
        if shopper is None:
            shopper = Shopper(id=o.shopper_id, nickname=o.nickname, phone=o.phone, address=o.address, language="zh")
            s.add(shopper)
            shoppers[o.shopper_id] = shopper
        created = o.created_at or o.paid_at or now
        shipped = o.shipped_at or (o.paid_at if o.status in ("shipped", "delivered", "completed") else None)
        values = {
            "status": o.status, "receiver_name": o.receiver_name or None, "address": o.address, "phone": o.phone,
            "total": o.total, "created_at": created, "paid_at": o.paid_at if o.status != "unpaid" else None,
            "shipped_at": shipped, "delivered_at": o.delivered_at, "courier": o.courier, "tracking_no": o.tracking_no,
            "cancelled_at": created if o.status == "cancelled" else None,
            "transaction_deadline": shipped + policy.AUTO_CONFIRM_AFTER_SHIPPING if shipped else None,
        }
        lines = [(skus[i.sku].id, i.quantity, i.unit_price if i.unit_price is not None else skus[i.sku].product.price)
                 for i in o.items]
        if order is None:
            order = Order(order_no=o.order_no, shopper_id=o.shopper_id, **values,
                          items=[OrderItem(sku_id=k, quantity=q, unit_price=p) for k, q, p in lines])
            s.add(order)
            report.created += 1
        else:
            changed = False
            for attr, value in values.items():
                if getattr(order, attr) != value:
                    setattr(order, attr, value)
                    changed = True
            if [(i.sku_id, i.quantity, i.unit_price) for i in order.items] != lines:
                for item in list(order.items):
                    s.delete(item)
                order.items = [OrderItem(sku_id=k, quantity=q, unit_price=p) for k, q, p in lines]
                changed = True
            report.updated += changed
            report.unchanged += not changed
        if shipped and not order.tracking_events:  # "where is my order" reads the last event
            order.tracking_events.append(TrackingEvent(at=shipped, place="", text_zh="卖家已发货",
                                                       text_en="Shipped by the seller"))


# --- the command -----------------------------------------------------------------------------

def load(kind: str, path: Path, report: Report) -> list[Any]:
    text = path.read_text(encoding="utf-8-sig") if path.suffix.lower() != ".csv" else _read_csv(path)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise Refused(f"not JSON: {exc}") from None
        return catalogue_from_json(data, report) if kind == "catalogue" else orders_from_json(data, report)
    return catalogue_from_csv(text, report) if kind == "catalogue" else orders_from_csv(text, report)


def _read_csv(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")  # the seller center's exports are often GBK


def run(kind: str, path: Path, session_factory: Any = None) -> Report:
    """Read, validate, and write what holds up in one transaction."""
    report = Report()
    rows = load(kind, path, report)
    with (session_factory or get_sessionmaker())() as s, s.begin():
        if kind == "catalogue":
            write_catalogue(s, rows, report)
        else:
            write_orders(s, rows, report)
    return report


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["catalogue", "orders"])
    parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    try:
        report = run(args.kind, args.file)
    except (Refused, OSError) as why:
        print(f"nothing imported: {why}", file=sys.stderr)
        raise SystemExit(2) from None
    print("\n".join(report.lines()))
    if report.refused:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
