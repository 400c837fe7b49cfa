"""Values both the SQL compiler and the Python evaluator of segments derive the same way."""

from __future__ import annotations

from collections.abc import Sequence
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


def holds_at_zero(op: str, value) -> bool:
    """Whether a number comparison (`op` against `value`) is true of 0: profiles without orders
    or without a loyalty account count as 0, so such comparisons include them."""
    low, high = value if isinstance(value, list) else (value, value)
    return {
        "eq": low == 0,
        "gt": low < 0,
        "gte": low <= 0,
        "lt": low > 0,
        "lte": low >= 0,
        "between": low <= 0 <= high,
    }[op]


def tier_names(program_tiers: Sequence[str], op: str, value) -> set[str]:
    """The account tiers a loyalty tier condition names ("" = no tier), spelled as the program
    spells them: for "in" and "not_in" the listed ones; for "at_least" the tier and those above
    it (only that name when the program no longer has it); for "in_top" the highest `value`.

    `program_tiers` are the program's tier names, lowest threshold first.
    """
    if op == "in_top":
        return set(program_tiers[-value:])
    spelling = {"": "", **{tier.lower(): tier for tier in program_tiers}}
    names = [
        spelling.get(name.strip().lower(), name)
        for name in (value if op != "at_least" else [value])
    ]
    if op == "at_least" and names[0] in program_tiers:
        return set(program_tiers[program_tiers.index(names[0]) :])
    return set(names)
