"""Password hashing, random tokens and symmetric encryption of stored secrets."""

from __future__ import annotations

import base64
import hashlib
import secrets as stdlib_secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from passlib.context import CryptContext

from marketing_app.settings import get_settings

# Argon2id with passlib's defaults; needs_update() lets login re-hash when they change.
PASSWORD_CONTEXT = CryptContext(schemes=["argon2"], deprecated="auto")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A valid hash of a random password, verified when the user is unknown so that "no such
    user" and "wrong password" take the same time. Made on first use: Argon2 takes ~64 MB,
    which processes that never log anyone in (workers) should not pay."""
    return PASSWORD_CONTEXT.hash(stdlib_secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return PASSWORD_CONTEXT.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        PASSWORD_CONTEXT.verify(password, _dummy_hash())
        return False
    try:
        return PASSWORD_CONTEXT.verify(password, password_hash)
    except (ValueError, TypeError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return PASSWORD_CONTEXT.needs_update(password_hash)


def new_token(prefix: str = "", nbytes: int = 24) -> str:
    return prefix + stdlib_secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """SHA-256 of a high-entropy token: enough for lookup, useless to a thief of the table."""
    return hashlib.sha256(token.encode()).hexdigest()


def _fernet() -> Fernet:
    digest = hashlib.sha256(("credentials:" + get_settings().secret_key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_secret(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt_secret(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("stored secret cannot be decrypted with the current SECRET_KEY") from exc
