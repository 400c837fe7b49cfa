"""Fake Amazon SES v2: SendEmail (raw content) and GetAccount behind a real local HTTP server.

Every request must carry a SigV4 Authorization for the fake's access key that matches the
request (recomputed here with the secret: 403 SignatureDoesNotMatch otherwise). SendEmail
calls are held to 50 a second by default (a moving window counted on arrival, before
`latency_seconds`, as SES throttles), answered 429 TooManyRequestsException over it.
Addresses in `data.rejected` answer 400 MessageRejected.
Accepted messages are in `data.sent` (decoded MIME, tags, arrival time).
`python -m tests.fakes.ses_server` serves one from a separate process and prints its URL.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from marketing_app.providers.email.sigv4 import authorization
from tests.fakes.server import FakeProviderServer, Simulation

RATE_LIMIT = (50, 1.0)  # messages per second
_CREDENTIAL = re.compile(r"Credential=([^/]+)/(\d{8})/([^/]+)/ses/aws4_request")
_SIGNED_HEADERS = re.compile(r"SignedHeaders=([^,]+)")


@dataclass
class SentMessage:
    to: list[str]
    raw: bytes
    tags: dict[str, str]
    arrived_at: float


@dataclass
class SesData:
    access_key_id: str = "AKIAFAKE0000EXAMPLE"
    secret_access_key: str = "fake/secret/key/0123456789abcdefEXAMPLE"
    region: str = "us-east-1"
    sending_enabled: bool = True
    keep_messages: bool = True
    send_rate_limit: tuple[int, float] | None = RATE_LIMIT  # SendEmail calls per window
    latency_seconds: float = 0.0  # after the rate check, as SES counts calls on arrival
    rejected: set[str] = field(default_factory=set)
    sent: list[SentMessage] = field(default_factory=list)
    accepted: int = 0
    throttled: int = 0
    first_arrival: float | None = None  # time.monotonic() of the first accepted SendEmail
    last_arrival: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status, headers={"x-amzn-ErrorType": kind})


def _signature_problem(request: Request, body: bytes, data: SesData) -> str | None:
    given = request.headers.get("authorization", "")
    credential = _CREDENTIAL.search(given)
    names = _SIGNED_HEADERS.search(given)
    if credential is None or names is None or credential.group(1) != data.access_key_id:
        return "The security token included in the request is invalid."
    amz_date = request.headers.get("x-amz-date", "")
    expected = authorization(
        method=request.method,
        path=request.url.path,
        query=request.url.query,
        headers={name: request.headers.get(name, "") for name in names.group(1).split(";")},
        payload_hash=hashlib.sha256(body).hexdigest(),
        access_key=data.access_key_id,
        secret_key=data.secret_access_key,
        region=credential.group(3),
        service="ses",
        amz_date=amz_date,
    )
    if expected != given or not amz_date.startswith(credential.group(2)):
        return "The request signature we calculated does not match the signature you provided."
    return None


def build_app(data: SesData) -> Starlette:
    throttle = Simulation(rate_limit=data.send_rate_limit)  # counts SendEmail calls only

    async def send_email(request: Request) -> Response:
        arrived = time.monotonic()
        if (retry_after := throttle.admit()) is not None:
            data.throttled += 1
            return JSONResponse(
                {"message": "Maximum sending rate exceeded."},
                429,
                headers={
                    "x-amzn-ErrorType": "TooManyRequestsException",
                    "Retry-After": str(retry_after),
                },
            )
        await asyncio.sleep(data.latency_seconds)
        body = await request.body()
        problem = _signature_problem(request, body, data)
        if problem:
            return _error(403, "SignatureDoesNotMatch", problem)
        if not data.sending_enabled:
            return _error(400, "SendingPausedException", "Sending is paused for this account.")
        payload = json.loads(body)
        to = payload["Destination"]["ToAddresses"]
        if any(address in data.rejected for address in to):
            return _error(400, "MessageRejected", "Email address is not verified.")
        raw = base64.b64decode(payload["Content"]["Raw"]["Data"])
        tags = {tag["Name"]: tag["Value"] for tag in payload.get("EmailTags", [])}
        with data.lock:
            data.accepted += 1
            data.first_arrival = data.first_arrival or arrived
            data.last_arrival = arrived
            if data.keep_messages:
                data.sent.append(SentMessage(to, raw, tags, time.monotonic()))
        return JSONResponse({"MessageId": f"0100{uuid.uuid4().hex}-000000"})

    async def get_account(request: Request) -> Response:
        problem = _signature_problem(request, await request.body(), data)
        if problem:
            return _error(403, "SignatureDoesNotMatch", problem)
        return JSONResponse(
            {
                "SendQuota": {"MaxSendRate": float(RATE_LIMIT[0]), "Max24HourSend": 50000.0},
                "SendingEnabled": data.sending_enabled,
                "ProductionAccessEnabled": True,
            }
        )

    async def stats(request: Request) -> Response:  # for benches in another process
        span = (data.last_arrival or 0.0) - (data.first_arrival or 0.0)
        rate = (data.accepted - 1) / span if span > 0 else None  # N arrivals span N-1 gaps
        return JSONResponse(
            {"accepted": data.accepted, "throttled": data.throttled, "arrival_rate": rate}
        )

    return Starlette(
        routes=[
            Route("/v2/email/outbound-emails", send_email, methods=["POST"]),
            Route("/v2/email/account", get_account, methods=["GET"]),
            Route("/_fake/stats", stats, methods=["GET"]),
        ]
    )


class FakeSes(FakeProviderServer):
    def __init__(self, data: SesData | None = None, simulation: Simulation | None = None) -> None:
        self.data = data or SesData()
        super().__init__(
            build_app(self.data),
            simulation or Simulation(),
            lambda headers: True,  # SES answers bad keys 403 from the route's signature check
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--rate", type=int, default=RATE_LIMIT[0])
    args = parser.parse_args()
    data = SesData(
        keep_messages=False, send_rate_limit=(args.rate, 1.0), latency_seconds=args.latency
    )
    fake = FakeSes(data)
    print(fake.start(), flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
