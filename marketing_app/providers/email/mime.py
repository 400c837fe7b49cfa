"""Builds RFC 5322 / MIME bytes for an `OutgoingEmail`, fast.

The stdlib's `email.message.EmailMessage` builds a few hundred messages a second; a campaign
over SMTP or SES needs thousands. The layout is always the same (headers, then text and html
as quoted-printable UTF-8 parts of a multipart/alternative), so the bytes are assembled
directly: `binascii.b2a_qp` (C) encodes the bodies, and only non-ASCII header values go
through `email.header`. The boundary starts with "=_", which quoted-printable output can
never contain, so one boundary serves every message.

A substitution batch's bodies are the same text for every recipient but for a few values, so
`BatchBodies` encodes that text once (quoting the whole html again per message was ~0.1 ms,
as much as the rest of the message): each literal piece is encoded on its own and ends in a
soft line break, so a value, encoded per message, starts a line of its own and no line
grows past quoted-printable's 76 characters. Soft breaks decode to nothing: the decoded
body is the text with the values filled in, as `build_mime` of the filled text gives.
"""

from __future__ import annotations

import binascii
import itertools
import os
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from email.header import Header
from email.utils import formataddr, formatdate
from functools import lru_cache

from marketing_app.domain.email import OutgoingEmail, SendOutcome, SubstitutionBatch
from marketing_app.providers.email.base import (
    CompiledTemplate,
    batch_keys,
    expand_batch,
    send_each,
)

BOUNDARY = f"=_mk_alt_{uuid.uuid4().hex[:16]}"
MAX_LINE = 998  # RFC 5322's limit on a header line, in characters
FOLD_AT = 900
QP_LINE = 76  # RFC 2045's limit on a quoted-printable line, soft break "=" included
SOFT_BREAK = b"=\r\n"
CUSTOM_ARG_HEADER_PREFIX = "X-Mk-"  # custom args ride as X-Mk-<Key> headers over SMTP

_sequence = itertools.count()
_process_tag = f"{os.getpid():x}.{uuid.uuid4().hex[:8]}"
_date_cache: tuple[int, str] = (0, "")


def new_message_id(message: OutgoingEmail) -> str:
    """The caller's Message-ID header when it gives one (a resend keeps its id), else a
    globally unique one (angle brackets included) on the sender's domain."""
    given = message.headers.get("Message-ID")
    if given:
        return given
    domain = message.from_email.rpartition("@")[2] or "localhost"
    return f"<{message.message_id}.{_process_tag}.{next(_sequence)}@{domain}>"


def build_mime(message: OutgoingEmail, *, message_id: str, body: bytes | None = None) -> bytes:
    """The whole message as CRLF-terminated bytes, ready for SMTP DATA or SES raw sending.
    `body` (from `BatchBodies.body`) stands for the message's text and html when given."""
    lines = [
        f"From: {_address(message.from_name, message.from_email)}",
        f"To: {_address(message.to_name, message.to)}",
        f"Subject: {_header_value('Subject', message.subject)}",
        f"Date: {_now_rfc2822()}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
    ]
    if message.reply_to:
        lines.append(f"Reply-To: {message.reply_to}")
    for name, value in message.headers.items():
        if name.lower() == "message-id":
            continue  # written above
        lines.append(_fold(f"{name}: {_header_value(name, value)}"))
    for key, value in message.custom_args.items():
        name = CUSTOM_ARG_HEADER_PREFIX + key.replace("_", "-").title()
        lines.append(_fold(f"{name}: {_header_value(name, str(value))}"))
    head = "\r\n".join(lines).encode("utf-8")
    if body is None:
        text = _quoted_printable(message.text) if message.text else b""
        body = _body(text, _quoted_printable(message.html) if message.html else b"")
    return head + b"\r\n" + body


class BatchBodies:
    """A substitution batch's text and html, quoted-printable once (see the docstring)."""

    __slots__ = ("_html", "_text")

    def __init__(self, batch: SubstitutionBatch) -> None:
        keys = batch_keys(batch)
        self._text = _EncodedTemplate(CompiledTemplate(batch.text, keys)) if batch.text else None
        self._html = _EncodedTemplate(CompiledTemplate(batch.html, keys)) if batch.html else None

    def body(self, values: Mapping[str, str]) -> bytes:
        """The encoded body of the message whose placeholders take `values`."""
        text = self._text.encode(values) if self._text else b""
        html = self._html.encode(values) if self._html else b""
        return _body(text, html)


