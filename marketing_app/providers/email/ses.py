"""Amazon SES v2 `SendEmail` over httpx, signed with SigV4, one raw MIME message per request.

Raw content carries our own MIME (`mime.build_mime`), so List-Unsubscribe and every other
header reach the recipient as built; custom args become SES message tags (which SES event
destinations hand back). SES counts its sending quota in messages per second: the shared
`PacedLimiter` (Redis) keeps every worker of an account under it, and `send` runs a few
requests at once to use that rate. `endpoint` points the client at a local fake in tests.
"""

from __future__ import annotations

import base64
import re
import socket
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from marketing_app.domain.email import OutgoingEmail, SendOutcome, SubstitutionBatch
from marketing_app.domain.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from marketing_app.providers.email.base import CallLimiter, send_each
from marketing_app.providers.email.mime import build_mime, new_message_id, send_mime_batch
from marketing_app.providers.email.sigv4 import SigV4Auth
from marketing_app.providers.http import parse_retry_after

PROVIDER = "ses"
SEND_ROUTE = "/v2/email/outbound-emails"
ACCOUNT_ROUTE = "/v2/email/account"
MAX_BATCH = 200  # messages per call a caller should make (each is its own request)
REQUESTS_IN_FLIGHT = 8  # per client; the rate limiter, not this, sets the pace
# Errors that refuse the account or the sender rather than one message.
ACCOUNT_ERRORS = frozenset(
    {
        "AccountSuspendedException",
        "SendingPausedException",
        "MailFromDomainNotVerifiedException",
        "NotFoundException",  # the configuration set
    }
)
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]")


def default_endpoint(region: str) -> str:
    return f"https://email.{region}.amazonaws.com"


class SesEmailProvider:
    name = PROVIDER
    max_batch = MAX_BATCH
    concurrency = 2  # two calls overlap, so the pace does not stall between chunks

    def __init__(
        self,
        *,
        access_key_id: str,
        secret_access_key: str,
        region: str,
        endpoint: str | None = None,
        configuration_set: str = "",
        limiter: CallLimiter | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        self.configuration_set = configuration_set
        self.limiter = limiter
        if report_answers := getattr(limiter, "report_answers", None):
            report_answers()  # then the limiter bounds each arrival by its answer
        auth = SigV4Auth(
            access_key=access_key_id, secret_key=secret_access_key, region=region, service="ses"
        )
        self._client = httpx.Client(
            base_url=(endpoint or default_endpoint(region)).rstrip("/"),
            auth=auth,
            timeout=timeout_seconds,
            transport=httpx.HTTPTransport(
                limits=httpx.Limits(max_connections=REQUESTS_IN_FLIGHT * 2),
                # h11 writes a request's head and body apart: without it the body may wait
                # for the head's delayed ACK, and how late answers come is what the
                # limiter's window has to allow for
                socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
            ),
        )
        self._executor = ThreadPoolExecutor(REQUESTS_IN_FLIGHT, thread_name_prefix="ses")

    def send(self, messages: Sequence[OutgoingEmail]) -> list[SendOutcome]:
        return send_each(self._executor, PROVIDER, messages, self._send_one)

    def send_batch(self, batch: SubstitutionBatch) -> list[SendOutcome]:
        return send_mime_batch(self._executor, PROVIDER, batch, self._send_one)

    def check_credentials(self) -> None:
        response = self._request("GET", ACCOUNT_ROUTE, None)
        if response.status_code != 200:
            error = _error_for(response, ACCOUNT_ROUTE)
            if response.status_code in (401, 403):
                raise ProviderRejected(
                    "SES refused these keys: check the access key id, the secret and the region",
                    provider=PROVIDER,
                    status=response.status_code,
                ) from error
            raise error
        if _json(response).get("SendingEnabled") is False:
            raise ProviderRejected(
                "Sending is paused for this SES account", provider=PROVIDER, status=403
            )

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._client.close()

    def _send_one(self, message: OutgoingEmail, body: bytes | None = None) -> SendOutcome:
        raw = build_mime(message, message_id=new_message_id(message), body=body)
        body: dict[str, Any] = {
            "FromEmailAddress": message.from_email,
            "Destination": {"ToAddresses": [message.to]},
            "Content": {"Raw": {"Data": base64.b64encode(raw).decode()}},
        }
        if message.custom_args:
            body["EmailTags"] = [
                {"Name": _tag(name), "Value": _tag(str(value)) or "none"}
                for name, value in message.custom_args.items()
            ]
        if self.configuration_set:
            body["ConfigurationSetName"] = self.configuration_set
        # Encoded before the limiter lets it go: between release and arrival there is only
        # signing and the wire, the part the limiter's margin has to cover.
        request = self._client.build_request("POST", SEND_ROUTE, json=body)
        if self.limiter is not None:
            self.limiter.acquire()
        try:
            response = self._send(request)
        finally:
            if answered := getattr(self.limiter, "answered", None):  # `PacedLimiter`
                answered()
        if response.status_code == 200:
            return SendOutcome.sent(message.message_id, PROVIDER, _json(response).get("MessageId"))
        error = _error_for(response, SEND_ROUTE)
        if isinstance(error, ProviderRateLimited):  # this request only: the others go on
            return SendOutcome.failed(message.message_id, PROVIDER, error.message, transient=True)
        if isinstance(error, ProviderRejected) and error.status not in (401, 403):
            return SendOutcome.failed(message.message_id, PROVIDER, error.message, transient=False)
        raise error

    def _request(self, method: str, route: str, body: Any) -> httpx.Response:
        return self._send(self._client.build_request(method, route, json=body))

    def _send(self, request: httpx.Request) -> httpx.Response:
        where = f"{request.method} {request.url.path}"
        try:
            return self._client.send(request)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(f"{where} timed out", provider=PROVIDER) from exc
        except httpx.TransportError as exc:
            message = f"{where}: connection failed ({type(exc).__name__})"
            raise ProviderUnavailable(message, provider=PROVIDER) from exc


def _error_for(response: httpx.Response, route: str) -> ProviderError:
    status = response.status_code
    kind = response.headers.get("x-amzn-ErrorType", "").split(":")[0]
    answer = _json(response)
    kind = kind or str(answer.get("__type", "")).rpartition("#")[2]
    detail = answer.get("message") or answer.get("Message") or response.text[:160]
    message = f"{route} answered {status} {kind}: {detail}".strip()
    if status == 429 or kind in ("TooManyRequestsException", "LimitExceededException"):
        wait = parse_retry_after(response.headers.get("Retry-After"))
        return ProviderRateLimited(
            message, provider=PROVIDER, retry_after_seconds=wait, status=status
        )
    if status >= 500:
        return ProviderUnavailable(message, provider=PROVIDER, status=status)
    if kind in ACCOUNT_ERRORS:
        return ProviderRejected(message, provider=PROVIDER, status=403)
    return ProviderRejected(message, provider=PROVIDER, status=status)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _tag(value: str) -> str:
    """SES tag names and values allow ASCII letters, digits, '_' and '-' (256 at most)."""
    return _TAG_UNSAFE.sub("_", value)[:256]
