"""Loyalty reconciliation: compare each customer's three figures, classify, record discrepancies.

The figures of a profile:
- **calculated** (points from our orders): the ledger's net points (every entry: order earnings
  as the program's rules computed them, reversals, bonuses, redemptions, adjustments, expiry)
  plus what the program would give the profile's orders not credited yet, estimated with the
  per-dollar, per-visit and equity rules of `loyalty_earning.order_points`; category multipliers
  count as 1 for those (crediting applies the real ones).
- **stored**: `loyalty_accounts.balance` (0 without an account).
- **external**: Alpine IQ's points (`ExternalLoyaltyBalance`, provider "alpineiq"); None when
  the profile is not mapped to an Alpine IQ customer.

The source of truth's figure is the reference: calculated for "orders", external for
"alpineiq" (calculated when the profile has no external figure). difference = the other figure
that disagrees most, minus the reference; its percent is of max(reference, 1). A profile is a
discrepancy when any two of its available figures differ, and over the threshold when
|percent| > the program's `discrepancy_threshold_percent` (exact, not float).

Classes, tried in this order (services/loyalty_reconcile_rules.py):
1. stored ≠ the ledger's net points (the account drifted from its entries): **unknown**;
2. **sync_lag**: the figures differ only by what happened after Alpine IQ's snapshot: ledger
   entries created after `synced_at` plus orders not credited yet (Alpine IQ = calculated − that),
   or calculated ≠ stored only because of orders not credited yet;
3. **configuration**: Alpine IQ's accrual rate differs from ours and Alpine IQ's points ≈ our
   order dollars (credited less refunds, plus uncredited) × its rate + our points from other
   sources (bonuses, redemptions, adjustments), within one point per order. The rate is what
   the Alpine IQ sync keeps in `tenant.settings["loyalty_sync"]["alpineiq"]["points_per_dollar"]`
   (`reconcile(their_points_per_dollar=...)` overrides it); without it this class never applies;
4. **missing_visits**: Alpine IQ shows more than calculated (it credited purchases, such as
   in-store visits, that we have no order for);
5. **unknown** otherwise.

A profile whose last resolved discrepancy decided exactly its current figures (same Alpine IQ
points, stored balance = the decided one = the ledger, nothing uncredited) is settled: a marketer
kept that decision, so it is not reopened until a figure moves.

The work is set-based (services/loyalty_reconcile_figures.py): one statement aggregates the
ledger per contact and the uncredited orders per contact and joins the accounts and external
balances, returning only the disagreeing profiles and a count of all compared; then the
classification's details are read for those few. A tight Python pass classifies them. New
discrepancies go in by COPY on PostgreSQL (insert-or-ignore on the partial unique index: one
open row per profile, so a concurrent run cannot open a second); open ones are refreshed in
place (figures, kind, explanation, `checked_at`) by one UPDATE joined to a COPY-loaded
temporary table; open rows whose profile now agrees are marked cleared. The run's summary (with
seconds per phase) is kept in `tenant.settings["loyalty_reconciliation"]`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlmodel import Session

from marketing_app.models import Tenant
from marketing_app.models.base import utcnow
from marketing_app.models.loyalty_sync import (
    DiscrepancyKind,
    DiscrepancyStatus,
    LoyaltyDiscrepancy,
)
from marketing_app.services.bulk import copy_text, write_returning_new_keys
from marketing_app.services.bulk_reads import one_of, without_jit
from marketing_app.services.loyalty_programs import LoyaltySettings, require_settings
from marketing_app.services.loyalty_reconcile_figures import gather_figures
from marketing_app.services.loyalty_reconcile_rules import Finding, ProfileFigures, Rules, find

STATE_KEY = "loyalty_reconciliation"  # tenant.settings: the last run's summary
RATE_KEYS = ("loyalty_sync", "alpineiq", "points_per_dollar")  # Alpine IQ's accrual rate
# The per-contact aggregates of a million-profile tenant hash a few hundred MB; at the
# server's usual 4 MB (or segments' 64 MB) they spill to disk in several batches.
RECONCILE_WORK_MEM = "256MB"
REFRESHED = (  # what a rerun rewrites on an open discrepancy
    "calculated_points",
    "external_points",
    "stored_balance",
    "difference",
    "difference_percent",
    "over_threshold",
    "kind",
    "explanation",
    "checked_at",
)
COMPARED = REFRESHED[:-1]  # a row is rewritten when one of these moved; else only checked_at
REFRESH_TABLE = "refresh_loyalty_discrepancies"  # a session's temporary table
D = LoyaltyDiscrepancy


@dataclass
class ReconcileResult:
    compared: int = 0  # profiles with an account, ledger entries, an external figure or orders
    discrepancies: int = 0  # open after the run
    over_threshold: int = 0
    new: int = 0  # opened by this run
    cleared: int = 0  # open before, agreeing now
    settled: int = 0  # disagreeing, but exactly as a marketer decided
    newly_over_threshold: int = 0  # over the threshold now and not open over it before
    by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DiscrepancyKind.ALL, 0))
    seconds: float = 0.0
    # Where the time went: "figures" (the statements reading every profile), "classify",
    # "write" (discrepancies inserted, refreshed, cleared).
    phase_seconds: dict[str, float] = field(default_factory=dict)
    ran_at: datetime | None = None

    def summary(self) -> dict[str, Any]:
        """The run as JSON (tenant settings, job results)."""
        values = asdict(self)
        values["ran_at"] = self.ran_at.isoformat() if self.ran_at else None
        values["seconds"] = round(self.seconds, 3)
        values["phase_seconds"] = {k: round(v, 3) for k, v in self.phase_seconds.items()}
        return values

    def lap(self, phase: str, since: float) -> float:
        """Record the seconds `phase` took since `since`; returns now, for the next lap."""
        now = time.perf_counter()
        self.phase_seconds[phase] = now - since
        return now


def alpineiq_points_per_dollar(tenant: Tenant) -> Decimal | None:
    """Alpine IQ's accrual rate as the sync kept it; None when unknown or unreadable."""
    value: Any = tenant.settings or {}
    for key in RATE_KEYS:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None or isinstance(value, bool):
        return None
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        return None
    return rate if rate.is_finite() and rate >= 0 else None


