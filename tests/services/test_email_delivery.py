"""Delivery through a tenant's providers: failover with a breaker every worker sees, no
resend of a permanent refusal, retries of transient failures, credentials tested on save,
priority order, the console default and tenant isolation."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from marketing_app.domain.email import BatchRecipient, SubstitutionBatch
from marketing_app.domain.errors import InvalidInput
from marketing_app.models import OutboxMessage, ProviderCredential
from marketing_app.providers.http import RetryPolicy
from marketing_app.services.email_delivery import DeliveryPolicy, delivery_chain_for
from marketing_app.services.email_provider_config import (
    configured_providers,
    describe_email_providers,
    email_provider_order,
    save_email_provider,
    set_email_provider_order,
)
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.fakes.smtp_sink import SmtpSink

FAST = RetryPolicy(
    attempts=2,
    timeout_seconds=10,
    wait_initial_seconds=0.01,
    wait_max_seconds=0.05,
    wait_jitter_seconds=0.0,
    max_retry_after_seconds=2.0,
)
POLICY = DeliveryPolicy(breaker_failures=2, breaker_reset_seconds=30, retry=FAST)
SEND = "/v3/mail/send"


@pytest.fixture
def sendgrid():
    with FakeSendGrid() as fake:
        yield fake


@pytest.fixture
def sink():
    with SmtpSink() as server:
        yield server


def add_sendgrid(session, tenant, fake: FakeSendGrid) -> None:
    config = {"host": fake.base_url}
    save_email_provider(
        session=session,
        tenant_id=tenant.id,
        provider="sendgrid",
        secret=fake.api_key,
        config=config,
    )


def add_smtp(session, tenant, sink: SmtpSink) -> None:
    config = {"host": sink.host, "port": sink.port, "security": "none"}
    save_email_provider(
        session=session, tenant_id=tenant.id, provider="smtp", secret=None, config=config
    )


def batch_of(count: int, *, start: int = 0, bad: set[int] = frozenset()) -> SubstitutionBatch:
    recipients = tuple(
        BatchRecipient(
            message_id=i,
            to="not-an-address" if i in bad else f"s{i}@example.com",
            substitutions={"-first-": f"Ava{i}"},
            headers={"List-Unsubscribe": f"<https://t.example/u/{i}>"},
        )
        for i in range(start, start + count)
    )
    return SubstitutionBatch(
        from_email="news@leaf.example",
        subject="Hi -first-",
        html="<p>Hi -first-</p><p>12 Main St</p>",
        text="Hi -first-",
        recipients=recipients,
    )


def test_failover_opens_the_breaker_for_every_worker_and_mail_goes_through_the_second(
    session, tenant, sendgrid, sink
):
    add_sendgrid(session, tenant, sendgrid)
    add_smtp(session, tenant, sink)
    session.commit()
    sendgrid.simulation.fail_next(100, status=503, path_prefix=SEND)  # SendGrid is down

    worker_a = delivery_chain_for(session=session, tenant_id=tenant.id, policy=POLICY)
    first = worker_a.send_batch(batch_of(5))
    assert [(o.accepted, o.provider) for o in first] == [(True, "smtp")] * 5
    assert sendgrid.simulation.count(SEND) == 2  # one try and one retry, then failover
    assert worker_a.breaker("sendgrid").state == "open"

    worker_b = delivery_chain_for(session=session, tenant_id=tenant.id, policy=POLICY)
    assert worker_b.breaker("sendgrid").state == "open"
    second = worker_b.send_batch(batch_of(5, start=5))
    assert [(o.accepted, o.provider) for o in second] == [(True, "smtp")] * 5
    assert sendgrid.simulation.count(SEND) == 2  # the open breaker kept worker B away
    assert sorted(m.rcpt_tos[0] for m in sink.messages) == sorted(
        f"s{i}@example.com" for i in range(10)
    )
    worker_a.close()
    worker_b.close()


def test_an_open_breaker_tries_the_provider_again_after_its_cool_down(
    session, tenant, sendgrid, sink
):
    add_sendgrid(session, tenant, sendgrid)
    add_smtp(session, tenant, sink)
    session.commit()
    policy = DeliveryPolicy(breaker_failures=1, breaker_reset_seconds=1, retry=FAST)
    sendgrid.simulation.fail_next(1, status=503, path_prefix=SEND)  # opens it at once
    chain = delivery_chain_for(session=session, tenant_id=tenant.id, policy=policy)

    assert {o.provider for o in chain.send_batch(batch_of(2))} == {"smtp"}
    assert chain.breaker("sendgrid").state == "open"
    time.sleep(2.1)  # past the cool-down (Redis keeps the opening time in whole seconds)
    assert {o.provider for o in chain.send_batch(batch_of(2, start=2))} == {"sendgrid"}
    assert chain.breaker("sendgrid").state == "closed"


def test_a_permanent_refusal_is_not_sent_through_the_next_provider(session, tenant, sendgrid, sink):
    add_sendgrid(session, tenant, sendgrid)
    add_smtp(session, tenant, sink)
    session.commit()
    chain = delivery_chain_for(session=session, tenant_id=tenant.id, policy=POLICY)

    outcomes = chain.send_batch(batch_of(4, bad={2}))

    refused = outcomes[2]
    assert (refused.accepted, refused.transient, refused.provider) == (False, False, "sendgrid")
    assert [o.provider for o in outcomes if o.accepted] == ["sendgrid"] * 3
    assert sink.messages == []
    assert chain.breaker("sendgrid").state == "closed"


def test_transient_failures_are_retried_on_the_same_provider(session, tenant, sendgrid, sink):
    add_sendgrid(session, tenant, sendgrid)
    add_smtp(session, tenant, sink)
    session.commit()
    chain = delivery_chain_for(session=session, tenant_id=tenant.id, policy=POLICY)

    sendgrid.simulation.fail_next(1, status=502, path_prefix=SEND)
    assert {o.provider for o in chain.send_batch(batch_of(3))} == {"sendgrid"}
    sendgrid.simulation.fail_next(1, status=429, path_prefix=SEND, retry_after=1)
    started = time.monotonic()
    assert {o.provider for o in chain.send_batch(batch_of(3, start=3))} == {"sendgrid"}
    assert time.monotonic() - started >= 0.9  # Retry-After honoured
    assert sendgrid.simulation.count(SEND) == 4 and sink.messages == []


def test_when_every_provider_fails_the_messages_stay_transient(session, tenant, sendgrid):
    add_sendgrid(session, tenant, sendgrid)
    session.commit()
    sendgrid.simulation.fail_next(10, status=503, path_prefix=SEND)
    chain = delivery_chain_for(session=session, tenant_id=tenant.id, policy=POLICY)

    outcomes = chain.send_batch(batch_of(3))
    assert all(not o.accepted and o.transient for o in outcomes)
    assert "503" in outcomes[0].error


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_credentials_are_tested_when_saved_and_refused_with_the_reason(
    session, tenant, sendgrid, sink
):
    with pytest.raises(InvalidInput) as refused:
        save_email_provider(
            session=session,
            tenant_id=tenant.id,
            provider="sendgrid",
            secret="SG.wrong-key-0000000",
            config={"host": sendgrid.base_url},
        )
    assert refused.value.field == "secret"
    assert "SendGrid did not accept these settings" in refused.value.message
    assert "refused the API key" in refused.value.message

    with SmtpSink(username="relay", password="right-password") as auth_sink:
        config = {"host": auth_sink.host, "port": auth_sink.port, "security": "none",
                  "username": "relay"}  # fmt: skip
        with pytest.raises(InvalidInput, match="user name or password"):
            save_email_provider(
                session=session, tenant_id=tenant.id, provider="smtp", secret="wrong", config=config
            )

    with pytest.raises(InvalidInput) as bad_region:
        save_email_provider(
            session=session,
            tenant_id=tenant.id,
            provider="ses",
            secret="x" * 40,
            config={"access_key_id": "AKIAEXAMPLE000000000", "region": "moon"},
        )
    assert bad_region.value.field == "region"
    with pytest.raises(InvalidInput, match="rate like"):
        add_config = {"host": sendgrid.base_url, "rate_limit": "lots"}
        save_email_provider(session=session, tenant_id=tenant.id, provider="sendgrid",
                            secret=sendgrid.api_key, config=add_config)  # fmt: skip

    stored = session.exec(
        select(ProviderCredential).where(ProviderCredential.tenant_id == tenant.id)
    )
    assert stored.all() == []
    assert email_provider_order(session=session, tenant_id=tenant.id) == []


def test_priority_order_decides_who_sends(session, tenant, sendgrid, sink):
    add_smtp(session, tenant, sink)
    add_sendgrid(session, tenant, sendgrid)
    session.commit()
    assert email_provider_order(session=session, tenant_id=tenant.id) == ["smtp", "sendgrid"]
    chain = delivery_chain_for(session=session, tenant_id=tenant.id, policy=POLICY)
    assert {o.provider for o in chain.send_batch(batch_of(2))} == {"smtp"}

    set_email_provider_order(session=session, tenant_id=tenant.id, order=["sendgrid", "smtp"])
    chain = delivery_chain_for(session=session, tenant_id=tenant.id, policy=POLICY)
    assert {o.provider for o in chain.send_batch(batch_of(2, start=2))} == {"sendgrid"}
    with pytest.raises(InvalidInput, match="Postmark is not configured"):
        set_email_provider_order(session=session, tenant_id=tenant.id, order=["postmark"])


def test_saving_again_without_the_secret_keeps_it(session, tenant, sendgrid):
    add_sendgrid(session, tenant, sendgrid)
    config = {"host": sendgrid.base_url, "rate_limit": "100/second"}
    save_email_provider(
        session=session, tenant_id=tenant.id, provider="sendgrid", secret=None, config=config
    )
    [account] = configured_providers(session=session, tenant_id=tenant.id)
    assert account.secret == sendgrid.api_key and account.config["rate_limit"] == "100/second"
    [shown] = describe_email_providers(session=session, tenant_id=tenant.id)
    assert shown["secret"] == "••••" + sendgrid.api_key[-4:]
    assert sendgrid.api_key not in str(shown)


def test_tenants_see_only_their_own_providers_and_outbox(session, tenant, other_tenant, sendgrid):
    add_sendgrid(session, tenant, sendgrid)
    session.commit()

    other_chain = delivery_chain_for(session=session, tenant_id=other_tenant.id, policy=POLICY)
    assert [p.name for p in other_chain.providers] == ["console"]
    outcomes = other_chain.send_batch(batch_of(2))
    session.commit()
    assert all(o.accepted and o.provider == "console" for o in outcomes)
    assert sendgrid.simulation.count(SEND) == 0

    def outbox(tenant_id):
        query = select(OutboxMessage).where(OutboxMessage.tenant_id == tenant_id)
        return session.exec(query).all()

    assert sorted(row.to_address for row in outbox(other_tenant.id)) == [
        "s0@example.com",
        "s1@example.com",
    ]
    assert outbox(tenant.id) == []
    assert [a.name for a in configured_providers(session=session, tenant_id=tenant.id)] == [
        "sendgrid"
    ]
    assert describe_email_providers(session=session, tenant_id=other_tenant.id) == []
