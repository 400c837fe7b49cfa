"""Email provider webhooks over HTTP: real signatures (ECDSA, Svix HMAC, SNS RSA
certificates, Basic credentials) made with keys generated here, checked by the vendors'
verifiers; refused requests store nothing."""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from sqlmodel import select
from standardwebhooks.webhooks import Webhook

from marketing_app.models import (
    AuditEntry,
    Contact,
    EmailEvent,
    EmailMessage,
    Event,
    SubscriptionPreference,
    Suppression,
)
from marketing_app.services.email_webhooks import configure_email_webhook

SAMPLES = Path("/work/shared/samples")
X_MESSAGE_ID = "14c5d75ce93.dfd.64b469"  # the samples' sg_message_id starts with it


def _message(session, tenant, email="example@test.com", provider="sendgrid", provider_id=None):
    contact = Contact(tenant_id=tenant.id, email=email, email_consent=True)
    session.add(contact)
    session.flush()
    message = EmailMessage(
        tenant_id=tenant.id,
        contact_id=contact.id,
        email=email,
        status="sent",
        provider=provider,
        provider_message_id=provider_id or X_MESSAGE_ID,
        sent_at=datetime(2017, 12, 15, tzinfo=UTC),
    )
    session.add(message)
    session.commit()
    return message


def _configure(session, tenant, provider, secret, **options):
    configure_email_webhook(
        session=session, tenant_id=tenant.id, provider=provider, secret=secret, **options
    )
    session.commit()


def _receipts(session, message) -> list[EmailEvent]:
    session.expire_all()
    return list(session.exec(select(EmailEvent).where(EmailEvent.message_id == message.id)))


def _status(session, message) -> str:
    session.expire_all()
    return session.get(EmailMessage, message.id).status


def _unique_ids(records: list[dict]) -> list[dict]:
    """The samples' event ids made unique to this test (receipts are unique per provider)."""
    suffix = uuid.uuid4().hex[:8]
    return [{**r, "sg_event_id": f"{r['sg_event_id']}-{suffix}"} for r in records]


# --- SendGrid -------------------------------------------------------------------------------


@pytest.fixture
def sendgrid_key(session, tenant):
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _configure(session, tenant, "sendgrid", base64.b64encode(der).decode())
    return key


def _sendgrid_post(client, tenant, key, body: bytes, *, sign: bytes | None = None):
    timestamp = str(int(datetime.now(UTC).timestamp()))
    signature = key.sign(timestamp.encode() + (sign or body), ec.ECDSA(hashes.SHA256()))
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        "Content-Type": "application/json",
    }
    return client.post(f"/webhooks/email/sendgrid/{tenant.slug}", content=body, headers=headers)


def _sendgrid_samples() -> list[dict]:
    path = SAMPLES / "sendgrid_event_webhook_per_event_unique_ids.json"
    return _unique_ids(json.loads(path.read_text()))


def test_sendgrid_signed_samples_are_applied(client, session, tenant, sendgrid_key):
    message = _message(session, tenant)
    body = json.dumps(_sendgrid_samples()).encode()
    answer = _sendgrid_post(client, tenant, sendgrid_key, body)
    assert answer.status_code == 200, answer.text
    # 12 records: the resubscribe is not tracked; bounce and blocked share an sg_event_id.
    assert answer.json() | {"skipped": []} == {
        "stored": 10,
        "duplicates": 1,
        "unknown_message": 0,
        "ignored": 1,
        "skipped": [],
    }
    assert _status(session, message) == "dropped"
    suppressed = session.exec(select(Suppression).where(Suppression.tenant_id == tenant.id)).all()
    assert [(s.address, s.reason) for s in suppressed] == [("example@test.com", "bounce")]
    names = session.exec(
        select(Event.name).where(Event.contact_id == message.contact_id).order_by(Event.id)
    ).all()
    assert set(names) == {
        "Email Delivered",
        "Email Opened",
        "Email Link Clicked",
        "Email Bounced",
        "Email Marked as Spam",
        "Email Unsubscribed",
    }
    [preference] = session.exec(
        select(SubscriptionPreference).where(
            SubscriptionPreference.contact_id == message.contact_id
        )
    ).all()
    assert (preference.subscribed, preference.source) == (False, "sendgrid")


def test_sendgrid_resent_batch_answers_200_and_stores_nothing_twice(
    client, session, tenant, sendgrid_key
):
    message = _message(session, tenant)
    body = json.dumps(_sendgrid_samples()).encode()
    _sendgrid_post(client, tenant, sendgrid_key, body)
    again = _sendgrid_post(client, tenant, sendgrid_key, body)
    assert again.status_code == 200
    assert (again.json()["stored"], again.json()["duplicates"]) == (0, 11)
    assert len(_receipts(session, message)) == 10


