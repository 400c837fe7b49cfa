"""Management API for loyalty (/api/v1/loyalty): the program, a member's card, earning,
redeeming and adjusting points, crediting and refunding orders, the summary and sync.

Thin routes over the loyalty services, scoped by a secret key. Writes commit before they
answer; a sync writes its job row in the same transaction and enqueues it after commit (the
beat tick covers a lost enqueue). `POST /api/loyalty/sync` is an alias of `/sync`. The shapes
are in `loyalty_schemas.py`.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal

from fastapi import APIRouter, Depends, Header, Query
from sqlmodel import Session

from marketing_app.api.deps import get_session, secret_key_tenant
from marketing_app.api.loyalty_schemas import (
    CONFLICT,
    INVALID,
    MAX_OFFSET,
    NOT_FOUND,
    SYNC_CONFLICT,
    ActivityLine,
    AdjustRequest,
    ContactIdPath,
    CreditedOrders,
    CreditOrdersRequest,
    EarnRequest,
    LedgerChange,
    LiabilityPublic,
    LoyaltySummary,
    MemberCard,
    OrderIdPath,
    ProgramPublic,
    ProgramWrite,
    Redeemed,
    RedeemRequest,
    Refunded,
    RefundRequest,
    SyncRequest,
    TierCountPublic,
    program_public,
    refuse_nul,
    request_key,
    tier_changes_public,
)
from marketing_app.api.segment_schemas import JobAccepted, job_accepted
from marketing_app.domain.errors import InvalidInput, NotFound
from marketing_app.models import Tenant
from marketing_app.services.loyalty_adjustments import (
    Adjustment,
    adjust_points,
    grant_points,
    require_contact,
)
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_programs import (
    get_program,
    preset_settings,
    require_settings,
    save_program,
)
from marketing_app.services.loyalty_redemptions import (
    RedemptionResult,
    redeem_points,
    redeem_tier_reward,
)
from marketing_app.services.loyalty_refunds import refund_order
from marketing_app.services.loyalty_reports import (
    account_summary,
    liability,
    members_per_tier,
    recent_activity,
)
from marketing_app.services.loyalty_sync_runs import request_sync
from marketing_app.services.loyalty_sync_status import sync_status

router = APIRouter(prefix="/api/v1/loyalty", tags=["loyalty"])
alias_router = APIRouter(tags=["loyalty"])  # the path the loyalty issue names
IdempotencyHeader = Header(None, alias="Idempotency-Key", description="Or the body's key field.")


# --- helpers ----------------------------------------------------------------------------------


def _change(session: Session, contact_id: int, result: Adjustment) -> LedgerChange:
    session.commit()
    return LedgerChange(
        contact_id=contact_id,
        points=result.points,
        balance=result.balance,
        replayed=result.replayed,
    )


# --- program ----------------------------------------------------------------------------------


@router.get(
    "/program", response_model=ProgramPublic, summary="Read the program", responses=NOT_FOUND
)
def read_program(
    tenant: Tenant = Depends(secret_key_tenant), session: Session = Depends(get_session)
) -> ProgramPublic:
    """Earning rules, expiry, point value and tiers with their rewards."""
    program = get_program(session=session, tenant_id=tenant.id)
    if program is None:
        raise NotFound("This workspace has no loyalty program yet: PUT one first.")
    return program_public(program)


@router.put(
    "/program",
    response_model=ProgramPublic,
    summary="Create or replace the program",
    responses=INVALID,
)
def save_loyalty_program(
    body: ProgramWrite,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> ProgramPublic:
    """Send `settings`, a `preset`, or a preset with the settings that differ from it.
    Members move to the tiers the new table gives; a refused setting changes nothing."""
    refuse_nul(body)
    if body.preset is None and body.settings is None:
        raise InvalidInput("Give settings, a preset, or both.", field="settings")
    settings = body.settings or {}
    if body.preset is not None:
        settings = {**preset_settings(body.preset).model_dump(mode="json"), **settings}
    program = save_program(session=session, tenant_id=tenant.id, settings=settings, name=body.name)
    session.commit()
    return program_public(program)


# --- a member's card --------------------------------------------------------------------------


@router.get(
    "/profiles/{contact_id}",
    response_model=MemberCard,
    summary="A customer's points, tier and history",
    responses=NOT_FOUND,
)
def read_member(
    contact_id: ContactIdPath,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
    limit: int = Query(20, ge=1, le=500, description="History entries per page."),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> MemberCard:
    """Balance, tier, progress to the next tier and a page of the ledger, newest first. A
    customer without entries yet answers `member: false` and zeros."""
    card = account_summary(
        session=session, tenant_id=tenant.id, contact_id=contact_id, limit=limit, offset=offset
    )
    return MemberCard.model_validate({**card.__dict__, "limit": limit, "offset": offset})


@router.post(
    "/profiles/{contact_id}/earn",
    response_model=LedgerChange,
    summary="Grant points outside orders",
    responses={**NOT_FOUND, **CONFLICT, **INVALID},
)
def earn_points(
    contact_id: ContactIdPath,
    body: EarnRequest,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
    idempotency_key: str | None = IdempotencyHeader,
) -> LedgerChange:
    """Points for something other than an order (a survey, a promotion), with a reason. A
    retried key answers `replayed: true`; the key with another request answers 409."""
    key = request_key(idempotency_key, body.idempotency_key, "idempotency_key")
    refuse_nul(body, idempotency_key=key)
    result = grant_points(
        session=session,
        tenant_id=tenant.id,
        contact_id=contact_id,
        points=body.points,
        idempotency_key=key,
        reason=body.reason,
    )
    return _change(session, contact_id, result)


@router.post(
    "/profiles/{contact_id}/adjust",
    response_model=LedgerChange,
    summary="Correct a balance either way",
    responses={**NOT_FOUND, **CONFLICT, **INVALID},
)
def adjust_member_points(
    contact_id: ContactIdPath,
    body: AdjustRequest,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
    idempotency_key: str | None = IdempotencyHeader,
) -> LedgerChange:
    """Signed points with a reason, once per adjustment id. Removing more than the balance
    answers 409 and writes nothing."""
    key = request_key(idempotency_key, body.adjustment_id, "adjustment_id")
    refuse_nul(body, adjustment_id=key)
    result = adjust_points(
        session=session,
        tenant_id=tenant.id,
        contact_id=contact_id,
        points=body.points,
        adjustment_id=key,
        reason=body.reason,
        count_toward_tier=body.count_toward_tier,
    )
    return _change(session, contact_id, result)


@router.post(
    "/profiles/{contact_id}/redeem",
    response_model=Redeemed,
    summary="Redeem points or a tier reward for a discount code",
    responses={**NOT_FOUND, **CONFLICT, **INVALID},
)
def redeem(
    contact_id: ContactIdPath,
    body: RedeemRequest,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
    idempotency_key: str | None = IdempotencyHeader,
) -> Redeemed:
    """`points` buys a code worth that many points at the program's point value; `tier`
    buys the reward of a tier the customer has reached. More than the balance answers 409
    and writes nothing; a retried key answers the same code."""
    key = request_key(idempotency_key, body.idempotency_key, "idempotency_key")
    refuse_nul(body, idempotency_key=key)
    if (body.points is None) == (body.tier is None):
        raise InvalidInput("Give either points or a tier to redeem.", field="points")
    common = {"session": session, "tenant_id": tenant.id, "contact_id": contact_id}
    if body.tier is not None:
        result: RedemptionResult = redeem_tier_reward(**common, tier=body.tier, idempotency_key=key)
    else:
        result = redeem_points(**common, points=body.points, idempotency_key=key)
    session.commit()
    return Redeemed(
        **result.redemption.model_dump(), balance=result.balance, replayed=result.replayed
    )


# --- orders -----------------------------------------------------------------------------------


@router.post(
    "/credit-orders",
    response_model=CreditedOrders,
    summary="Credit orders not credited yet",
    responses={**NOT_FOUND, **INVALID},
)
def credit_tenant_orders(
    body: CreditOrdersRequest | None = None,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> CreditedOrders:
    """Every order of the tenant (or of `contact_id`) that has not earned yet earns now,
    once: running it again credits nothing new. Orders without a customer or with a
    negative total are counted, not credited."""
    contact_id = body.contact_id if body else None
    if contact_id is not None:
        require_contact(session, tenant.id, contact_id)
    result = credit_orders(session=session, tenant_id=tenant.id, contact_id=contact_id)
    session.commit()
    return CreditedOrders(
        orders_credited=result.orders_credited,
        points=result.points,
        skipped_no_customer=result.skipped_no_customer,
        skipped_bad_total=result.skipped_bad_total,
        tier_change_count=len(result.tier_changes),
        tier_changes=tier_changes_public(result.tier_changes),
    )


@router.post(
    "/orders/{order_id}/refund",
    response_model=Refunded,
    summary="Take back the points of a refund",
    responses={**NOT_FOUND, **INVALID},
)
def refund(
    order_id: OrderIdPath,
    body: RefundRequest,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> Refunded:
    """A compensating entry for the refunded share of what the order earned (the order is
    credited first if it was not yet); once per refund id. Points already spent are not
    taken back: they are reported as `shortfall`."""
    refuse_nul(body)
    result = refund_order(
        session=session,
        tenant_id=tenant.id,
        order_id=order_id,
        refund_id=body.refund_id,
        amount_cents=body.amount_cents,
    )
    session.commit()
    return Refunded.model_validate(
        {**result.__dict__, "tier_changes": tier_changes_public(result.tier_changes)}
    )


# --- summary and sync -------------------------------------------------------------------------


@router.get("/summary", response_model=LoyaltySummary, summary="Members, liability and activity")
def read_summary(
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
    activity_limit: int = Query(20, ge=1, le=500, description="Recent ledger entries."),
) -> LoyaltySummary:
    """Members per tier (lowest first), outstanding points and their worth, and the latest
    ledger entries with the customer's name."""
    tiers = members_per_tier(session=session, tenant_id=tenant.id)
    owed = liability(session=session, tenant_id=tenant.id)
    activity = recent_activity(session=session, tenant_id=tenant.id, limit=activity_limit)
    return LoyaltySummary(
        members=sum(t.members for t in tiers),
        tiers=[TierCountPublic.model_validate(t) for t in tiers],
        liability=LiabilityPublic(
            points=owed.points,
            cents=owed.cents,
            dollars=Decimal(owed.cents).scaleb(-2),
            members_with_points=owed.members_with_points,
        ),
        recent_activity=[ActivityLine.model_validate(line) for line in activity],
    )


