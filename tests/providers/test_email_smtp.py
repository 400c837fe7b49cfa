"""SMTP delivery to a real SMTP server (aiosmtpd): headers, personalization and footer as the
recipient sees them, TLS and login, refusals by reply code, a server that is down."""

from __future__ import annotations

import time

import pytest

from marketing_app.domain.email import BatchRecipient, OutgoingEmail, SubstitutionBatch
from marketing_app.domain.errors import ProviderRejected, ProviderUnavailable
from marketing_app.providers.email.smtp import SmtpEmailProvider, SmtpSettings
from tests.fakes.smtp_sink import SmtpSink

FOOTER = "Leaf & Co, 12 Main St, Durham NC 27701"


def provider_for(sink: SmtpSink, **overrides) -> SmtpEmailProvider:
    fields = {"host": sink.host, "port": sink.port, "security": sink.security, "pool_size": 4}
    settings = SmtpSettings(**(fields | overrides))
    return SmtpEmailProvider(settings, ssl_context=sink.client_context)


def campaign_batch(count: int) -> SubstitutionBatch:
    recipients = tuple(
        BatchRecipient(
            message_id=1000 + i,
            to=f"shopper{i}@example.com",
            substitutions={"-first-": f"Ava{i}", "-unsub-": f"https://t.example/u/{i}"},
            headers={
                "List-Unsubscribe": f"<https://t.example/u/{i}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            custom_args={"message_id": str(1000 + i)},
        )
        for i in range(count)
    )
    return SubstitutionBatch(
        from_email="news@leaf.example",
        from_name="Leaf & Co",
        reply_to="help@leaf.example",
        subject="Hi -first-, 20% off — this weekend",
        html=f"<p>Hello -first-!</p><p><a href='-unsub-'>Unsubscribe</a> {FOOTER}</p>",
        text=f"Hello -first-!\nUnsubscribe: -unsub-\n{FOOTER}",
        recipients=recipients,
        custom_args={"tenant_id": "t-1", "campaign_id": "7"},
    )


@pytest.mark.parametrize("pipelining", [True, False])
def test_a_campaign_reaches_the_sink_personalized_with_headers_and_footer(pipelining):
    with SmtpSink(pipelining=pipelining) as sink:
        provider = provider_for(sink)
        outcomes = provider.send_batch(campaign_batch(30))
        provider.close()

    assert all(outcome.accepted for outcome in outcomes)
    assert len(sink.messages) == 30
    by_rcpt = {mail.rcpt_tos[0]: mail for mail in sink.messages}
    mail = by_rcpt["shopper3@example.com"]
    message = mail.message
    assert mail.mail_from == "news@leaf.example"
    assert message["Subject"] == "Hi Ava3, 20% off — this weekend"
    sender = message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Leaf & Co", "news@leaf.example")
    assert message["Reply-To"] == "help@leaf.example"
    assert message["List-Unsubscribe"] == "<https://t.example/u/3>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["X-Mk-Message-Id"] == "1003" and message["X-Mk-Campaign-Id"] == "7"
    assert "<p>Hello Ava3!</p>" in mail.body("html") and FOOTER in mail.body("html")
    assert mail.body("plain") == f"Hello Ava3!\nUnsubscribe: https://t.example/u/3\n{FOOTER}"
    outcome = next(o for o in outcomes if o.message_id == 1003)
    assert f"<{outcome.provider_message_id}>" == message["Message-ID"]


def test_starttls_with_login_and_a_wrong_password_is_refused_clearly():
    with SmtpSink(security="starttls", username="relay", password="s3cret-pass") as sink:
        good = provider_for(sink, username="relay", password="s3cret-pass")
        good.check_credentials()
        outcomes = good.send_batch(campaign_batch(3))
        good.close()
        bad = provider_for(sink, username="relay", password="wrong")
        with pytest.raises(ProviderRejected) as refused:
            bad.check_credentials()
        with pytest.raises(ProviderRejected):
            bad.send_batch(campaign_batch(2))
        bad.close()

    assert all(o.accepted for o in outcomes) and len(sink.messages) == 3
    assert "refused the user name or password" in refused.value.message


def test_implicit_tls():
    with SmtpSink(security="ssl") as sink:
        provider = provider_for(sink)
        outcomes = provider.send_batch(campaign_batch(2))
        provider.close()
    assert all(o.accepted for o in outcomes) and len(sink.messages) == 2


def test_a_refused_recipient_fails_alone_and_a_deferral_is_transient():
    refuse = {
        "shopper1@example.com": (550, "5.1.1 no such user"),
        "shopper2@example.com": (451, "4.7.1 greylisted, try later"),
    }
    with SmtpSink(refuse=refuse) as sink:
        provider = provider_for(sink)
        outcomes = {o.message_id: o for o in provider.send_batch(campaign_batch(5))}
        provider.close()

    assert not outcomes[1001].accepted and not outcomes[1001].transient
    assert "no such user" in outcomes[1001].error
    assert not outcomes[1002].accepted and outcomes[1002].transient
    assert [o.accepted for k, o in sorted(outcomes.items()) if k not in (1001, 1002)] == [True] * 3
    assert sorted(m.rcpt_tos[0] for m in sink.messages) == [
        "shopper0@example.com",
        "shopper3@example.com",
        "shopper4@example.com",
    ]


def test_a_server_that_is_down_fails_the_whole_call_fast():
    with SmtpSink() as sink:
        port = sink.port
    provider = SmtpEmailProvider(SmtpSettings(host="127.0.0.1", port=port, security="none"))
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable) as failure:
        provider.send_batch(campaign_batch(50))
    provider.close()
    assert "cannot connect" in failure.value.message
    assert time.monotonic() - started < 5


def test_a_header_with_a_line_break_is_refused_before_sending():
    message = OutgoingEmail(
        message_id=1,
        to="a@example.com",
        from_email="news@leaf.example",
        subject="Hi",
        text="x",
        headers={"X-Note": "ok\r\nBcc: victim@example.com"},
    )
    with SmtpSink() as sink:
        provider = provider_for(sink)
        [outcome] = provider.send([message])
        provider.close()
    assert not outcome.accepted and not outcome.transient and "line break" in outcome.error
    assert sink.messages == []


def test_the_pool_sends_over_several_connections_at_once():
    with SmtpSink(delay_seconds=0.1) as sink:
        provider = provider_for(sink, pool_size=10)
        started = time.monotonic()
        outcomes = provider.send_batch(campaign_batch(40))
        elapsed = time.monotonic() - started
        provider.close()
    assert all(o.accepted for o in outcomes)
    assert elapsed < 2.0  # one connection would need 4 s (40 x 100 ms)