def test_sendgrid_custom_arg_names_the_message(client, session, tenant, sendgrid_key):
    message = _message(session, tenant, "ann@example.com", provider_id="other-request")
    record = {
        "email": "ann@example.com",
        "timestamp": 1513299569,
        "event": "open",
        "sg_event_id": uuid.uuid4().hex,
        "sg_message_id": "not-ours.filter0001",
        "sg_machine_open": True,
        "message_id": str(message.id),
        "tenant_id": "whatever the payload says",
    }
    answer = _sendgrid_post(client, tenant, sendgrid_key, json.dumps([record]).encode())
    assert answer.json()["stored"] == 1
    session.expire_all()
    stored = session.get(EmailMessage, message.id)
    assert stored.machine_opened_at is not None and stored.opened_at is None


def test_sendgrid_tampered_body_is_refused_and_stores_nothing(
    client, session, tenant, sendgrid_key
):
    message = _message(session, tenant)
    signed = json.dumps(_sendgrid_samples()).encode()
    tampered = signed.replace(b'"delivered"', b'"spamreport"')
    answer = _sendgrid_post(client, tenant, sendgrid_key, tampered, sign=signed)
    assert answer.status_code == 401
    unsigned = client.post(f"/webhooks/email/sendgrid/{tenant.slug}", content=signed)
    assert unsigned.status_code == 401
    assert _receipts(session, message) == []
    assert _status(session, message) == "sent"


def test_webhook_keys_are_per_tenant(client, session, tenant, other_tenant, sendgrid_key):
    theirs = _message(session, other_tenant)
    body = json.dumps(_sendgrid_samples()).encode()
    # other_tenant configured no key: 403, even for a request signed with tenant's key.
    assert _sendgrid_post(client, other_tenant, sendgrid_key, body).status_code == 403
    assert client.post("/webhooks/email/sendgrid/no-such-tenant", content=body).status_code == 403
    stranger = ec.generate_private_key(ec.SECP256R1())
    assert _sendgrid_post(client, tenant, stranger, body).status_code == 401
    assert _receipts(session, theirs) == []


def test_events_for_another_tenants_messages_change_nothing(
    client, session, tenant, other_tenant, sendgrid_key
):
    theirs = _message(session, other_tenant)
    records = _sendgrid_samples()
    records[0]["message_id"] = str(theirs.id)
    answer = _sendgrid_post(client, tenant, sendgrid_key, json.dumps(records).encode())
    assert answer.status_code == 200
    assert (answer.json()["stored"], answer.json()["unknown_message"]) == (0, 10)
    assert _receipts(session, theirs) == [] and _status(session, theirs) == "sent"


def test_garbage_answers_400_and_one_bad_event_is_skipped(client, session, tenant, sendgrid_key):
    message = _message(session, tenant)
    for garbage in (b"not json", b'{"event": "open"}', b"[1, 2"):
        answer = _sendgrid_post(client, tenant, sendgrid_key, garbage)
        assert answer.status_code == 400, garbage
        assert answer.json()["detail"]
    records = _sendgrid_samples()
    records[2:3] = [{"event": "open", "timestamp": "yesterday", "sg_event_id": "bad-1"}, "junk"]
    records[4]["reason"] = "400 try\u0000again"  # PostgreSQL refuses NUL in text
    answer = _sendgrid_post(client, tenant, sendgrid_key, json.dumps(records).encode())
    assert answer.status_code == 200
    skipped = answer.json()["skipped"]
    assert [s["id"] for s in skipped] == ["bad-1", None, records[4]["sg_event_id"]]
    assert answer.json()["stored"] == 8  # delivered replaced by the bad ones, deferred refused
    assert len(_receipts(session, message)) == 8


# --- Resend (Svix) --------------------------------------------------------------------------


@pytest.fixture
def resend_secret(session, tenant) -> str:
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    _configure(session, tenant, "resend", secret)
    return secret


def _resend_post(client, tenant, secret, payload, *, at=None, msg_id=None):
    body = json.dumps(payload)
    msg_id, at = msg_id or f"msg_{uuid.uuid4().hex}", at or datetime.now(UTC)
    headers = {
        "svix-id": msg_id,
        "svix-timestamp": str(int(at.timestamp())),
        "svix-signature": Webhook(secret).sign(msg_id, at, body),
    }
    return client.post(f"/webhooks/email/resend/{tenant.slug}", content=body, headers=headers)


