"""SES v2 over httpx with SigV4 against a fake that checks every signature: raw MIME with
our headers, tags, refusals, bad keys, and a 50-a-second quota held by the paced limiter."""

from __future__ import annotations

import email
import hashlib
import threading
import time
import uuid
from email import policy

import pytest

from marketing_app.domain.email import OutgoingEmail
from marketing_app.domain.errors import ProviderRejected
from marketing_app.providers.email.pacing import PacedLimiter
from marketing_app.providers.email.ses import SesEmailProvider
from marketing_app.providers.email.sigv4 import authorization, signing_key
from marketing_app.providers.http import RetryPolicy
from marketing_app.services.email_delivery import DeliveryChain, DeliveryPolicy
from marketing_app.settings import get_settings
from tests.fakes.ses_server import FakeSes, SesData

AWS_EXAMPLE = {
    "access_key": "AKIDEXAMPLE",
    "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "region": "us-east-1",
    "amz_date": "20150830T123600Z",
    "payload_hash": hashlib.sha256(b"").hexdigest(),
}
VANILLA_HEADERS = {"Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z"}


@pytest.mark.parametrize(
    ("method", "query", "signature"),
    [  # AWS's SigV4 test suite: get-vanilla, get-vanilla-query-order-key-case, post-vanilla
        ("GET", "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        (
            "GET",
            "Param2=value2&Param1=value1",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
        ("POST", "", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    ],
)
def test_sigv4_matches_the_aws_test_suite(method, query, signature):
    header = authorization(
        method=method, path="/", query=query, headers=VANILLA_HEADERS, service="service",
        **AWS_EXAMPLE,
    )  # fmt: skip
    assert header == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={signature}"
    )


def test_sigv4_matches_the_iam_example_of_the_aws_guide():
    key = signing_key(AWS_EXAMPLE["secret_key"], "20150830", "us-east-1", "iam")
    assert key.hex() == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
    header = authorization(
        method="GET",
        path="/",
        query="Action=ListUsers&Version=2010-05-08",
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Host": "iam.amazonaws.com",
            "X-Amz-Date": "20150830T123600Z",
        },
        service="iam",
        **AWS_EXAMPLE,
    )
    assert header.endswith(
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    )


def provider_for(fake: FakeSes, *, secret: str | None = None, limiter=None) -> SesEmailProvider:
    return SesEmailProvider(
        access_key_id=fake.data.access_key_id,
        secret_access_key=secret or fake.data.secret_access_key,
        region="us-east-1",
        endpoint=fake.base_url,
        limiter=limiter,
    )


def message(i: int, to: str | None = None) -> OutgoingEmail:
    return OutgoingEmail(
        message_id=i,
        to=to or f"shopper{i}@example.com",
        from_email="news@leaf.example",
        from_name="Leaf",
        subject=f"Hello {i}",
        html=f"<p>Hi {i}</p><p>12 Main St</p>",
        text=f"Hi {i}",
        headers={"List-Unsubscribe": f"<https://t.example/u/{i}>"},
        custom_args={"tenant_id": "0b6c1d4e-7a2f-4c1e-9d3b-123456789abc", "message_id": str(i)},
    )


def test_signed_raw_messages_carry_our_headers_and_tags():
    with FakeSes() as fake:
        provider = provider_for(fake)
        provider.check_credentials()
        outcomes = provider.send([message(1), message(2)])
        provider.close()

    assert all(o.accepted and o.provider_message_id for o in outcomes)
    sent = {m.to[0]: m for m in fake.data.sent}
    mime = email.message_from_bytes(sent["shopper2@example.com"].raw, policy=policy.default)
    assert mime["Subject"] == "Hello 2"
    assert mime["List-Unsubscribe"] == "<https://t.example/u/2>"
    assert "12 Main St" in mime.get_body(("html",)).get_content()
    assert sent["shopper2@example.com"].tags == {
        "tenant_id": "0b6c1d4e-7a2f-4c1e-9d3b-123456789abc",
        "message_id": "2",
    }


def test_a_wrong_secret_is_refused_on_check_and_fails_the_call():
    with FakeSes() as fake:
        provider = provider_for(fake, secret="not/the/right/secret/at/all/0000")
        with pytest.raises(ProviderRejected, match="refused these keys"):
            provider.check_credentials()
        with pytest.raises(ProviderRejected):
            provider.send([message(1)])
        provider.close()
        assert fake.data.sent == []


def test_a_rejected_message_fails_alone():
    with FakeSes(SesData(rejected={"shopper2@example.com"})) as fake:
        provider = provider_for(fake)
        outcomes = provider.send([message(1), message(2), message(3)])
        provider.close()
    assert [(o.accepted, o.transient) for o in outcomes] == [(True, False), (False, False)] + [
        (True, False)
    ]
    assert "MessageRejected" in outcomes[1].error


def test_the_quota_is_held_through_the_chain():
    limiter = PacedLimiter(
        "50/second",
        provider="email-ses",
        account=uuid.uuid4().hex,
        storage_uri=get_settings().redis_url,
    )
    with FakeSes(SesData(latency_seconds=0.02)) as fake:
        chain = DeliveryChain(
            tenant_id=uuid.uuid4(),
            providers=[provider_for(fake, limiter=limiter)],
            policy=DeliveryPolicy(retry=RetryPolicy(attempts=3, wait_initial_seconds=0.05)),
        )
        outcomes = chain.send([message(i) for i in range(150)])
        chain.close()

    assert all(o.accepted for o in outcomes)
    # Each call holds the limiter's window until answered, as late as its answer allows:
    # even with the fake in this process (and its GIL) no call reaches it early.
    assert fake.simulation.count(status=429) == 0
    arrivals = sorted(m.arrived_at for m in fake.data.sent)
    rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    # stamped after the signature check, so over 150 calls a little above the limit
    # (paced at 49.8); the 429 count above is the fake's own moving window
    assert rate <= 50.5
    # Paced, not starved: a limiter that waited out whole seconds would give ~1 a second. How
    # close to 50 it gets is the bench's to measure (49.6-49.7 a second): on a VM whose host
    # takes its cores away (steal time 5-18% when this was written) this test saw 11-25.
    assert rate >= 5.0


def test_an_unanswered_call_holds_the_window_until_its_answer():
    limiter = PacedLimiter(
        "2/second", provider="email-ses", account=uuid.uuid4().hex,
        storage_uri=get_settings().redis_url,
    )  # fmt: skip
    limiter.report_answers()
    went: list[float] = []

    def answered_call() -> None:
        limiter.acquire()
        limiter.answered()

    def timed_call() -> None:
        limiter.acquire()
        went.append(time.monotonic())

    limiter.acquire()  # the first call, answered only after 1.5 s
    first_went = time.monotonic()
    second = threading.Thread(target=answered_call)
    second.start()
    second.join()  # one window holds two calls
    third = threading.Thread(target=timed_call)
    third.start()
    time.sleep(max(1.5 - (time.monotonic() - first_went), 0))
    limiter.answered()
    third.join()
    # the window alone would have let the third go a second after the first
    assert went[0] - first_went >= 1.5
