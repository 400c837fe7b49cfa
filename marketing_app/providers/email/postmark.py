"""Postmark's batch endpoint (`POST /email/batch`, up to 500 messages a request) over httpx.

Postmark answers 200 with one result per message: `ErrorCode` 0 is accepted, codes that
name the account or sender (bad token, unconfirmed sender, pending approval) fail over, and
the rest (an invalid or inactive recipient) fail that message only. Custom args travel as
Metadata, which Postmark's webhooks hand back.
"""

from __future__ import annotations

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

PROVIDER = "postmark"
DEFAULT_BASE_URL = "https://api.postmarkapp.com"
BATCH_ROUTE = "/email/batch"
SERVER_ROUTE = "/server"
MAX_BATCH = 500  # Postmark's limit per batch request
# ErrorCodes about the account or sender, not the message: 10 bad token, 400 sender
# signature not found, 401 sender not confirmed, 405 not allowed to send, 412 pending approval.
ACCOUNT_ERROR_CODES = frozenset({10, 400, 401, 405, 412})


class PostmarkEmailProvider(JsonBatchProvider):
    name = PROVIDER
    max_batch = MAX_BATCH
    concurrency = 2

    def __init__(
        self,
        *,
        server_token: str,
        base_url: str = DEFAULT_BASE_URL,
        message_stream: str = "broadcast",
        limiter: CallLimiter | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        self.message_stream = message_stream
        headers = {"X-Postmark-Server-Token": server_token}
        super().__init__(
            base_url=base_url, headers=headers, limiter=limiter, timeout_seconds=timeout_seconds
        )

    def check_credentials(self) -> None:
        try:
            self._http.request_json("GET", SERVER_ROUTE)
        except ProviderRejected as exc:
            if exc.status in (401, 403, 422):
                raise ProviderRejected(
                    "Postmark refused the server token: copy it from the server's API Tokens tab",
                    provider=PROVIDER,
                    status=401,
                ) from exc
            raise

    def _send_chunk(self, chunk: Sequence[OutgoingEmail]) -> list[SendOutcome]:
        return send_checked(PROVIDER, chunk, self._post)

    def _post(self, messages: list[OutgoingEmail]) -> list[SendOutcome]:
        body = [self._email(m) for m in messages]
        answer = self._http.request_json("POST", BATCH_ROUTE, json=body)
        if not isinstance(answer, list) or len(answer) != len(messages):
            error = f"{BATCH_ROUTE} did not answer one result per message"
            raise ProviderBadData(error, provider=PROVIDER)
        return [_outcome(m, result) for m, result in zip(messages, answer, strict=True)]

    def _email(self, message: OutgoingEmail) -> dict[str, Any]:
        email: dict[str, Any] = {
            "From": formataddr((message.from_name, message.from_email)),
            "To": message.to,
            "Subject": message.subject,
            "MessageStream": self.message_stream,
        }
        if message.html:
            email["HtmlBody"] = message.html
        if message.text:
            email["TextBody"] = message.text
        if message.reply_to:
            email["ReplyTo"] = message.reply_to
        if message.headers:
            email["Headers"] = [{"Name": n, "Value": v} for n, v in message.headers.items()]
        if message.custom_args:
            email["Metadata"] = {k: str(v) for k, v in message.custom_args.items()}
        return email


def _outcome(message: OutgoingEmail, result: Any) -> SendOutcome:
    result = result if isinstance(result, dict) else {}
    code = result.get("ErrorCode", -1)
    if code == 0:
        return SendOutcome.sent(message.message_id, PROVIDER, result.get("MessageID"))
    error = f"{code} {result.get('Message', 'refused by Postmark')}"
    return SendOutcome.failed(
        message.message_id, PROVIDER, error, transient=code in ACCOUNT_ERROR_CODES
    )
