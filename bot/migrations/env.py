"""Alembic's environment for the shop's records: run by bot.schema with a connection in hand."""

from __future__ import annotations

from typing import Any

from alembic import context

from bot.models import Base


def ours(obj: Any, name: str, type_: str, reflected: bool, compare_to: Any) -> bool:
    # Rasa's tracker store may share the database (the scaled shape): its tables are not ours.
    return not (type_ == "table" and reflected and compare_to is None)


connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, include_object=ours,
                  # SQLite cannot ALTER most things: Alembic copies the table instead.
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
with context.begin_transaction():
    context.run_migrations()
