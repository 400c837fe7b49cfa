"""Sending one batch of a campaign: claim, render, hand to the providers, record.

A worker calls `deliver_batch` in a loop. Each call claims up to `limit` due rows under a
lease and commits the claim (so other workers skip them), renders them per variant from the
variant's compile (the substitution form when the template allows: one render of the shared
parts and a few values per recipient; else a full sandboxed render each), hands them to
the sender (services.email_delivery's chain: failover, breakers, rate limits), records
every outcome under the lease and commits, then marks the campaign sent when nothing is left.

A worker killed anywhere in between leaves its rows queued with a lease that runs out;
the next claim takes them again. Rows already recorded as sent are never claimed again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session

from marketing_app.domain.email import (
    BatchRecipient,
    OutgoingEmail,
    SendOutcome,
    SubstitutionBatch,
)
from marketing_app.domain.errors import ProviderError
from marketing_app.models import Campaign
from marketing_app.models.base import utcnow
from marketing_app.services.campaign_compile import compiled_variant
from marketing_app.services.email_rendering import CompiledEmail, recipient_contexts
from marketing_app.services.email_tokens import message_tokens
from marketing_app.services.message_claims import (
    DEFAULT_LEASE,
    ClaimedMessage,
    claim_messages,
    finish_if_done,
    record_results,
)

DEFAULT_BATCH = 1_000  # ~1 ms of Celery overhead per task is nothing at this size
_TOKEN_PLACE = "\0"  # stands for the message token in headers (never in a URL or address)


class Sender(Protocol):
    max_batch: int  # recipients per call
    concurrency: int  # calls that may be in flight at once

    def send(self, messages: Sequence[OutgoingEmail]) -> list[SendOutcome]: ...

    def send_batch(self, batch: SubstitutionBatch) -> list[SendOutcome]: ...


@dataclass
class BatchReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retry_later: int = 0
    finished: bool = False
    errors: list[str] = field(default_factory=list)


def _custom_args(campaign: Campaign, message_id: int) -> dict[str, str]:
    return {**_shared_custom_args(campaign), "message_id": str(message_id)}


def _shared_custom_args(campaign: Campaign) -> dict[str, str]:
    return {"tenant_id": str(campaign.tenant_id), "campaign_id": str(campaign.id)}


def _headers(campaign: Campaign, compiled: CompiledEmail, message_id: int, token: str) -> dict:
    """Unsubscribe headers, and a Message-ID fixed per message row: a message sent again
    after a crash (RFC 1047's duplicate) carries the same id, which receivers collapse."""
    return {**compiled.headers(token), "Message-ID": _message_id(campaign, message_id)}


def _message_id(campaign: Campaign, message_id: int, domain: str | None = None) -> str:
    domain = domain or campaign.from_email.rpartition("@")[2] or "localhost"
    return f"<m{message_id}.c{campaign.id}@{domain}>"


def _as_batch(
    campaign, compiled: CompiledEmail, form, claimed, contexts
) -> tuple[SubstitutionBatch, list[SendOutcome]]:
    """One batch of the variant's substitution form, and the failures of recipients whose
    values could not be rendered (a `{{ 1 / order_count }}` with no orders): they fail alone,
    the rest of the batch goes. The campaign's custom args are once for the batch (SendGrid
    applies them to every personalization), the message id per recipient."""
    domain = campaign.from_email.rpartition("@")[2] or "localhost"
    tokens = message_tokens(campaign.tenant_id)
    shared_headers, token_headers = _header_pieces(compiled)
    recipients, unrendered = [], []
    for message in claimed:
        token = tokens(message.id)
        try:
            values = form.values(contexts[message.contact_id], token)
        except Exception as exc:  # the template's expressions on this recipient's data
            error = f"could not render for this recipient: {type(exc).__name__}: {exc}"
            unrendered.append(SendOutcome.failed(message.id, "", error, transient=False))
            continue
        headers = {name: token.join(pieces) for name, pieces in token_headers}
        headers["Message-ID"] = _message_id(campaign, message.id, domain)
        recipients.append(
            BatchRecipient(
                message_id=message.id,
                to=message.email,
                to_name=_full_name(contexts[message.contact_id]),
                substitutions=values,
                headers=headers,
                custom_args={"message_id": str(message.id)},
            )
        )
    batch = SubstitutionBatch(
        from_email=campaign.from_email,
        from_name=_from_name(campaign, claimed[0].variant),
        reply_to=campaign.reply_to,
        subject=form.subject,
        html=form.html,
        text=form.text,
        recipients=tuple(recipients),
        headers=shared_headers,
        custom_args=_shared_custom_args(campaign),
    )
    return batch, unrendered


def _header_pieces(compiled: CompiledEmail) -> tuple[dict[str, str], list[tuple[str, list]]]:
    """The compiled email's unsubscribe headers: those the same for every recipient (RFC
    8058's value: once a batch, so SendGrid's request has it once, not in each of 1,000
    personalizations), and the others as the text around their token, joined per recipient."""
    shared, per_recipient = {}, []
    for name, value in compiled.headers(_TOKEN_PLACE).items():
        if _TOKEN_PLACE in value:
            per_recipient.append((name, value.split(_TOKEN_PLACE)))
        else:
            shared[name] = value
    return shared, per_recipient


def _full_name(recipient) -> str:
    return f"{recipient.first_name} {recipient.last_name}".strip()


def _from_name(campaign: Campaign, variant_key: str) -> str:
    variants = (campaign.content or {}).get("variants") or []
    chosen = next((v for v in variants if v.get("key") == variant_key), {})
    return chosen.get("from_name") or campaign.from_name


def _as_messages(campaign, compiled: CompiledEmail, claimed, contexts) -> list[OutgoingEmail]:
    messages, tokens = [], message_tokens(campaign.tenant_id)
    for message in claimed:
        token = tokens(message.id)
        rendered = compiled.render(contexts[message.contact_id], token)
        messages.append(
            OutgoingEmail(
                message_id=message.id,
                to=message.email,
                to_name=_full_name(contexts[message.contact_id]),
                from_email=campaign.from_email,
                from_name=_from_name(campaign, message.variant),
                reply_to=campaign.reply_to,
                subject=rendered.subject,
                html=rendered.html,
                text=rendered.text,
                headers={**rendered.headers, **_headers(campaign, compiled, message.id, token)},
                custom_args=_custom_args(campaign, message.id),
            )
        )
    return messages


def _contexts(session: Session, campaign: Campaign, claimed: list[ClaimedMessage]):
    """Recipient contexts of the claimed rows, from the profiles read with the claim."""
    return recipient_contexts(
        session=session,
        tenant_id=campaign.tenant_id,
        contacts=[m.recipient for m in claimed if m.recipient is not None],
    )


def _send_variant(sender: Sender, campaign, compiled, claimed, contexts) -> list[SendOutcome]:
    """An outcome for every claimed message."""
    form = compiled.substitution_form()
    if form is None:
        messages = _as_messages(campaign, compiled, claimed, contexts)
        return _outcomes_of(lambda: sender.send(messages), [m.id for m in claimed])

    def build(chunk: Sequence[ClaimedMessage]) -> tuple[SubstitutionBatch, list[SendOutcome]]:
        return _as_batch(campaign, compiled, form, chunk, contexts)

    return _send_pipelined(sender, build, claimed)


def _send_pipelined(
    sender: Sender, build: Callable, claimed: list[ClaimedMessage]
) -> list[SendOutcome]:
    """Batches of the sender's size, each handed to a thread as soon as it is built: the
    next one renders while the earlier ones wait for the provider's answer (a 1,000-recipient
    SendGrid request takes ~150 ms; building one takes about as long). Every batch sent has
    its outcomes returned, whatever happens to a later one."""
    size, in_flight = max(sender.max_batch, 1), max(sender.concurrency, 1)
    chunks = [claimed[start : start + size] for start in range(0, len(claimed), size)]
    outcomes: list[SendOutcome] = []
    if len(chunks) == 1 or in_flight == 1:
        for chunk in chunks:
            batch, unrendered = build(chunk)
            outcomes += unrendered + _batch_outcomes(lambda b=batch: sender.send_batch(b), batch)
        return outcomes
    with ThreadPoolExecutor(min(in_flight, len(chunks)), thread_name_prefix="campaign") as pool:
        calls = []
        for chunk in chunks:
            batch, unrendered = build(chunk)
            outcomes += unrendered
            if batch.recipients:
                calls.append((batch, pool.submit(sender.send_batch, batch)))
        for batch, call in calls:
            outcomes += _batch_outcomes(call.result, batch)
    return outcomes


def _batch_outcomes(
    call: Callable[[], list[SendOutcome]], batch: SubstitutionBatch
) -> list[SendOutcome]:
    if not batch.recipients:  # every recipient failed to render
        return []
    return _outcomes_of(call, [recipient.message_id for recipient in batch.recipients])


def _outcomes_of(call: Callable[[], list[SendOutcome]], message_ids: Sequence) -> list[SendOutcome]:
    """What `call` returned; when the whole call failed (every provider down), every message
    is a transient failure, tried again after a pause."""
    try:
        return call()
    except ProviderError as exc:
        return [SendOutcome.failed(m, exc.provider, str(exc), transient=True) for m in message_ids]


def deliver_batch(
    *,
    session: Session,
    campaign_id: int,
    worker: str,
    sender: Sender,
    limit: int = DEFAULT_BATCH,
    lease: timedelta = DEFAULT_LEASE,
    now: datetime | None = None,
) -> BatchReport:
    """Send up to `limit` due messages of a sending campaign; see the module docstring."""
    report = BatchReport()
    claimed = claim_messages(
        session=session, campaign_id=campaign_id, worker=worker, limit=limit, lease=lease, now=now
    )
    session.commit()  # the lease is visible to every other worker before anything is sent
    report.claimed = len(claimed)
    if claimed:
        campaign = session.get(Campaign, campaign_id)
        contexts = _contexts(session, campaign, claimed)
        by_variant: dict[str, list[ClaimedMessage]] = defaultdict(list)
        for message in claimed:
            by_variant[message.variant].append(message)
        for variant_key, group in by_variant.items():
            compiled = compiled_variant(session=session, campaign=campaign, variant_key=variant_key)
            outcomes = _send_variant(sender, campaign, compiled, group, contexts)
            record_results(session=session, worker=worker, results=outcomes, now=utcnow())
            session.commit()
            _count(report, outcomes)
    report.finished = finish_if_done(session=session, campaign_id=campaign_id)
    session.commit()
    return report


def _count(report: BatchReport, outcomes: Sequence[SendOutcome]) -> None:
    for outcome in outcomes:
        if outcome.accepted:
            report.sent += 1
        elif outcome.transient:
            report.retry_later += 1
        else:
            report.failed += 1
        if outcome.error and len(report.errors) < 5:
            report.errors.append(outcome.error)
