"""SMTP delivery through a pool of kept-open connections (STARTTLS, implicit TLS or plain).

A server that takes tens of milliseconds per message allows only a few dozen messages a
second on one connection, so `send` spreads a call's messages over `pool_size` connections
(each owned by one thread while it sends). MIME is built by `mime.build_mime`. Replies map
to outcomes: a 5xx for the recipient or the content fails that message only; 4xx and lost
connections are transient; a server that cannot be reached or refuses our login fails the
whole call (the remaining messages of the call are not tried).
"""

from __future__ import annotations

import queue
import smtplib
import ssl
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from marketing_app.domain.email import OutgoingEmail, SendOutcome, SubstitutionBatch
from marketing_app.domain.errors import ProviderRejected, ProviderUnavailable
from marketing_app.providers.email.base import CallLimiter, send_each
from marketing_app.providers.email.mime import build_mime, new_message_id, send_mime_batch

PROVIDER = "smtp"
SECURITY_MODES = ("starttls", "ssl", "none")
MAX_BATCH = 500  # messages per call a caller should make; the pool sends them concurrently


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls | ssl (implicit TLS, usually port 465) | none
    username: str = ""
    password: str = ""
    timeout_seconds: float = 30.0
    pool_size: int = 20  # connections (and sending threads) at once
    local_hostname: str | None = None


class SmtpEmailProvider:
    """An `EmailProvider` over SMTP. Thread-safe; `close()` ends the pooled connections."""

    name = PROVIDER
    max_batch = MAX_BATCH
    concurrency = 2  # two calls keep the pool busy while one call's stragglers finish

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        limiter: CallLimiter | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if settings.security not in SECURITY_MODES:
            raise ValueError(f"security must be one of {SECURITY_MODES}")
        self.settings = settings
        self.limiter = limiter
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._idle: queue.LifoQueue[smtplib.SMTP] = queue.LifoQueue()
        self._executor = ThreadPoolExecutor(max(1, settings.pool_size), thread_name_prefix="smtp")
        self._closed = False

    def send(self, messages: Sequence[OutgoingEmail]) -> list[SendOutcome]:
        return send_each(self._executor, PROVIDER, messages, self._send_one)

    def send_batch(self, batch: SubstitutionBatch) -> list[SendOutcome]:
        return send_mime_batch(self._executor, PROVIDER, batch, self._send_one)

    def check_credentials(self) -> None:
        connection = self._connect()
        try:
            connection.noop()
        finally:
            _quietly_quit(connection)

    def close(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=True)
        while not self._idle.empty():
            _quietly_quit(self._idle.get_nowait())

    def _send_one(self, message: OutgoingEmail, body: bytes | None = None) -> SendOutcome:
        if self.limiter is not None:
            self.limiter.acquire()
        message_id = new_message_id(message)
        data = build_mime(message, message_id=message_id, body=body)
        try:
            self._deliver(message, data)
        except smtplib.SMTPSenderRefused as exc:  # the account's sender, not this message
            error = f"sender refused: {exc.smtp_code} {exc.smtp_error.decode(errors='replace')}"
            return self._failed(message, error, transient=True)
        except smtplib.SMTPResponseException as exc:
            return self._refused(message, exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (550, b"refused"))
            return self._refused(message, code, reply)
        return SendOutcome.sent(message.message_id, PROVIDER, message_id.strip("<>"))

    def _deliver(self, message: OutgoingEmail, data: bytes) -> None:
        """Send on a pooled connection; a connection the server dropped is replaced once."""
        options = [] if message.to.isascii() and message.from_email.isascii() else ["SMTPUTF8"]
        for attempt in (1, 2):
            connection = self._checkout()
            try:
                if connection.has_extn("pipelining"):
                    _send_pipelined(connection, message.from_email, message.to, data, options)
                else:
                    connection.sendmail(message.from_email, [message.to], data, options)
            except smtplib.SMTPException as exc:  # an OSError too: caught before OSError
                if not isinstance(exc, smtplib.SMTPServerDisconnected):
                    self._checkin(connection)  # a refusal leaves the connection usable
                    raise
                lost: Exception = exc
            except OSError as exc:
                lost = exc
            else:
                self._checkin(connection)
                return
            _quietly_quit(connection)
            if attempt == 2:
                raise self._unavailable(f"connection lost while sending: {lost}") from lost

    def _refused(self, message: OutgoingEmail, code: int, reply: bytes | str) -> SendOutcome:
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
        error = f"{code} {text}".strip()
        return self._failed(message, error, transient=code < 500)  # 4xx: try again later

    def _failed(self, message: OutgoingEmail, error: str, *, transient: bool) -> SendOutcome:
        return SendOutcome.failed(message.message_id, PROVIDER, error, transient=transient)

    def _checkout(self) -> smtplib.SMTP:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._connect()

    def _checkin(self, connection: smtplib.SMTP) -> None:
        if self._closed:
            _quietly_quit(connection)
        else:
            self._idle.put(connection)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.security == "ssl":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, s.local_hostname, timeout=s.timeout_seconds,
                    context=self._ssl_context,
                )  # fmt: skip
            else:
                connection = smtplib.SMTP(s.host, s.port, s.local_hostname, s.timeout_seconds)
            if s.security == "starttls":
                connection.starttls(context=self._ssl_context)
            if s.username:
                connection.login(s.username, s.password)
            connection.ehlo_or_helo_if_needed()  # learn the extensions (PIPELINING) now
        except smtplib.SMTPAuthenticationError as exc:
            detail = exc.smtp_error.decode(errors="replace")
            raise ProviderRejected(
                f"the SMTP server refused the user name or password ({exc.smtp_code} {detail})",
                provider=PROVIDER,
                status=401,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise ProviderRejected(
                f"the SMTP server does not support this: {exc}", provider=PROVIDER, status=403
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise self._unavailable(f"cannot connect to {s.host}:{s.port}: {exc}") from exc
        return connection

    def _unavailable(self, message: str) -> ProviderUnavailable:
        return ProviderUnavailable(message, provider=PROVIDER)


def _send_pipelined(
    connection: smtplib.SMTP, sender: str, recipient: str, data: bytes, options: list[str]
) -> None:
    """MAIL, RCPT and DATA in one write (RFC 2920), then the body: two round trips a message
    instead of four. Raises what `SMTP.sendmail` raises for the same replies."""
    suffix = "".join(f" {option}" for option in options)
    envelope = f"MAIL FROM:<{sender}>{suffix}\r\nRCPT TO:<{recipient}>\r\nDATA\r\n"
    connection.send(envelope.encode("utf-8"))
    mail, rcpt, start = connection.getreply(), connection.getreply(), connection.getreply()
    if mail[0] != 250 or rcpt[0] not in (250, 251) or start[0] != 354:
        if start[0] == 354:  # a server that opened DATA anyway gets an empty, refused body
            connection.send(b".\r\n")
            connection.getreply()
        connection.rset()
        if mail[0] != 250:
            raise smtplib.SMTPSenderRefused(mail[0], mail[1], sender)
        if rcpt[0] not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: rcpt})
        raise smtplib.SMTPDataError(*start)
    body = data.replace(b"\r\n.", b"\r\n..")  # dot-stuffing; build_mime writes CRLF only
    connection.send(body + (b".\r\n" if body.endswith(b"\r\n") else b"\r\n.\r\n"))
    code, reply = connection.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


def _quietly_quit(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()
