"""A shop's own catalogue and orders in, from seller-center CSV exports and JSON, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot import imports, shop
from bot.models import Base, Order, Product, Sku

# Written for these tests in the seller center's column names (the catalogue exported by SKU).
CATALOGUE = """宝贝编号,宝贝名称,宝贝价格,宝贝数量,商家编码,销售属性组合,英文名称
660001,山茶花真丝围巾,299.00,12,SCARF-RED,颜色分类:酒红色;尺码:均码,Camellia silk scarf
660001,山茶花真丝围巾,299.00,0,SCARF-BLUE,颜色分类:雾霾蓝;尺码:均码,Camellia silk scarf
660002,羊毛贝雷帽,129.00,5,BERET-BLK,颜色分类:黑色,Wool beret
660003,坏价格的商品,免费,3,BAD-PRICE,颜色分类:白色,
660004,库存写错的商品,99.00,-2,BAD-STOCK,颜色分类:白色,
"""
ORDERS = """订单编号,买家会员名,买家ID,订单状态,收货人姓名,收货地址,联系手机,买家实际支付金额,订单创建时间,订单付款时间,发货时间,物流公司,物流单号,商家编码,购买数量
'4188000000000001,花花,shop-7001,卖家已发货,王小花,浙江省杭州市西湖区文三路 1 号,13900007001,428.00,2026-11-11 00:01:00,2026-11-11 00:02:00,2026-11-11 18:00:00,顺丰速运,SF4188000000001,SCARF-RED,1
'4188000000000001,花花,shop-7001,卖家已发货,王小花,浙江省杭州市西湖区文三路 1 号,13900007001,428.00,2026-11-11 00:01:00,2026-11-11 00:02:00,2026-11-11 18:00:00,顺丰速运,SF4188000000001,BERET-BLK,1
4188000000000002,leaf_2026,,等待卖家发货,,上海市浦东新区张杨路 1 号,139-0000-7002,129.00,2026-11-12 09:00:00,2026-11-12 09:01:00,,,,BERET-BLK,1
4188000000000003,花花,shop-7001,买家已付款,王小花,杭州,12345,129.00,,2026-11-12 10:00:00,,,,BERET-BLK,1
4188000000000004,花花,shop-7001,交易成功,王小花,杭州,13900007001,99.00,,2026-11-01 10:00:00,,,,NO-SUCH-SKU,1
4188000000000005,花花,shop-7001,已退款,王小花,杭州,13900007001,99.00,,2026-11-01 10:00:00,,,,BERET-BLK,1
"""


def empty_shop(engine: Engine) -> sessionmaker:
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    return sessionmaker(bind=engine, future=True)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8-sig") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_seller_center_export_imports_once_and_says_what_it_refused(any_engine: Engine, tmp_path: Path) -> None:
    sessions = empty_shop(any_engine)
    report = imports.run("catalogue", write(tmp_path, "items.csv", CATALOGUE, "gb18030"), sessions)
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0), report.lines()
    assert {why.split(" ")[0] for _, why in report.refused} == {"宝贝价格", "宝贝数量"}, report.refused
    report = imports.run("orders", write(tmp_path, "orders.csv", ORDERS), sessions)
    assert (report.created, report.updated) == (2, 0), report.lines()
    refused = dict(report.refused)
    assert len(refused) == 3 and any("联系手机" in why for why in refused.values())
    assert any("NO-SUCH-SKU" in why for why in refused.values())
    assert any("订单状态" in why for why in refused.values())
    assert not report.notes  # ids that are ids are used as they are

    with sessions() as s:
        scarf = s.execute(select(Product).where(Product.code == "660001")).scalar_one()
        assert (scarf.name_en, scarf.price, len(scarf.skus)) == ("Camellia silk scarf", Decimal("299.00"), 2)
        assert {(k.color_zh, k.size, k.stock) for k in scarf.skus} == {("酒红色", "均码", 12), ("雾霾蓝", "均码", 0)}
        order = shop.find_order(s, "shop-7001", "4188000000000001")
        assert order is not None and order.status == "shipped" and order.courier == "SF"
        assert [i.sku.code for i in order.items] == ["SCARF-RED", "BERET-BLK"]
        assert order.receiver_name == "王小花" and order.total == Decimal("428.00") and order.tracking_events
        second = shop.find_order(s, "leaf_2026", "4188000000000002")
        assert second is not None and second.phone == "13900007002" and second.status == "paid"

    # Again: nothing changes; then a stock change is one update.
    assert imports.run("catalogue", write(tmp_path, "items.csv", CATALOGUE), sessions).created == 0
    again = imports.run("orders", write(tmp_path, "orders.csv", ORDERS), sessions)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2), again.lines()
    changed = imports.run("catalogue", write(tmp_path, "items.csv", CATALOGUE.replace(",12,SCARF-RED", ",3,SCARF-RED")),
                          sessions)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)
    with sessions() as s:
        assert s.execute(select(Sku.stock).where(Sku.code == "SCARF-RED")).scalar_one() == 3


def test_json_imports_and_a_chinese_nickname_gets_an_id(any_engine: Engine, tmp_path: Path) -> None:
    sessions = empty_shop(any_engine)
    catalogue = {"products": [{"code": "P9", "name_zh": "亚麻衬衫", "name_en": "Linen shirt", "price": "199",
                               "skus": [{"code": "SHIRT-W-M", "color": "白色", "size": "M", "stock": 4}]},
                              {"code": "P10", "name_zh": "", "price": "1"}]}
    report = imports.run("catalogue", write(tmp_path, "c.json", json.dumps(catalogue, ensure_ascii=False)), sessions)
    assert report.created == 1 and len(report.refused) == 1
    orders = {"orders": [{"order_no": "5188000000000001", "nickname": "小雨点", "status": "交易成功",
                          "address": "北京市朝阳区", "phone": "13900007003", "total": "199.00",
                          "paid_at": "2026-11-20T10:00:00", "items": [{"sku": "SHIRT-W-M", "quantity": 1}]}]}
    report = imports.run("orders", write(tmp_path, "o.json", json.dumps(orders, ensure_ascii=False)), sessions)
    assert report.created == 1 and report.notes and "小雨点" in report.notes[0]
    with sessions() as s:
        (order,) = s.execute(select(Order)).scalars()
        assert order.shopper_id.startswith("tb-") and order.items[0].unit_price == Decimal("199.00")


def test_an_import_that_fails_half_way_writes_nothing(any_engine: Engine, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = empty_shop(any_engine)
    imports.run("catalogue", write(tmp_path, "items.csv", CATALOGUE), sessions)
    real = imports.write_orders

    def dies_after_writing(*args: object, **kwargs: object) -> None:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("the database went away")

    monkeypatch.setattr(imports, "write_orders", dies_after_writing)
    with pytest.raises(RuntimeError):
        imports.run("orders", write(tmp_path, "orders.csv", ORDERS), sessions)
    with sessions() as s:
        assert s.scalar(select(func.count(Order.id))) == 0
