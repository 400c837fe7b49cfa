"""Resend and Postmark batch endpoints against local fakes: batch sizes, per-message
refusals, headers and custom args on the wire, and credential checks."""

from __future__ import annotations

import pytest

from marketing_app.domain.email import BatchRecipient, SubstitutionBatch
from marketing_app.domain.errors import ProviderRejected, ProviderUnavailable
from marketing_app.providers.email.postmark import PostmarkEmailProvider
from marketing_app.providers.email.resend import ResendEmailProvider
from tests.fakes.postmark_server import FakePostmark, PostmarkData
from tests.fakes.resend_server import FakeResend, ResendData


def batch_of(count: int, *, bad: set[int] = frozenset()) -> SubstitutionBatch:
    recipients = tuple(
        BatchRecipient(
            message_id=i,
            to="nobody" if i in bad else f"s{i}@example.com",
            substitutions={"-first-": f"Ava{i}"},
            headers={"List-Unsubscribe": f"<https://t.example/u/{i}>"},
            custom_args={"message_id": str(i)},
        )
        for i in range(count)
    )
    return SubstitutionBatch(
        from_email="news@leaf.example",
        from_name="Leaf",
        subject="Hi -first-",
        html="<p>Hi -first-</p><p>12 Main St</p>",
        text="Hi -first-",
        recipients=recipients,
        custom_args={"tenant_id": "t-1"},
    )


def test_resend_sends_in_batches_of_100_and_refuses_bad_addresses_alone():
    with FakeResend() as fake:
        provider = ResendEmailProvider(api_key="re_test_0123456789", base_url=fake.base_url)
        outcomes = provider.send_batch(batch_of(250, bad={7}))
        provider.close()

    assert fake.simulation.count("/emails/batch") == 3
    assert [(o.message_id, o.transient) for o in outcomes if not o.accepted] == [(7, False)]
    assert all(o.provider_message_id for o in outcomes if o.accepted)
    first = fake.data.emails[0]
    assert first["subject"] == "Hi Ava0" and first["from"] == "Leaf <news@leaf.example>"
    assert first["headers"] == {"List-Unsubscribe": "<https://t.example/u/0>"}
    assert {"name": "message_id", "value": "0"} in first["tags"]


def test_resend_credentials():
    with FakeResend(ResendData(api_keys={"re_test_0123456789", "re_sendonly_0123"})) as fake:
        ResendEmailProvider(api_key="re_sendonly_0123", base_url=fake.base_url).check_credentials()
        bad = ResendEmailProvider(api_key="re_wrong_000000", base_url=fake.base_url)
        with pytest.raises(ProviderRejected, match="refused the API key"):
            bad.check_credentials()


def test_postmark_sends_in_batches_of_500_with_per_message_results():
    data = PostmarkData(inactive={"s3@example.com"})
    with FakePostmark(data) as fake:
        provider = PostmarkEmailProvider(server_token=data.server_token, base_url=fake.base_url)
        outcomes = provider.send_batch(batch_of(600, bad={5}))
        provider.close()

    assert fake.simulation.count("/email/batch") == 2
    refused = {o.message_id: o for o in outcomes if not o.accepted}
    assert sorted(refused) == [3, 5] and not any(o.transient for o in refused.values())
    assert refused[3].error.startswith("406")
    first = data.messages[0]
    assert first["Subject"] == "Hi Ava0" and first["MessageStream"] == "broadcast"
    assert first["Headers"] == [{"Name": "List-Unsubscribe", "Value": "<https://t.example/u/0>"}]
    assert first["Metadata"] == {"tenant_id": "t-1", "message_id": "0"}


def test_postmark_credentials_and_outage():
    data = PostmarkData()
    with FakePostmark(data) as fake:
        good = PostmarkEmailProvider(server_token=data.server_token, base_url=fake.base_url)
        good.check_credentials()
        bad = PostmarkEmailProvider(server_token="wrong-token-000", base_url=fake.base_url)
        with pytest.raises(ProviderRejected, match="refused the server token"):
            bad.check_credentials()
        fake.simulation.fail_next(1, status=500)
        with pytest.raises(ProviderUnavailable):
            good.send_batch(batch_of(3))
