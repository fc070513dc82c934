"""The records' schema, under Alembic: a database is upgraded in place, never dropped.

A new database gets today's tables and is stamped at the newest revision; an
existing one is upgraded through every revision it has not had. One made by
`create_all` before migrations existed is taken as the baseline first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from bot.models import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"


def _config(connection: Optional[Connection] = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head() or BASELINE


def revision(engine: Engine) -> Optional[str]:
    """The revision the database is at; None for one without our tables."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def has_records(engine: Engine) -> bool:
    return "orders" in inspect(engine).get_table_names()


@contextmanager
def migrating(engine: Engine) -> Iterator[Config]:
    """One transaction for a migration. On SQLite, Alembic changes a table by copying it, which
    foreign keys would refuse: they are off while it runs (SQLite takes that only outside a
    transaction) and checked before it commits."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                yield _config(conn)
                if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("a migration left rows pointing at nothing; rolled back")
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def upgrade(engine: Engine, to: str = "head") -> None:
    """Bring the database to `to`, keeping every row: new tables and columns arrive by revision."""
    with migrating(engine) as config:
        tables = set(inspect(config.attributes["connection"]).get_table_names())
        if "alembic_version" not in tables and "orders" in tables:
            command.stamp(config, BASELINE)  # made by create_all before there were migrations
        command.upgrade(config, to)


def downgrade(engine: Engine, to: str) -> None:
    """Back to an earlier revision (tests, and undoing a bad release by hand)."""
    with migrating(engine) as config:
        command.downgrade(config, to)


def create(engine: Engine) -> None:
    """An empty database: today's tables at once, stamped at the newest revision (what upgrading
    from nothing gives: tests/bot/test_schema.py checks the two agree)."""
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        command.stamp(_config(conn), "head")


def drop(engine: Engine) -> None:
    """Only for the marked sample shop (bot.seed decides)."""
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def main(argv: Optional[list[str]] = None) -> None:
    import argparse
    import tempfile

    from bot.db import get_engine, make_engine

    parser = argparse.ArgumentParser(description="The records' schema: where the database is, and new revisions.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("current", help="the database's revision and the newest one (DATABASE_URL)")
    sub.add_parser("upgrade", help="upgrade the database in place to the newest revision")
    new = sub.add_parser("revision", help="write a revision from what bot/models.py changed since the newest one")
    new.add_argument("message")
    args = parser.parse_args(argv)
    if args.command == "current":
        at = revision(get_engine()) or "no revision (empty, or made before migrations: upgrade takes it as 0001)"
        print(f"database at {at}; newest {head()}")
    elif args.command == "upgrade":
        upgrade(get_engine())
        print(f"database at {revision(get_engine())}")
    else:
        # Compared against a scratch database at the newest revision, never against the shop's own.
        with tempfile.TemporaryDirectory() as scratch:
            engine = make_engine(f"sqlite:///{Path(scratch) / 'head.db'}")
            upgrade(engine)
            number = f"{int(head()) + 1:04d}"
            with engine.begin() as conn:
                command.revision(_config(conn), message=args.message, autogenerate=True, rev_id=number)
            engine.dispose()


if __name__ == "__main__":
    main()
