"""SendGrid through the official `sendgrid` library against a local fake of v3 Mail Send:
batched personalizations with substitutions, headers and custom args, 1,000 per request,
refused recipients, refused keys and outages."""

from __future__ import annotations

import pytest

from marketing_app.domain.email import BatchRecipient, OutgoingEmail, SubstitutionBatch
from marketing_app.domain.errors import (
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from marketing_app.providers.email.sendgrid import SendGridEmailProvider
from tests.fakes.sendgrid_server import FakeSendGrid, SendGridData

FOOTER = "Leaf & Co, 12 Main St, Durham NC 27701"


@pytest.fixture
def fake():
    with FakeSendGrid() as server:
        yield server


def provider_for(fake: FakeSendGrid, api_key: str | None = None) -> SendGridEmailProvider:
    return SendGridEmailProvider(api_key=api_key or fake.api_key, host=fake.base_url)


def batch_of(count: int, *, bad: set[int] = frozenset()) -> SubstitutionBatch:
    recipients = tuple(
        BatchRecipient(
            message_id=i,
            to="not-an-address" if i in bad else f"shopper{i}@example.com",
            substitutions={"-first-": f"Ava{i}", "-unsub-": f"https://t.example/u/{i}"},
            headers={
                "List-Unsubscribe": f"<https://t.example/u/{i}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            custom_args={"message_id": str(i)},
        )
        for i in range(count)
    )
    return SubstitutionBatch(
        from_email="news@leaf.example",
        from_name="Leaf & Co",
        subject="Hi -first-",
        html=f"<p>Hello -first-</p><a href='-unsub-'>Unsubscribe</a> {FOOTER}",
        text=f"Hello -first-\n{FOOTER}",
        recipients=recipients,
        custom_args={"tenant_id": "t-1", "campaign_id": "7"},
    )


def test_2500_recipients_go_as_three_requests_of_personalizations(fake):
    provider = provider_for(fake)
    outcomes = provider.send_batch(batch_of(2500))

    assert all(o.accepted and o.provider == "sendgrid" for o in outcomes)
    assert [o.message_id for o in outcomes] == list(range(2500))
    requests = fake.data.requests
    assert [len(body["personalizations"]) for body in requests] == [1000, 1000, 500]
    assert len({o.provider_message_id for o in outcomes}) == 3  # one X-Message-Id a request
    body = requests[1]
    assert body["from"] == {"email": "news@leaf.example", "name": "Leaf & Co"}
    assert body["subject"] == "Hi -first-"
    assert body["custom_args"] == {"tenant_id": "t-1", "campaign_id": "7"}
    html = next(c["value"] for c in body["content"] if c["type"] == "text/html")
    assert FOOTER in html and "-unsub-" in html
    person = body["personalizations"][3]  # recipient 1003
    assert person["to"] == [{"email": "shopper1003@example.com"}]
    assert person["substitutions"] == {"-first-": "Ava1003", "-unsub-": "https://t.example/u/1003"}
    assert person["headers"]["List-Unsubscribe"] == "<https://t.example/u/1003>"
    assert person["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert person["custom_args"] == {"message_id": "1003"}


def test_messages_with_the_same_content_share_a_request(fake):
    def message(i: int, subject: str) -> OutgoingEmail:
        return OutgoingEmail(
            message_id=i,
            to=f"s{i}@example.com",
            from_email="news@leaf.example",
            subject=subject,
            html="<p>Same</p>",
            headers={"List-Unsubscribe": f"<https://t.example/u/{i}>"},
        )

    messages = [message(1, "A"), message(2, "B"), message(3, "A")]
    outcomes = provider_for(fake).send(messages)

    assert [o.message_id for o in outcomes] == [1, 2, 3] and all(o.accepted for o in outcomes)
    grouped = sorted(
        [p["to"][0]["email"] for p in body["personalizations"]] for body in fake.data.requests
    )
    assert grouped == [["s1@example.com", "s3@example.com"], ["s2@example.com"]]


def test_a_recipient_sendgrid_refuses_fails_alone_and_the_rest_is_sent(fake):
    outcomes = provider_for(fake).send_batch(batch_of(10, bad={4}))

    refused = [o for o in outcomes if not o.accepted]
    assert [(o.message_id, o.transient) for o in refused] == [(4, False)]
    assert "valid address" in refused[0].error
    assert fake.simulation.count("/v3/mail/send", status=400) == 1
    assert len(fake.data.personalizations()) == 9


def test_a_refused_key_fails_the_call_and_its_check_says_why(fake):
    provider = provider_for(fake, api_key="SG.revoked-key-000000")
    with pytest.raises(ProviderRejected) as refused:
        provider.send_batch(batch_of(3))
    assert refused.value.status == 401
    with pytest.raises(ProviderRejected, match="refused the API key"):
        provider.check_credentials()
    provider_for(fake).check_credentials()  # the right key passes


def test_a_key_without_mail_send_is_refused_on_check():
    fake = FakeSendGrid(SendGridData(scopes=["user.profile.read"]))
    with fake, pytest.raises(ProviderRejected, match="Mail Send"):
        provider_for(fake).check_credentials()


def test_outages_and_throttling_are_transient_errors(fake):
    provider = provider_for(fake)
    fake.simulation.fail_next(1, status=503)
    with pytest.raises(ProviderUnavailable):
        provider.send_batch(batch_of(2))
    fake.simulation.fail_next(1, status=429, retry_after=7)
    with pytest.raises(ProviderRateLimited) as limited:
        provider.send_batch(batch_of(2))
    assert limited.value.retry_after_seconds == 7
    assert all(o.accepted for o in provider.send_batch(batch_of(2)))


def test_part_of_a_call_failing_keeps_what_was_accepted(fake):
    fake.simulation.fail_next(1, status=503, path_prefix="/v3/mail/send")
    outcomes = provider_for(fake).send_batch(batch_of(1500))  # the first of two requests fails

    assert [o.accepted for o in outcomes[:1000]] == [False] * 1000
    assert all(o.transient for o in outcomes[:1000])
    assert all(o.accepted for o in outcomes[1000:])
