"""The development provider: every message lands in the tenant's outbox (`email_outbox`)
instead of the internet, where the outbox page shows it. Accepted at once.

Rows are written through a session factory given at construction (the caller's
`db.session_scope`), so this adapter stays free of services.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from email.utils import formataddr

from sqlmodel import Session

from marketing_app.domain.email import OutgoingEmail, SendOutcome, SubstitutionBatch
from marketing_app.models import OutboxMessage
from marketing_app.providers.email.base import expand_batch, send_checked

PROVIDER = "console"
SessionFactory = Callable[[], AbstractContextManager[Session]]


class ConsoleEmailProvider:
    name = PROVIDER
    max_batch = 1000
    concurrency = 1

    def __init__(self, *, tenant_id: uuid.UUID, session_factory: SessionFactory) -> None:
        self.tenant_id = tenant_id
        self._session_factory = session_factory

    def send(self, messages: Sequence[OutgoingEmail]) -> list[SendOutcome]:
        return send_checked(PROVIDER, messages, self._write)

    def send_batch(self, batch: SubstitutionBatch) -> list[SendOutcome]:
        return self.send(expand_batch(batch))

    def check_credentials(self) -> None:
        """Nothing to check: the outbox is our own table."""

    def close(self) -> None:
        """Nothing to release."""

    def _write(self, messages: list[OutgoingEmail]) -> list[SendOutcome]:
        rows = [self._row(message) for message in messages]
        with self._session_factory() as session:
            session.add_all(rows)
            session.flush()
        return [
            SendOutcome.sent(message.message_id, PROVIDER, f"console-{row.id}")
            for message, row in zip(messages, rows, strict=True)
        ]

    def _row(self, message: OutgoingEmail) -> OutboxMessage:
        headers = dict(message.headers)
        if message.reply_to:
            headers["Reply-To"] = message.reply_to
        headers.update({f"X-Mk-{key}": str(value) for key, value in message.custom_args.items()})
        return OutboxMessage(
            tenant_id=self.tenant_id,
            message_id=message.message_id if isinstance(message.message_id, int) else None,
            to_address=formataddr((message.to_name, message.to))[:320],
            from_address=formataddr((message.from_name, message.from_email))[:400],
            subject=message.subject[:300],
            headers=headers,
            html=message.html,
            text_body=message.text,
        )
