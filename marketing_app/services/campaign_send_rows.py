"""The rest of a send's message rows, written in chunks while its senders already send.

"Send now" writes only its first recipients' rows, commits, and starts the senders on them
(campaign_send.start_send with `first_part`); the campaign's `rows_pending_after` holds the
last profile id written. `write_pending_rows` then writes the rest CHUNK_ROWS profiles at a
time, each chunk under the campaign's row lock and committed with the new boundary:
- senders claim each chunk once it is committed, and wait for the next instead of ending
  (`rows_pending`, campaign_schedule.run_sender), or write it themselves when no writer holds
  the campaign (`write_chunk_if_free`); the campaign is not marked sent while rows are
  pending (message_claims.finish_if_done);
- two writers never write the same chunk: each reads the boundary under the lock (and the
  unique (campaign, profile) key would refuse a second row anyway);
- a writer that died leaves its boundary behind: the beat's tick writes a chunk per tick of
  each campaign no writer holds (`help_pending_writes`), and the send summary after the last;
- a paused send's rows are still written (resuming sends them); a cancelled one's are not.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from marketing_app.models import Campaign, CampaignStatus, Tenant
from marketing_app.models.base import utcnow
from marketing_app.services.bulk_reads import without_jit
from marketing_app.services.campaign_send import insert_message_part, summarize_send

CHUNK_ROWS = 25_000  # ~0.2 s to write: a pause or cancel waits at most that for the lock
_WRITING = (CampaignStatus.SENDING, CampaignStatus.PAUSED)


def write_pending_chunk(
    *, session: Session, campaign_id: int, chunk: int = CHUNK_ROWS, now: datetime | None = None
) -> bool:
    """Write the next chunk of a campaign's pending rows, waiting for the lock if another
    writer holds it; True when more are pending after it. The caller commits (which lets
    the senders see the chunk)."""
    campaign = _locked(session, campaign_id, skip_locked=False)
    return campaign is not None and _write_chunk(session, campaign, chunk, now)


def write_pending_rows(*, session: Session, campaign_id: int, chunk: int = CHUNK_ROWS) -> None:
    """Every pending row of the campaign, chunk after chunk, each committed."""
    while True:
        more = write_pending_chunk(session=session, campaign_id=campaign_id, chunk=chunk)
        session.commit()
        if not more:
            return


def write_chunk_if_free(*, session: Session, campaign_id: int, chunk: int = CHUNK_ROWS) -> bool:
    """A sender with nothing to claim: the next chunk of the campaign's pending rows unless a
    writer holds the campaign (commits); False when it did not write. Without this a sender
    whose writer died would wait for the tick, which on a one-process worker waits for it."""
    wrote = _write_unless_held(session, campaign_id, chunk)
    session.commit()
    return wrote


def help_pending_writes(*, session: Session, chunk: int = CHUNK_ROWS) -> list[int]:
    """The tick's part: one chunk for each campaign with rows pending that no writer holds
    at this moment (its writer died, or is between two chunks); commits. Returns the
    campaigns it wrote a chunk of."""
    pending = session.exec(
        select(Campaign.id).where(col(Campaign.rows_pending_after).is_not(None))
    ).all()
    helped = []
    for campaign_id in pending:
        if _write_unless_held(session, campaign_id, chunk):
            helped.append(campaign_id)
        session.commit()
    return helped


def _write_unless_held(session: Session, campaign_id: int, chunk: int) -> bool:
    """A chunk for a writer that is gone, and after the last its send summary (the writer's
    last step); False when a writer holds the campaign or nothing is pending."""
    campaign = _locked(session, campaign_id, skip_locked=True)
    if campaign is None or campaign.rows_pending_after is None:
        return False
    if not _write_chunk(session, campaign, chunk, None) and not campaign.send_summary:
        summarize_send(session=session, campaign_id=campaign_id)
    return True


def _locked(session: Session, campaign_id: int, *, skip_locked: bool) -> Campaign | None:
    return session.get(
        Campaign,
        campaign_id,
        with_for_update={"skip_locked": True} if skip_locked else True,
        populate_existing=True,  # the boundary another writer may have moved
    )


def _write_chunk(session: Session, campaign: Campaign, chunk: int, now: datetime | None) -> bool:
    if campaign.rows_pending_after is None:
        return False
    if campaign.status in _WRITING:
        tenant = session.get(Tenant, campaign.tenant_id)
        without_jit(session)
        campaign.rows_pending_after = insert_message_part(
            session, tenant, campaign, now or utcnow(), after=campaign.rows_pending_after,
            limit=chunk,
        )  # fmt: skip
    else:  # cancelled (or otherwise over): nobody will send the rest
        campaign.rows_pending_after = None
    session.add(campaign)
    session.flush()
    return campaign.rows_pending_after is not None


def rows_pending(*, session: Session, campaign_id: int) -> bool:
    """Whether a sending campaign still has rows to be written (its senders should wait)."""
    boundary = session.exec(
        select(Campaign.rows_pending_after).where(
            Campaign.id == campaign_id, Campaign.status == CampaignStatus.SENDING
        )
    ).first()
    return boundary is not None
