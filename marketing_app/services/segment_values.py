"""Values both the SQL compiler and the Python evaluator of segments derive the same way."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

# A multiplicative hash gives each profile a stable bucket 0-99; integer arithmetic that
# PostgreSQL's bigint, SQLite and Python all compute identically (no overflow below 3e9 ids).
BUCKET_MULTIPLIER = 2654435761
BUCKET_MODULUS = 2**32


def random_bucket(contact_id: int, salt: int) -> int:
    return ((contact_id + salt) * BUCKET_MULTIPLIER % BUCKET_MODULUS) * 100 // BUCKET_MODULUS


def money_cents(dollars):
    """Dollars (or a [low, high] pair) to whole cents, rounded half up."""
    if dollars is None:
        return None
    if isinstance(dollars, list):
        return [money_cents(v) for v in dollars]
    return int(Decimal(str(dollars)).quantize(Decimal("0.01"), ROUND_HALF_UP) * 100)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def anniversary_days(today: date, days: int) -> list[tuple[int, int]]:
    """(month, day) pairs from today through `days` days ahead: "birthday in the next N days"."""
    span = min(days, 366)
    pairs = {
        ((today + timedelta(days=n)).month, (today + timedelta(days=n)).day)
        for n in range(span + 1)
    }
    return sorted(pairs)
