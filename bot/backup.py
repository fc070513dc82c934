"""`make backup` / `make restore FILE=…`: the shop's records, copied out and back.

SQLite (the embedded default): SQLite's online backup API, so the gateway and
Rasa may keep running; restoring copies the file back page by page the same
way, then upgrades it to the newest schema (a back-up made by an older release
comes back at its own revision). PostgreSQL: `pg_dump --format=custom` and
`pg_restore --clean`, the tools PostgreSQL documents for this.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Optional

from sqlalchemy.engine import make_url

from bot import schema
from bot.clock import utcnow
from bot.db import make_engine
from bot.settings import ROOT, database_url

BACKUPS = ROOT / "var" / "backups"


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def _pg_url(url: str) -> str:
    """The libpq form of a SQLAlchemy URL (pg_dump does not know '+psycopg2')."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def backup(url: str, folder: Path = BACKUPS, now: Optional[datetime] = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = f"{now or utcnow():%Y%m%d-%H%M%S}"
    if url.startswith("sqlite"):
        target = folder / f"shop-{stamp}.db"
        source, copy = sqlite3.connect(_sqlite_path(url)), sqlite3.connect(target)
        try:
            source.backup(copy)  # consistent even while others write
        finally:
            copy.close()
            source.close()
        return target
    target = folder / f"shop-{stamp}.dump"
    subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", _pg_url(url)], check=True)
    return target


def restore(url: str, source: Path) -> Optional[str]:
    """Put a back-up in place of the records at `url`; returns the schema revision it is at now."""
    if not source.is_file():
        raise FileNotFoundError(source)
    if url.startswith("sqlite"):
        live = _sqlite_path(url)
        live.parent.mkdir(parents=True, exist_ok=True)
        copy, target = sqlite3.connect(source), sqlite3.connect(live)
        try:
            copy.backup(target)
        finally:
            target.close()
            copy.close()
    else:
        subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", f"--dbname={_pg_url(url)}",
                        str(source)], check=True)
    engine = make_engine(url)
    try:
        schema.upgrade(engine)  # a back-up from an older release comes up to this one
        return schema.revision(engine)
    finally:
        engine.dispose()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: install PostgreSQL's client tools (Debian: postgresql-client)")
    return found


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("backup", help="copy DATABASE_URL's records to var/backups/")
    back = sub.add_parser("restore", help="put a back-up in place of DATABASE_URL's records")
    back.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    url = database_url()
    where = make_url(url).render_as_string(hide_password=True)
    if args.command == "backup":
        print(f"backed up {where} to {backup(url)}")
        return
    try:
        revision = restore(url, args.file)
    except FileNotFoundError:
        print(f"no such back-up: {args.file}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"restored {args.file} to {where} (schema at {revision})")


if __name__ == "__main__":
    main()
