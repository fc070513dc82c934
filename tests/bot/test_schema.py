"""The records' schema under Alembic: upgrades keep every row; only the marked sample is reseeded."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot import schema
from bot.clock import utcnow
from bot.db import make_engine
from bot.models import (
    Agent,
    BadReview,
    Base,
    ChatMessage,
    Conversation,
    Order,
    OrderNote,
    Photo,
    RestockWish,
    Shopper,
    Sku,
)
from bot.seed import NotTheSample, fill, move_forward, prepare, seed, seeded_at
from tests.conftest import PG_URL, ROOT

MIGRATE_SCHEMA = "shop_assist_migrate"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of this test's own, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'records.db'}")
    else:
        server = make_engine(PG_URL)
        try:
            with server.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {MIGRATE_SCHEMA} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {MIGRATE_SCHEMA}"))
        except Exception as exc:  # noqa: BLE001 - any failure means "not available here"
            pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}")
        finally:
            server.dispose()
        engine = make_engine(PG_URL + f"?options=-csearch_path%3D{MIGRATE_SCHEMA}")
    yield engine
    engine.dispose()


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables if t.name in inspect(conn).get_table_names()}


def records_of_every_kind(engine: Engine, now: datetime) -> None:
    """What agents and shoppers leave behind, in the tables the sample's builder does not fill."""
    with Session(engine) as s, s.begin():
        order = s.execute(select(Order).where(Order.shopper_id == "u1001")).scalars().first()
        sku = s.execute(select(Sku)).scalars().first()
        assert order is not None and sku is not None
        s.add(Conversation(id="u1001", shopper_id="u1001", owner="agent", language="zh", facts={"x": 1}))
        s.flush()
        s.add(ChatMessage(conversation_id="u1001", role="shopper", text="还在吗", payload={}))
        s.add(Photo(conversation_id="u1001", filename="u1001-a.png", content_type="image/png", size=10))
        s.add(BadReview(shopper_id="u1001", order_id=order.id, item="帽子", review_text="慢", severity=1,
                        status="called", agent="小美"))
        s.add(RestockWish(shopper_id="u1001", sku_id=sku.id, language="zh"))
        s.add(OrderNote(order_id=order.id, kind="agent", text="优先发顺丰", author="小美"))
        agent = s.execute(select(Agent).where(Agent.username == "xiaomei")).scalar_one()
        agent.display_name = "小美（夜班）"


def seed_step(engine: Engine) -> str:
    """`make run`'s set-up of the database (the Makefile's `seed` target), in its own process."""
    url = engine.url.render_as_string(hide_password=False)
    run = subprocess.run([sys.executable, "-m", "bot.seed", "--if-missing", "--max-age-hours", "12"], cwd=ROOT,
                         env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


def test_upgrading_from_nothing_gives_the_models_schema(empty: Engine) -> None:
    schema.upgrade(empty)
    assert schema.revision(empty) == schema.head()
    with empty.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    # The sample's mark is the seeder's own table, made only where it seeds.
    assert [d for d in diffs if not (d[0] == "add_table" and d[1].name == "seed_info")] == []


def test_a_baseline_database_with_every_table_filled_upgrades_keeping_every_row(empty: Engine) -> None:
    now = utcnow()
    schema.upgrade(empty)
    fill(empty, now)
    records_of_every_kind(empty, now)
    schema.downgrade(empty, schema.BASELINE)  # back to the baseline, rows and all, as a shop of before
    assert "receiver_name" not in {c["name"] for c in inspect(empty).get_columns("orders")}
    before = counts(empty)
    assert all(before[t.name] > 0 for t in Base.metadata.sorted_tables), before
    schema.upgrade(empty)
    assert schema.revision(empty) == schema.head()
    assert "receiver_name" in {c["name"] for c in inspect(empty).get_columns("orders")}
    assert counts(empty) == before
    with Session(empty) as s:
        assert s.execute(select(Agent.display_name).where(Agent.username == "xiaomei")).scalar_one() == "小美（夜班）"


def test_make_runs_set_up_across_13_hours_and_a_schema_change_keeps_every_record(empty: Engine) -> None:
    t0 = utcnow()
    assert prepare(empty, timedelta(hours=12), t0).startswith("sample shop: seeded")
    records_of_every_kind(empty, t0)
    # The code of 13 hours ago: its schema had no receiver_name, and every time is 13 h older.
    schema.downgrade(empty, schema.BASELINE)
    move_forward(empty, -timedelta(hours=13))
    before = counts(empty)
    with Session(empty) as s:
        delivered = {o: d for o, d in s.execute(select(Order.order_no, Order.delivered_at))}

    # make run's own set-up step, as make runs it.
    said = seed_step(empty)
    assert "moved forward by 13 h" in said, said
    assert schema.revision(empty) == schema.head() and counts(empty) == before
    with Session(empty) as s:
        moved = {o: d for o, d in s.execute(select(Order.order_no, Order.delivered_at))}
        assert moved.keys() == delivered.keys()
        assert all(timedelta(hours=13) <= moved[o] - d < timedelta(hours=13, minutes=5)
                   for o, d in delivered.items() if d is not None)
        assert s.execute(select(Agent.display_name).where(Agent.username == "xiaomei")).scalar_one() == "小美（夜班）"
        assert s.execute(select(ChatMessage.text)).scalars().all() == ["还在吗"]
    assert seeded_at(empty) - t0 < timedelta(minutes=5)  # type: ignore[operator]
    # Run again at once: nothing to do, nothing lost.
    assert "sample shop: kept (seeded" in seed_step(empty)
    assert counts(empty) == before


def test_a_shops_own_records_are_never_reseeded(empty: Engine) -> None:
    schema.upgrade(empty)  # a real shop's database: the schema, its rows, no sample mark
    with Session(empty) as s, s.begin():
        s.add(Shopper(id="real-1", nickname="张三", phone="13800000000", address="上海", language="zh"))
    with pytest.raises(NotTheSample):
        seed(empty)
    assert prepare(empty, timedelta(hours=12)).startswith("shop records: kept")
    with Session(empty) as s:
        assert s.execute(select(Shopper.id)).scalars().all() == ["real-1"]


def test_make_reseed_refuses_an_unmarked_database_and_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'real.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    with Session(engine) as s, s.begin():
        s.add(Shopper(id="real-1", nickname="张三", phone="13800000000", address="上海", language="zh"))
    engine.dispose()
    size = (tmp_path / "real.db").stat().st_size
    run = subprocess.run(["make", "--no-print-directory", "reseed"], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "DATABASE_URL": url}, timeout=600)
    assert run.returncode != 0 and "refused" in run.stderr, (run.returncode, run.stdout[-500:], run.stderr[-500:])
    engine = make_engine(url)
    with Session(engine) as s:
        assert s.execute(select(Shopper.id)).scalars().all() == ["real-1"]
    engine.dispose()
    assert (tmp_path / "real.db").stat().st_size == size


def test_a_database_made_before_migrations_is_taken_as_the_baseline(empty: Engine) -> None:
    schema.upgrade(empty, schema.BASELINE)
    with empty.begin() as conn:  # what create_all made before there was Alembic: no version table
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("INSERT INTO shoppers (id, nickname, phone, address, language) "
                          "VALUES ('real-1', '张三', '13800000000', '上海', 'zh')"))
    assert schema.revision(empty) is None
    schema.upgrade(empty)
    assert schema.revision(empty) == schema.head()
    assert "receiver_name" in {c["name"] for c in inspect(empty).get_columns("orders")}
    with Session(empty) as s:
        assert s.execute(select(Shopper.id)).scalars().all() == ["real-1"]
