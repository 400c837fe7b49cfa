"""Email provider webhooks: POST /webhooks/email/{provider}/{tenant_slug}.

`provider` is sendgrid, ses, postmark or resend; the tenant's slug says whose keys verify the
request (services.email_webhooks explains what each provider's key is). The route reads the
raw body, verifies and applies it in one transaction, and answers 200 with what it did,
duplicates included (a provider retrying a delivered batch must stop retrying). A bad
signature answers 401, a tenant without a key for the provider 403, a body the provider would
never send 400, and none of them stores anything.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from marketing_app.db import session_scope
from marketing_app.domain.errors import DomainError
from marketing_app.services.email_webhooks import WebhookReceipt, receive_email_webhook

router = APIRouter(prefix="/webhooks/email", tags=["email webhooks"])

MAX_BODY_BYTES = 8 * 1024 * 1024  # SendGrid batches run to a few MB; nothing larger is real


class PayloadTooLarge(DomainError):
    http_status = 413


def _receive(provider: str, tenant_slug: str, body: bytes, headers) -> WebhookReceipt:
    with session_scope() as session:
        return receive_email_webhook(
            session=session, provider=provider, tenant_slug=tenant_slug, body=body, headers=headers
        )


@router.post(
    "/{provider}/{tenant_slug}",
    summary="Delivery and engagement events from an email provider (signed)",
)
async def receive(provider: str, tenant_slug: str, request: Request) -> JSONResponse:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"Body larger than {MAX_BODY_BYTES // 1024 // 1024} MB.")
    receipt = await run_in_threadpool(_receive, provider, tenant_slug, body, request.headers)
    applied = receipt.applied
    answer = {
        "stored": applied.stored,
        "duplicates": applied.duplicates,
        "unknown_message": applied.unknown_message,
        "ignored": receipt.ignored,
        "skipped": [{"id": s.record_id, "reason": s.reason} for s in receipt.skipped],
    }
    if receipt.subscribe_url:
        answer["subscribe_url_recorded"] = True
    return JSONResponse(answer)
