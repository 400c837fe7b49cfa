"""Segmentation benchmark: the measurements, each beside hand-written SQL in the same run.

Our side runs through the services as the app does (segment and RFM transactions raise
work_mem with SET LOCAL); the hand-written side runs on a plain psycopg connection given the
same work_mem. Every measurement checks its result exactly against the planted cohorts.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import psycopg
from segment_data import NOW, Plan, ago, fold_batch
from segment_load import copy_all
from segment_queries import (
    BATCH_SCOPE,
    HAND_RFM,
    hand_a,
    hand_b,
)
from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql
from sqlmodel import Session

from marketing_app.models import Event, Segment, SegmentMember
from marketing_app.services.rfm import compute_rfm, rfm_summary
from marketing_app.services.segment_membership import fold_contacts, recompute_segment
from marketing_app.services.segment_sql import members_query
from marketing_app.services.segment_sql_parts import allow_big_sorts
from marketing_app.services.segments import compile_context, parse_definition

REPEATS = 3  # query timings are the median of this many runs


@dataclass
class Run:
    """What every measurement works with."""

    session: Session
    conn: psycopg.Connection  # autocommit, for the hand-written SQL and direct writes
    tenant_id: uuid.UUID
    plan: Plan
    explain: bool = False  # EXPLAIN ANALYZE of compiled and hand-written queries to stderr

    @property
    def params(self) -> dict:
        return {"t": self.tenant_id, "d30": ago(30), "d60": ago(60), "d90": ago(90)}


def clock(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def median_s(fn, repeats: int = REPEATS) -> float:
    return statistics.median(clock(fn)[0] for _ in range(repeats))


def side_by_side(ours, hand) -> tuple[float, float]:
    """Median seconds of `ours` and `hand`, run alternately REPEATS times."""
    mine, theirs = [], []
    for _ in range(REPEATS):
        mine.append(clock(ours)[0])
        theirs.append(clock(hand)[0])
    return statistics.median(mine), statistics.median(theirs)


def sql_text(query) -> str:
    return str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def explain(run: Run, label: str, sql: str, params=None) -> None:
    if run.explain:
        plan = run.conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
        print(f"--- {label}\n" + "\n".join(row[0] for row in plan), file=sys.stderr)


def members(session: Session, segment_id: int) -> set[int]:
    query = select(SegmentMember.contact_id).where(SegmentMember.segment_id == segment_id)
    return set(session.scalars(query))


def committed(session: Session, fn):
    """Run `fn` and commit: what a job does."""
    result = fn()
    session.commit()
    return result


def _count(session: Session, query) -> int:
    """The builder's live count: the compiled query counted in its own transaction."""
    allow_big_sorts(session)
    try:
        return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    finally:
        session.rollback()


# --- full computes ---------------------------------------------------------------------------


def full_compute(run: Run, segment: Segment, hand_sql: str, planted: set[int]) -> dict:
    """Count of the compiled query and recompute_segment, beside the hand SQL; exact checks."""
    session, tenant_id, params = run.session, run.tenant_id, run.params
    ctx = compile_context(session, tenant_id, NOW)
    query = members_query(parse_definition(segment.definition), ctx)
    count_s, hand_s = side_by_side(
        lambda: _count(session, query),
        lambda: run.conn.execute(f"SELECT count(*) FROM ({hand_sql}) h", params).fetchone(),
    )
    counted = _count(session, query)
    hand = {row[0] for row in run.conn.execute(hand_sql, params)}
    explain(run, f"{segment.name}: compiled", sql_text(query))
    explain(run, f"{segment.name}: hand-written", hand_sql, params)
    recompute = partial(
        recompute_segment, session=session, tenant_id=tenant_id, segment_id=segment.id, now=NOW
    )
    recompute_s, change = clock(lambda: committed(session, recompute))
    return {
        "members": len(planted),
        "count_s": round(count_s, 3),
        "recompute_s": round(recompute_s, 3),
        "hand_sql_s": round(hand_s, 3),
        "count_ratio_to_hand": round(count_s / hand_s, 2),
        "recompute_ratio_to_hand": round(recompute_s / hand_s, 2),
        "correct": counted == len(planted)
        and hand == planted
        and members(session, segment.id) == planted
        and change.entered == len(planted),
    }


# --- RFM -------------------------------------------------------------------------------------


