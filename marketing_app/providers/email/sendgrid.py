"""SendGrid v3 Mail Send through the official `sendgrid` library, batched by personalization.

One request carries up to 1,000 personalizations (SendGrid's limit): the shared subject and
content hold placeholder keys, and each personalization brings its recipient, its
substitutions, its own headers (List-Unsubscribe) and custom_args (our tenant, campaign and
message ids, which SendGrid's event webhook hands back). `send` groups messages whose content
is identical into such requests. The client's `host` points it at another endpoint (a local
fake in tests). SendGrid validates a request as a whole: a 400 naming a personalization
(`personalizations.3.to.0.email`) fails that recipient and the rest is sent again.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient

from marketing_app.domain.email import (
    BatchRecipient,
    OutgoingEmail,
    SendOutcome,
    SubstitutionBatch,
)
from marketing_app.domain.errors import (
    ProviderBadData,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from marketing_app.providers.email.base import (
    CallLimiter,
    all_failed,
    chunked,
    header_problem,
    send_chunks,
)
from marketing_app.providers.http import parse_retry_after

PROVIDER = "sendgrid"
DEFAULT_HOST = "https://api.sendgrid.com"
MAX_PERSONALIZATIONS = 1000  # SendGrid's limit per Mail Send request
BAD_PERSONALIZATION_ROUNDS = 3  # resends of a request after dropping refused recipients
_PERSONALIZATION_FIELD = re.compile(r"personalizations\.(\d+)")


class SendGridRejected(ProviderRejected):
    """A refused request, with SendGrid's error list ({"message", "field"} each)."""

    def __init__(self, message: str, *, status: int, errors: list[dict[str, Any]]) -> None:
        super().__init__(message, provider=PROVIDER, status=status)
        self.errors = errors


@dataclass(frozen=True, slots=True)
class _Request:
    """One Mail Send request: the shared part and its recipients, in order."""

    shared: dict[str, Any]
    recipients: list[BatchRecipient]


class SendGridEmailProvider:
    name = PROVIDER
    max_batch = MAX_PERSONALIZATIONS
    concurrency = 12  # requests in flight; SendGrid answers in ~100-300 ms

    def __init__(
        self,
        *,
        api_key: str,
        host: str = DEFAULT_HOST,
        timeout_seconds: float = 30.0,
        limiter: CallLimiter | None = None,
    ) -> None:
        self._client = SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
        self.timeout_seconds = timeout_seconds
        self.limiter = limiter

    def send(self, messages: Sequence[OutgoingEmail]) -> list[SendOutcome]:
        outcomes: dict[Any, SendOutcome] = {}
        groups: dict[tuple, list[OutgoingEmail]] = {}
        for message in messages:
            problem = header_problem(message)
            if problem:
                outcomes[message.message_id] = SendOutcome.failed(
                    message.message_id, PROVIDER, problem, transient=False
                )
                continue
            groups.setdefault(_content_key(message), []).append(message)
        requests = [_request_for(group) for group in groups.values()]
        for outcome in self._send_requests(requests):
            outcomes[outcome.message_id] = outcome
        return [outcomes[message.message_id] for message in messages]

    def send_batch(self, batch: SubstitutionBatch) -> list[SendOutcome]:
        shared = _shared_part(
            batch.from_email, batch.from_name, batch.reply_to, batch.subject, batch.text,
            batch.html, batch.headers, batch.custom_args,
        )  # fmt: skip
        return self._send_requests([_Request(shared, list(batch.recipients))])

    def check_credentials(self) -> None:
        try:
            response = self._client.client.scopes.get(timeout=self.timeout_seconds)
        except http_errors.HTTPError as exc:
            if exc.status_code in (401, 403):
                raise ProviderRejected(
                    "SendGrid refused the API key: check that it is complete and not revoked",
                    provider=PROVIDER,
                    status=exc.status_code,
                ) from exc
            raise _error_for(exc) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise _unreachable(exc) from exc
        answer = _parsed(response.body)
        if answer is None:
            message = "GET /v3/scopes answered with a body that is not JSON"
            raise ProviderBadData(message, provider=PROVIDER)
        scopes = answer.get("scopes", [])
        if "mail.send" not in scopes:
            raise ProviderRejected(
                "This SendGrid API key cannot send mail: give it the 'Mail Send' permission",
                provider=PROVIDER,
                status=403,
            )

    def close(self) -> None:
        """Nothing to release: the library opens a connection per request."""

    def _send_requests(self, requests: list[_Request]) -> list[SendOutcome]:
        chunks = [
            _Request(request.shared, list(recipients))
            for request in requests
            for recipients in chunked(request.recipients, MAX_PERSONALIZATIONS)
        ]
        return send_chunks(PROVIDER, chunks, self._post, _request_keys)

    def _post(self, request: _Request) -> list[SendOutcome]:
        """One request; recipients SendGrid names as invalid fail, the others go again."""
        shared, recipients = request.shared, request.recipients
        refused: list[SendOutcome] = []
        for _round in range(BAD_PERSONALIZATION_ROUNDS + 1):
            if not recipients:
                return refused
            try:
                provider_id = self._post_once(shared, recipients)
            except SendGridRejected as exc:
                bad = _refused_indexes(exc.errors) if exc.status == 400 else {}
                if not bad:
                    raise
                refused.extend(
                    SendOutcome.failed(recipients[i].message_id, PROVIDER, error, transient=False)
                    for i, error in bad.items()
                )
                recipients = [r for i, r in enumerate(recipients) if i not in bad]
                continue
            sent = [SendOutcome.sent(r.message_id, PROVIDER, provider_id) for r in recipients]
            return refused + sent
        keys = [r.message_id for r in recipients]
        return refused + all_failed(keys, PROVIDER, "SendGrid kept refusing", transient=False)

    def _post_once(self, shared: dict[str, Any], recipients: list[BatchRecipient]) -> str | None:
        if self.limiter is not None:
            self.limiter.acquire()
        body = {**shared, "personalizations": [_personalization(r) for r in recipients]}
        try:
            # The library json.dumps the body (a tenth of a batch's CPU). Handing it orjson's
            # text would take a Content-Type other than bare "application/json", which
            # SendGrid has answered with 415 on some endpoints: not worth the risk.
            response = self._client.client.mail.send.post(
                request_body=body, timeout=self.timeout_seconds
            )
        except http_errors.HTTPError as exc:
            raise _error_for(exc) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise _unreachable(exc) from exc
        return response.headers.get("X-Message-Id")


