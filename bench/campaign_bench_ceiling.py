"""The bare single-process ceiling beside the workers' figures: the campaign's own compile
(services.campaign_compile, as the sender gets it) applied to the benchmark's profiles in this
process, with no database, broker or network in the timed loops.

  render_per_s   CompiledEmail.render(): subject, html and text, three sandboxed renders
  values_per_s   SubstitutionEmail.values(): what a SendGrid personalization carries
  mime_per_s     values, filled into the shared text and built into MIME bytes: the CPU the
                 SMTP and SES paths spend per message before the network
Every loop also signs the message token, as the sender must.
"""

from __future__ import annotations

import time
import uuid

from sqlmodel import Session, col, select

from marketing_app.db import get_engine
from marketing_app.domain.email import BatchRecipient, SubstitutionBatch
from marketing_app.models import Campaign, Contact
from marketing_app.providers.email.base import expand_batch
from marketing_app.providers.email.mime import build_mime, new_message_id
from marketing_app.services.campaign_compile import compiled_variant
from marketing_app.services.email_rendering import recipient_contexts
from marketing_app.services.email_tokens import message_token


def _per_second(count: int, started: float) -> int:
    return round(count / (time.perf_counter() - started))


def _mime_rate(form, recipients, tenant_id: uuid.UUID) -> int:
    started = time.perf_counter()
    batch = SubstitutionBatch(
        from_email="news@leaf.example.com",
        from_name="Leaf & Co",
        subject=form.subject,
        html=form.html,
        text=form.text,
        recipients=tuple(
            BatchRecipient(
                message_id=i,
                to=recipient.email,
                substitutions=form.values(recipient, message_token(tenant_id, i)),
            )
            for i, recipient in enumerate(recipients, start=1)
        ),
    )
    for message in expand_batch(batch):
        build_mime(message, message_id=new_message_id(message))
    return _per_second(len(recipients), started)


def render_ceiling(tenant_id: uuid.UUID, campaign_id: int, count: int) -> dict:
    """Messages a second one process renders from the campaign's compile (see the docstring)."""
    with Session(get_engine()) as session:
        campaign = session.get(Campaign, campaign_id)
        compiled = compiled_variant(session=session, campaign=campaign, variant_key="A")
        contacts = session.exec(
            select(Contact)
            .where(Contact.tenant_id == tenant_id)
            .order_by(col(Contact.id))
            .limit(count)
        ).all()
        recipients = list(
            recipient_contexts(session=session, tenant_id=tenant_id, contacts=contacts).values()
        )
    form = compiled.substitution_form()
    if form is None:
        raise RuntimeError("the benchmark template should have a substitution form")
    started = time.perf_counter()
    for i, recipient in enumerate(recipients, start=1):
        compiled.render(recipient, message_token(tenant_id, i))
    render_rate = _per_second(len(recipients), started)
    started = time.perf_counter()
    for i, recipient in enumerate(recipients, start=1):
        form.values(recipient, message_token(tenant_id, i))
    values_rate = _per_second(len(recipients), started)
    return {
        "recipients": len(recipients),
        "render_per_s": render_rate,
        "values_per_s": values_rate,
        "mime_per_s": _mime_rate(form, recipients, tenant_id),
        "tracked_links": len(compiled.links),
    }
