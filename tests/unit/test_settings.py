"""Sending settings refuse values that would stall or break a send, naming the variable."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from marketing_app.settings import Settings


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("EMAIL_FIRST_ROWS_PER_SENDER", "-1"),  # a negative LIMIT: every "Send now" would fail
        ("EMAIL_SENDERS_PER_CAMPAIGN", "0"),  # no sender would ever take the campaign
        ("EMAIL_BATCH_SIZE", "0"),  # senders would claim nothing and stop
    ],
)
def test_a_sending_setting_that_would_stall_a_send_is_refused_at_start(
    monkeypatch, variable, value
):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=variable.lower()):
        Settings()


def test_zero_first_rows_writes_every_row_before_the_senders(monkeypatch):
    monkeypatch.setenv("EMAIL_FIRST_ROWS_PER_SENDER", "0")
    assert Settings().email_first_rows_per_sender == 0