def _resend_event(kind: str, email_id: str, **data) -> dict:
    return {
        "type": kind,
        "created_at": "2026-11-20T15:00:00.000Z",
        "data": {
            "email_id": email_id,
            "from": "Shop <shop@example.com>",
            "to": ["ann@example.com"],
            "subject": "Weekly",
            **data,
        },
    }


def test_resend_signed_events(client, session, tenant, resend_secret):
    message = _message(session, tenant, "ann@example.com", "resend", str(uuid.uuid4()))
    bounce = {"message": "mailbox does not exist", "subType": "General", "type": "Permanent"}
    event = _resend_event("email.bounced", message.provider_message_id, bounce=bounce)
    answer = _resend_post(client, tenant, resend_secret, event, msg_id="msg_same")
    assert answer.status_code == 200 and answer.json()["stored"] == 1
    assert _status(session, message) == "bounced"
    retried = _resend_post(client, tenant, resend_secret, event, msg_id="msg_same")
    assert (retried.status_code, retried.json()["duplicates"]) == (200, 1)
    ignored = _resend_post(client, tenant, resend_secret, {"type": "domain.updated", "data": {}})
    assert ignored.json()["ignored"] == 1


def test_resend_bad_or_old_signature_is_refused(client, session, tenant, resend_secret):
    message = _message(session, tenant, "ann@example.com", "resend", str(uuid.uuid4()))
    event = _resend_event("email.delivered", message.provider_message_id)
    stale = datetime.now(UTC) - timedelta(minutes=6)
    assert _resend_post(client, tenant, resend_secret, event, at=stale).status_code == 401
    wrong = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    assert _resend_post(client, tenant, wrong, event).status_code == 401
    assert _receipts(session, message) == []


# --- Postmark (Basic credentials) -----------------------------------------------------------


def _postmark_post(client, tenant, credentials: str, record: dict):
    token = base64.b64encode(credentials.encode()).decode()
    return client.post(
        f"/webhooks/email/postmark/{tenant.slug}",
        json=record,
        headers={"Authorization": f"Basic {token}"},
    )


def test_postmark_basic_credentials(client, session, tenant):
    _configure(session, tenant, "postmark", "hooks:s3cret-pass")
    message = _message(session, tenant, "john@example.com", "postmark", str(uuid.uuid4()))
    spam = {
        "RecordType": "SpamComplaint",
        "ID": int(uuid.uuid4().int % 10**15),
        "Type": "SpamComplaint",
        "TypeCode": 100001,
        "MessageID": message.provider_message_id,
        "Email": "john@example.com",
        "BouncedAt": "2026-11-20T16:34:52Z",
        "Metadata": {},
    }
    assert _postmark_post(client, tenant, "hooks:wrong", spam).status_code == 401
    assert _receipts(session, message) == []
    answer = _postmark_post(client, tenant, "hooks:s3cret-pass", spam)
    assert answer.status_code == 200 and answer.json()["stored"] == 1
    session.expire_all()
    assert session.get(EmailMessage, message.id).complained_at is not None
    reasons = session.exec(select(Suppression.reason).where(Suppression.tenant_id == tenant.id))
    assert reasons.all() == ["complaint"]


def test_postmark_click_by_metadata(client, session, tenant):
    _configure(session, tenant, "postmark", "hooks:s3cret-pass")
    message = _message(session, tenant, "john@example.com", "postmark", "pm-other")
    click = {
        "RecordType": "Click",
        "MessageStream": "outbound",
        "Metadata": {"message_id": str(message.id)},
        "Recipient": "john@example.com",
        "MessageID": str(uuid.uuid4()),
        "ReceivedAt": "2026-11-20T16:33:54.9070259Z",
        "ClickLocation": "HTML",
        "OriginalLink": "https://shop.example/deal",
    }
    answer = _postmark_post(client, tenant, "hooks:s3cret-pass", click)
    assert answer.json()["stored"] == 1
    assert _receipts(session, message)[0].url == "https://shop.example/deal"
    assert _postmark_post(client, tenant, "hooks:s3cret-pass", click).json()["duplicates"] == 1
    bad = _postmark_post(client, tenant, "hooks:s3cret-pass", {"RecordType": "Click"})
    assert bad.status_code == 400 and "MessageID" in bad.json()["detail"]


# --- SES through SNS (RSA certificate) ------------------------------------------------------

TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"


@pytest.fixture
def sns_key(session, tenant):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    _configure(session, tenant, "ses", pem, topic_arns=[TOPIC])
    return key


