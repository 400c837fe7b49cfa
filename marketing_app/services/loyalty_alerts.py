"""Alerts about loyalty discrepancies over the tenant's threshold: an email and a webhook.

Where to: `tenant.settings["loyalty_alerts"]` = {"emails": [...], "secret": ..., "hint": ...}.
The addresses are checked with email-validator (and kept lower-case, as profiles keep them);
the webhook (a Discord or Slack incoming webhook) must be an https URL and, since its URL is its
credential, is stored encrypted ("secret") and shown afterwards only masked ("hint").

When: `send_reconciliation_alert` after a reconciliation, whoever ran it (the reconcile job or a
loyalty sync). Reconciliation adds the discrepancies that newly went over the threshold to
`unalerted_over_threshold` in its run state; one alert goes out when that is above zero and
discrepancies are still over the threshold, and the count returns to zero once the alert
reached at least one channel (when none was reachable it stays, so the next run tries again).

How: the email through an `AlertMailer` (for now `SmtpAlertMailer` over smtplib, configured by
ALERT_SMTP_URL and ALERT_FROM; the platform's email layer can replace it), the webhook as one
JSON POST over httpx with a timeout, carrying the text as "content" (Discord) and "text"
(Slack). A failing mail server or webhook is recorded in the run state under "alert"; nothing
here raises for it.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import httpx
from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session

from marketing_app.domain.errors import InvalidInput
from marketing_app.models import Tenant
from marketing_app.models.base import utcnow
from marketing_app.services.crypto import decrypt_secret, encrypt_secret
from marketing_app.services.loyalty_discrepancies import discrepancy_summary, list_discrepancies
from marketing_app.services.loyalty_programs import refuse_nul
from marketing_app.services.loyalty_reconciliation import update_run_state
from marketing_app.settings import get_settings

ALERTS_KEY = "loyalty_alerts"
MAX_EMAILS = 10
MAX_URL_LENGTH = 500
WEBHOOK_TIMEOUT_SECONDS = 10.0
SMTP_TIMEOUT_SECONDS = 15.0
TOP_LINES = 10  # the biggest discrepancies over the threshold named in an alert
WEBHOOK_TEXT_LIMIT = 1_900  # Discord refuses content over 2,000 characters


class AlertMailer(Protocol):
    def send(self, *, to: Sequence[str], subject: str, body: str) -> None:
        """Deliver one plain-text message; raise on failure (smtplib.SMTPException, OSError)."""


@dataclass(frozen=True)
class SmtpAlertMailer:
    """smtp://[user:password@]host[:port] (STARTTLS when offered) or smtps:// (TLS)."""

    url: str
    sender: str
    timeout: float = SMTP_TIMEOUT_SECONDS
    tls_context: ssl.SSLContext | None = None  # None: the system's trusted certificates

    def send(self, *, to: Sequence[str], subject: str, body: str) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("ALERT_SMTP_URL must look like smtp://host:port or smtps://host")
        message = EmailMessage()
        message["From"], message["To"] = self.sender, ", ".join(to)
        message["Subject"] = " ".join(subject.split())
        message.set_content(body)
        context = self.tls_context or ssl.create_default_context()
        if parts.scheme == "smtps":
            server = smtplib.SMTP_SSL(
                parts.hostname, parts.port or 465, timeout=self.timeout, context=context
            )
        else:
            server = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=self.timeout)
        with server:
            server.ehlo()
            if parts.scheme == "smtp" and server.has_extn("starttls"):
                server.starttls(context=context)
                server.ehlo()
            if parts.username:
                server.login(unquote(parts.username), unquote(parts.password or ""))
            server.send_message(message)


def mailer_from_settings() -> AlertMailer | None:
    """The SMTP mailer ALERT_SMTP_URL configures; None when it is empty."""
    settings = get_settings()
    if not settings.alert_smtp_url:
        return None
    return SmtpAlertMailer(url=settings.alert_smtp_url, sender=settings.alert_from)


# --- where alerts go --------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertSettings:
    emails: list[str]
    webhook: str  # masked: scheme and host, then •••• and the last four characters; "" if none

    @property
    def has_webhook(self) -> bool:
        return bool(self.webhook)


def _stored(tenant: Tenant) -> dict[str, Any]:
    return dict((tenant.settings or {}).get(ALERTS_KEY) or {})


def get_alert_settings(*, session: Session, tenant_id: uuid.UUID) -> AlertSettings:
    stored = _stored(session.get(Tenant, tenant_id))
    return AlertSettings(emails=list(stored.get("emails") or []), webhook=stored.get("hint", ""))


def _check_emails(emails: Sequence[str]) -> list[str]:
    if isinstance(emails, str) or len(emails) > MAX_EMAILS:
        raise InvalidInput(f"Give a list of at most {MAX_EMAILS} addresses.", field="emails")
    checked: list[str] = []
    for raw in emails:
        try:
            address = str(raw).strip()
            refuse_nul(address, "emails", "An address")
            normalized = validate_email(address, check_deliverability=False).normalized.lower()
        except EmailNotValidError as exc:
            raise InvalidInput(f"'{raw}' is not an email address: {exc}", field="emails") from None
        if normalized not in checked:
            checked.append(normalized)
    return checked