def reconcile(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    now: datetime | None = None,
    their_points_per_dollar: Decimal | None = None,
) -> ReconcileResult:
    """Compare every profile of the tenant and record its discrepancies (see the docstring).

    Writes in the caller's transaction; safe to run again (and concurrently: the partial unique
    index keeps one open row per profile).
    """
    started = time.perf_counter()
    result = ReconcileResult(ran_at=now or utcnow())
    settings = require_settings(session=session, tenant_id=tenant_id)
    tenant = session.get(Tenant, tenant_id)
    rate = their_points_per_dollar
    rules = Rules(
        source_of_truth=settings.source_of_truth,
        threshold_percent=settings.discrepancy_threshold_percent,
        our_points_per_dollar=settings.points_per_dollar,
        their_points_per_dollar=rate if rate is not None else alpineiq_points_per_dollar(tenant),
    )
    _tune_for_one_big_query(session)
    result.compared, candidates = gather_figures(
        session=session, tenant_id=tenant_id, settings=settings
    )
    lap = result.lap("figures", started)
    decided = _decisions(session, tenant_id)
    findings = []
    for figures in candidates:
        if _is_settled(figures, decided.get(figures.contact_id)):
            result.settled += 1
        else:
            findings.append((figures, find(figures, rules)))
    lap = result.lap("classify", lap)
    _record(session, tenant_id, findings, result)
    result.lap("write", lap)
    result.seconds = time.perf_counter() - started
    _save_summary(session, tenant_id, result, settings)
    return result


# --- settled decisions ------------------------------------------------------------------------


