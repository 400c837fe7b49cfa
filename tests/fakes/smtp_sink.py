"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives.

Knobs: PIPELINING advertised or not (the client then takes its other path), a delay per
message (awaited, so connections overlap as on a real relay), STARTTLS or implicit TLS with a
throwaway self-signed certificate, AUTH with one user, and refusals by recipient address
(`refuse={"bad@example.com": (550, "no such user")}`). Tests read `sink.messages` (envelope
plus the parsed message). `LeanSmtpSink` is a bare asyncio sink for throughput runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import ipaddress
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]

    def body(self, subtype: str) -> str:
        part = self.message.get_body((subtype,))
        assert part is not None, f"no text/{subtype} part"
        return part.get_content().replace("\r\n", "\n")


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_EHLO(self, server, session, envelope, hostname: str, responses):
        session.host_name = hostname
        if self.sink.pipelining:  # aiosmtpd reads commands one by one, pipelined or not
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        refusal = self.sink.refuse.get(address)
        if refusal is not None:
            return f"{refusal[0]} {refusal[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.sink.delay_seconds:
            await asyncio.sleep(self.sink.delay_seconds)
        mail = ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        with self.sink.lock:
            self.sink.count += 1
            if self.sink.keep_messages:
                self.sink.messages.append(mail)
        return "250 Message accepted for delivery"


class SmtpSink:
    """Use as a context manager; `port`, `messages`, `client_context` (trusts the cert)."""

    def __init__(
        self,
        *,
        delay_seconds: float = 0.0,
        security: str = "none",  # none | starttls | ssl
        username: str | None = None,
        password: str | None = None,
        refuse: dict[str, tuple[int, str]] | None = None,
        keep_messages: bool = True,
        pipelining: bool = True,
    ) -> None:
        self.delay_seconds = delay_seconds
        self.security = security
        self.username = username
        self.password = password
        self.refuse = refuse or {}
        self.keep_messages = keep_messages
        self.pipelining = pipelining
        self.messages: list[ReceivedMail] = []
        self.count = 0
        self.lock = threading.Lock()
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.client_context: ssl.SSLContext | None = None
        self._controller: Controller | None = None

    def start(self) -> None:
        options: dict[str, Any] = {}
        if self.security != "none":
            server_context, self.client_context = self_signed_contexts()
            key = "ssl_context" if self.security == "ssl" else "tls_context"
            options[key] = server_context
            if self.security == "starttls":
                options["require_starttls"] = True
        if self.username is not None:
            options["authenticator"] = self._authenticate
            options["auth_required"] = True
            options["auth_require_tls"] = self.security != "none"
        self._controller = Controller(
            _Handler(self), hostname=self.host, port=self.port, server_hostname="localhost",
            **options,
        )  # fmt: skip
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed_contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh certificate for localhost and 127.0.0.1, and a client
    context that trusts exactly that certificate (hostname checked)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = Path(tempfile.mkdtemp(prefix="mk-smtp-tls-"))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client


class _LeanSmtpProtocol(asyncio.Protocol):
    """Just enough SMTP for throughput runs: EHLO (with PIPELINING), MAIL, RCPT, DATA (the
    body is scanned for its end in bulk, not line by line), RSET, NOOP, QUIT."""

    def __init__(self, server: LeanSmtpSink) -> None:
        self.server = server
        self.buffer = b""
        self.in_data = False
        self.waiting = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(b"220 lean-sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._process()

    def _process(self) -> None:
        assert self.transport is not None
        while not self.waiting:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    return
                self.buffer = self.buffer[end + 5 :]
                self.in_data = False
                self.waiting = True
                loop = asyncio.get_running_loop()
                loop.call_later(self.server.delay_seconds, self._accepted)
                return
            line, sep, rest = self.buffer.partition(b"\r\n")
            if not sep:
                return
            self.buffer = rest
            self.transport.write(self._reply(line[:4].upper()))

    def _reply(self, verb: bytes) -> bytes:
        if verb in (b"EHLO", b"HELO"):
            return b"250-lean-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        if verb == b"DATA":
            self.in_data = True
            return b"354 End data with <CR><LF>.<CR><LF>\r\n"
        if verb == b"QUIT":
            assert self.transport is not None
            self.transport.write(b"221 Bye\r\n")
            self.transport.close()
            return b""
        return b"250 OK\r\n"

    def _accepted(self) -> None:
        self.server.count += 1
        self.waiting = False
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"250 Message accepted\r\n")
            self._process()


class LeanSmtpSink:
    """A minimal asyncio SMTP sink for throughput runs (aiosmtpd reads a message body line
    by line, which costs more CPU than the client under test); a delay per message."""

    def __init__(self, *, port: int, delay_seconds: float) -> None:
        self.port = port
        self.delay_seconds = delay_seconds
        self.count = 0

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _LeanSmtpProtocol(self), "127.0.0.1", self.port, backlog=1024
        )
        async with server:
            await server.serve_forever()


def main() -> None:
    """`python -m tests.fakes.smtp_sink [--lean] --delay 0.02`: serve from this process and
    print the port; the lean sink prints how many messages it took when stdin closes."""
    import argparse
    import sys

    parser = argparse.ArgumentParser()
    parser.add_argument("--lean", action="store_true")
    parser.add_argument("--delay", type=float, default=0.02)
    args = parser.parse_args()
    port = _free_port()
    if not args.lean:
        sink = SmtpSink(delay_seconds=args.delay, keep_messages=False)
        sink.port = port
        sink.start()
        print(port, flush=True)
        sys.stdin.read()
        print(sink.count, flush=True)
        return
    lean = LeanSmtpSink(port=port, delay_seconds=args.delay)

    async def serve_until_stdin_closes() -> None:
        task = asyncio.create_task(lean.serve())
        await asyncio.sleep(0.2)
        print(port, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        task.cancel()

    asyncio.run(serve_until_stdin_closes())
    print(lean.count, flush=True)


if __name__ == "__main__":
    main()
