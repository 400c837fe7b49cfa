"""Reconciliation alerts against a real SMTP server (aiosmtpd) and a real local HTTP server:
one alert per batch of new discrepancies over the threshold, failures recorded and retried,
alert settings validated, webhooks stored encrypted, tenants apart."""

from __future__ import annotations

import threading

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from marketing_app.domain.errors import InvalidInput
from marketing_app.models import JobRun, JobStatus, Tenant
from marketing_app.services import job_runs
from marketing_app.services.crypto import encrypt_secret
from marketing_app.services.job_execution import run_job
from marketing_app.services.loyalty_alerts import (
    ALERTS_KEY,
    SmtpAlertMailer,
    get_alert_settings,
    save_alert_settings,
    send_reconciliation_alert,
)
from marketing_app.services.loyalty_reconciliation import last_run, reconcile
from tests.factories import make_tenant
from tests.fakes.server import FakeProviderServer, Simulation
from tests.fakes.smtp_sink import SmtpSink
from tests.services.test_loyalty_reconciliation import AFTER, alpine, customer
from tests.services.test_loyalty_support import make_program


class Hooks:
    """A Discord/Slack-style incoming webhook on 127.0.0.1 that keeps the bodies it gets."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.lock = threading.Lock()
        self.simulation = Simulation()

    async def receive(self, request: Request) -> JSONResponse:
        with self.lock:
            self.bodies.append(await request.json())
        return JSONResponse({"ok": True})

    def server(self) -> FakeProviderServer:
        app = Starlette(routes=[Route("/hooks/{token}", self.receive, methods=["POST"])])
        return FakeProviderServer(app, self.simulation, authorized=lambda headers: True)


@pytest.fixture
def hooks():
    hooks = Hooks()
    with hooks.server() as server:
        hooks.url = f"{server.base_url}/hooks/T000-secret"
        yield hooks


@pytest.fixture
def sink():
    with SmtpSink(security="starttls", username="alerts", password="s3cret") as sink:
        yield sink


@pytest.fixture
def shop(session):
    tenant = make_tenant(session, name="Leaf & Co")
    make_program(session, tenant)
    return tenant


def mailer_for(sink: SmtpSink) -> SmtpAlertMailer:
    return SmtpAlertMailer(
        url=f"smtp://alerts:s3cret@127.0.0.1:{sink.port}",
        sender="loyalty-alerts@example.com",
        tls_context=sink.client_context,
    )


def send_to(session, tenant, hook_url: str | None, emails=("owner@leaf.example",)) -> None:
    """Alert settings as saved, but with the local (http) webhook the https check refuses."""
    save_alert_settings(session=session, tenant_id=tenant.id, emails=list(emails))
    if hook_url:
        tenant = session.get(Tenant, tenant.id)
        alerts = {**tenant.settings[ALERTS_KEY], "secret": encrypt_secret(hook_url), "hint": "x"}
        tenant.settings = {**tenant.settings, ALERTS_KEY: alerts}
        session.add(tenant)
    session.commit()


def reconcile_and_alert(session, tenant, mailer) -> dict:
    reconcile(session=session, tenant_id=tenant.id, now=AFTER)
    session.commit()
    outcome = send_reconciliation_alert(session=session, tenant_id=tenant.id, mailer=mailer)
    session.commit()
    return outcome


def test_one_alert_per_batch_of_new_discrepancies_by_email_and_webhook(session, shop, sink, hooks):
    send_to(session, shop, hooks.url, emails=["owner@leaf.example", "ops@leaf.example"])
    ann = customer(session, shop, 50)
    alpine(session, shop, ann, 120)
    bob = customer(session, shop, 10)
    alpine(session, shop, bob, 40)
    quiet = customer(session, shop, 100)
    alpine(session, shop, quiet, 105)  # 5%: under the threshold, named nowhere

    outcome = reconcile_and_alert(session, shop, mailer_for(sink))
    assert (outcome["email"], outcome["webhook"], outcome["new_over_threshold"]) == (
        "sent",
        "sent",
        2,
    )
    [mail] = sink.messages
    assert sorted(mail.rcpt_tos) == ["ops@leaf.example", "owner@leaf.example"]
    assert mail.message["Subject"] == "Leaf & Co: 2 loyalty balances disagree by more than 10%"
    text = mail.body("plain")
    assert "found 3 customers whose points disagree; 2 differ by more than 10% (2 new" in text
    assert "ours 50, Alpine IQ 120, stored 50 (+70, +140%)" in text
    assert f"Customer {quiet.id}" not in text
    [body] = hooks.bodies
    assert body["content"] == body["text"] == text.strip()
    assert last_run(session=session, tenant_id=shop.id)["alert"] == outcome

    assert reconcile_and_alert(session, shop, mailer_for(sink)) == {}  # nothing new
    assert (len(sink.messages), len(hooks.bodies)) == (1, 1)
    cara = customer(session, shop, 20)
    alpine(session, shop, cara, 90)
    assert reconcile_and_alert(session, shop, mailer_for(sink))["new_over_threshold"] == 1
    assert "(1 new since the last alert)" in sink.messages[-1].body("plain")
    assert len(hooks.bodies) == 2


def test_failures_are_recorded_and_the_alert_is_tried_again(session, shop, sink, hooks):
    send_to(session, shop, hooks.url)
    ann = customer(session, shop, 50)
    alpine(session, shop, ann, 120)
    hooks.simulation.fail_next(status=500)
    closed = SmtpAlertMailer(url="smtp://127.0.0.1:9", sender="a@example.com", timeout=2)
    failed = reconcile_and_alert(session, shop, closed)
    assert failed["email"].startswith("failed: ConnectionRefusedError")
    assert failed["webhook"] == "failed: HTTP 500"
    state = last_run(session=session, tenant_id=shop.id)
    assert state["alert"] == failed and state["unalerted_over_threshold"] == 1

    again = reconcile_and_alert(session, shop, mailer_for(sink))  # both work again
    assert (again["email"], again["webhook"], again["new_over_threshold"]) == ("sent", "sent", 1)
    assert len(sink.messages) == 1 and len(hooks.bodies) == 1
    assert last_run(session=session, tenant_id=shop.id)["unalerted_over_threshold"] == 0


def test_without_a_mail_server_or_channels_nothing_is_sent(session, shop, hooks):
    ann = customer(session, shop, 50)
    alpine(session, shop, ann, 120)
    nowhere = reconcile_and_alert(session, shop, None)
    assert nowhere["skipped"] == "no alert address or webhook is set up"
    send_to(session, shop, hooks.url)
    bob = customer(session, shop, 10)
    alpine(session, shop, bob, 40)
    no_server = reconcile_and_alert(session, shop, None)  # ALERT_SMTP_URL is empty in tests
    assert no_server["email"].startswith("not sent: no mail server is configured")
    assert no_server["webhook"] == "sent" and len(hooks.bodies) == 1


def test_alert_settings_are_checked_and_the_webhook_never_shown_again(session, shop, other_tenant):
    saved = save_alert_settings(
        session=session,
        tenant_id=shop.id,
        emails=[" Owner@Leaf.Example ", "owner@leaf.example", "ops@leaf.example"],
        webhook_url="https://hooks.slack.com/services/T0/B0/abcdWXYZ",
    )
    assert saved.emails == ["owner@leaf.example", "ops@leaf.example"]
    assert saved.webhook == "https://hooks.slack.com/••••WXYZ" and saved.has_webhook
    stored = session.get(Tenant, shop.id).settings[ALERTS_KEY]
    assert "abcdWXYZ" not in str(stored)
    kept = save_alert_settings(session=session, tenant_id=shop.id, emails=[])
    assert kept.emails == [] and kept.webhook == saved.webhook
    removed = save_alert_settings(session=session, tenant_id=shop.id, emails=[], webhook_url="")
    assert not removed.has_webhook
    refusals = [
        ({"emails": ["not-an-address"]}, "emails"),
        ({"emails": "owner@leaf.example"}, "emails"),
        ({"emails": [f"u{n}@leaf.example" for n in range(11)]}, "emails"),
        ({"emails": [], "webhook_url": "http://hooks.example/plain"}, "webhook_url"),
        ({"emails": [], "webhook_url": "https://"}, "webhook_url"),
        ({"emails": [], "webhook_url": "https://x.example/" + "a" * 500}, "webhook_url"),
        ({"emails": ["a\x00@leaf.example"]}, "emails"),
    ]
    for options, field in refusals:
        with pytest.raises(InvalidInput) as refused:
            save_alert_settings(session=session, tenant_id=shop.id, **options)
        assert refused.value.field == field
    assert get_alert_settings(session=session, tenant_id=other_tenant.id).emails == []


def test_tenants_get_only_their_own_alerts(session, shop, sink, hooks):
    theirs = make_tenant(session)
    make_program(session, theirs)
    send_to(session, shop, hooks.url)
    bob = customer(session, theirs, 10)
    alpine(session, theirs, bob, 40)
    reconcile(session=session, tenant_id=theirs.id, now=AFTER)
    session.commit()
    assert (
        send_reconciliation_alert(session=session, tenant_id=shop.id, mailer=mailer_for(sink)) == {}
    )
    skipped = send_reconciliation_alert(
        session=session, tenant_id=theirs.id, mailer=mailer_for(sink)
    )
    assert "skipped" in skipped and sink.messages == [] and hooks.bodies == []


def test_the_reconcile_job_reconciles_alerts_and_reports(session, shop, hooks):
    send_to(session, shop, hooks.url, emails=())
    ann = customer(session, shop, 50)
    alpine(session, shop, ann, 120)
    job = job_runs.create_job_run(
        session=session, tenant_id=shop.id, kind="loyalty_reconcile", label="Reconcile"
    )
    session.commit()
    message = run_job(session=session, job_id=job.id)
    assert message == (
        "Compared 1 customers: 1 discrepancies (1 new, 1 over the threshold), 0 cleared; "
        "alert webhook sent"
    )
    session.expire_all()
    finished = session.get(JobRun, job.id)
    assert finished.status == JobStatus.SUCCEEDED
    assert finished.result["by_kind"]["missing_visits"] == 1
    assert finished.result["alert"]["webhook"] == "sent" and len(hooks.bodies) == 1
    again = job_runs.create_job_run(
        session=session, tenant_id=shop.id, kind="loyalty_reconcile", label="Reconcile"
    )
    session.commit()
    assert run_job(session=session, job_id=again.id).endswith(
        "0 new, 1 over the threshold), 0 cleared; no alert due"
    )
    assert len(hooks.bodies) == 1


def test_the_sync_job_alerts_after_its_reconciliation(session, shop, hooks):
    from marketing_app.services.loyalty_aiq_sync import save_alpineiq_credentials
    from tests.fakes.alpineiq_server import FakeAlpineIQ, seed_alpineiq

    send_to(session, shop, hooks.url, emails=())
    with FakeAlpineIQ(seed_alpineiq(contacts=5, seed=3)) as fake:
        save_alpineiq_credentials(
            session=session,
            tenant_id=shop.id,
            api_key=fake.api_key,
            uid=fake.data.uid,
            base_url=fake.base_url,
        )
        job = job_runs.create_job_run(
            session=session, tenant_id=shop.id, kind="loyalty_sync", label="Sync"
        )
        session.commit()
        run_job(session=session, job_id=job.id)
    session.expire_all()
    finished = session.get(JobRun, job.id)
    assert finished.status == JobStatus.SUCCEEDED, finished.error
    # Alpine IQ's five new profiles hold points we never gave: over the threshold, told once.
    assert finished.result["alert"]["webhook"] == "sent" and len(hooks.bodies) == 1