def _decisions(session: Session, tenant_id: uuid.UUID) -> dict[int, tuple[int | None, int]]:
    """Contact -> (Alpine IQ's points, the balance decided) of its latest resolution."""
    rows = session.execute(
        select(D.contact_id, D.external_points, D.resolved_points)
        .where(D.tenant_id == tenant_id, D.status == DiscrepancyStatus.RESOLVED)
        .order_by(D.id)
    )
    return {contact_id: (external, decided) for contact_id, external, decided in rows}


def _is_settled(figures: ProfileFigures, decision: tuple[int | None, int] | None) -> bool:
    if decision is None:
        return False
    external, decided = decision
    return (
        figures.external == external
        and figures.stored == decided == figures.ledger
        and figures.uncredited_orders == 0
    )


def _tune_for_one_big_query(session: Session) -> None:
    """This transaction only (SET LOCAL), on PostgreSQL: hash the aggregates in memory, and no
    JIT, whose compilation (2+ s) the FULL JOINs' huge row estimates would trigger for nothing."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{RECONCILE_WORK_MEM}'"))
    without_jit(session)


# --- writing the discrepancies ----------------------------------------------------------------


def _record(
    session: Session,
    tenant_id: uuid.UUID,
    findings: list[tuple[ProfileFigures, Finding]],
    result: ReconcileResult,
) -> None:
    """Write the open discrepancies: new ones inserted, open ones whose figures moved rewritten,
    the others only marked as seen now (checked_at); clear the open ones that agree now."""
    before = {
        row.contact_id: row
        for row in session.execute(
            select(D.contact_id, D.id, *[getattr(D, name) for name in COMPARED]).where(
                D.tenant_id == tenant_id, D.status == DiscrepancyStatus.OPEN
            )
        )
    }
    rows = [_row(tenant_id, figures, finding, result.ran_at) for figures, finding in findings]
    # A concurrent run may have opened one of the new rows meanwhile: its row stands.
    write_returning_new_keys(
        session=session,
        model=D,
        rows=[row for row in rows if row["contact_id"] not in before],
        key="contact_id",
    )
    seen = [(row, before[row["contact_id"]]) for row in rows if row["contact_id"] in before]
    moved = [new for new, old in seen if any(new[name] != old._mapping[name] for name in COMPARED)]
    _refresh(session, [new | {"id": before[new["contact_id"]].id} for new in moved])
    moved_ids = {new["contact_id"] for new in moved}
    _mark_seen(session, [old.id for new, old in seen if new["contact_id"] not in moved_ids], result)
    found = {row["contact_id"] for row in rows}
    gone = [contact_id for contact_id in before if contact_id not in found]
    _clear(session, tenant_id, gone, result.ran_at)
    for row in rows:
        was = before.get(row["contact_id"])
        result.by_kind[row["kind"]] += 1
        result.over_threshold += row["over_threshold"]
        result.new += was is None
        result.newly_over_threshold += row["over_threshold"] and not (was and was.over_threshold)
    result.discrepancies, result.cleared = len(rows), len(gone)


def _mark_seen(session: Session, ids: list[int], result: ReconcileResult) -> None:
    """checked_at of open rows whose figures did not move, in one UPDATE (PostgreSQL)."""
    for ids_in in one_of(session, D.id, ids):
        session.execute(
            update(D)
            .where(ids_in, D.status == DiscrepancyStatus.OPEN)
            .values(checked_at=result.ran_at)
            .execution_options(synchronize_session=False)
        )


def _row(tenant_id, figures: ProfileFigures, finding: Finding, now: datetime) -> dict[str, Any]:
    """Every column but the id (COPY applies no defaults)."""
    return {
        "tenant_id": tenant_id,
        "contact_id": figures.contact_id,
        "calculated_points": figures.calculated,
        "external_points": figures.external,
        "stored_balance": figures.stored,
        "difference": finding.difference,
        "difference_percent": finding.percent,
        "over_threshold": finding.over_threshold,
        "kind": finding.kind,
        "explanation": finding.explanation[:500],
        "status": DiscrepancyStatus.OPEN,
        "resolution": None,
        "resolved_points": None,
        "resolved_by": "",
        "reason": "",
        "entry_id": None,
        "first_seen_at": now,
        "checked_at": now,
        "resolved_at": None,
    }


def _refresh(session: Session, rows: list[dict[str, Any]]) -> None:
    """Rewrite the figures, kind, explanation and checked_at of open rows, by id: one UPDATE
    joined to a COPY-loaded temporary table on PostgreSQL, an executemany on SQLite. A row
    resolved meanwhile (no longer open) is left alone."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        table = D.__table__
        session.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"), table.c.status == DiscrepancyStatus.OPEN)
            .values({name: bindparam(f"new_{name}") for name in REFRESHED}),
            [
                {"row_id": row["id"], **{f"new_{name}": row[name] for name in REFRESHED}}
                for row in rows
            ],
        )
        return
    columns = ["id", *REFRESHED]
    cursor = session.connection().connection.driver_connection.cursor()
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {REFRESH_TABLE} ON COMMIT DELETE ROWS AS "
        f"SELECT {', '.join(columns)} FROM loyalty_discrepancies WITH NO DATA"
    )
    with cursor.copy(f"COPY {REFRESH_TABLE} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(copy_text(rows, columns))
    assignments = ", ".join(f"{name} = s.{name}" for name in REFRESHED)
    cursor.execute(
        f"UPDATE loyalty_discrepancies d SET {assignments} FROM {REFRESH_TABLE} s "
        f"WHERE d.id = s.id AND d.status = '{DiscrepancyStatus.OPEN}'"
    )
    cursor.execute(f"TRUNCATE {REFRESH_TABLE}")


def _clear(session: Session, tenant_id: uuid.UUID, contact_ids: list[int], now: datetime) -> None:
    for contacts_in in one_of(session, D.contact_id, contact_ids):
        session.execute(
            update(D)
            .where(D.tenant_id == tenant_id, D.status == DiscrepancyStatus.OPEN, contacts_in)
            .values(status=DiscrepancyStatus.CLEARED, checked_at=now, resolved_at=now)
            .execution_options(synchronize_session=False)
        )


def _save_summary(
    session: Session, tenant_id: uuid.UUID, result: ReconcileResult, settings: LoyaltySettings
) -> None:
    """The run's summary; discrepancies that went over the threshold add up in
    `unalerted_over_threshold` until an alert goes out (services/loyalty_alerts.py), whoever
    ran the reconciliation (this job or a loyalty sync)."""

    def change(state: dict[str, Any]) -> None:
        unalerted = int(state.get("unalerted_over_threshold") or 0)
        state.update(result.summary())
        state["unalerted_over_threshold"] = unalerted + result.newly_over_threshold
        state["source_of_truth"] = settings.source_of_truth
        state["threshold_percent"] = str(settings.discrepancy_threshold_percent)

    update_run_state(session=session, tenant_id=tenant_id, change=change)


def update_run_state(
    *, session: Session, tenant_id: uuid.UUID, change: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """Apply `change` to `tenant.settings["loyalty_reconciliation"]` under the tenant row's lock
    (PostgreSQL), so two writers of the state never lose each other's keys; returns it."""
    tenant = session.execute(
        select(Tenant)
        .where(Tenant.id == tenant_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    state = dict((tenant.settings or {}).get(STATE_KEY) or {})
    change(state)
    tenant.settings = {**(tenant.settings or {}), STATE_KEY: state}  # a new dict: JSON column
    session.add(tenant)
    session.flush()
    return state


def last_run(*, session: Session, tenant_id: uuid.UUID) -> dict[str, Any]:
    """The summary of the tenant's last reconciliation ({} before the first)."""
    tenant = session.get(Tenant, tenant_id)
    return dict(((tenant.settings or {}) if tenant else {}).get(STATE_KEY) or {})
