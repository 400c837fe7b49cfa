"""Value lists sent to PostgreSQL as one text parameter split into an array (the session
only reads, so one per test serves every generated input)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, String, func, select

from marketing_app.services.bulk_reads import array_of

texts = st.one_of(
    st.none(), st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(texts, max_size=8))
def test_strings_arrive_exactly_as_given(session, values):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("array parameters: PostgreSQL")
    arrived = session.execute(select(func.unnest(array_of(values, String)))).scalars().all()
    assert arrived == values


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=8))
def test_integers_arrive_exactly_as_given(session, values):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("array parameters: PostgreSQL")
    arrived = session.execute(select(func.unnest(array_of(values, BigInteger)))).scalars().all()
    assert arrived == values


@pytest.mark.parametrize(
    ("values", "kind"),
    [([3, 1, 2], BigInteger), (["a,b", "c\x1fd", ""], String), ([], BigInteger)],
)
def test_the_planner_sees_the_array_as_one_constant(session, values, kind):
    """Folded when planned: parsed once rather than per row it filters, hashed, counted in
    the estimates. A cast of an array literal stays an expression (the array input function
    is only stable) that a filter parsed again for every row: 1 ms a row for 12,000 ids."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("array parameters: PostgreSQL")
    statement = select(func.cardinality(array_of(values, kind)))
    compiled = statement.compile(dialect=session.get_bind().dialect)
    with session.connection().connection.dbapi_connection.cursor() as cursor:
        cursor.execute("EXPLAIN (VERBOSE) " + str(compiled), compiled.params)
        output = next(row[0] for row in cursor.fetchall() if "Output:" in row[0])
    assert "cstring" not in output and "string_to_array" not in output, output
    assert session.execute(statement).scalar_one() == len(values)