def _sns_signed(key, envelope: dict, version: str = "1") -> dict:
    """Sign as SNS does: "Key\\nValue\\n" over the type's keys, in alphabetical order."""
    keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    if envelope["Type"] != "Notification":
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(f"{k}\n{envelope[k]}\n" for k in keys if k in envelope)
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = key.sign(text.encode(), padding.PKCS1v15(), digest)
    return envelope | {
        "SignatureVersion": version,
        "Signature": base64.b64encode(signature).decode(),
    }


def _ses_bounce(message, bounce_type="Permanent") -> dict:
    return {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {"emailAddress": message.email, "diagnosticCode": "smtp; 550 5.1.1 unknown"}
            ],
            "timestamp": "2026-11-20T00:41:02.669Z",
            "feedbackId": "0100015-feedback",
        },
        "mail": {
            "timestamp": "2026-11-20T00:40:02.012Z",
            "messageId": message.provider_message_id,
            "destination": [message.email],
            "tags": {"ses:configuration-set": ["marketing"]},
        },
    }


def _notification(payload: dict, topic: str = TOPIC) -> dict:
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": topic,
        "Message": json.dumps(payload),
        "Timestamp": "2026-11-20T00:41:03.000Z",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/cert.pem",
    }


def _ses_post(client, tenant, envelope: dict):
    return client.post(f"/webhooks/email/ses/{tenant.slug}", content=json.dumps(envelope))


@pytest.mark.parametrize("version", ["1", "2"])
def test_ses_signed_bounce(client, session, tenant, sns_key, version):
    message = _message(session, tenant, "ann@example.com", "ses", str(uuid.uuid4()))
    envelope = _sns_signed(sns_key, _notification(_ses_bounce(message)), version)
    answer = _ses_post(client, tenant, envelope)
    assert answer.status_code == 200 and answer.json()["stored"] == 1
    assert _status(session, message) == "bounced"
    suppressed = session.exec(select(Suppression.address).where(Suppression.tenant_id == tenant.id))
    assert suppressed.all() == ["ann@example.com"]


def test_ses_forged_or_foreign_topic_is_refused(client, session, tenant, sns_key):
    message = _message(session, tenant, "ann@example.com", "ses", str(uuid.uuid4()))
    envelope = _sns_signed(sns_key, _notification(_ses_bounce(message)))
    forged = envelope | {"Message": json.dumps(_ses_bounce(message, "Transient"))}
    assert _ses_post(client, tenant, forged).status_code == 401
    # Signed with the right certificate, but for a topic the tenant never configured.
    foreign = _sns_signed(sns_key, _notification(_ses_bounce(message), TOPIC + "-other"))
    assert _ses_post(client, tenant, foreign).status_code == 401
    assert _ses_post(client, tenant, {"Type": "Nonsense"}).status_code == 400
    assert _ses_post(client, tenant, {"Type": "Notification", "Message": 1}).status_code == 400
    assert _receipts(session, message) == []


def test_ses_signed_message_that_is_no_ses_event_is_ignored(client, session, tenant, sns_key):
    envelope = _sns_signed(sns_key, _notification({"eventType": "Send"}) | {"Message": "hi"})
    answer = _ses_post(client, tenant, envelope)
    assert (answer.status_code, answer.json()["ignored"]) == (200, 1)


def test_ses_subscription_confirmation_is_recorded(client, session, tenant, sns_key):
    url = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc"
    envelope = _sns_signed(
        sns_key,
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": str(uuid.uuid4()),
            "Token": "abc",
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe to the topic.",
            "SubscribeURL": url,
            "Timestamp": "2026-11-20T00:00:00.000Z",
        },
    )
    answer = _ses_post(client, tenant, envelope)
    assert answer.status_code == 200 and answer.json()["subscribe_url_recorded"] is True
    entries = session.exec(select(AuditEntry).where(AuditEntry.tenant_id == tenant.id)).all()
    assert [e.details["subscribe_url"] for e in entries] == [url]


def test_unknown_provider_and_bad_keys(client, session, tenant):
    assert client.post(f"/webhooks/email/mailgun/{tenant.slug}", content=b"[]").status_code == 403
    from marketing_app.domain.errors import InvalidInput

    for provider, secret in [
        ("sendgrid", "not a key"),
        ("resend", "plain-secret"),
        ("postmark", "no-colon"),
        ("ses", "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----"),
    ]:
        with pytest.raises(InvalidInput):
            configure_email_webhook(
                session=session, tenant_id=tenant.id, provider=provider, secret=secret
            )
