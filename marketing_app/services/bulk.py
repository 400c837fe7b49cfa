"""Bulk writes: insert-or-ignore on unique keys, portable across PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def insert_ignoring_duplicates(
    *, session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]]
) -> int:
    """Insert the rows in one executemany; rows that hit a unique key are skipped.

    Returns how many rows were offered; callers that need the inserted ones read them back.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(model).on_conflict_do_nothing()
    session.execute(statement, list(rows))
    return len(rows)


def insert_returning_new_keys(
    *, session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]], key: str
) -> set[Any]:
    """Insert-or-ignore, returning the `key` values of the rows that were actually new."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    column = getattr(model, key)
    statement = module.insert(model).on_conflict_do_nothing().returning(column)
    return set(session.execute(statement, list(rows)).scalars())
