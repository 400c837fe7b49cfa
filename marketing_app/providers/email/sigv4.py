"""AWS Signature Version 4 for httpx requests (header signing), for the SES client.

botocore is not a dependency, and SigV4 is a page of hashing: the canonical request, the
string to sign and the derived key follow AWS's "Create a signed AWS API request" guide, and
tests check them against AWS's published examples (the sigv4 test suite's get-vanilla and
post-vanilla cases and the IAM ListUsers example).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Generator, Mapping
from datetime import UTC, datetime
from urllib.parse import quote, unquote_plus

import httpx

ALGORITHM = "AWS4-HMAC-SHA256"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret_key}".encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def canonical_query(query: str) -> str:
    """Parameters sorted by name then value, each part percent-encoded the AWS way."""
    pairs = []
    for item in filter(None, query.split("&")):
        name, _, value = item.partition("=")
        pairs.append((_encode(_unquote(name)), _encode(_unquote(value))))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def authorization(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    payload_hash: str,
    access_key: str,
    secret_key: str,
    region: str,
    service: str,
    amz_date: str,
) -> str:
    """The Authorization header value for a request whose `headers` (host and x-amz-date
    included) are all signed. `path` is as sent (percent-encoded): AWS services other than
    S3 want it encoded once more."""
    signed = {name.lower(): " ".join(value.split()) for name, value in headers.items()}
    names = sorted(signed)
    canonical_request = "\n".join(
        [
            method.upper(),
            _encode(path or "/", safe="/"),
            canonical_query(query),
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            payload_hash,
        ]
    )
    date = amz_date[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = signing_key(secret_key, date, region, service)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"{ALGORITHM} Credential={access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )


class SigV4Auth(httpx.Auth):
    """Signs each request's host, x-amz-date, content-type and body (and a session token)."""

    requires_request_body = True

    def __init__(
        self,
        *,
        access_key: str,
        secret_key: str,
        region: str,
        service: str,
        session_token: str | None = None,
    ) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.service = service
        self.session_token = session_token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        amz_date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        request.headers["x-amz-date"] = amz_date
        if self.session_token:
            request.headers["x-amz-security-token"] = self.session_token
        signed = {"host": request.url.netloc.decode(), "x-amz-date": amz_date}
        for name in ("content-type", "x-amz-security-token"):
            if name in request.headers:
                signed[name] = request.headers[name]
        request.headers["Authorization"] = authorization(
            method=request.method,
            path=request.url.raw_path.decode().partition("?")[0],
            query=request.url.query.decode(),
            headers=signed,
            payload_hash=hashlib.sha256(request.content).hexdigest(),
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=self.region,
            service=self.service,
            amz_date=amz_date,
        )
        yield request


def _encode(value: str, safe: str = "") -> str:
    return quote(value, safe=safe + "-_.~")


def _unquote(value: str) -> str:
    return unquote_plus(value)
