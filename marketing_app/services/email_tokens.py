"""Signed tokens in email links: open pixel, click redirect, unsubscribe, preference center.

A token is `payload.signature`, both URL-safe base64: the payload packs the tenant's UUID and
one integer id (16 + up to 8 bytes), the signature is an HMAC-SHA256 (itsdangerous `Signer`,
one salt per purpose) cut to 128 bits, so a token is about 50 characters, short enough for
every link of every email. Tokens carry no time: an unsubscribe link in a two-year-old email
still works (CAN-SPAM and RFC 8058 want it to). They stay valid for as long as the signing
secret does (`EMAIL_TOKEN_SECRET`, else `SECRET_KEY`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Callable
from functools import lru_cache

from itsdangerous import BadSignature, Signer
from itsdangerous.signer import HMACAlgorithm

from marketing_app.domain.errors import NotFound
from marketing_app.settings import get_settings

MESSAGE_SALT = "email-message"  # /t/o, /t/c, /t/u: one message to one recipient
PREFERENCE_SALT = "email-preferences"  # the preference center of one profile
SIGNATURE_BYTES = 16
_ID_BYTES = 8
# Test sends have no message row; their links carry this id and record nothing.
TEST_MESSAGE_ID = 0


class _TruncatedHMAC(HMACAlgorithm):
    """HMAC-SHA256 cut to 128 bits: still unforgeable, 21 characters shorter in every link."""

    def __init__(self) -> None:
        super().__init__(hashlib.sha256)

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.new(key, value, hashlib.sha256).digest()[:SIGNATURE_BYTES]


class _LinkSigner(Signer):
    """A Signer that derives each key once (itsdangerous derives it on every call)."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        return _derived_key(self.secret_keys[-1] if secret_key is None else secret_key, self.salt)


@lru_cache(maxsize=16)
def _derived_key(secret_key: str | bytes, salt: bytes) -> bytes:
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(secret, salt, hashlib.sha256).digest()


@lru_cache(maxsize=8)
def _signer(secret: str, salt: str) -> _LinkSigner:
    return _LinkSigner(
        secret,
        salt=salt,
        key_derivation="hmac",
        digest_method=hashlib.sha256,
        algorithm=_TruncatedHMAC(),
    )


def _current_signer(salt: str) -> _LinkSigner:
    settings = get_settings()
    return _signer(settings.email_token_secret or settings.secret_key, salt)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tokens(salt: str, tenant_id: uuid.UUID) -> Callable[[int], str]:
    """Signs `payload.signature` tokens of one tenant, as the Signer writes them without its
    layers: the key and the tenant's bytes worked out once for a campaign batch's thousands."""
    settings = get_settings()
    key = _derived_key(settings.email_token_secret or settings.secret_key, salt.encode())
    tenant_bytes, top = tenant_id.bytes, 2 ** (8 * _ID_BYTES)
    keyed = hmac.new(key, digestmod=hashlib.sha256)  # copied per token: the key hashed once

    def token(item_id: int) -> str:
        if not 0 <= item_id < top:
            raise ValueError(f"id out of range: {item_id}")
        payload = _b64(tenant_bytes + item_id.to_bytes(_ID_BYTES, "big").lstrip(b"\0"))
        mac = keyed.copy()
        mac.update(payload.encode("ascii"))
        return f"{payload}.{_b64(mac.digest()[:SIGNATURE_BYTES])}"

    return token


def _read(salt: str, token: str) -> tuple[uuid.UUID, int]:
    """The (tenant, id) a token was made for; NotFound for anything forged or mangled."""
    try:
        payload = _current_signer(salt).unsign(token.strip())
        raw = _unb64(payload.decode("ascii"))
    except (BadSignature, binascii.Error, UnicodeError, ValueError):
        raise NotFound("This link is not valid.") from None
    if not 16 <= len(raw) <= 16 + _ID_BYTES:
        raise NotFound("This link is not valid.")
    return uuid.UUID(bytes=raw[:16]), int.from_bytes(raw[16:], "big")


def message_token(tenant_id: uuid.UUID, message_id: int) -> str:
    """The token in one message's pixel, tracked links and unsubscribe links."""
    return _tokens(MESSAGE_SALT, tenant_id)(message_id)


def message_tokens(tenant_id: uuid.UUID) -> Callable[[int], str]:
    """`message_token` of one tenant, for a batch of its messages."""
    return _tokens(MESSAGE_SALT, tenant_id)


def read_message_token(token: str) -> tuple[uuid.UUID, int]:
    """(tenant_id, message_id); NotFound when the token was not made by message_token."""
    return _read(MESSAGE_SALT, token)


def preference_token(tenant_id: uuid.UUID, contact_id: int) -> str:
    """A link to one profile's preference center outside any message."""
    return _tokens(PREFERENCE_SALT, tenant_id)(contact_id)


def read_preference_token(token: str) -> tuple[uuid.UUID, int]:
    """(tenant_id, contact_id); NotFound when the token was not made by preference_token."""
    return _read(PREFERENCE_SALT, token)