class _EncodedTemplate:
    __slots__ = ("_parts", "_slots")

    def __init__(self, template: CompiledTemplate) -> None:
        self._parts = [_encoded_piece(part) for part in template.parts]
        self._slots = template.slots

    def encode(self, values: Mapping[str, str]) -> bytes:
        out = [self._parts[0]]
        for slot, part in zip(self._slots, self._parts[1:], strict=True):
            out.append(_encoded_piece(values.get(slot, slot)))
            out.append(part)
        encoded = b"".join(out)
        return encoded[: -len(SOFT_BREAK)] if encoded.endswith(SOFT_BREAK) else encoded


def _encoded_piece(text: str) -> bytes:
    """`text` quoted-printable, ending at a line end: its own line break, or a soft one."""
    if not text:
        return b""
    encoded = _quoted_printable(text)
    if encoded.endswith(b"\r\n"):
        return encoded
    last_line = encoded.rpartition(b"\r\n")[2]
    if len(last_line) < QP_LINE:
        return encoded + SOFT_BREAK
    cut = len(encoded) - len(last_line) + QP_LINE - 4  # room for the soft break's "="
    if b"=" in encoded[cut - 2 : cut]:  # never split an =XX escape
        cut -= 2 - encoded[cut - 2 : cut].index(b"=")
    return encoded[:cut] + SOFT_BREAK + encoded[cut:] + SOFT_BREAK


def _body(text: bytes, html: bytes) -> bytes:
    """The body from encoded text and html (either may be empty)."""
    if text and html:
        b = BOUNDARY.encode()
        return b"".join(
            (
                b'Content-Type: multipart/alternative; boundary="' + b + b'"\r\n\r\n',
                b"--" + b + b"\r\n" + _part("plain", text),
                b"\r\n--" + b + b"\r\n" + _part("html", html),
                b"\r\n--" + b + b"--\r\n",
            )
        )
    if html:
        return _part("html", html)
    return _part("plain", text)


def _part(subtype: str, encoded: bytes) -> bytes:
    return (
        b"Content-Type: text/" + subtype.encode() + b'; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + encoded
    )


def _quoted_printable(content: str) -> bytes:
    raw = content.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(raw, quotetabs=False, istext=True).replace(b"\n", b"\r\n")


def _address(name: str, address: str) -> str:
    if not name:
        return address
    return _named_address(name, address)


@lru_cache(maxsize=4096)  # the sender repeats on every message of a campaign
def _named_address(name: str, address: str) -> str:
    return formataddr((name, address), charset="utf-8")


def _header_value(name: str, value: str) -> str:
    if value.isascii():
        return value
    return _encoded_header(name, value)


@lru_cache(maxsize=4096)  # a campaign's subject repeats on every message
def _encoded_header(name: str, value: str) -> str:
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def _fold(line: str) -> str:
    """Fold an ASCII header line longer than RFC 5322 allows at its spaces."""
    if len(line) <= MAX_LINE:
        return line
    folded: list[str] = []
    current = ""
    for word in line.split(" "):
        if current and len(current) + 1 + len(word) > FOLD_AT:
            folded.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    folded.append(current)
    return "\r\n ".join(folded)


def _now_rfc2822() -> str:
    global _date_cache
    second = int(time.time())
    if _date_cache[0] != second:
        _date_cache = (second, formatdate(second, usegmt=True))
    return _date_cache[1]


def send_mime_batch(
    executor: Executor,
    provider: str,
    batch: SubstitutionBatch,
    send_one: Callable[[OutgoingEmail, bytes], SendOutcome],
) -> list[SendOutcome]:
    """A batch sent one MIME message each (SMTP, SES), the bodies from the batch's text
    encoded once; `send_one` gets each message (it carries the subject) and its body."""
    bodies = BatchBodies(batch)
    values = {recipient.message_id: recipient.substitutions for recipient in batch.recipients}

    def send_with_body(message: OutgoingEmail) -> SendOutcome:
        return send_one(message, bodies.body(values[message.message_id]))

    messages = expand_batch(batch, with_content=False)
    return send_each(executor, provider, messages, send_with_body)
