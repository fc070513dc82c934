"""The bot answers from a shop's own imported catalogue and orders, through the gateway."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import sessionmaker

from bot import imports
from tests.bot.test_imports import CATALOGUE, ORDERS, write
from tests.conftest import Stack
from tests.gateway.conftest import Shopper


async def test_the_bot_answers_stock_and_orders_from_an_import(stack: Stack, tmp_path: Path) -> None:
    sessions = sessionmaker(bind=stack.engine, future=True)
    assert imports.run("catalogue", write(tmp_path, "items.csv", CATALOGUE), sessions).created == 2
    assert imports.run("orders", write(tmp_path, "orders.csv", ORDERS), sessions).created == 2
    async with Shopper(stack.gateway, "shop-7001") as shopper:
        await shopper.say("订单4188000000000001到哪了")
        said = " ".join(shopper.texts())
        assert "4188000000000001" in said and "顺丰" in said, said
        await shopper.say("山茶花真丝围巾还有货吗")
        said = " ".join(shopper.texts())
        assert "山茶花真丝围巾" in said and "酒红色" in said, said
