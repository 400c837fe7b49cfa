"""The interface every email provider implements, and helpers they share.

A provider's `send` takes at most `max_batch` messages (more are sent chunk by chunk) and
returns one `SendOutcome` per message, in order. It raises `ProviderError` only when the
provider as a whole failed the call (outage, rate limit, refused account): then nothing of
the call was accepted. `send_batch` does the same for a `SubstitutionBatch`; providers
without substitution batching expand it into one message per recipient.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from typing import Protocol, TypeVar, runtime_checkable

from marketing_app.domain.email import (
    BatchRecipient,
    MessageKey,
    OutgoingEmail,
    SendOutcome,
    SubstitutionBatch,
)
from marketing_app.domain.errors import ProviderError, ProviderRejected
from marketing_app.providers.http import ProviderHttp, RetryPolicy

# A whole call refused with these statuses means the account (key, sender, suspension),
# not the messages: the next provider may take them.
ACCOUNT_FAILURE_STATUSES = frozenset({401, 403})

NO_RETRIES = RetryPolicy(attempts=1)  # the delivery chain owns retries and failover

T = TypeVar("T")
C = TypeVar("C")


class CallLimiter(Protocol):
    """`RateLimiter` or `PacedLimiter`: blocks until one more call may go."""

    def acquire(self) -> float: ...


@runtime_checkable
class EmailProvider(Protocol):
    name: str
    max_batch: int  # messages (or recipients) per call
    concurrency: int  # calls a caller may have in flight at once

    def send(self, messages: Sequence[OutgoingEmail]) -> list[SendOutcome]: ...

    def send_batch(self, batch: SubstitutionBatch) -> list[SendOutcome]: ...

    def check_credentials(self) -> None:
        """Raise `ProviderRejected` with a message a user can act on when they do not work."""
        ...

    def close(self) -> None: ...


class JsonBatchProvider:
    """Base of providers with a JSON batch endpoint: `send` posts `max_batch` messages a
    request through `ProviderHttp` (no retries of its own); subclasses map one chunk."""

    name = "json"
    max_batch = 100
    concurrency = 2

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        limiter: CallLimiter | None,
        timeout_seconds: float,
    ) -> None:
        self._http = ProviderHttp(
            provider=self.name,
            base_url=base_url.rstrip("/"),
            headers=headers,
            limiter=limiter,  # type: ignore[arg-type]  # any object with acquire()
            retry=NO_RETRIES,
            timeout_seconds=timeout_seconds,
        )

    def send(self, messages: Sequence[OutgoingEmail]) -> list[SendOutcome]:
        chunks = chunked(messages, self.max_batch)
        return send_chunks(self.name, chunks, self._send_chunk, message_keys)

    def send_batch(self, batch: SubstitutionBatch) -> list[SendOutcome]:
        return self.send(expand_batch(batch))

    def close(self) -> None:
        self._http.close()

    def _send_chunk(self, chunk: Sequence[OutgoingEmail]) -> list[SendOutcome]:
        raise NotImplementedError


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def all_failed(
    keys: Sequence[MessageKey], provider: str, error: str, *, transient: bool
) -> list[SendOutcome]:
    return [SendOutcome.failed(key, provider, error, transient=transient) for key in keys]


def outcomes_for_error(
    keys: Sequence[MessageKey], provider: str, exc: ProviderError
) -> list[SendOutcome]:
    """Outcomes of a call that failed as a whole: permanent only when the request itself was
    refused (not the account), transient otherwise."""
    permanent = isinstance(exc, ProviderRejected) and exc.status not in ACCOUNT_FAILURE_STATUSES
    return all_failed(keys, provider, exc.message, transient=not permanent)


def send_chunks(
    provider: str,
    chunks: Iterable[C],
    send_chunk: Callable[[C], list[SendOutcome]],
    keys_of: Callable[[C], list[MessageKey]],
) -> list[SendOutcome]:
    """One request per chunk, in order. A chunk whose request failed as a whole gets failed
    outcomes; the error is raised when no chunk got anything through."""
    outcomes: list[SendOutcome] = []
    failure: ProviderError | None = None
    for chunk in chunks:
        try:
            outcomes.extend(send_chunk(chunk))
        except ProviderError as exc:
            failure = failure or exc
            outcomes.extend(outcomes_for_error(keys_of(chunk), provider, exc))
    raise_if_call_failed(outcomes, failure)
    return outcomes


def send_checked(
    provider: str,
    messages: Sequence[OutgoingEmail],
    send_valid: Callable[[list[OutgoingEmail]], list[SendOutcome]],
) -> list[SendOutcome]:
    """Refuse messages with a `header_problem` here, send the others with `send_valid`, and
    give the outcomes back in the messages' order."""
    problems = {m.message_id: header_problem(m) for m in messages}
    valid = [m for m in messages if not problems[m.message_id]]
    sent = {outcome.message_id: outcome for outcome in send_valid(valid)} if valid else {}
    return [
        sent.get(m.message_id)
        or SendOutcome.failed(m.message_id, provider, str(problems[m.message_id]), transient=False)
        for m in messages
    ]


