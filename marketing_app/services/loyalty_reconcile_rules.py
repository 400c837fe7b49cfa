"""The rules of loyalty reconciliation for one profile: reference, difference, class, sentence.

Pure functions over the figures the reconciliation query gathers (no database here), so the
definitions in services/loyalty_reconciliation.py's docstring are testable one by one. Points
and cents are integers; the threshold comparison is exact (Decimal), never float.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from marketing_app.models.loyalty_sync import DiscrepancyKind

ORDERS, ALPINEIQ = "orders", "alpineiq"  # LoyaltySettings.source_of_truth


@dataclass(frozen=True)
class ProfileFigures:
    """What the reconciliation query found for one profile."""

    contact_id: int
    stored: int  # loyalty_accounts.balance, 0 without an account
    ledger: int  # the ledger's net points
    external: int | None  # Alpine IQ's points; None when the profile is not mapped
    synced_at: datetime | None  # when Alpine IQ reported them
    after_sync_points: int  # ledger points created after synced_at
    after_sync_entries: int
    order_cents: int  # credited orders' totals less refunds
    orders: int  # credited orders
    other_points: int  # ledger points not from orders or refunds (bonuses, redemptions...)
    uncredited_orders: int  # completed orders with no earn entry yet
    uncredited_cents: int
    uncredited_points: int  # what the program would give them (estimate)

    @property
    def calculated(self) -> int:
        return self.ledger + self.uncredited_points


@dataclass(frozen=True)
class Rules:
    """The tenant's side of the comparison."""

    source_of_truth: str  # "orders" | "alpineiq"
    threshold_percent: Decimal
    our_points_per_dollar: Decimal
    their_points_per_dollar: Decimal | None  # Alpine IQ's accrual rate, when the sync kept it


@dataclass(frozen=True)
class Finding:
    contact_id: int
    reference: int
    difference: int  # the figure that disagrees most, minus the reference
    percent: float  # of max(reference, 1), rounded for display
    over_threshold: bool
    kind: str
    explanation: str


def disagree(figures: ProfileFigures) -> bool:
    """Whether any two available figures differ."""
    values = {figures.calculated, figures.stored}
    if figures.external is not None:
        values.add(figures.external)
    return len(values) > 1


def measure(figures: ProfileFigures, rules: Rules) -> tuple[int, int, float, bool]:
    """(reference, difference, percent, over threshold) under the tenant's source of truth."""
    named = {"external": figures.external, "stored": figures.stored, "calc": figures.calculated}
    use_external = rules.source_of_truth == ALPINEIQ and figures.external is not None
    reference_name = "external" if use_external else "calc"
    reference = named[reference_name]
    others = [v for k, v in named.items() if k != reference_name and v is not None]
    difference = max((value - reference for value in others), key=abs, default=0)
    base = max(reference, 1)
    over = Decimal(abs(difference)) * 100 > rules.threshold_percent * base
    return reference, difference, round(difference * 100 / base, 2), over


def find(figures: ProfileFigures, rules: Rules) -> Finding | None:
    """The discrepancy of one profile, or None when its figures agree."""
    if not disagree(figures):
        return None
    reference, difference, percent, over = measure(figures, rules)
    kind, explanation = classify(figures, rules)
    return Finding(figures.contact_id, reference, difference, percent, over, kind, explanation)


def classify(figures: ProfileFigures, rules: Rules) -> tuple[str, str]:
    """(kind, a sentence a marketer understands), tried in the documented order."""
    if figures.stored != figures.ledger:
        return DiscrepancyKind.UNKNOWN, _drift_sentence(figures)
    for kind, rule in RULES:
        if (sentence := rule(figures, rules)) is not None:
            return kind, sentence
    gap = _more_or_fewer(figures.external - figures.calculated)
    return DiscrepancyKind.UNKNOWN, (
        f"Alpine IQ shows {gap} than our figure ({figures.calculated:,}); no activity since "
        "its last sync, uncredited order or earning rate explains it."
    )


def _sync_lag(figures: ProfileFigures, rules: Rules) -> str | None:
    external, calculated = figures.external, figures.calculated
    pending = _pending_orders(figures)
    if external is None or external == calculated:
        return f"Our stored balance ({figures.stored:,}) is behind: {pending}."
    if external == figures.stored:
        return f"Alpine IQ matches our stored balance ({figures.stored:,}); {pending}."
    lag = figures.after_sync_points + figures.uncredited_points
    if lag == 0 or external != calculated - lag:
        return None
    causes = []
    if figures.after_sync_entries:
        when = figures.synced_at.strftime("%Y-%m-%d %H:%M UTC") if figures.synced_at else ""
        causes.append(f"{_count(figures.after_sync_entries, 'change')} here since its sync {when}")
    if figures.uncredited_orders:
        causes.append(f"{_count(figures.uncredited_orders, 'order')} not credited yet")
    return (
        f"Alpine IQ shows {_more_or_fewer(external - calculated)} than our figure; the gap "
        f"of {abs(lag):,} comes from {' and '.join(causes)}."
    )


def _configuration(figures: ProfileFigures, rules: Rules) -> str | None:
    theirs, ours = rules.their_points_per_dollar, rules.our_points_per_dollar
    orders = figures.orders + figures.uncredited_orders
    if figures.external is None or theirs is None or theirs == ours or orders == 0:
        return None
    cents = figures.order_cents + figures.uncredited_cents
    expected = int(cents * theirs) // 100 + figures.other_points
    if abs(figures.external - expected) > orders:  # each order may round on its own
        return None
    return (
        f"Alpine IQ shows {_more_or_fewer(figures.external - figures.calculated)} than our "
        f"figure: it earns {theirs:g} points per dollar where we earn {ours:g}, and "
        f"${cents / 100:,.2f} of purchases at its rate come to {expected:,}."
    )


def _missing_visits(figures: ProfileFigures, rules: Rules) -> str | None:
    if figures.external is None or figures.external <= figures.calculated:
        return None
    return (
        f"Alpine IQ shows {figures.external - figures.calculated:,} more points than our "
        f"orders give ({figures.calculated:,}): it credited purchases, such as in-store "
        "visits, that have no order here."
    )


RULES = (  # the order the classes are tried in (drift is unknown before any of them)
    (DiscrepancyKind.SYNC_LAG, _sync_lag),
    (DiscrepancyKind.CONFIGURATION, _configuration),
    (DiscrepancyKind.MISSING_VISITS, _missing_visits),
)


def _drift_sentence(figures: ProfileFigures) -> str:
    return (
        f"Our stored balance ({figures.stored:,}) differs from the ledger's total "
        f"({figures.ledger:,}) by {abs(figures.stored - figures.ledger):,} points: the account "
        "is out of step with its entries."
    )


def _pending_orders(figures: ProfileFigures) -> str:
    return (
        f"{_count(figures.uncredited_orders, 'order')} not credited yet would earn about "
        f"{figures.uncredited_points:,} points"
    )


def _more_or_fewer(gap: int) -> str:
    return f"{abs(gap):,} {'more' if gap > 0 else 'fewer'} points"


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
