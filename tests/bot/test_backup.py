"""`make backup` / `make restore`: on SQLite while it is in use, and through pg_dump on PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import schema
from bot.backup import backup, restore
from bot.db import ensure_database, make_engine
from bot.models import Shopper
from bot.seed import seed
from tests.conftest import PG_URL


def add(url: str, shopper_id: str) -> None:
    engine = make_engine(url)
    with Session(engine) as s, s.begin():
        s.add(Shopper(id=shopper_id, nickname=shopper_id, phone="13800000000", address="上海", language="zh"))
    engine.dispose()


def shoppers(url: str) -> set[str]:
    engine = make_engine(url)
    with Session(engine) as s:
        found = set(s.execute(select(Shopper.id)).scalars())
    engine.dispose()
    return found


@pytest.fixture(params=["sqlite", "postgresql"])
def records(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
    else:
        if shutil.which("pg_dump") is None:
            pytest.skip("pg_dump not installed")
        url = PG_URL.rsplit("/", 1)[0] + "/shop_assist_backup_test"
        try:
            ensure_database(url)
        except Exception as exc:  # noqa: BLE001 - any failure means "not available here"
            pytest.skip(f"PostgreSQL not reachable: {exc.__class__.__name__}")
    engine = make_engine(url)
    seed(engine)
    engine.dispose()
    yield url


def test_a_back_up_comes_back_as_it_was(records: str, tmp_path: Path) -> None:
    add(records, "kept-1")
    reader = make_engine(records)  # the shop keeps running: a connection stays open throughout
    with reader.connect() as open_connection:
        copy = backup(records, tmp_path / "backups")
        add(records, "after-the-back-up")
        assert {"kept-1", "after-the-back-up"} <= shoppers(records)
        open_connection.close()
        assert restore(records, copy) == schema.head()
    reader.dispose()
    found = shoppers(records)
    assert "kept-1" in found and "after-the-back-up" not in found


def test_a_back_up_from_an_older_release_comes_back_upgraded(records: str, tmp_path: Path) -> None:
    engine = make_engine(records)
    schema.downgrade(engine, schema.BASELINE)
    engine.dispose()
    copy = backup(records, tmp_path / "backups")
    assert restore(records, copy) == schema.head()
    with pytest.raises(FileNotFoundError):
        restore(records, tmp_path / "no-such.db")