def _check_webhook(url: str) -> str:
    url = refuse_nul(str(url).strip(), "webhook_url", "A webhook URL")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        parsed = None
    if parsed is None or parsed.scheme != "https" or not parsed.host or len(url) > MAX_URL_LENGTH:
        raise InvalidInput(
            "The webhook must be an https:// URL (a Discord or Slack incoming webhook) of at "
            f"most {MAX_URL_LENGTH} characters.",
            field="webhook_url",
        )
    return url


def save_alert_settings(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    emails: Sequence[str],
    webhook_url: str | None = None,
) -> AlertSettings:
    """Replace the alert addresses; `webhook_url` None keeps the webhook, "" removes it."""
    checked = _check_emails(emails)
    tenant = session.get(Tenant, tenant_id)
    stored = _stored(tenant) | {"emails": checked}
    if webhook_url == "":
        stored = {key: value for key, value in stored.items() if key not in ("secret", "hint")}
    elif webhook_url is not None:
        url = _check_webhook(webhook_url)
        host = httpx.URL(url).host
        stored |= {"secret": encrypt_secret(url), "hint": f"https://{host}/••••{url[-4:]}"}
    tenant.settings = {**(tenant.settings or {}), ALERTS_KEY: stored}
    session.add(tenant)
    session.flush()
    return get_alert_settings(session=session, tenant_id=tenant_id)


# --- sending ----------------------------------------------------------------------------------


def send_reconciliation_alert(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    mailer: AlertMailer | None = None,
    http_client: httpx.Client | None = None,
) -> dict[str, Any]:
    """Send the alert if one is due (module docstring); returns what happened, as recorded in
    the run state under "alert" ({} when no alert was due). The caller commits."""
    summary = discrepancy_summary(session=session, tenant_id=tenant_id)
    unalerted = int(summary["last_run"].get("unalerted_over_threshold") or 0)
    if unalerted <= 0 or summary["over_threshold"] <= 0:
        return {}
    tenant = session.get(Tenant, tenant_id)
    stored = _stored(tenant)
    subject, text = _message(session, tenant, summary, unalerted)
    outcome: dict[str, Any] = {"at": utcnow().isoformat(), "new_over_threshold": unalerted}
    if stored.get("emails"):
        outcome["email"] = _send_email(
            mailer or mailer_from_settings(), stored["emails"], subject, text
        )
    if stored.get("secret"):
        outcome["webhook"] = _post_webhook(http_client, decrypt_secret(stored["secret"]), text)
    delivered = any(value == "sent" for value in outcome.values())
    if "email" not in outcome and "webhook" not in outcome:
        outcome["skipped"] = "no alert address or webhook is set up"

    def record(state: dict[str, Any]) -> None:
        state["alert"] = outcome
        if delivered or "skipped" in outcome:
            state["unalerted_over_threshold"] = 0

    update_run_state(session=session, tenant_id=tenant_id, change=record)
    return outcome


def _message(session: Session, tenant: Tenant, summary: dict, unalerted: int) -> tuple[str, str]:
    over, threshold = summary["over_threshold"], summary["threshold_percent"]
    subject = f"{tenant.name}: {over:,} loyalty balances disagree by more than {threshold:g}%"
    kinds = ", ".join(
        f"{kind.replace('_', ' ')} {count:,}" for kind, count in summary["by_kind"].items()
    )
    lines = [
        f"The loyalty reconciliation found {summary['open']:,} customers whose points disagree; "
        f"{over:,} differ by more than {threshold:g}% ({unalerted:,} new since the last alert).",
        f"By kind: {kinds}. Source of truth: {summary['source_of_truth']}.",
        "",
        "Biggest differences:",
    ]
    top, _ = list_discrepancies(
        session=session, tenant_id=tenant.id, over_threshold_only=True, limit=TOP_LINES
    )
    for line in top:
        alpine = "none" if line.external_points is None else f"{line.external_points:,}"
        lines.append(
            f"- {line.customer}: ours {line.calculated_points:,}, Alpine IQ {alpine}, stored "
            f"{line.stored_balance:,} ({line.difference:+,}, {line.difference_percent:+g}%). "
            f"{line.explanation}"
        )
    lines += ["", "Review them on the Loyalty reconciliation page."]
    return subject, "\n".join(lines)


def _send_email(mailer: AlertMailer | None, emails: list[str], subject: str, text: str) -> str:
    if mailer is None:
        return "not sent: no mail server is configured (ALERT_SMTP_URL)"
    try:
        mailer.send(to=emails, subject=subject, body=text)
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        return f"failed: {type(exc).__name__}: {exc}"[:300]
    return "sent"


def _post_webhook(client: httpx.Client | None, url: str, text: str) -> str:
    if len(text) > WEBHOOK_TEXT_LIMIT:
        text = text[: WEBHOOK_TEXT_LIMIT - 1] + "…"
    body = {"content": text, "text": text}
    try:
        if client is not None:
            response = client.post(url, json=body, timeout=WEBHOOK_TIMEOUT_SECONDS)
        else:
            response = httpx.post(url, json=body, timeout=WEBHOOK_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return f"failed: {type(exc).__name__}"
    if response.status_code >= 300:
        return f"failed: HTTP {response.status_code}"
    return "sent"
