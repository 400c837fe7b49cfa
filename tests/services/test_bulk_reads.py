"""Value lists sent to PostgreSQL as one array parameter in its text form (the session only
reads, so one per test serves every generated input)."""

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