@router.get("/sync", summary="Sync status: per provider and the running or last sync job")
def read_sync_status(
    tenant: Tenant = Depends(secret_key_tenant), session: Session = Depends(get_session)
) -> dict:
    """POS (Alleaves) and Alpine IQ: configured, last successful sync, last error, counts and
    skipped records; Alpine IQ's loyalty settings as last read; the sync job with progress."""
    status = sync_status(session=session, tenant_id=tenant.id)
    return {**asdict(status), "configured": status.configured}


@router.post(
    "/sync",
    response_model=JobAccepted,
    status_code=202,
    summary="Sync loyalty for the tenant or one customer",
    responses={**NOT_FOUND, **SYNC_CONFLICT, **INVALID},
)
@alias_router.post(
    "/api/loyalty/sync",
    response_model=JobAccepted,
    status_code=202,
    summary="Sync loyalty (alias of /api/v1/loyalty/sync)",
    responses={**NOT_FOUND, **SYNC_CONFLICT, **INVALID},
)
def sync(
    body: SyncRequest | None = None,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> JobAccepted:
    """Runs in the background; poll `status_url`. Syncs the tenant's POS customers and orders
    (with Alleaves credentials), then Alpine IQ's balances (with Alpine IQ credentials), then
    reconciles; with `contact_id`, that customer's Alpine IQ balance and uncredited orders.
    A tenant-wide sync already queued or running is answered instead of a second one; 409
    when no provider is connected."""
    require_settings(session=session, tenant_id=tenant.id)
    contact_id = body.contact_id if body else None
    job, created = request_sync(session=session, tenant_id=tenant.id, contact_id=contact_id)
    if not created:  # queued or running already: enqueueing it again would run it twice
        return JobAccepted(job_id=job.id, status_url=f"/api/v1/jobs/{job.id}")
    return job_accepted(session, job)
