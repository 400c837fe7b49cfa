"""Bulk writes: insert-or-ignore on unique keys, portable across PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import orjson
import psycopg
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def insert_ignoring_duplicates(
    *,
    session: Session,
    model: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    copy_key: str | None = None,
) -> int:
    """Insert the rows in one executemany; rows that hit a unique key are skipped.

    With `copy_key` (any column the rows carry) PostgreSQL takes the faster COPY path; the rows
    must then carry every column, since COPY applies no Python-side defaults.
    Returns how many rows were offered; callers that need the inserted ones read them back.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if copy_key is not None and dialect == "postgresql":
        copy_returning_new_keys(session=session, model=model, rows=rows, key=copy_key)
        return len(rows)
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


def write_returning_new_keys(
    *, session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]], key: str
) -> set[Any]:
    """Insert-or-ignore by the fastest path of the database: COPY on PostgreSQL."""
    postgres = session.get_bind().dialect.name == "postgresql"
    write = copy_returning_new_keys if postgres else insert_returning_new_keys
    return write(session=session, model=model, rows=rows, key=key)


def copy_returning_new_keys(
    *, session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]], key: str
) -> set[Any]:
    """PostgreSQL's fastest path for insert-or-ignore (see copy_returning_new_keys_of)."""
    if not rows:
        return set()
    columns = list(rows[0])
    return copy_returning_new_keys_of(
        session=session,
        table=model.__tablename__,
        columns=columns,
        payload=copy_text(rows, columns),
        keys=[row[key] for row in rows],
        key=key,
    )


def copy_returning_new_keys_of(
    *,
    session: Session,
    table: str,
    columns: Sequence[str],
    payload: bytes,
    keys: Sequence[Any],
    key: str,
) -> set[Any]:
    """Insert-or-ignore of rows already in COPY text (`keys`: their `key` values, in order).

    Most batches hold no duplicates, so COPY goes straight into the table inside a savepoint;
    when a unique key refuses it, the batch goes through a session-local staging table and one
    INSERT ... SELECT ... ON CONFLICT DO NOTHING that returns the new keys.
    """
    if not keys:
        return set()
    cursor = session.connection().connection.driver_connection.cursor()
    cursor.execute("SAVEPOINT direct_copy")
    try:
        _copy_rows(cursor, table, columns, payload)
    except psycopg.errors.UniqueViolation:
        cursor.execute("ROLLBACK TO SAVEPOINT direct_copy")
        return _staged_insert(cursor, table, columns, payload, key)
    cursor.execute("RELEASE SAVEPOINT direct_copy")
    return set(keys)


def copy_escaped(text: str) -> str:
    """COPY's text format escapes backslash, tab, newline and carriage return.

    Most values hold none of them: four substring scans are far cheaper than str.translate.
    """
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t")
        return text.replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"  # NULL
    if isinstance(value, str):
        return copy_escaped(value)
    if isinstance(value, dict | list):
        return copy_escaped(orjson.dumps(value).decode())
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)  # numbers, UUIDs


def copy_text(rows: Sequence[dict[str, Any]], columns: list[str]) -> bytes:
    """Rows in COPY's text format, built in one pass: several times cheaper than handing
    psycopg one row at a time (the ingestion path spends its CPU here)."""
    lines = ["\t".join([_copy_field(row[c]) for c in columns]) for row in rows]
    lines.append("")
    return "\n".join(lines).encode()


def _copy_rows(cursor, table: str, columns: Sequence[str], payload: bytes) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(payload)


def _staged_insert(
    cursor, table: str, columns: Sequence[str], payload: bytes, key: str
) -> set[Any]:
    names = ", ".join(columns)
    # Every column of the table, so one staging table per connection serves callers that
    # write different column sets (the rows leave it with exactly the columns they brought).
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS stage_{table} ON COMMIT DELETE ROWS AS "
        f"SELECT * FROM {table} WITH NO DATA"
    )
    _copy_rows(cursor, f"stage_{table}", columns, payload)
    cursor.execute(
        f"INSERT INTO {table} ({names}) SELECT {names} FROM stage_{table} "
        f"ON CONFLICT DO NOTHING RETURNING {key}"
    )
    new_keys = {found[0] for found in cursor.fetchall()}
    cursor.execute(f"TRUNCATE stage_{table}")
    return new_keys
