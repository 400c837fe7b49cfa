"""Set-based reads for bulk syncs: value lists as one parameter, and planner statistics that
keep up with a sync that grows its own tables.

- `one_of`: a column matched against thousands of values. psycopg rewrites a statement's text on
  every call, so an IN list of thousands of parameters costs more CPU than the query (a fifth of
  a 1,000-customer sync); PostgreSQL takes the values as one array parameter instead.
- `refresh_statistics`: ANALYZE the tables that changed past their planner estimates. Right
  after a first big sync PostgreSQL still plans for empty tables: nested loops over every order,
  an identity lookup that compared each row with every value (10 s for 9,000 contacts), an
  order-facts update at 0.4 s instead of 0.03 s. Autovacuum analyzes only after commit and a
  delay; a sync reads its own writes at once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import BigInteger, ColumnElement, String, Text, any_, bindparam, cast, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col

IN_CHUNK = 1_000  # values per IN list where there are no arrays (SQLite)
STALE_SHARE = 0.5  # changed rows past this share of the planner's estimate: analyze
STALE_MIN_ROWS = 1_000  # fewer changed rows never make a plan bad enough to pay for ANALYZE

# The statistics functions for just these tables: the pg_stat_* views enumerate every table of
# the database (30 ms a call). The transaction's own changes count until it ends, also after an
# ANALYZE that saw them: the watch subtracts what it had counted at its last ANALYZE.
_CHANGED_ROWS = text(
    """
    SELECT c.relname, c.reltuples, pg_stat_get_mod_since_analyze(c.oid),
           pg_stat_get_xact_tuples_inserted(c.oid) + pg_stat_get_xact_tuples_updated(c.oid)
           + pg_stat_get_xact_tuples_deleted(c.oid)
    FROM unnest(CAST(:names AS TEXT[])) AS wanted (name)
    JOIN pg_class c ON c.oid = to_regclass(wanted.name)
    WHERE c.relkind = 'r'
    """
)
ANALYZED_KEY = "analyzed_xact_changes"  # session.info: table -> this transaction's changes seen


def array_text(values: Collection) -> str:
    """PostgreSQL's text form of an array of integers or strings ('{1,2}', '{"a","b\\"c",NULL}'),
    for a parameter cast to the array type: psycopg dumps a list element by element in
    Python, several times slower for the 12,000 ids of a campaign claim."""
    if all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    return "{" + ",".join(map(_array_element, values)) + "}"


def _array_element(value: object) -> str:
    if value is None:
        return "NULL"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


# Separators for string_to_array, the first that no value holds; a comma is safe for numbers.
_SEPARATORS = (",", "\x1f", "\x1e", "\x1d")


def array_of(values: Collection, kind) -> ColumnElement:
    """`values` as one PostgreSQL array parameter of `kind` (BigInteger, String, ...).

    Split by string_to_array, which PostgreSQL folds into a constant array when it plans
    (with the values known, as in a custom plan): parsed once, hashed when it filters rows,
    and its length known to the estimates. A CAST of an array literal is never folded (the
    array input function is only stable): as a filter it was parsed again for every row,
    1 ms a row for a claim's 12,000 ids. The literal remains for the odd values that hold
    every separator, and for one empty string (which string_to_array reads as no values)."""
    texts = [str(value) for value in values]
    separator = next((s for s in _SEPARATORS if not any(s in text for text in texts)), None)
    if None in values or separator is None or texts == [""]:
        return cast(bindparam(None, array_text(values), type_=Text), ARRAY(kind))
    joined = bindparam(None, separator.join(texts), type_=Text)
    return cast(func.string_to_array(joined, separator), ARRAY(kind))


def one_of(session: Session, column, values: Collection) -> Iterator[ColumnElement[bool]]:
    """Conditions that together match `column` against `values`: one array parameter on
    PostgreSQL, IN lists of IN_CHUNK elsewhere. Yields nothing for no values."""
    values = sorted(set(values))
    if not values:
        return
    if session.get_bind().dialect.name == "postgresql":
        kind = BigInteger if isinstance(values[0], int) else String
        yield column == any_(array_of(values, kind))
        return
    for start in range(0, len(values), IN_CHUNK):
        yield col(column).in_(values[start : start + IN_CHUNK])


def driver_rows(session: Session, statement) -> list[tuple]:
    """The rows of `statement` as plain tuples. On PostgreSQL straight from the driver's
    cursor: SQLAlchemy's result layer cost as much as psycopg reading 12,000 rows of a
    campaign claim. The statement is compiled on every call (a millisecond)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return [tuple(row) for row in connection.execute(statement)]
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    with connection.connection.dbapi_connection.cursor() as cursor:
        cursor.execute(str(compiled), compiled.params)
        return cursor.fetchall()


# Custom plans: a generic plan (psycopg prepares a statement run five times) keeps
# `array_of`'s arrays as parameters, neither folded nor hashed nor counted.
_BY_INDEX = "SET LOCAL enable_seqscan = off; SET LOCAL plan_cache_mode = force_custom_plan"


@contextmanager
def by_index(session: Session) -> Iterator[None]:
    """PostgreSQL: the statements within find their rows through an index, never a scan of
    the table, planned for their own values. For statements over a batch of rows by id
    (`one_of`) on a table that grows faster than its statistics: believing the table small,
    the planner scanned all of it for a campaign claim's 12,000 ids. SET LOCAL, reset after;
    an error ends the transaction anyway."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        session.execute(text(_BY_INDEX))
    yield
    if postgresql:
        session.execute(text("RESET enable_seqscan; RESET plan_cache_mode"))


def without_jit(session: Session) -> None:
    """This transaction only (SET LOCAL), on PostgreSQL: no JIT. Set-based queries over big
    row estimates trigger its compilation (0.35-2 s) and gain nothing from it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def refresh_statistics(session: Session, tables: Iterable[str]) -> list[str]:
    """ANALYZE those of `tables` whose changes since their last analysis (this transaction's
    included) outgrew the planner's row estimate; returns them. PostgreSQL only.

    Runs in a savepoint: a role that may not analyze loses only the better plan, not the work.
    The table names come from our own code, never from input.
    """
    if session.get_bind().dialect.name != "postgresql":
        return []
    seen = session.info.setdefault(ANALYZED_KEY, {})
    stale = []
    for name, estimate, committed, in_transaction in session.execute(
        _CHANGED_ROWS, {"names": sorted(set(tables))}
    ):
        before = seen.get(name, 0) if in_transaction >= seen.get(name, 0) else 0  # a new one
        changed = committed + in_transaction - before
        if changed >= STALE_MIN_ROWS and changed > STALE_SHARE * max(estimate, 0):
            stale.append((name, in_transaction))
    for name, in_transaction in sorted(stale):
        try:
            with session.begin_nested():
                session.execute(text(f"ANALYZE {name}"))
        except DBAPIError:
            return []
        seen[name] = in_transaction
    return [name for name, _ in stale]


class StatisticsWatch:
    """Checks `tables` (one catalog query) only once a sync has written STALE_MIN_ROWS rows
    since the last check: a page that wrote little costs no round trip."""

    def __init__(self, session: Session, tables: Iterable[str]) -> None:
        self.session = session
        self.tables = tuple(tables)
        self.written = 0

    def wrote(self, rows: int) -> None:
        self.written += rows

    def check(self) -> list[str]:
        if self.written < STALE_MIN_ROWS:
            return []
        self.written = 0
        return refresh_statistics(self.session, self.tables)