def message_keys(messages: Sequence[OutgoingEmail]) -> list[MessageKey]:
    return [message.message_id for message in messages]


def raise_if_call_failed(outcomes: Sequence[SendOutcome], exc: ProviderError | None) -> None:
    """Re-raise a whole-call failure when it hit every message of a multi-chunk send."""
    if exc is not None and not any(outcome.accepted for outcome in outcomes):
        raise exc


def send_each(
    executor: Executor,
    provider: str,
    messages: Sequence[OutgoingEmail],
    send_one: Callable[[OutgoingEmail], SendOutcome],
) -> list[SendOutcome]:
    """Send messages one request (or SMTP transaction) each, over `executor`'s threads.

    `send_one` returns the message's outcome, or raises `ProviderError` when the provider as
    a whole failed: the messages not yet tried then fail as transient without being tried,
    and the error is raised if nothing of the call was accepted.
    """
    failures: list[ProviderError] = []
    lock = threading.Lock()

    def attempt(message: OutgoingEmail) -> SendOutcome:
        problem = header_problem(message)
        if problem:
            return SendOutcome.failed(message.message_id, provider, problem, transient=False)
        if failures:
            error = failures[0].message
            return SendOutcome.failed(message.message_id, provider, error, transient=True)
        try:
            return send_one(message)
        except ProviderError as exc:
            with lock:
                failures.append(exc)
            return outcomes_for_error([message.message_id], provider, exc)[0]

    outcomes = list(executor.map(attempt, messages))
    raise_if_call_failed(outcomes, failures[0] if failures else None)
    return outcomes


def header_problem(message: OutgoingEmail) -> str | None:
    """Why the message's headers cannot go out as they are (header injection), or None."""
    for name, value in message.headers.items():
        if not _HEADER_NAME.fullmatch(name):
            return f"header name {name!r} is not a valid header name"
        if "\r" in value or "\n" in value:
            return f"header {name} holds a line break"
    for label, value in (
        ("subject", message.subject),
        ("from name", message.from_name),
        ("to name", message.to_name),
    ):
        if "\r" in value or "\n" in value:
            return f"the {label} holds a line break"
    return None


_HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")  # printable ASCII without ':'


class CompiledTemplate:
    """A template split once at its placeholder keys, so each recipient costs one join."""

    __slots__ = ("parts", "slots")

    def __init__(self, template: str, keys: Sequence[str]) -> None:
        present = sorted((key for key in keys if key and key in template), key=len, reverse=True)
        if not present:
            self.parts, self.slots = [template], []
            return
        pieces = re.split("(" + "|".join(map(re.escape, present)) + ")", template)
        self.parts = pieces[0::2]  # literal text; one more than slots
        self.slots = pieces[1::2]  # the key between parts[i] and parts[i + 1]

    def render(self, values: Mapping[str, str]) -> str:
        if not self.slots:
            return self.parts[0]
        out = [self.parts[0]]
        for slot, part in zip(self.slots, self.parts[1:], strict=True):
            out.append(values.get(slot, slot))
            out.append(part)
        return "".join(out)


def batch_keys(batch: SubstitutionBatch) -> list[str]:
    """Every placeholder key a recipient of the batch has a value for."""
    keys: set[str] = set()
    for recipient in batch.recipients:
        keys.update(recipient.substitutions)
    return list(keys)


def expand_batch(batch: SubstitutionBatch, *, with_content: bool = True) -> list[OutgoingEmail]:
    """One `OutgoingEmail` per recipient, the placeholders filled with their values.
    Without content only the subject is filled (html and text are left empty): for a
    caller that encodes the bodies from the batch itself (mime.BatchBodies)."""
    keys = batch_keys(batch)
    subject = CompiledTemplate(batch.subject, keys)
    html = CompiledTemplate(batch.html if with_content else "", keys)
    text = CompiledTemplate(batch.text if with_content else "", keys)
    return [_expanded(batch, r, subject, html, text) for r in batch.recipients]


def _expanded(
    batch: SubstitutionBatch,
    recipient: BatchRecipient,
    subject: CompiledTemplate,
    html: CompiledTemplate,
    text: CompiledTemplate,
) -> OutgoingEmail:
    values = recipient.substitutions
    return OutgoingEmail(
        message_id=recipient.message_id,
        to=recipient.to,
        to_name=recipient.to_name,
        from_email=batch.from_email,
        from_name=batch.from_name,
        reply_to=batch.reply_to,
        subject=subject.render(values),
        html=html.render(values),
        text=text.render(values),
        headers={**batch.headers, **recipient.headers},
        custom_args={**batch.custom_args, **recipient.custom_args},
    )
