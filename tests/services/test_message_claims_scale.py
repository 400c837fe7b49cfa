"""A claim and its record find the rows they handle through the primary key, never by a
scan of the table (every campaign's rows). Right after an analyze of a fresh send's rows
(all queued, no lease yet) PostgreSQL planned the lease of a claim as a hash of every row of
the table, and the record of the outcomes as a scan of the table compared with every
outcome: 1 s for 1,000 rows, growing with the square of the batch and with the table."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from marketing_app.domain.email import SendOutcome
from marketing_app.models import Contact
from marketing_app.services import campaign_send, message_claims
from tests.services.test_campaign_send import NOW, _list, _scheduled

HISTORY_ROWS = 1_000  # an earlier campaign's rows in the table
AUDIENCE = 3_000  # a send just started: its queued rows are most of the table
CLAIM = 1_000

# Sequential scans of the table so far in this transaction.
TABLE_SCANS = text("SELECT pg_stat_get_xact_numscans('email_messages'::regclass)")
HISTORY = text(
    """
    INSERT INTO email_messages (tenant_id, campaign_id, email, variant, is_test_group, status,
        due_at, attempts, provider, skip_reason, error, created_at, sent_at)
    SELECT :tenant, :campaign, 'h' || g || '@example.com', 'A', false, 'sent', now(), 1,
        'smtp', '', '', now(), now()
    FROM generate_series(1, :rows) AS g
    """
)


@pytest.fixture(autouse=True)
def _postgresql_only(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the plans in question are PostgreSQL's")


def test_a_claim_and_its_record_find_their_rows_without_scanning_the_table_after_an_analyze(
    session, tenant
):
    people = [
        Contact(tenant_id=tenant.id, email=f"p{i}@example.com", email_consent=True)
        for i in range(AUDIENCE)
    ]
    session.add_all(people)
    session.flush()
    earlier = _scheduled(session, tenant, [_list(session, tenant, people[:1], "Earlier").id])
    session.execute(HISTORY, {"tenant": tenant.id, "campaign": earlier.id, "rows": HISTORY_ROWS})
    campaign = _scheduled(session, tenant, [_list(session, tenant, people).id])
    campaign_send.start_send(session=session, campaign_id=campaign.id, now=NOW)
    session.execute(text("ANALYZE email_messages"))  # what autovacuum does soon after a start

    scans_before = session.execute(TABLE_SCANS).scalar_one()
    claimed = message_claims.claim_messages(
        session=session, campaign_id=campaign.id, worker="w1", limit=CLAIM, now=NOW
    )
    # SMTP-like outcomes: each message its own provider id (the per-row values' path)
    outcomes = [SendOutcome.sent(m.id, "smtp", f"<m{m.id}@example.com>") for m in claimed]
    recorded = message_claims.record_results(session=session, worker="w1", results=outcomes)
    scans = session.execute(TABLE_SCANS).scalar_one() - scans_before

    assert len(claimed) == recorded == CLAIM
    assert scans == 0
    stored = session.execute(
        text(
            "SELECT count(*) FROM email_messages WHERE campaign_id = :c AND status = 'sent'"
            " AND provider_message_id = '<m' || id || '@example.com>'"
        ),
        {"c": campaign.id},
    ).scalar_one()
    assert stored == CLAIM