def _request_keys(request: _Request) -> list[Any]:
    return [recipient.message_id for recipient in request.recipients]


def _content_key(message: OutgoingEmail) -> tuple:
    return (
        message.from_email, message.from_name, message.reply_to, message.subject,
        message.text, message.html,
    )  # fmt: skip


def _request_for(group: list[OutgoingEmail]) -> _Request:
    first = group[0]
    shared = _shared_part(
        first.from_email, first.from_name, first.reply_to, first.subject, first.text,
        first.html, {}, {},
    )  # fmt: skip
    recipients = [
        BatchRecipient(m.message_id, m.to, {}, m.to_name, m.headers, m.custom_args) for m in group
    ]
    return _Request(shared, recipients)


def _shared_part(
    from_email: str,
    from_name: str,
    reply_to: str,
    subject: str,
    text: str,
    html: str,
    headers: Any,
    custom_args: Any,
) -> dict[str, Any]:
    content = [{"type": "text/plain", "value": text}] if text else []
    if html:
        content.append({"type": "text/html", "value": html})
    body: dict[str, Any] = {
        "from": {"email": from_email, **({"name": from_name} if from_name else {})},
        "subject": subject,
        "content": content,
    }
    if reply_to:
        body["reply_to"] = {"email": reply_to}
    if headers:
        body["headers"] = dict(headers)
    if custom_args:
        body["custom_args"] = {k: str(v) for k, v in custom_args.items()}
    return body


def _plain(mapping: Any) -> dict[str, Any]:
    """A dict for the JSON body: as it is when it already is one (no copy per recipient)."""
    return mapping if type(mapping) is dict else dict(mapping)


def _personalization(recipient: BatchRecipient) -> dict[str, Any]:
    to: dict[str, str] = {"email": recipient.to}
    if recipient.to_name:
        to["name"] = recipient.to_name
    item: dict[str, Any] = {"to": [to]}
    if recipient.substitutions:
        item["substitutions"] = _plain(recipient.substitutions)
    if recipient.headers:
        item["headers"] = _plain(recipient.headers)
    if recipient.custom_args:
        item["custom_args"] = {k: str(v) for k, v in recipient.custom_args.items()}
    return item


def _refused_indexes(errors: list[dict[str, Any]]) -> dict[int, str]:
    """{personalization index: SendGrid's message} from a 400's error list."""
    refused: dict[int, str] = {}
    for error in errors:
        match = _PERSONALIZATION_FIELD.match(str(error.get("field") or ""))
        if match:
            refused[int(match.group(1))] = str(error.get("message") or "refused by SendGrid")
    return refused


def _error_for(exc: http_errors.HTTPError) -> ProviderError:
    status = exc.status_code
    errors = [e for e in (_parsed(exc.body) or {}).get("errors") or [] if isinstance(e, dict)]
    detail = "; ".join(str(e.get("message", "")) for e in errors)
    message = f"POST /v3/mail/send answered {status}" + (f": {detail}" if detail else "")
    if status == 429:
        return ProviderRateLimited(
            message, provider=PROVIDER, retry_after_seconds=_retry_after(exc), status=status
        )
    if status >= 500:
        return ProviderUnavailable(message, provider=PROVIDER, status=status)
    return SendGridRejected(message, status=status, errors=errors)


def _retry_after(exc: http_errors.HTTPError) -> float | None:
    """Retry-After, else SendGrid's X-RateLimit-Reset (epoch seconds)."""
    headers = exc.headers or {}
    wait = parse_retry_after(headers.get("Retry-After"))
    reset = headers.get("X-RateLimit-Reset")
    if wait is None and reset and reset.isdigit():
        wait = max(int(reset) - time.time(), 0.0)
    return wait


def _unreachable(exc: BaseException) -> ProviderUnavailable:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, TimeoutError):
        return ProviderUnavailable("SendGrid did not answer in time", provider=PROVIDER)
    return ProviderUnavailable(f"cannot reach SendGrid: {reason}", provider=PROVIDER)


def _parsed(body: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