def rfm(run: Run) -> dict:
    """Rescore every buyer twice, then count customers per group, beside a hand window query.

    A rescore stores the tenant's quintile boundaries; groups are computed from current facts
    when read, so the per-group count is timed too.
    """
    session, params = run.session, run.params
    score = partial(compute_rfm, session=session, tenant_id=run.tenant_id, now=NOW)
    first_s, scored = clock(lambda: committed(session, score))
    repeat_s, _ = clock(lambda: committed(session, score))
    summary_s, summary = clock(lambda: rfm_summary(session=session, tenant_id=run.tenant_id))
    hand_s = median_s(lambda: run.conn.execute(HAND_RFM, params).fetchall())
    hand_groups = dict(run.conn.execute(HAND_RFM, params).fetchall())
    ours = {row["group"]: row["customers"] for row in summary if row["customers"]}
    explain(run, "RFM: hand-written window query", HAND_RFM, params)
    return {
        "scored": scored,
        "s": round(first_s, 3),
        "repeat_s": round(repeat_s, 3),
        "groups_count_s": round(summary_s, 3),
        "hand_sql_s": round(hand_s, 3),
        "ratio_to_hand": round(first_s / hand_s, 2),
        "correct": hand_groups == ours and scored == sum(hand_groups.values()),
    }


# --- folding a batch -------------------------------------------------------------------------


def _write_batch(run: Run) -> tuple[list[int], int]:
    """What ingestion writes before the fold: the batch's events and orders, order facts."""
    rows = fold_batch(run.plan, run.tenant_id)
    with run.conn.transaction():
        copy_all(run.conn, rows)
        run.conn.execute(
            "UPDATE contacts SET order_count = order_count + 1,"
            " total_spent_cents = total_spent_cents + 5000, last_order_at = %(at)s"
            " WHERE id = ANY(%(ids)s)",
            {"at": rows.orders[0][-1], "ids": run.plan.a_exit},
        )
    return sorted({row[1] for row in rows.events}), len(rows.events)


def _hand_batch(run: Run, ids: list[int]) -> tuple[float, list[set[int]]]:
    """Median seconds of both hand-written queries scoped to the batch, and their results."""
    batch = run.params | {"ids": ids}
    scoped = (hand_a(BATCH_SCOPE), hand_b(BATCH_SCOPE))
    hand_s = median_s(lambda: [run.conn.execute(sql, batch).fetchall() for sql in scoped])
    return hand_s, [{row[0] for row in run.conn.execute(sql, batch)} for sql in scoped]


def fold(run: Run, segments: tuple[Segment, Segment]) -> dict:
    """Fold the batch into both segments (timed), beside the hand SQL scoped to the batch."""
    session, plan = run.session, run.plan
    ids, events = _write_batch(run)
    fold_once = partial(
        fold_contacts, session=session, tenant_id=run.tenant_id, contact_ids=ids, now=NOW
    )
    fold_s, change = clock(lambda: committed(session, fold_once))
    refold_s = median_s(lambda: committed(session, fold_once))  # nothing changes any more
    hand_s, hand = _hand_batch(run, ids)
    expected = plan.members_after_fold()
    return {
        "events": events,
        "profiles": len(ids),
        "s": round(fold_s, 3),
        "refold_s": round(refold_s, 3),
        "hand_sql_s": round(hand_s, 3),
        "ratio_to_hand": round(fold_s / hand_s, 2),
        "entered": change.entered,
        "exited": change.exited,
        "correct": change.entered == len(plan.a_enter) + len(plan.ids["b_two_views"])
        and change.exited == len(plan.a_exit)
        and [members(session, s.id) for s in segments] == list(expected)
        and hand == [members_now & set(ids) for members_now in expected],
    }


# --- one event to membership -----------------------------------------------------------------


def _open_and_fold(run: Run, cid: int):
    """Insert one real open for the profile and fold it, committed, as the event worker does."""
    at = NOW - timedelta(minutes=1)
    run.session.execute(
        insert(Event).values(
            tenant_id=run.tenant_id,
            contact_id=cid,
            message_id=f"latency-{cid}",
            type="track",
            name="Email Opened",
            properties={"campaign_id": "cmp-9", "machine_open": False},
            occurred_at=at,
            received_at=at,
            processed_at=at,
        )
    )
    fold_one = partial(
        fold_contacts, session=run.session, tenant_id=run.tenant_id, contact_ids=[cid], now=NOW
    )
    return committed(run.session, fold_one)


def latency(run: Run, segment_a: Segment) -> dict:
    """Seconds from inserting an event to its profile's membership committed (enters A)."""
    timed = [clock(lambda cid=cid: _open_and_fold(run, cid)) for cid in run.plan.latency]
    seconds = [s for s, _ in timed]
    expected_a = run.plan.members_after_fold()[0] | set(run.plan.latency)
    return {
        "samples": len(seconds),
        "p50_s": round(statistics.median(seconds), 3),
        "p95_s": round(statistics.quantiles(seconds, n=20)[18], 3),
        "correct": sum(change.entered for _, change in timed) == len(run.plan.latency)
        and members(run.session, segment_a.id) == expected_a,
    }
