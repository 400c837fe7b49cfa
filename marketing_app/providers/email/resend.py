"""Resend's batch endpoint (`POST /emails/batch`, up to 100 emails a request) over httpx.

Requests ask for permissive batch validation (`x-batch-validation: permissive`): Resend then
sends the valid emails and lists the refused ones by index instead of refusing the whole
batch. Custom args travel as tags (ASCII letters, digits, '_' and '-').
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.utils import formataddr
from typing import Any

from marketing_app.domain.email import OutgoingEmail, SendOutcome
from marketing_app.domain.errors import ProviderBadData, ProviderRejected
from marketing_app.providers.email.base import (
    CallLimiter,
    JsonBatchProvider,
    send_checked,
)

PROVIDER = "resend"
DEFAULT_BASE_URL = "https://api.resend.com"
BATCH_ROUTE = "/emails/batch"
DOMAINS_ROUTE = "/domains"
MAX_BATCH = 100  # Resend's limit per batch request
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]")


class ResendEmailProvider(JsonBatchProvider):
    name = PROVIDER
    max_batch = MAX_BATCH
    concurrency = 2  # Resend allows a few requests a second per team

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        limiter: CallLimiter | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}", "x-batch-validation": "permissive"}
        super().__init__(
            base_url=base_url, headers=headers, limiter=limiter, timeout_seconds=timeout_seconds
        )

    def check_credentials(self) -> None:
        try:
            self._http.request_json("GET", DOMAINS_ROUTE)
        except ProviderRejected as exc:
            if "restricted_api_key" in exc.message:  # a sending-only key: fine for us
                return
            if exc.status in (401, 403):
                raise ProviderRejected(
                    "Resend refused the API key: check that it is complete and not revoked",
                    provider=PROVIDER,
                    status=exc.status,
                ) from exc
            raise

    def _send_chunk(self, chunk: Sequence[OutgoingEmail]) -> list[SendOutcome]:
        return send_checked(PROVIDER, chunk, self._post)

    def _post(self, messages: list[OutgoingEmail]) -> list[SendOutcome]:
        answer = self._http.request_json("POST", BATCH_ROUTE, json=[_email(m) for m in messages])
        errors = {e.get("index"): str(e.get("message")) for e in _list(answer, "errors")}
        ids = iter(_list(answer, "data"))  # the accepted emails' ids, in order
        outcomes = []
        for index, message in enumerate(messages):
            key = message.message_id
            if index in errors:
                outcomes.append(SendOutcome.failed(key, PROVIDER, errors[index], transient=False))
            else:
                outcomes.append(SendOutcome.sent(key, PROVIDER, (next(ids, None) or {}).get("id")))
        return outcomes


def _email(message: OutgoingEmail) -> dict[str, Any]:
    email: dict[str, Any] = {
        "from": formataddr((message.from_name, message.from_email)),
        "to": [message.to],
        "subject": message.subject,
    }
    if message.html:
        email["html"] = message.html
    if message.text:
        email["text"] = message.text
    if message.reply_to:
        email["reply_to"] = message.reply_to
    if message.headers:
        email["headers"] = dict(message.headers)
    if message.custom_args:
        email["tags"] = [
            {"name": _tag(name), "value": _tag(str(value))}
            for name, value in message.custom_args.items()
        ]
    return email


def _list(answer: Any, key: str) -> list[dict[str, Any]]:
    if not isinstance(answer, dict):
        raise ProviderBadData(
            f"{BATCH_ROUTE} answered something other than an object", provider=PROVIDER
        )
    items = answer.get(key) or []
    return [item for item in items if isinstance(item, dict)]


def _tag(value: str) -> str:
    return _TAG_UNSAFE.sub("_", value)[:256]
